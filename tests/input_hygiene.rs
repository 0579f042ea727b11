//! Every free-text field of every request refuses control, bidi, invisible format characters and line separators
//! with a 422 naming the field, and nothing changes; duplicate JSON keys are refused; a long error list is capped.
//! On SQLite and PostgreSQL (PostgreSQL cannot store NUL at all: it used to be a 500 there).

mod common;

use common::{TestApp, assert_problem, order_body};
use serde_json::{Value, json};

/// NUL, a right-to-left override, a left-to-right isolate, a zero-width space, a line separator, DEL, a C1 CSI.
const BAD: [char; 7] = ['\0', '\u{202E}', '\u{2066}', '\u{200B}', '\u{2028}', '\u{7f}', '\u{9b}'];

/// `POST /v1/orders/{id}/<action>` bodies, each with one free-text field (`pointer`) set to `bad`.
fn command_cases(bad: &str) -> Vec<(String, Value, &'static str)> {
    let shipment = uuid::Uuid::new_v4();
    let lines = json!([{"sku": "OUD-1", "quantity": 1}]);
    vec![
        ("cancel".into(), json!({"reason": bad}), "/reason"),
        (
            "payment/authorize".into(),
            json!({"amount_minor": 1, "provider_ref": bad}),
            "/provider_ref",
        ),
        ("payment/void".into(), json!({"reason": bad}), "/reason"),
        ("payment/fail".into(), json!({"reason": bad}), "/reason"),
        (
            "cod/collect".into(),
            json!({"amount_minor": 1, "courier_ref": bad}),
            "/courier_ref",
        ),
        ("cod/refuse".into(), json!({"reason": bad}), "/reason"),
        (
            "shipments".into(),
            json!({"lines": lines, "carrier": bad, "tracking_number": "AX1"}),
            "/carrier",
        ),
        (
            "shipments".into(),
            json!({"lines": lines, "carrier": "Aramex", "tracking_number": bad}),
            "/tracking_number",
        ),
        (
            format!("shipments/{shipment}/deliver"),
            json!({"reason": bad}),
            "/reason",
        ),
        ("returns".into(), json!({"lines": lines, "reason": bad}), "/reason"),
        ("refunds".into(), json!({"reason": bad}), "/reason"),
    ]
}

/// The order-body fields, each set to `bad`: the address, and the customer id staff may set.
fn order_cases(bad: &str) -> Vec<(Value, &'static str)> {
    let mut for_someone = order_body("KWD", "KW", &[("OUD-1", 1)]);
    for_someone["customer_id"] = json!(bad);
    let address = ["name", "line1", "line2", "city"]
        .into_iter()
        .zip(["/ship_to/name", "/ship_to/line1", "/ship_to/line2", "/ship_to/city"])
        .map(|(field, pointer)| {
            let mut body = order_body("KWD", "KW", &[("OUD-1", 1)]);
            body["ship_to"][field] = json!(bad);
            (body, pointer)
        });
    address.chain([(for_someone, "/customer_id")]).collect()
}

async fn assert_refused_at(response: reqwest::Response, pointer: &str, what: &str) {
    let problem = assert_problem(response, 422, "validation_failed").await;
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, [pointer], "{what}: {problem}");
}

/// What a refused request must leave as it was: the orders, the order's events and version, stock, the product.
async fn snapshot(app: &TestApp, order: &Value) -> Value {
    let id = order["id"].as_str().unwrap();
    let events: Value = app
        .client
        .get(format!("{}/v1/orders/{id}/events", app.api))
        .bearer_auth(app.staff())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let now: Value = app.get_order(&app.staff(), id).await.json().await.unwrap();
    let product: Value = app
        .client
        .get(format!("{}/v1/products/OUD-1", app.api))
        .bearer_auth(app.staff())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    json!({"orders": app.order_count().await, "events": events, "order": now, "stock": app.stock("OUD-1").await,
           "product": product})
}

async fn every_free_text_field_refuses_invisible_and_control_characters(app: TestApp) {
    app.stocked("OUD-1", 1235, "KWD", 10).await;
    let customer = app.customer("cust-1");
    let placed = app
        .create_order(&customer, "place", &order_body("KWD", "KW", &[("OUD-1", 1)]))
        .await;
    assert_eq!(placed.status(), 201);
    let order: Value = placed.json().await.unwrap();
    let (id, version) = (order["id"].as_str().unwrap(), order["version"].as_i64().unwrap());
    let before = snapshot(&app, &order).await;

    let mut checked = 0;
    for c in BAD {
        let bad = format!("ok{c}ok");
        let what = |field: &str| format!("{field} with U+{:04X}", u32::from(c));
        for (body, pointer) in order_cases(&bad) {
            let key = uuid::Uuid::new_v4().to_string();
            assert_refused_at(app.create_order(&customer, &key, &body).await, pointer, &what(pointer)).await;
            checked += 1;
        }
        for (action, body, pointer) in command_cases(&bad) {
            let key = uuid::Uuid::new_v4().to_string();
            let response = app.command(&app.staff(), id, &action, version, &key, Some(body)).await;
            assert_refused_at(response, pointer, &what(&format!("{action} {pointer}"))).await;
            checked += 1;
        }
        // The customer's own cancel takes the same check.
        let key = uuid::Uuid::new_v4().to_string();
        let response = app
            .command(&customer, id, "cancel", version, &key, Some(json!({"reason": bad})))
            .await;
        assert_refused_at(response, "/reason", &what("customer cancel")).await;
        for (field, pointer) in [("name_en", "/name_en"), ("name_ar", "/name_ar")] {
            let mut product =
                json!({"name_en": "Oud", "name_ar": "عود", "prices": [{"amount_minor": 1, "currency": "KWD"}]});
            product[field] = json!(bad);
            for sku in ["OUD-1", "NEW-1"] {
                let response = app
                    .client
                    .put(format!("{}/v1/products/{sku}", app.api))
                    .bearer_auth(app.staff())
                    .json(&product)
                    .send()
                    .await
                    .unwrap();
                assert_refused_at(response, pointer, &what(&format!("{sku} {pointer}"))).await;
                checked += 1;
            }
        }
    }
    assert_eq!(checked, BAD.len() * (5 + 11 + 4));

    // 60,000 characters of reason, as a customer once stored, is 22 times over the cap.
    let key = uuid::Uuid::new_v4().to_string();
    let long = json!({"reason": "x".repeat(60_000)});
    let response = app.command(&customer, id, "cancel", version, &key, Some(long)).await;
    assert_refused_at(response, "/reason", "60,000-character reason").await;

    assert_eq!(
        snapshot(&app, &order).await,
        before,
        "a refused request changed something"
    );
    let new = app
        .client
        .get(format!("{}/v1/products/NEW-1", app.api))
        .bearer_auth(app.staff())
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 404);
}

async fn text_is_stored_in_nfc_and_joiners_are_kept(app: TestApp) {
    app.stocked("OUD-1", 1235, "KWD", 10).await;
    let mut body = order_body("KWD", "KW", &[("OUD-1", 1)]);
    // "Café" with a combining acute, and Persian with a zero-width non-joiner.
    body["ship_to"]["name"] = json!("Cafe\u{301}");
    body["ship_to"]["city"] = json!("می\u{200C}خواهم");
    let order: Value = app.create_order(&app.staff(), "nfc", &body).await.json().await.unwrap();
    assert_eq!(order["ship_to"]["name"], "Caf\u{e9}");
    assert_eq!(order["ship_to"]["city"], "می\u{200C}خواهم");
}

async fn a_duplicate_key_is_refused_and_changes_nothing(app: TestApp) {
    app.stocked("OUD-1", 1235, "KWD", 10).await;
    let order: Value = app
        .create_order(&app.staff(), "first", &order_body("KWD", "KW", &[("OUD-1", 1)]))
        .await
        .json()
        .await
        .unwrap();
    let before = snapshot(&app, &order).await;
    let valid = serde_json::to_string(&order_body("KWD", "KW", &[("OUD-1", 1)])).unwrap();
    // The same order, with a second quantity for the line: serde_json alone would keep the last.
    let twice = valid.replacen(r#""quantity":1"#, r#""quantity":1,"quantity":9"#, 1);
    assert_ne!(twice, valid);
    let response = app
        .client
        .post(format!("{}/v1/orders", app.api))
        .bearer_auth(app.staff())
        .header("idempotency-key", "dup")
        .header("content-type", "application/json")
        .body(twice)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 400, "duplicate_key").await;
    assert_eq!(problem["errors"][0]["pointer"], "/lines/0/quantity", "{problem}");

    let id = order["id"].as_str().unwrap();
    let response = app
        .client
        .post(format!("{}/v1/orders/{id}/cancel", app.api))
        .bearer_auth(app.staff())
        .header("idempotency-key", "dup-cancel")
        .header("if-match", format!("\"{}\"", order["version"]))
        .header("content-type", "application/json")
        .body(r#"{"reason":"wrong size","reason":"x"}"#)
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 400, "duplicate_key").await;
    assert_eq!(problem["errors"][0]["pointer"], "/reason", "{problem}");
    assert_eq!(snapshot(&app, &order).await, before);
}

async fn a_long_error_list_is_capped_at_fifty_with_the_rest_counted(app: TestApp) {
    app.stocked("OUD-1", 1235, "KWD", 10).await;
    let bad: Vec<(&str, i64)> = vec![("bad sku", 1); 1_800];
    let body = order_body("KWD", "KW", &bad);
    let response = app.create_order(&app.staff(), "many", &body).await;
    let problem = assert_problem(response, 422, "validation_failed").await;
    // Too many lines, then each line's SKU.
    assert_eq!(problem["errors"].as_array().unwrap().len(), 50, "{}", problem["detail"]);
    assert_eq!(problem["errors_not_listed"], 1_801 - 50);
    assert_eq!(problem["detail"], "1801 fields are invalid; the first 50 are listed");
    assert_eq!(problem["errors"][49]["pointer"], "/lines/48/sku");
    assert!(serde_json::to_vec(&problem).unwrap().len() < 8_000);
    assert_eq!(app.order_count().await, 0);
}

on_both_backends!(
    every_free_text_field_refuses_invisible_and_control_characters,
    text_is_stored_in_nfc_and_joiners_are_kept,
    a_duplicate_key_is_refused_and_changes_nothing,
    a_long_error_list_is_capped_at_fifty_with_the_rest_counted,
);
