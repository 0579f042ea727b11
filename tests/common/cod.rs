//! COD orders in the states settlement works on (tests/cod_settlement.rs, tests/cod_append_only.rs): placed by
//! staff for one unit of `OUD` per quantity, shipped by a courier, delivered and collected.

use serde_json::{Value, json};

use super::{TestApp, order_body};

pub async fn place_cod(app: &TestApp, quantity: i64) -> Value {
    let mut body = order_body("KWD", "KW", &[("OUD", quantity)]);
    body["payment_method"] = json!("cod");
    let response = app
        .create_order(&app.staff(), &uuid::Uuid::new_v4().to_string(), &body)
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

pub async fn shipped(app: &TestApp, courier: &str, tracking: &str) -> Value {
    let o = place_cod(app, 1).await;
    let ship = json!({"lines": [{"sku": "OUD", "quantity": 1}], "carrier": courier, "tracking_number": tracking});
    app.step(&o, "shipments", Some(ship)).await
}

/// A COD order of `courier`, shipped as `tracking`, delivered and its 1.235 KWD collected.
pub async fn collected(app: &TestApp, courier: &str, tracking: &str) -> Value {
    let o = shipped(app, courier, tracking).await;
    let shipment = o["shipments"][0]["id"].as_str().unwrap().to_owned();
    let o = app.step(&o, &format!("shipments/{shipment}/deliver"), None).await;
    let amount = o["totals"]["grand_total"]["amount_minor"].clone();
    app.step(
        &o,
        "cod/collect",
        Some(json!({"amount_minor": amount, "courier_ref": "driver-7"})),
    )
    .await
}

pub fn number(o: &Value) -> String {
    o["number"].as_str().unwrap().to_owned()
}
