//! Orders in AED to the Emirates (5% VAT) over a small catalog, for the edit tests (tests/order_edits.rs,
//! tests/order_edit_money.rs).

use serde_json::{Value, json};

use super::{TestApp, order_body};

/// Three products in AED with ten of each on hand: A at 10.00, B at 25.00, C at 7.50.
pub async fn shop(app: &TestApp) {
    for (sku, price) in [("A", 1000), ("B", 2500), ("C", 750)] {
        app.stocked(sku, price, "AED", 10).await;
    }
}

/// An order of `lines` to the Emirates, placed by staff, paid by `method` (`card` or `cod`).
pub async fn place(app: &TestApp, lines: &[(&str, i64)], method: &str) -> Value {
    let mut body = order_body("AED", "AE", lines);
    body["payment_method"] = json!(method);
    let response = app
        .create_order(&app.staff(), &uuid::Uuid::new_v4().to_string(), &body)
        .await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

/// Authorises `amount` minor units on `o`, then captures them when `capture`.
pub async fn pay(app: &TestApp, o: &Value, amount: i64, capture: bool) -> Value {
    let authorize = json!({"amount_minor": amount, "provider_ref": format!("psp-{}", o["version"])});
    let o = app.step(o, "payment/authorize", Some(authorize)).await;
    if !capture {
        return o;
    }
    app.step(&o, "payment/capture", Some(json!({"amount_minor": amount})))
        .await
}

/// A money object's minor units.
pub fn minor(v: &Value) -> i64 {
    v["amount_minor"].as_i64().unwrap()
}
