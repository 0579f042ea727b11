//! A customer reading their own order sees neither the staff who handled it nor the payment provider's or the
//! courier's references; staff see all of it. On SQLite and PostgreSQL.

mod common;

use common::{TestApp, order_body};
use serde_json::{Value, json};

const PSP_REF: &str = "tap_chg_SECRET7";
const COURIER_REF: &str = "driver-17/run-SECRET";

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let response = app
        .client
        .get(format!("{}{path}", app.api))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn total(order: &Value) -> i64 {
    order["totals"]["grand_total"]["amount_minor"].as_i64().unwrap()
}

async fn customers_see_no_staff_ids_or_provider_references(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 10).await;
    let customer = app.customer("cust-1");
    // A card order the PSP authorises, and a cash order a courier collects, both the customer's.
    let card: Value = app
        .create_order(&customer, "card", &order_body("KWD", "KW", &[("OUD", 1)]))
        .await
        .json()
        .await
        .unwrap();
    let card = app
        .step(
            &card,
            "payment/authorize",
            Some(json!({"amount_minor": total(&card), "provider_ref": PSP_REF})),
        )
        .await;
    let mut body = order_body("KWD", "KW", &[("OUD", 1)]);
    body["payment_method"] = json!("cod");
    let cod: Value = app.create_order(&customer, "cod", &body).await.json().await.unwrap();
    let ship = json!({"lines": [{"sku": "OUD", "quantity": 1}], "carrier": "Aramex", "tracking_number": "AX1"});
    let cod = app.step(&cod, "shipments", Some(ship)).await;
    let shipment = cod["shipments"][0]["id"].as_str().unwrap().to_owned();
    let cod = app.step(&cod, &format!("shipments/{shipment}/deliver"), None).await;
    let cod = app
        .step(
            &cod,
            "cod/collect",
            Some(json!({"amount_minor": total(&cod), "courier_ref": COURIER_REF})),
        )
        .await;
    // The customer cancels the card order themselves.
    let (card_id, cod_id) = (card["id"].as_str().unwrap(), cod["id"].as_str().unwrap());
    let cancelled = app
        .cancel(&customer, card_id, card["version"].as_i64().unwrap(), "cancel")
        .await;
    assert_eq!(cancelled.status(), 200);
    let cancelled = cancelled.text().await.unwrap();

    let staff_id = "ops-1";
    let secrets = [staff_id, PSP_REF, COURIER_REF];
    let mut customer_bodies = vec![("cancel response".to_owned(), cancelled)];
    for path in [
        format!("/v1/orders/{card_id}"),
        format!("/v1/orders/{cod_id}"),
        format!("/v1/orders/{card_id}/events"),
        format!("/v1/orders/{cod_id}/events"),
        "/v1/orders".to_owned(),
    ] {
        let (status, text) = get(&app, &customer, &path).await;
        assert_eq!(status, 200, "{path}: {text}");
        customer_bodies.push((path, text));
    }
    for (what, text) in &customer_bodies {
        for secret in secrets {
            assert!(!text.contains(secret), "a customer sees {secret} in {what}: {text}");
        }
    }
    let events: Value = serde_json::from_str(&customer_bodies[3].1).unwrap();
    let actors: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    // Placed; authorised and so confirmed (staff); voided and cancelled (the customer's cancel).
    assert_eq!(actors, ["customer", "staff", "staff", "customer", "customer"]);
    let authorized = &events["items"][1];
    assert_eq!(authorized["type"], "payment.authorized");
    assert_eq!(authorized["data"], json!({"amount_minor": total(&card)}));

    // Staff see who did it and the references.
    let (_, staff_events) = get(&app, &app.staff(), &format!("/v1/orders/{card_id}/events")).await;
    assert!(
        staff_events.contains(staff_id) && staff_events.contains(PSP_REF),
        "{staff_events}"
    );
    assert!(staff_events.contains("\"actor\":\"cust-1\""), "{staff_events}");
    let (_, staff_cod) = get(&app, &app.staff(), &format!("/v1/orders/{cod_id}")).await;
    assert!(staff_cod.contains(COURIER_REF), "{staff_cod}");
    let (_, staff_cod_events) = get(&app, &app.staff(), &format!("/v1/orders/{cod_id}/events")).await;
    assert!(staff_cod_events.contains(COURIER_REF), "{staff_cod_events}");
}

on_both_backends!(customers_see_no_staff_ids_or_provider_references);
