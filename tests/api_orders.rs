//! The orders API end to end over HTTP, on SQLite and on PostgreSQL, each test on a fresh database.

mod common;

use common::{TestApp, assert_problem, order_body};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn placing_an_order_reserves_stock_and_returns_it_with_location_and_etag(app: TestApp) {
    app.stocked("OUD-1", 1235, "KWD", 50).await;
    let customer = app.customer("cust-1");
    let response = app
        .create_order(&customer, "key-1", &order_body("KWD", "KW", &[("OUD-1", 3)]))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(response.headers()["etag"], "\"1\"");
    let order: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/v1/orders/{}", order["id"].as_str().unwrap()));
    assert_eq!(order["customer_id"], "cust-1");
    assert_eq!(
        order["status"],
        json!({"order": "open", "payment": "pending", "fulfilment": "unfulfilled"})
    );
    assert!(order["number"].as_str().unwrap().starts_with("KW-"));
    assert_eq!(order["ship_to"]["name"], "فاطمة الكندري");
    assert_eq!(
        app.stock("OUD-1").await,
        json!({"sku": "OUD-1", "on_hand": 50, "reserved": 3, "available": 47})
    );

    let read = app.get_order(&customer, order["id"].as_str().unwrap()).await;
    assert_eq!(read.headers()["etag"], "\"1\"");
    let read: Value = read.json().await.unwrap();
    assert_eq!(read, order);
}

async fn three_at_1_235_kwd_shipped_to_kuwait_total_3_705_kwd(app: TestApp) {
    app.stocked("OUD-1", 1235, "KWD", 10).await;
    let order: Value = app
        .create_order(&app.staff(), "k", &order_body("KWD", "KW", &[("OUD-1", 3)]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        order["totals"]["grand_total"],
        json!({"amount_minor": 3705, "currency": "KWD"})
    );
    assert_eq!(order["totals"]["tax"]["amount_minor"], 0);
    assert_eq!(
        order["lines"][0]["unit_price"],
        json!({"amount_minor": 1235, "currency": "KWD"})
    );
}

async fn two_at_45_aed_shipped_to_the_emirates_carry_4_50_aed_vat(app: TestApp) {
    app.stocked("ABAYA", 4500, "AED", 10).await;
    let order: Value = app
        .create_order(&app.staff(), "k", &order_body("AED", "AE", &[("ABAYA", 2)]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(order["totals"]["tax"], json!({"amount_minor": 450, "currency": "AED"}));
    assert_eq!(order["lines"][0]["tax"]["amount_minor"], 450);
    assert_eq!(order["totals"]["grand_total"]["amount_minor"], 9450);
    assert_eq!(order["vat_rate_bp"], 500);
}

async fn saudi_orders_carry_fifteen_percent_vat(app: TestApp) {
    app.stocked("QAHWA", 3333, "SAR", 10).await;
    let order: Value = app
        .create_order(&app.staff(), "k", &order_body("SAR", "SA", &[("QAHWA", 3)]))
        .await
        .json()
        .await
        .unwrap();
    // 99.99 SAR at 15% is 14.9985, rounded half away from zero to 15.00.
    assert_eq!(order["totals"]["subtotal"]["amount_minor"], 9999);
    assert_eq!(order["totals"]["tax"]["amount_minor"], 1500);
    assert_eq!(order["totals"]["grand_total"]["amount_minor"], 11499);
}

async fn prices_come_from_the_catalog_and_a_later_price_change_does_not_touch_placed_orders(app: TestApp) {
    app.stocked("OUD-1", 1235, "KWD", 10).await;
    let order: Value = app
        .create_order(&app.staff(), "k", &order_body("KWD", "KW", &[("OUD-1", 1)]))
        .await
        .json()
        .await
        .unwrap();
    assert!(app.put_product("OUD-1", &[(9999, "KWD")]).await.status().is_success());
    let read: Value = app
        .get_order(&app.staff(), order["id"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["lines"][0]["unit_price"]["amount_minor"], 1235);
}

async fn cancelling_releases_the_reserved_stock_and_bumps_the_version(app: TestApp) {
    app.stocked("OUD-1", 1235, "KWD", 5).await;
    let customer = app.customer("cust-1");
    let order: Value = app
        .create_order(&customer, "k1", &order_body("KWD", "KW", &[("OUD-1", 5)]))
        .await
        .json()
        .await
        .unwrap();
    let id = order["id"].as_str().unwrap();
    assert_eq!(app.stock("OUD-1").await["available"], 0);
    let response = app.cancel(&customer, id, 1, "c1").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let cancelled: Value = response.json().await.unwrap();
    assert_eq!(cancelled["status"]["order"], "cancelled");
    assert_eq!(cancelled["version"], 2);
    assert_eq!(
        app.stock("OUD-1").await,
        json!({"sku": "OUD-1", "on_hand": 5, "reserved": 0, "available": 5})
    );

    // Cancelling again is an invalid transition, named as such, and changes nothing.
    let again = app.cancel(&customer, id, 2, "c2").await;
    let problem = assert_problem(again, 409, "invalid_transition").await;
    assert!(problem["detail"].as_str().unwrap().contains("cancelled"));
    assert_eq!(app.stock("OUD-1").await["reserved"], 0);
}

async fn a_replayed_cancel_returns_the_original_response(app: TestApp) {
    app.stocked("OUD-1", 1235, "KWD", 5).await;
    let staff = app.staff();
    let order: Value = app
        .create_order(&staff, "k1", &order_body("KWD", "KW", &[("OUD-1", 1)]))
        .await
        .json()
        .await
        .unwrap();
    let id = order["id"].as_str().unwrap();
    let first = app.cancel(&staff, id, 1, "c1").await;
    let first_body: Value = first.json().await.unwrap();
    let replay = app.cancel(&staff, id, 1, "c1").await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(replay.json::<Value>().await.unwrap(), first_body);
}

async fn a_customer_never_sees_another_customers_order(app: TestApp) {
    app.stocked("OUD-1", 1235, "KWD", 10).await;
    let alice = app.customer("alice");
    let bob = app.customer("bob");
    let order: Value = app
        .create_order(&alice, "a1", &order_body("KWD", "KW", &[("OUD-1", 1)]))
        .await
        .json()
        .await
        .unwrap();
    let id = order["id"].as_str().unwrap();
    assert_problem(app.get_order(&bob, id).await, 404, "order_not_found").await;
    assert_problem(app.cancel(&bob, id, 1, "b1").await, 404, "order_not_found").await;
    let bobs: Value = app
        .client
        .get(format!("{}/v1/orders?customer_id=alice", app.api))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bobs["items"], json!([]));
    // Staff see it.
    assert_eq!(app.get_order(&app.staff(), id).await.status(), StatusCode::OK);
}

async fn staff_may_order_for_a_customer_but_customers_only_for_themselves(app: TestApp) {
    app.stocked("OUD-1", 1235, "KWD", 10).await;
    let mut body = order_body("KWD", "KW", &[("OUD-1", 1)]);
    body["customer_id"] = json!("cust-9");
    let by_staff: Value = app.create_order(&app.staff(), "s1", &body).await.json().await.unwrap();
    assert_eq!(by_staff["customer_id"], "cust-9");
    let problem = assert_problem(
        app.create_order(&app.customer("cust-1"), "c1", &body).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["pointer"], "/customer_id");
}

async fn listing_pages_through_every_order_once_newest_first_with_filters(app: TestApp) {
    app.stocked("OUD-1", 1000, "KWD", 100).await;
    let staff = app.staff();
    let mut ids = Vec::new();
    for i in 0..7 {
        let customer = if i % 2 == 0 { "even" } else { "odd" };
        let mut body = order_body("KWD", "KW", &[("OUD-1", 1)]);
        body["customer_id"] = json!(customer);
        let order: Value = app
            .create_order(&staff, &format!("k{i}"), &body)
            .await
            .json()
            .await
            .unwrap();
        ids.push(order["id"].as_str().unwrap().to_owned());
    }
    let cancelled = &ids[0];
    assert_eq!(app.cancel(&staff, cancelled, 1, "c").await.status(), StatusCode::OK);

    let mut seen = Vec::new();
    let mut url = format!("{}/v1/orders?limit=3", app.api);
    loop {
        let page: Value = app
            .client
            .get(&url)
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|o| o["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("{}/v1/orders?limit=3&cursor={c}", app.api),
            None => break,
        }
    }
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);

    let get = |q: &str| {
        let url = format!("{}/v1/orders?{q}", app.api);
        let client = app.client.clone();
        let staff = staff.clone();
        async move {
            client
                .get(url)
                .bearer_auth(staff)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(get("customer_id=odd").await["items"].as_array().unwrap().len(), 3);
    let cancelled_page = get("status=cancelled").await;
    assert_eq!(cancelled_page["items"].as_array().unwrap().len(), 1);
    assert_eq!(cancelled_page["items"][0]["id"], cancelled.as_str());
    let number = cancelled_page["items"][0]["number"].as_str().unwrap().to_owned();
    assert_eq!(
        get(&format!("number={number}")).await["items"][0]["id"],
        cancelled.as_str()
    );
    assert_eq!(
        get("created_from=2000-01-01T00:00:00Z&created_to=2001-01-01T00:00:00Z").await["items"],
        json!([])
    );

    // A customer's listing is their own, whatever they ask for.
    let own: Value = app
        .client
        .get(format!("{}/v1/orders", app.api))
        .bearer_auth(app.customer("even"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own["items"].as_array().unwrap().len(), 4);
}

async fn readiness_reports_ready_and_health_is_live(app: TestApp) {
    let ready = app.client.get(format!("{}/readyz", app.admin)).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let live = app.client.get(format!("{}/healthz", app.admin)).send().await.unwrap();
    assert_eq!(live.status(), StatusCode::OK);
}

on_both_backends_and_pgbouncer!(
    placing_an_order_reserves_stock_and_returns_it_with_location_and_etag,
    three_at_1_235_kwd_shipped_to_kuwait_total_3_705_kwd,
    two_at_45_aed_shipped_to_the_emirates_carry_4_50_aed_vat,
    saudi_orders_carry_fifteen_percent_vat,
    prices_come_from_the_catalog_and_a_later_price_change_does_not_touch_placed_orders,
    cancelling_releases_the_reserved_stock_and_bumps_the_version,
    a_replayed_cancel_returns_the_original_response,
    a_customer_never_sees_another_customers_order,
    staff_may_order_for_a_customer_but_customers_only_for_themselves,
    listing_pages_through_every_order_once_newest_first_with_filters,
    readiness_reports_ready_and_health_is_live,
);
