//! The console's six scenarios in headless chromium, on both backends:
//! (1) sign in, find an order by the customer's Arabic name, open it; (2) authorise, capture, ship two of three
//! units, deliver, refund one unit, the page and the API agreeing at each step; (3) the refund form submitted twice:
//! one refund; (5) Arabic: `dir="rtl"`, screenshots; (4) two sessions on one order: the stale one sees the
//! conflict, nothing applied twice; (6) a customer token, a form without its CSRF token and a missing scope refused.

use fantoccini::Client;
use serde_json::{Value, json};

use crate::browser::{Driver, click, exists, fill, html_attr, screenshot, text, wait_for, wait_url};
use crate::common::TestApp;
use crate::support::{ARABIC_NAME, api_order, backend, seed};

crate::on_both_backends!(
    staff_find_ship_deliver_and_refund_an_order_in_english_and_arabic,
    a_second_session_acting_on_a_stale_page_sees_the_conflict,
    customers_forms_without_csrf_and_missing_scopes_are_refused,
);

pub(crate) async fn sign_in_as_staff(b: &Client, app: &TestApp) {
    b.goto(&format!("{}/console/sign-in", app.api))
        .await
        .expect("sign-in page");
    click(b, "#sign-in-dev").await;
    wait_url(b, |path, _| path == "/console/orders").await;
}

pub(crate) async fn open_order(b: &Client, app: &TestApp, id: &str) {
    b.goto(&format!("{}/console/orders/{id}", app.api))
        .await
        .expect("order page");
}

/// The kinds of the timeline's events, in order.
async fn timeline(b: &Client) -> Vec<String> {
    let items = b
        .find_all(fantoccini::Locator::Css("#timeline li.event"))
        .await
        .unwrap_or_default();
    let mut kinds = Vec::new();
    for item in items {
        kinds.push(item.attr("data-kind").await.ok().flatten().unwrap_or_default());
    }
    kinds
}

/// Submits an action form and checks it was applied (the page says so).
pub(crate) async fn act(b: &Client, action: &str) {
    click(b, &format!("#do-{action}")).await;
    wait_for(b, &format!("#done[data-action={action}]")).await;
}

async fn staff_find_ship_deliver_and_refund_an_order_in_english_and_arabic(app: TestApp) {
    let Some(driver) = Driver::start().await else { return };
    let order = seed(&app).await;
    let id = order["id"].as_str().unwrap().to_owned();
    let b = driver.browser().await;

    // (1) Sign in, search by the Arabic ship-to name, open the one order found.
    sign_in_as_staff(&b, &app).await;
    assert_eq!(
        b.find_all(fantoccini::Locator::Css("#orders tbody tr"))
            .await
            .unwrap()
            .len(),
        2
    );
    screenshot(&b, &format!("{}-orders-en", backend(&app))).await;
    fill(&b, "#q", "فاطمة").await;
    click(&b, "#search").await;
    wait_url(&b, |_, query| query.is_some_and(|q| q.contains("q="))).await;
    let rows = b.find_all(fantoccini::Locator::Css("#orders tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 1, "the search finds one order");
    assert_eq!(text(&b, "#orders td.ship-to").await, ARABIC_NAME);
    assert_eq!(text(&b, "#orders td.num").await, "3.705 KWD");
    click(&b, "a.order-link").await;
    wait_for(&b, "#ship-to-name").await;
    assert_eq!(text(&b, "#ship-to-name").await, ARABIC_NAME);
    assert_eq!(text(&b, "#order-number").await, order["number"].as_str().unwrap());
    assert_eq!(text(&b, "#grand-total").await, "3.705 KWD");
    assert!(!exists(&b, "#form-ship").await, "a card order ships only once paid");

    // (2) Authorise and capture the grand total, ship two of three, deliver, refund one unit.
    fill(&b, "#authorize-provider_ref", "psp-1").await;
    act(&b, "authorize").await;
    assert_eq!(text(&b, "#authorized").await, "3.705 KWD");
    act(&b, "capture").await;
    assert_eq!(text(&b, "#paid").await, "3.705 KWD");
    assert_eq!(api_order(&app, &id).await["payment"]["captured"]["amount_minor"], 3705);

    fill(&b, "#ship-qty-0", "2").await;
    fill(&b, "#ship-carrier", "Aramex").await;
    fill(&b, "#ship-tracking_number", "AWB-1").await;
    act(&b, "ship").await;
    assert_eq!(text(&b, "#line-0 .shipped").await, "2");
    assert_eq!(timeline(&b).await.last().map(String::as_str), Some("shipment.created"));
    let api = api_order(&app, &id).await;
    assert_eq!(api["lines"][0]["shipped"], 2);
    assert_eq!(api["status"]["fulfilment"], "partially_shipped");
    assert_eq!(text(&b, "#badge-3").await, "partially shipped");

    act(&b, "deliver").await;
    assert_eq!(
        timeline(&b).await.last().map(String::as_str),
        Some("shipment.delivered")
    );
    let api = api_order(&app, &id).await;
    assert!(api["shipments"][0]["delivered_at"].is_string());
    assert!(!text(&b, "#shipments").await.contains("Not yet"));

    // (3) The refund form, one unit, submitted twice as rendered (same Idempotency-Key and version): one refund.
    fill(&b, "#refund-qty-0", "1").await;
    let statuses = b
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const f = document.getElementById('form-refund');
             const post = () => fetch(f.action, {method: 'POST', body: new URLSearchParams(new FormData(f))});
             post().then(a => post().then(b => done([a.status, b.status])));",
            vec![],
        )
        .await
        .expect("submit twice");
    assert_eq!(statuses, json!([200, 200]), "both submissions end on the order page");
    open_order(&b, &app, &id).await;
    assert_eq!(
        b.find_all(fantoccini::Locator::Css("#refunds li.refund"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(text(&b, "#refunded").await, "1.235 KWD");
    assert_eq!(text(&b, "#line-0 .refunded").await, "1");
    let kinds = timeline(&b).await;
    assert_eq!(kinds.iter().filter(|k| *k == "payment.refunded").count(), 1);
    let api = api_order(&app, &id).await;
    assert_eq!(api["refunds"].as_array().unwrap().len(), 1);
    assert_eq!(api["payment"]["refunded"]["amount_minor"], 1235);
    assert_eq!(api["status"]["payment"], "partially_refunded");
    assert_eq!(
        api["version"].as_i64().unwrap(),
        kinds.len() as i64,
        "the timeline shows every event"
    );
    screenshot(&b, &format!("{}-order-en", backend(&app))).await;

    // (5) Arabic: right to left, the words translated, customer text as entered.
    click(&b, "#lang-switch").await;
    wait_url(&b, |_, query| query == Some("lang=ar")).await;
    wait_for(&b, "html[dir=rtl]").await;
    assert_eq!(html_attr(&b, "dir").await, "rtl");
    assert_eq!(html_attr(&b, "lang").await, "ar");
    assert_eq!(text(&b, "#ship-to-name").await, ARABIC_NAME);
    assert_eq!(text(&b, "#grand-total").await, "3.705 KWD");
    let shot = screenshot(&b, &format!("{}-order-ar", backend(&app))).await;
    assert!(std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000));
    b.goto(&format!("{}/console/orders", app.api)).await.unwrap();
    assert_eq!(html_attr(&b, "dir").await, "rtl", "the choice is remembered");
    screenshot(&b, &format!("{}-orders-ar", backend(&app))).await;
    b.close().await.ok();
}

async fn a_second_session_acting_on_a_stale_page_sees_the_conflict(app: TestApp) {
    let Some(driver) = Driver::start().await else { return };
    let order = seed(&app).await;
    let id = order["id"].as_str().unwrap().to_owned();
    let order = app
        .step(
            &order,
            "payment/authorize",
            Some(json!({"amount_minor": 3705, "provider_ref": "psp-1"})),
        )
        .await;
    app.step(&order, "payment/capture", Some(json!({"amount_minor": 3705})))
        .await;

    let (one, two) = (driver.browser().await, driver.browser().await);
    for b in [&one, &two] {
        sign_in_as_staff(b, &app).await;
        open_order(b, &app, &id).await;
        fill(b, "#ship-carrier", "Aramex").await;
        fill(b, "#ship-tracking_number", "AWB-7").await;
    }
    act(&one, "ship").await;
    assert_eq!(text(&one, "#line-0 .shipped").await, "3");

    // The second session still shows the order as it was: its form is refused, and it is told why.
    click(&two, "#do-ship").await;
    wait_for(&two, "#message").await;
    assert!(text(&two, "#message").await.contains("changed since you opened it"));
    let api: Value = api_order(&app, &id).await;
    assert_eq!(api["shipments"].as_array().unwrap().len(), 1, "shipped once");
    assert_eq!(api["lines"][0]["shipped"], 3);
    click(&two, "#reload").await;
    wait_for(&two, "#lines").await;
    assert_eq!(text(&two, "#line-0 .shipped").await, "3");
    assert!(!exists(&two, "#form-ship").await, "nothing is left to ship");
    one.close().await.ok();
    two.close().await.ok();
}

async fn customers_forms_without_csrf_and_missing_scopes_are_refused(app: TestApp) {
    let Some(driver) = Driver::start().await else { return };
    let order = seed(&app).await;
    let id = order["id"].as_str().unwrap().to_owned();
    let b = driver.browser().await;

    // A customer's token is refused at sign-in, and no session is started.
    b.goto(&format!("{}/console/sign-in", app.api)).await.unwrap();
    fill(&b, "#token", &app.customer("cust-42")).await;
    click(&b, "#sign-in").await;
    wait_for(&b, "#message").await;
    assert!(text(&b, "#message").await.contains("for staff"));
    b.goto(&format!("{}/console/orders", app.api)).await.unwrap();
    wait_url(&b, |path, _| path == "/console/sign-in").await;

    // A read-only staff token: the order shows, no action is offered.
    fill(&b, "#token", &app.token("auditor-1", "orders:read")).await;
    click(&b, "#sign-in").await;
    wait_url(&b, |path, _| path == "/console/orders").await;
    open_order(&b, &app, &id).await;
    assert!(exists(&b, "#read-only").await);
    assert!(!exists(&b, "form.action").await, "no action forms without orders:write");

    // A form stripped of its CSRF token is refused and changes nothing.
    click(&b, "button.link").await;
    wait_for(&b, "#sign-in-dev").await;
    sign_in_as_staff(&b, &app).await;
    open_order(&b, &app, &id).await;
    b.execute(
        "document.querySelector('#form-cancel input[name=csrf]').remove();",
        vec![],
    )
    .await
    .expect("remove the token");
    click(&b, "#do-cancel").await;
    wait_for(&b, "#message").await;
    assert!(text(&b, "#message").await.contains("not sent from the console"));
    let api = api_order(&app, &id).await;
    assert_eq!(api["status"]["order"], "open");
    assert_eq!(api["version"], order["version"]);
    b.close().await.ok();
}
