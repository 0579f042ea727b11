//! `POST /v1/orders/{id}/edits` over HTTP on SQLite and PostgreSQL (docs/api.md, "Editing an order"): lines added,
//! removed and re-counted and the address changed in one go with exact totals, stock re-reserved all or nothing
//! (also under concurrent edits and orders), refusals that change nothing, and no edit after shipment.

mod common;

use common::shop::{minor, place, shop};
use common::{TestApp, assert_problem, order_body};
use futures::future::join_all;
use serde_json::{Value, json};

fn id(o: &Value) -> &str {
    o["id"].as_str().unwrap()
}

fn version(o: &Value) -> i64 {
    o["version"].as_i64().unwrap()
}

async fn edit(app: &TestApp, o: &Value, key: &str, operations: Value) -> reqwest::Response {
    let body = Some(json!({ "operations": operations }));
    app.command(&app.staff(), id(o), "edits", version(o), key, body).await
}

async fn reserved(app: &TestApp, sku: &str) -> i64 {
    app.stock(sku).await["reserved"].as_i64().unwrap()
}

async fn lines_and_address_change_together_with_exact_totals(app: TestApp) {
    shop(&app).await;
    let o = place(&app, &[("A", 2), ("B", 1)], "card").await;
    // 20.00 + 25.00 AED and 5% VAT.
    assert_eq!(minor(&o["totals"]["grand_total"]), 4725);
    // A's catalog price rises; the order keeps the price it was placed at.
    assert!(app.put_product("A", &[(5000, "AED")]).await.status().is_success());
    let operations = json!([
        {"op": "add_line", "sku": "C", "quantity": 4},
        {"op": "remove_line", "sku": "B"},
        {"op": "set_quantity", "sku": "A", "quantity": 3},
        {"op": "set_ship_to", "ship_to": {"name": "مريم البلوشي", "line1": "Way 3021, House 14", "city": "Muscat",
                                          "country": "OM", "phone": "+968 9000 0000"}},
    ]);
    let response = edit(&app, &o, "edit-1", operations.clone()).await;
    assert_eq!(response.status(), 200);
    let edited: Value = response.json().await.unwrap();
    let lines: Vec<(String, i64, i64)> = edited["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let sku = l["sku"].as_str().unwrap().to_owned();
            (sku, l["quantity"].as_i64().unwrap(), minor(&l["unit_price"]))
        })
        .collect();
    assert_eq!(lines, [("A".into(), 3, 1000), ("C".into(), 4, 750)]);
    // 30.00 + 30.00 AED, 5% VAT (Oman's rate is the Emirates').
    assert_eq!(minor(&edited["totals"]["subtotal"]), 6000);
    assert_eq!(minor(&edited["totals"]["tax"]), 300);
    assert_eq!(minor(&edited["totals"]["grand_total"]), 6300);
    assert_eq!(edited["ship_to"]["country"], "OM");
    assert_eq!(edited["ship_to"]["name"], "مريم البلوشي");
    assert_eq!(version(&edited), version(&o) + 1);
    assert_eq!(
        minor(&edited["payment"]["balance_due"]),
        6300,
        "an unpaid order owes its total"
    );
    assert_eq!(minor(&edited["payment"]["refund_due"]), 0);
    assert!(
        edited["payment"].get("to_collect").is_none(),
        "card orders have no cash to collect"
    );
    for (sku, units) in [("A", 3), ("B", 0), ("C", 4)] {
        assert_eq!(reserved(&app, sku).await, units, "{sku}");
    }

    // One event carries the diff.
    let events: Value = app
        .client
        .get(format!("{}/v1/orders/{}/events", app.api, id(&o)))
        .bearer_auth(app.staff())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let last = events["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "order.edited");
    let diff = &last["data"]["diff"];
    assert_eq!(diff["added"], json!([{"sku": "C", "quantity": 4}]));
    assert_eq!(diff["removed"], json!([{"sku": "B", "quantity": 1}]));
    assert_eq!(diff["changed"], json!([{"sku": "A", "from": 2, "to": 3}]));
    assert_eq!(diff["ship_to"]["country"], "OM");
    assert_eq!(diff["totals_before"]["grand_total"]["amount_minor"], 4725);

    // A retry answers the same; the key with another body is refused; a stale version is a conflict.
    let retry = edit(&app, &o, "edit-1", operations).await;
    assert_eq!(retry.status(), 200);
    assert_eq!(retry.json::<Value>().await.unwrap(), edited);
    let other = edit(&app, &o, "edit-1", json!([{"op": "remove_line", "sku": "A"}])).await;
    assert_problem(other, 422, "idempotency_key_reused").await;
    let stale = edit(&app, &o, "edit-2", json!([{"op": "remove_line", "sku": "A"}])).await;
    assert_problem(stale, 412, "version_conflict").await;

    // The new name finds the order.
    let found: Value = app
        .client
        .get(format!("{}/v1/orders", app.api))
        .query(&[("q", "مريم")])
        .bearer_auth(app.staff())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"][0]["id"], o["id"], "{found}");
}

async fn short_stock_refuses_the_whole_edit(app: TestApp) {
    shop(&app).await;
    app.set_stock("A", 3).await;
    let o = place(&app, &[("A", 2)], "card").await;
    let operations =
        json!([{"op": "add_line", "sku": "C", "quantity": 1}, {"op": "set_quantity", "sku": "A", "quantity": 4}]);
    let refused = edit(&app, &o, "short", operations).await;
    let problem = assert_problem(refused, 409, "insufficient_stock").await;
    assert_eq!(problem["detail"], "SKU A: 2 requested, 1 available", "{problem}");
    assert_eq!((reserved(&app, "A").await, reserved(&app, "C").await), (2, 0));
    let now: Value = app.get_order(&app.staff(), id(&o)).await.json().await.unwrap();
    assert_eq!(now, o, "nothing changed");
}

async fn bad_edits_are_refused_with_their_codes_and_change_nothing(app: TestApp) {
    shop(&app).await;
    let o = place(&app, &[("A", 1), ("B", 1)], "card").await;
    let to_saudi = json!([{"op": "set_ship_to", "ship_to": {"name": "Sara", "line1": "King Fahd Rd", "city": "Riyadh",
                                                            "country": "SA", "phone": "+966500000000"}}]);
    assert_problem(edit(&app, &o, "k1", to_saudi).await, 422, "vat_country_change").await;
    let unknown = json!([{"op": "add_line", "sku": "NOPE", "quantity": 1}]);
    assert_problem(edit(&app, &o, "k2", unknown).await, 422, "unknown_sku").await;
    let twice = json!([{"op": "add_line", "sku": "A", "quantity": 1}]);
    let problem = assert_problem(edit(&app, &o, "k3", twice).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["pointer"], "/operations/0/sku", "{problem}");
    let all_gone = json!([{"op": "remove_line", "sku": "A"}, {"op": "remove_line", "sku": "B"}]);
    let problem = assert_problem(edit(&app, &o, "k4", all_gone).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["pointer"], "/operations", "{problem}");
    let bad_quantity = json!([{"op": "set_quantity", "sku": "A", "quantity": 0}]);
    let problem = assert_problem(edit(&app, &o, "k5", bad_quantity).await, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["pointer"], "/operations/0/quantity", "{problem}");
    assert_problem(edit(&app, &o, "k6", json!([])).await, 422, "validation_failed").await;
    let customer = app
        .command(
            &app.customer("cust-1"),
            id(&o),
            "edits",
            version(&o),
            "k7",
            Some(json!({"operations": [{"op": "remove_line", "sku": "A"}]})),
        )
        .await;
    assert_problem(customer, 403, "insufficient_scope").await;
    let now: Value = app.get_order(&app.staff(), id(&o)).await.json().await.unwrap();
    assert_eq!(now, o, "nothing changed");
}

async fn edits_are_refused_once_anything_has_shipped(app: TestApp) {
    shop(&app).await;
    let o = place(&app, &[("A", 2)], "cod").await;
    let ship = json!({"lines": [{"sku": "A", "quantity": 1}], "carrier": "Aramex", "tracking_number": "AX-1"});
    let o = app.step(&o, "shipments", Some(ship)).await;
    for operations in [
        json!([{"op": "set_quantity", "sku": "A", "quantity": 1}]),
        json!([{"op": "set_ship_to", "ship_to": {"name": "Ali", "line1": "Street 2", "city": "Dubai", "country": "AE",
                                                 "phone": "+971500000001"}}]),
    ] {
        let refused = edit(&app, &o, &uuid::Uuid::new_v4().to_string(), operations).await;
        let problem = assert_problem(refused, 409, "invalid_transition").await;
        assert!(
            problem["detail"].as_str().unwrap().contains("partially_shipped"),
            "{problem}"
        );
    }
}

/// Four orders of one X each; then at once four edits to six X each and four new orders of three X each, with 20
/// on hand: whatever wins, nothing is reserved twice or beyond what is on hand.
async fn concurrent_edits_and_orders_never_oversell(app: TestApp) {
    app.stocked("X", 1000, "AED", 20).await;
    let mut orders = Vec::new();
    for _ in 0..4 {
        orders.push(place(&app, &[("X", 1)], "card").await);
    }
    let edits = orders.iter().map(|o| {
        let app = &app;
        async move {
            let r = edit(
                app,
                o,
                &uuid::Uuid::new_v4().to_string(),
                json!([{"op": "set_quantity", "sku": "X", "quantity": 6}]),
            )
            .await;
            r.status().as_u16()
        }
    });
    let placing = (0..4).map(|_| {
        let app = &app;
        async move {
            let body = order_body("AED", "AE", &[("X", 3)]);
            let r = app
                .create_order(&app.staff(), &uuid::Uuid::new_v4().to_string(), &body)
                .await;
            let status = r.status().as_u16();
            let placed: Option<Value> = (status == 201).then_some(r.json().await.unwrap());
            (status, placed)
        }
    });
    let (edited, placed) = futures::join!(join_all(edits), join_all(placing));
    assert!(edited.iter().all(|s| [200, 409].contains(s)), "{edited:?}");
    assert!(placed.iter().all(|(s, _)| [201, 409].contains(s)), "{placed:?}");
    let mut held = 0;
    for o in orders.iter().chain(placed.iter().filter_map(|(_, o)| o.as_ref())) {
        let now: Value = app.get_order(&app.staff(), id(o)).await.json().await.unwrap();
        held += now["lines"][0]["quantity"].as_i64().unwrap();
    }
    let stock = app.stock("X").await;
    assert_eq!(
        stock["reserved"].as_i64().unwrap(),
        held,
        "reserved is what the orders hold: {stock}"
    );
    assert!(held <= 20, "never more than on hand: {held}");
    assert!(
        edited.contains(&409) || placed.iter().any(|(s, _)| *s == 409),
        "the demand (36) exceeded 20"
    );
}

on_both_backends!(
    lines_and_address_change_together_with_exact_totals,
    short_stock_refuses_the_whole_edit,
    bad_edits_are_refused_with_their_codes_and_change_nothing,
    edits_are_refused_once_anything_has_shipped,
    concurrent_edits_and_orders_never_oversell,
);
