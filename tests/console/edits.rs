//! The edit form in headless chromium, on both backends: staff re-count a line and add a product, see the new
//! total and the balance due, get a refusal beside the field that caused it, see the refund due once a paid order
//! is made cheaper, and no longer get the form once something has shipped.

use fantoccini::Client;
use serde_json::json;

use crate::browser::{Driver, exists, fill, text, wait_for};
use crate::common::TestApp;
use crate::scenarios::{act, open_order, sign_in_as_staff};
use crate::support::{SKU, api_order, seed};

crate::on_both_backends!(staff_change_an_order_before_it_ships);

async fn staff_change_an_order_before_it_ships(app: TestApp) {
    let Some(driver) = Driver::start().await else { return };
    let order = seed(&app).await;
    app.stocked("MAMOUL", 500, "KWD", 10).await;
    let id = order["id"].as_str().unwrap().to_owned();
    let b = driver.browser().await;
    sign_in_as_staff(&b, &app).await;
    open_order(&b, &app, &id).await;
    wait_for(&b, "#form-edit").await;

    // Three OUD become two, and four MAMOUL are added: 2 × 1.235 + 4 × 0.500 KWD, unpaid.
    fill(&b, "#edit-qty-0", "2").await;
    fill(&b, "#edit-add_sku", "MAMOUL").await;
    fill(&b, "#edit-add_qty", "4").await;
    act(&b, "edit").await;
    assert_eq!(text(&b, "#grand-total").await, "4.470 KWD");
    assert_eq!(text(&b, "#balance-due").await, "4.470 KWD");
    let api = api_order(&app, &id).await;
    let lines: Vec<(String, i64)> = api["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["sku"].as_str().unwrap().to_owned(), l["quantity"].as_i64().unwrap()))
        .collect();
    assert_eq!(lines, [(SKU.to_owned(), 2), ("MAMOUL".to_owned(), 4)]);
    assert_eq!(app.stock("MAMOUL").await["reserved"], 4);

    // A product that does not exist is refused in plain words, and nothing changes.
    fill(&b, "#edit-add_sku", "NOPE").await;
    click_and_wait_problem(&b).await;
    assert!(text(&b, "#problem").await.contains("NOPE"));
    assert_eq!(api_order(&app, &id).await["version"], api["version"]);

    // Paid in full, then made cheaper: the refund due shows.
    let total = api["totals"]["grand_total"]["amount_minor"].clone();
    let paid = app
        .step(
            &api,
            "payment/authorize",
            Some(json!({"amount_minor": total, "provider_ref": "psp-1"})),
        )
        .await;
    app.step(&paid, "payment/capture", Some(json!({"amount_minor": total})))
        .await;
    open_order(&b, &app, &id).await;
    wait_for(&b, "#form-edit").await;
    fill(&b, "#edit-qty-1", "0").await;
    act(&b, "edit").await;
    assert_eq!(text(&b, "#refund-due").await, "2.000 KWD");
    assert!(!exists(&b, "#balance-due").await);

    // Once something has shipped the order takes no edits, and the form is gone.
    let now = api_order(&app, &id).await;
    let ship = json!({"lines": [{"sku": SKU, "quantity": 1}], "carrier": "Aramex", "tracking_number": "AWB-9"});
    app.step(&now, "shipments", Some(ship)).await;
    open_order(&b, &app, &id).await;
    wait_for(&b, "#order-number").await;
    assert!(!exists(&b, "#form-edit").await);
}

async fn click_and_wait_problem(b: &Client) {
    crate::browser::click(b, "#do-edit").await;
    wait_for(b, "#problem").await;
}
