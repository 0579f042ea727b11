//! The whole life of an order over HTTP, on SQLite and PostgreSQL: payments, cash on delivery, shipments,
//! returns, refunds, and the event history that replays to the order.

mod common;

use common::{TestApp, assert_problem, order_body};
use futures::future::join_all;
use orderly::domain::order::Order;
use serde_json::{Value, json};

async fn place(app: &TestApp, method: &str, lines: &[(&str, i64)]) -> Value {
    let mut body = order_body("KWD", "KW", lines);
    body["payment_method"] = json!(method);
    let response = app
        .create_order(&app.staff(), &uuid::Uuid::new_v4().to_string(), &body)
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

fn total(order: &Value) -> i64 {
    order["totals"]["grand_total"]["amount_minor"].as_i64().unwrap()
}

fn lines(items: &[(&str, i64)]) -> Value {
    json!({"lines": items.iter().map(|(s, q)| json!({"sku": s, "quantity": q})).collect::<Vec<_>>(), "carrier": "Aramex", "tracking_number": "AX123"})
}

async fn replay_matches(app: &TestApp, order: &Value) {
    let id = uuid::Uuid::parse_str(order["id"].as_str().unwrap()).unwrap();
    let events = app.state.store.order_events(id).await.unwrap();
    let sequences: Vec<i64> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(
        sequences,
        (1..=events.len() as i64).collect::<Vec<_>>(),
        "gap-free sequence"
    );
    let stored = app.state.store.get_order(id).await.unwrap().unwrap();
    assert_eq!(
        Order::replay(&events).unwrap(),
        stored,
        "replaying the events rebuilds the order"
    );
}

async fn a_card_order_is_authorised_captured_shipped_in_two_parts_delivered_and_completed(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 10).await;
    app.stocked("MUSK", 2500, "KWD", 10).await;
    let o = place(&app, "card", &[("OUD", 2), ("MUSK", 1)]).await;
    let o = app
        .step(
            &o,
            "payment/authorize",
            Some(json!({"amount_minor": total(&o), "provider_ref": "tap_ch_1"})),
        )
        .await;
    assert_eq!(o["status"]["order"], "confirmed");
    let o = app
        .step(&o, "payment/capture", Some(json!({"amount_minor": total(&o)})))
        .await;
    assert_eq!(o["payment"]["captured"]["amount_minor"], total(&o));
    let o = app.step(&o, "shipments", Some(lines(&[("OUD", 2)]))).await;
    assert_eq!(o["status"]["fulfilment"], "partially_shipped");
    assert_eq!(
        app.stock("OUD").await,
        json!({"sku": "OUD", "on_hand": 8, "reserved": 0, "available": 8})
    );
    let o = app.step(&o, "shipments", Some(lines(&[("MUSK", 1)]))).await;
    assert_eq!(o["status"]["fulfilment"], "shipped");
    let first = o["shipments"][0]["id"].as_str().unwrap().to_owned();
    let second = o["shipments"][1]["id"].as_str().unwrap().to_owned();
    let o = app.step(&o, &format!("shipments/{first}/deliver"), None).await;
    assert_eq!(o["status"]["order"], "confirmed");
    let o = app.step(&o, &format!("shipments/{second}/deliver"), None).await;
    assert_eq!(
        o["status"],
        json!({"order": "completed", "payment": "captured", "fulfilment": "delivered"})
    );
    assert_eq!(app.stock("MUSK").await["on_hand"], 9);
    replay_matches(&app, &o).await;
}

async fn a_cod_order_is_shipped_delivered_collected_and_completed(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 10).await;
    let o = place(&app, "cod", &[("OUD", 3)]).await;
    let o = app.step(&o, "shipments", Some(lines(&[("OUD", 3)]))).await;
    let shipment = o["shipments"][0]["id"].as_str().unwrap().to_owned();
    let o = app.step(&o, &format!("shipments/{shipment}/deliver"), None).await;
    let o = app
        .step(
            &o,
            "cod/collect",
            Some(json!({"amount_minor": 3705, "courier_ref": "driver-7"})),
        )
        .await;
    assert_eq!(
        o["status"],
        json!({"order": "completed", "payment": "cod_collected", "fulfilment": "delivered"})
    );
    replay_matches(&app, &o).await;
}

async fn a_refused_cod_order_is_returned_received_and_its_stock_restored(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 10).await;
    let o = place(&app, "cod", &[("OUD", 2)]).await;
    let o = app.step(&o, "shipments", Some(lines(&[("OUD", 2)]))).await;
    assert_eq!(app.stock("OUD").await["on_hand"], 8);
    let o = app
        .step(&o, "cod/refuse", Some(json!({"reason": "customer not at home"})))
        .await;
    assert_eq!(o["status"]["payment"], "cod_refused");
    assert_eq!(o["status"]["fulfilment"], "returned");
    assert_eq!(o["returns"][0]["to_origin"], true);
    let rto = o["returns"][0]["id"].as_str().unwrap().to_owned();
    let o = app
        .step(&o, &format!("returns/{rto}/receive"), Some(json!({"restock": true})))
        .await;
    assert_eq!(o["status"]["order"], "cancelled");
    assert_eq!(
        app.stock("OUD").await,
        json!({"sku": "OUD", "on_hand": 10, "reserved": 0, "available": 10})
    );
    replay_matches(&app, &o).await;
}

async fn two_partial_refunds_after_a_partial_return_and_a_third_that_would_exceed_is_refused(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 10).await;
    let o = place(&app, "card", &[("OUD", 3)]).await;
    let o = app
        .step(
            &o,
            "payment/authorize",
            Some(json!({"amount_minor": 3705, "provider_ref": "p"})),
        )
        .await;
    let o = app
        .step(&o, "payment/capture", Some(json!({"amount_minor": 3705})))
        .await;
    let o = app.step(&o, "shipments", Some(lines(&[("OUD", 3)]))).await;
    let shipment = o["shipments"][0]["id"].as_str().unwrap().to_owned();
    let o = app.step(&o, &format!("shipments/{shipment}/deliver"), None).await;
    let o = app
        .step(
            &o,
            "returns",
            Some(json!({"lines": [{"sku": "OUD", "quantity": 1}], "reason": "wrong size"})),
        )
        .await;
    assert_eq!(o["status"]["fulfilment"], "partially_returned");
    let ret = o["returns"][0]["id"].as_str().unwrap().to_owned();
    let o = app
        .step(&o, &format!("returns/{ret}/receive"), Some(json!({"restock": true})))
        .await;
    assert_eq!(app.stock("OUD").await["on_hand"], 8);
    let o = app
        .step(
            &o,
            "refunds",
            Some(json!({"lines": [{"sku": "OUD", "quantity": 1}], "reason": "returned"})),
        )
        .await;
    assert_eq!(o["payment"]["refunded"]["amount_minor"], 1235);
    let o = app
        .step(
            &o,
            "refunds",
            Some(json!({"amount_minor": 500, "reason": "late delivery"})),
        )
        .await;
    assert_eq!(o["status"]["payment"], "partially_refunded");
    assert_eq!(o["payment"]["refundable"]["amount_minor"], 3705 - 1235 - 500);
    assert_eq!(o["lines"][0]["refunded"]["amount_minor"], 1235 + 500);
    let too_much = app
        .command(
            &app.staff(),
            o["id"].as_str().unwrap(),
            "refunds",
            o["version"].as_i64().unwrap(),
            "r3",
            Some(json!({"amount_minor": 1971})),
        )
        .await;
    assert_problem(too_much, 422, "refund_exceeds_captured").await;
    replay_matches(&app, &o).await;
}

async fn cancelling_after_a_shipment_is_an_invalid_transition(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 10).await;
    let o = place(&app, "cod", &[("OUD", 2)]).await;
    let o = app.step(&o, "shipments", Some(lines(&[("OUD", 1)]))).await;
    let r = app
        .cancel(
            &app.staff(),
            o["id"].as_str().unwrap(),
            o["version"].as_i64().unwrap(),
            "c",
        )
        .await;
    let problem = assert_problem(r, 409, "invalid_transition").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("partially_shipped"),
        "{problem}"
    );
    assert_eq!(
        app.stock("OUD").await,
        json!({"sku": "OUD", "on_hand": 9, "reserved": 1, "available": 8})
    );
}

async fn cancelling_a_captured_order_refunds_it_and_a_card_order_waits_for_payment_to_ship(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 10).await;
    let o = place(&app, "card", &[("OUD", 1)]).await;
    let blocked = app
        .command(
            &app.staff(),
            o["id"].as_str().unwrap(),
            "shipments",
            1,
            "s",
            Some(lines(&[("OUD", 1)])),
        )
        .await;
    assert_problem(blocked, 409, "payment_required").await;
    let o = app
        .step(
            &o,
            "payment/authorize",
            Some(json!({"amount_minor": 1235, "provider_ref": "p"})),
        )
        .await;
    let o = app
        .step(&o, "payment/capture", Some(json!({"amount_minor": 1235})))
        .await;
    let o = app.step(&o, "cancel", None).await;
    assert_eq!(
        o["status"],
        json!({"order": "cancelled", "payment": "refunded", "fulfilment": "unfulfilled"})
    );
    assert_eq!(o["refunds"][0]["amount"]["amount_minor"], 1235);
    assert_eq!(app.stock("OUD").await["reserved"], 0);
}

async fn the_history_lists_every_change_in_sequence(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 10).await;
    let customer = app.customer("cust-h");
    let mut body = order_body("KWD", "KW", &[("OUD", 1)]);
    body["payment_method"] = json!("card");
    let o: Value = app.create_order(&customer, "h1", &body).await.json().await.unwrap();
    let o = app
        .step(
            &o,
            "payment/authorize",
            Some(json!({"amount_minor": 1235, "provider_ref": "p"})),
        )
        .await;
    let history: Value = app
        .client
        .get(format!("{}/v1/orders/{}/events", app.api, o["id"].as_str().unwrap()))
        .bearer_auth(&customer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = history["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["order.placed", "payment.authorized", "order.confirmed"]);
    let sequences: Vec<i64> = items.iter().map(|e| e["sequence"].as_i64().unwrap()).collect();
    assert_eq!(sequences, [1, 2, 3]);
    // The customer reads their own history: who acted as a role, without the provider's reference.
    assert_eq!(items[1]["data"], json!({"amount_minor": 1235}));
    assert_eq!(items[1]["actor"], "staff");
    assert_eq!(items[0]["actor"], "customer");
    let stranger = app
        .client
        .get(format!("{}/v1/orders/{}/events", app.api, o["id"].as_str().unwrap()))
        .bearer_auth(app.customer("someone-else"))
        .send()
        .await
        .unwrap();
    assert_problem(stranger, 404, "order_not_found").await;
}

async fn concurrent_commands_on_one_order_keep_the_sequence_gap_free(app: TestApp) {
    app.stocked("OUD", 1000, "KWD", 10).await;
    let o = place(&app, "card", &[("OUD", 1)]).await;
    let o = app
        .step(
            &o,
            "payment/authorize",
            Some(json!({"amount_minor": 1000, "provider_ref": "p"})),
        )
        .await;
    let id = o["id"].as_str().unwrap().to_owned();
    // Ten clerks capture 100 fils each, retrying on 412 with the version they re-read.
    let clerks = (0..10).map(|i| {
        let (app, id) = (&app, id.clone());
        async move {
            let key = format!("capture-{i}");
            loop {
                let current: Value = app.get_order(&app.staff(), &id).await.json().await.unwrap();
                let version = current["version"].as_i64().unwrap();
                let r = app
                    .command(
                        &app.staff(),
                        &id,
                        "payment/capture",
                        version,
                        &key,
                        Some(json!({"amount_minor": 100})),
                    )
                    .await;
                match r.status().as_u16() {
                    200 => return,
                    412 | 503 => continue,
                    other => panic!("capture {i}: {other} {}", r.text().await.unwrap()),
                }
            }
        }
    });
    join_all(clerks).await;
    let done: Value = app.get_order(&app.staff(), &id).await.json().await.unwrap();
    assert_eq!(done["payment"]["captured"]["amount_minor"], 1000);
    replay_matches(&app, &done).await;
}

on_both_backends_and_pgbouncer!(
    a_card_order_is_authorised_captured_shipped_in_two_parts_delivered_and_completed,
    a_cod_order_is_shipped_delivered_collected_and_completed,
    a_refused_cod_order_is_returned_received_and_its_stock_restored,
    two_partial_refunds_after_a_partial_return_and_a_third_that_would_exceed_is_refused,
    cancelling_after_a_shipment_is_an_invalid_transition,
    cancelling_a_captured_order_refunds_it_and_a_card_order_waits_for_payment_to_ship,
    the_history_lists_every_change_in_sequence,
    concurrent_commands_on_one_order_keep_the_sequence_gap_free,
);
