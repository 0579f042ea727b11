//! Every wrong input gets problem+json with a stable code, and changes nothing: no order, no reservation.

mod common;

use common::{Backend, TestApp, assert_problem, order_body};
use orderly::config::Config;
use secrecy::SecretString;
use serde_json::{Value, json};

/// An app with one stocked product, and a check that nothing changed since.
async fn app() -> TestApp {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite needs no setup");
    app.stocked("OUD-1", 1235, "KWD", 10).await;
    app
}

async fn assert_unchanged(app: &TestApp) {
    assert_eq!(app.order_count().await, 0);
    assert_eq!(app.stock("OUD-1").await["reserved"], 0);
}

async fn post_raw(app: &TestApp, body: &str, content_type: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/v1/orders", app.api))
        .bearer_auth(app.staff())
        .header("idempotency-key", "raw")
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = app().await;
    assert_problem(
        post_raw(&app, "{\"currency\": ", "application/json").await,
        400,
        "malformed_json",
    )
    .await;
    assert_unchanged(&app).await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415() {
    let app = app().await;
    assert_problem(
        post_raw(&app, "currency=KWD", "application/x-www-form-urlencoded").await,
        415,
        "unsupported_media_type",
    )
    .await;
    assert_unchanged(&app).await;
}

async fn assert_invalid_field(app: &TestApp, body: Value, pointer: &str) {
    let problem = assert_problem(
        app.create_order(&app.staff(), "k", &body).await,
        422,
        "validation_failed",
    )
    .await;
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert!(pointers.contains(&pointer), "{pointer} not in {problem}");
    assert_unchanged(app).await;
}

#[tokio::test]
async fn an_unknown_field_is_named_by_its_pointer() {
    let app = app().await;
    let mut body = order_body("KWD", "KW", &[("OUD-1", 1)]);
    body["discount"] = json!(100);
    assert_invalid_field(&app, body, "/discount").await;
    let mut nested = order_body("KWD", "KW", &[("OUD-1", 1)]);
    nested["ship_to"]["floor"] = json!(3);
    assert_invalid_field(&app, nested, "/ship_to/floor").await;
}

#[tokio::test]
async fn an_unknown_currency_is_refused() {
    let app = app().await;
    assert_invalid_field(&app, order_body("XYZ", "KW", &[("OUD-1", 1)]), "/currency").await;
}

#[tokio::test]
async fn zero_and_negative_quantities_are_refused() {
    let app = app().await;
    assert_invalid_field(&app, order_body("KWD", "KW", &[("OUD-1", 0)]), "/lines/0/quantity").await;
    assert_invalid_field(&app, order_body("KWD", "KW", &[("OUD-1", -2)]), "/lines/0/quantity").await;
    assert_invalid_field(
        &app,
        order_body("KWD", "KW", &[("OUD-1", 1_000_001)]),
        "/lines/0/quantity",
    )
    .await;
}

#[tokio::test]
async fn too_many_lines_are_refused() {
    let app = app().await;
    let skus: Vec<String> = (0..101).map(|i| format!("SKU-{i}")).collect();
    let lines: Vec<(&str, i64)> = skus.iter().map(|s| (s.as_str(), 1)).collect();
    assert_invalid_field(&app, order_body("KWD", "KW", &lines), "/lines").await;
}

#[tokio::test]
async fn every_bad_field_is_reported_at_once() {
    let app = app().await;
    let mut body = order_body("KWD", "KWT", &[("OUD-1", 0), ("bad sku", 1)]);
    body["ship_to"]["phone"] = json!("call me");
    let problem = assert_problem(
        app.create_order(&app.staff(), "k", &body).await,
        422,
        "validation_failed",
    )
    .await;
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    for p in [
        "/ship_to/country",
        "/ship_to/phone",
        "/lines/0/quantity",
        "/lines/1/sku",
    ] {
        assert!(pointers.contains(&p), "{p} missing in {pointers:?}");
    }
}

#[tokio::test]
async fn unknown_and_inactive_skus_are_refused_without_reserving_the_other_lines() {
    let app = app().await;
    let problem = assert_problem(
        app.create_order(
            &app.staff(),
            "k1",
            &order_body("KWD", "KW", &[("OUD-1", 1), ("NOPE", 1)]),
        )
        .await,
        422,
        "unknown_sku",
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("NOPE"));
    let inactive = json!({"name_en": "Old", "name_ar": "قديم", "prices": [{"amount_minor": 100, "currency": "KWD"}], "active": false});
    app.client
        .put(format!("{}/v1/products/OLD", app.api))
        .bearer_auth(app.staff())
        .json(&inactive)
        .send()
        .await
        .unwrap();
    app.set_stock("OLD", 5).await;
    assert_problem(
        app.create_order(
            &app.staff(),
            "k2",
            &order_body("KWD", "KW", &[("OUD-1", 1), ("OLD", 1)]),
        )
        .await,
        422,
        "sku_inactive",
    )
    .await;
    assert_problem(
        app.create_order(&app.staff(), "k3", &order_body("AED", "AE", &[("OUD-1", 1)]))
            .await,
        422,
        "price_unavailable",
    )
    .await;
    assert_problem(
        app.create_order(&app.staff(), "k4", &order_body("KWD", "FR", &[("OUD-1", 1)]))
            .await,
        422,
        "unsupported_country",
    )
    .await;
    assert_unchanged(&app).await;
}

#[tokio::test]
async fn an_order_that_cannot_be_fully_reserved_reserves_nothing() {
    let app = app().await;
    app.stocked("RARE", 5000, "KWD", 1).await;
    assert_problem(
        app.create_order(
            &app.staff(),
            "k",
            &order_body("KWD", "KW", &[("OUD-1", 2), ("RARE", 2)]),
        )
        .await,
        409,
        "insufficient_stock",
    )
    .await;
    assert_unchanged(&app).await;
    assert_eq!(app.stock("RARE").await["reserved"], 0);
}

#[tokio::test]
async fn an_oversize_body_is_a_413() {
    let app = app().await;
    let mut body = order_body("KWD", "KW", &[("OUD-1", 1)]);
    body["ship_to"]["line1"] = json!("x".repeat(70 * 1024));
    assert_problem(
        app.create_order(&app.staff(), "k", &body).await,
        413,
        "payload_too_large",
    )
    .await;
    assert_unchanged(&app).await;
}

#[tokio::test]
async fn a_missing_idempotency_key_is_a_400() {
    let app = app().await;
    let response = app
        .client
        .post(format!("{}/v1/orders", app.api))
        .bearer_auth(app.staff())
        .json(&order_body("KWD", "KW", &[("OUD-1", 1)]))
        .send()
        .await
        .unwrap();
    assert_problem(response, 400, "idempotency_key_missing").await;
    assert_unchanged(&app).await;
}

#[tokio::test]
async fn a_key_reused_with_another_body_is_a_422_and_keeps_the_first_order() {
    let app = app().await;
    let first = app
        .create_order(&app.staff(), "same", &order_body("KWD", "KW", &[("OUD-1", 1)]))
        .await;
    assert_eq!(first.status(), 201);
    let other = app
        .create_order(&app.staff(), "same", &order_body("KWD", "KW", &[("OUD-1", 2)]))
        .await;
    assert_problem(other, 422, "idempotency_key_reused").await;
    assert_eq!(app.order_count().await, 1);
    assert_eq!(app.stock("OUD-1").await["reserved"], 1);
}

#[tokio::test]
async fn the_same_key_from_two_callers_is_two_orders() {
    let app = app().await;
    let body = order_body("KWD", "KW", &[("OUD-1", 1)]);
    let a: Value = app
        .create_order(&app.customer("a"), "shared", &body)
        .await
        .json()
        .await
        .unwrap();
    let b: Value = app
        .create_order(&app.customer("b"), "shared", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(a["id"], b["id"]);
}

#[tokio::test]
async fn cancel_without_if_match_is_428_and_with_a_stale_one_412() {
    let app = app().await;
    let order: Value = app
        .create_order(&app.staff(), "k", &order_body("KWD", "KW", &[("OUD-1", 1)]))
        .await
        .json()
        .await
        .unwrap();
    let id = order["id"].as_str().unwrap();
    let without = app
        .client
        .post(format!("{}/v1/orders/{id}/cancel", app.api))
        .bearer_auth(app.staff())
        .header("idempotency-key", "c1")
        .send()
        .await
        .unwrap();
    assert_problem(without, 428, "if_match_required").await;
    assert_problem(app.cancel(&app.staff(), id, 7, "c2").await, 412, "version_conflict").await;
    let still: Value = app.get_order(&app.staff(), id).await.json().await.unwrap();
    assert_eq!(still["status"]["order"], "open");
    assert_eq!(app.stock("OUD-1").await["reserved"], 1);
}

#[tokio::test]
async fn another_customers_order_is_not_found_for_reading_and_cancelling() {
    let app = app().await;
    let order: Value = app
        .create_order(&app.customer("alice"), "k", &order_body("KWD", "KW", &[("OUD-1", 1)]))
        .await
        .json()
        .await
        .unwrap();
    let id = order["id"].as_str().unwrap();
    assert_problem(
        app.get_order(&app.customer("mallory"), id).await,
        404,
        "order_not_found",
    )
    .await;
    assert_problem(
        app.cancel(&app.customer("mallory"), id, 1, "x").await,
        404,
        "order_not_found",
    )
    .await;
    assert_eq!(app.stock("OUD-1").await["reserved"], 1);
}

#[tokio::test]
async fn missing_expired_and_badly_signed_tokens_are_401() {
    let app = app().await;
    let body = order_body("KWD", "KW", &[("OUD-1", 1)]);
    let anonymous = app
        .client
        .post(format!("{}/v1/orders", app.api))
        .header("idempotency-key", "k")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    assert_problem(anonymous, 401, "unauthenticated").await;

    let expired = orderly::auth::mint(&app.db.config, "ops", common::STAFF_SCOPES, -300).unwrap();
    let problem = assert_problem(app.create_order(&expired, "k", &body).await, 401, "invalid_token").await;
    assert!(problem["detail"].as_str().unwrap().contains("expired"));

    let forger = Config {
        jwt_secret: Some(SecretString::from("not-the-secret-not-the-secret-!!")),
        ..app.db.config.clone()
    };
    let forged = orderly::auth::mint(&forger, "ops", common::STAFF_SCOPES, 300).unwrap();
    assert_problem(app.create_order(&forged, "k", &body).await, 401, "invalid_token").await;
    assert_problem(app.create_order("not.a.jwt", "k", &body).await, 401, "invalid_token").await;
    assert_unchanged(&app).await;
}

#[tokio::test]
async fn a_missing_scope_is_403() {
    let app = app().await;
    let reader = app.token("viewer", "orders:read");
    assert_problem(
        app.create_order(&reader, "k", &order_body("KWD", "KW", &[("OUD-1", 1)]))
            .await,
        403,
        "insufficient_scope",
    )
    .await;
    let customer = app.customer("c");
    let put = app
        .client
        .put(format!("{}/v1/stock/OUD-1", app.api))
        .bearer_auth(&customer)
        .json(&json!({"on_hand": 0}))
        .send()
        .await
        .unwrap();
    assert_problem(put, 403, "insufficient_scope").await;
    assert_unchanged(&app).await;
    assert_eq!(app.stock("OUD-1").await["on_hand"], 10);
}

#[tokio::test]
async fn stock_cannot_be_counted_below_what_orders_hold() {
    let app = app().await;
    app.create_order(&app.staff(), "k", &order_body("KWD", "KW", &[("OUD-1", 4)]))
        .await;
    assert_problem(app.set_stock("OUD-1", 3).await, 409, "stock_below_reserved").await;
    assert_problem(app.set_stock("NOPE", 3).await, 404, "product_not_found").await;
    let negative = app.set_stock("OUD-1", -1).await;
    assert_problem(negative, 422, "validation_failed").await;
    assert_eq!(
        app.stock("OUD-1").await,
        json!({"sku": "OUD-1", "on_hand": 10, "reserved": 4, "available": 6})
    );
}

#[tokio::test]
async fn bad_list_parameters_and_unknown_routes_are_problems_too() {
    let app = app().await;
    let get = |q: &str| {
        app.client
            .get(format!("{}/v1/orders?{q}", app.api))
            .bearer_auth(app.staff())
            .send()
    };
    assert_problem(get("limit=0").await.unwrap(), 422, "validation_failed").await;
    assert_problem(get("cursor=garbage").await.unwrap(), 422, "validation_failed").await;
    // 48 bytes with a two-byte character across byte 16 (the cursor's split): refused, not a panic.
    let split = format!("cursor=000000000000000%C3%A9{}", "a".repeat(31));
    assert_problem(get(&split).await.unwrap(), 422, "validation_failed").await;
    assert_problem(get("status=shipped").await.unwrap(), 422, "validation_failed").await;
    assert_problem(get("colour=red").await.unwrap(), 422, "validation_failed").await;
    assert_problem(get("created_from=yesterday").await.unwrap(), 422, "validation_failed").await;
    let nowhere = app.client.get(format!("{}/v2/nothing", app.api)).send().await.unwrap();
    assert_problem(nowhere, 404, "route_not_found").await;
    let wrong_method = app
        .client
        .delete(format!("{}/v1/orders", app.api))
        .send()
        .await
        .unwrap();
    assert_problem(wrong_method, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn a_database_that_is_down_gives_503_quickly_and_readiness_fails() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.database_url = Some(SecretString::from("postgres://nobody@127.0.0.1:1/none"));
        c.migrate_on_start = Some(false);
        c.db_acquire_timeout_ms = 300;
    })
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let response = app
        .create_order(&app.staff(), "k", &order_body("KWD", "KW", &[("OUD-1", 1)]))
        .await;
    assert_problem(response, 503, "database_unavailable").await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let ready = app.client.get(format!("{}/readyz", app.admin)).send().await.unwrap();
    assert_eq!(ready.status(), 503);
}

#[tokio::test]
async fn a_request_past_its_deadline_is_abandoned_with_a_503_and_changes_nothing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.request_timeout_ms = 300)
        .await
        .unwrap();
    app.stocked("OUD-1", 1235, "KWD", 10).await;
    let body = order_body("KWD", "KW", &[("OUD-1", 1)]).to_string();
    let mut stream = tokio::net::TcpStream::connect(app.api.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "POST /v1/orders HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\nIdempotency-Key: slow\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        app.staff(),
        body.len(),
        &body[..10]
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The rest of the body never comes; the deadline answers for the server.
    let mut out = String::new();
    tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    assert!(out.starts_with("HTTP/1.1 503"), "{out}");
    assert!(out.contains(r#""code":"request_timeout""#), "{out}");
    assert_unchanged(&app).await;
}

#[tokio::test]
async fn connections_the_database_ended_fail_one_request_each_with_a_retryable_503() {
    use secrecy::ExposeSecret;
    let Some(app) = TestApp::spawn_with(Backend::Postgres, |c| c.db_max_connections = 3).await else {
        return;
    };
    app.stocked("OUD-1", 1_000, "KWD", 10).await;
    let created: Value = app
        .create_order(&app.staff(), "k-1", &order_body("KWD", "KW", &[("OUD-1", 1)]))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let staff = app.staff();
    // Three requests at once leave three idle connections in the pool.
    let (a, b, c) = tokio::join!(
        app.get_order(&staff, &id),
        app.get_order(&staff, &id),
        app.get_order(&staff, &id)
    );
    assert!([a, b, c].iter().all(|r| r.status() == 200));

    // The server ends every session of this database (as a restart or failover does).
    let url = app.db.config.database_url.as_ref().unwrap().expose_secret().to_owned();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&common::pg_admin_url().unwrap())
        .await
        .unwrap();
    let ended: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()) t",
    )
    .bind(&name)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(ended >= 1, "no session of {name} to end");

    // Each stale connection costs at most one request a 503 the client may retry, never a 500; then service resumes.
    let mut unavailable = 0;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response = app.get_order(&staff, &id).await;
        statuses.push(response.status().as_u16());
        if response.status() == 503 {
            assert_problem(response, 503, "database_unavailable").await;
            unavailable += 1;
        } else {
            assert_eq!(response.status(), 200, "statuses so far: {statuses:?}");
        }
    }
    assert!(unavailable <= 3, "{statuses:?}");
    assert_eq!(statuses.last(), Some(&200), "{statuses:?}");
}
