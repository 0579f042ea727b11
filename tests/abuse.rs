//! Abuse control (issue 14): per-principal and per-IP token buckets (429 `rate_limited` with `Retry-After`), the
//! cap on a customer's open unpaid orders (409 `too_many_open_orders`), and the expiry of unpaid card orders
//! (`order.expired`, stock released). Storage-touching tests run on SQLite and PostgreSQL.

mod common;

use std::time::Duration;

use common::{Backend, TestApp, assert_problem, order_body};
use futures::future::join_all;
use orderly::config::Config;
use orderly::domain::order::Order;
use orderly::expiry::{ExpirySettings, sweep};
use reqwest::Response;
use serde_json::{Value, json};
use time::OffsetDateTime;

/// An app with the limits `tweak` sets (the harness turns them all off).
async fn app_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
    TestApp::spawn_with(backend, tweak).await
}

async fn list(app: &TestApp, token: Option<&str>) -> Response {
    let mut request = app.client.get(format!("{}/v1/orders", app.api));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    request.send().await.unwrap()
}

/// Asserts a 429 `rate_limited` with a whole number of seconds, at least 1, in `Retry-After`.
async fn assert_limited(response: Response) {
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("Retry-After on a 429")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_problem(response, 429, "rate_limited").await;
}

async fn metric(app: &TestApp, line_start: &str) -> Option<String> {
    let text = app.metrics().await;
    text.lines().find(|l| l.starts_with(line_start)).map(str::to_owned)
}

/// Sends `send` until it is answered 429 (at most `tries` times); returns how many were served before.
async fn served_until_limited<F, Fut>(tries: usize, send: F) -> usize
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    for i in 0..tries {
        let response = send().await;
        if response.status() == 429 {
            assert_limited(response).await;
            return i;
        }
    }
    panic!("no 429 after {tries} requests");
}

#[tokio::test]
async fn a_customer_whose_bucket_is_empty_gets_429_while_another_customer_is_served() {
    let Some(app) = app_with(Backend::Sqlite, |c| {
        c.rate_limit_customer_per_sec = 1;
        c.rate_limit_customer_burst = 3;
    })
    .await
    else {
        return;
    };
    let alice = app.customer("alice");
    // Requests that fail validation draw from the bucket too.
    for _ in 0..3 {
        let bad = app
            .client
            .post(format!("{}/v1/orders", app.api))
            .bearer_auth(&alice)
            .header("idempotency-key", "k")
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
    }
    // The burst is spent: at most the odd token refilled meanwhile is left.
    let served = served_until_limited(10, || list(&app, Some(&alice))).await;
    assert!(served <= 2, "{served} served after the burst");
    assert_eq!(list(&app, Some(&app.customer("bob"))).await.status(), 200);
    assert_eq!(list(&app, Some(&app.staff())).await.status(), 200);
    assert_eq!(
        metric(&app, "orderly_rate_limited_requests_total").await.as_deref(),
        Some("orderly_rate_limited_requests_total 1")
    );
}

#[tokio::test]
async fn requests_without_a_valid_token_draw_from_their_client_ip() {
    let Some(app) = app_with(Backend::Sqlite, |c| {
        c.rate_limit_ip_per_sec = 1;
        c.rate_limit_ip_burst = 2;
    })
    .await
    else {
        return;
    };
    let served = served_until_limited(10, || list(&app, None)).await;
    assert!((2..=4).contains(&served), "{served}");
    // A forged token is no way around it, nor a forged X-Forwarded-For when no proxy is trusted.
    assert_limited(list(&app, Some("not.a.token")).await).await;
    let spoofed = app
        .client
        .get(format!("{}/v1/orders", app.api))
        .header("x-forwarded-for", "198.51.100.77")
        .send()
        .await
        .unwrap();
    assert_limited(spoofed).await;
    // Callers with a valid token have buckets of their own.
    assert_eq!(list(&app, Some(&app.customer("alice"))).await.status(), 200);
}

#[tokio::test]
async fn behind_a_trusted_ingress_the_forwarded_client_ip_is_the_key() {
    let Some(app) = app_with(Backend::Sqlite, |c| {
        c.rate_limit_ip_per_sec = 1;
        c.rate_limit_ip_burst = 1;
        c.rate_limit_trusted_hops = 1;
    })
    .await
    else {
        return;
    };
    let from = |ip: &'static str| {
        let app = &app;
        move || {
            app.client
                .get(format!("{}/v1/orders", app.api))
                // The client wrote the first entry; the ingress appended the address it saw.
                .header("x-forwarded-for", format!("10.9.9.9, {ip}"))
                .send()
        }
    };
    let served = served_until_limited(10, || async { from("198.51.100.1")().await.unwrap() }).await;
    assert!((1..=3).contains(&served), "{served}");
    assert_eq!(from("198.51.100.2")().await.unwrap().status(), 401);
}

async fn place(app: &TestApp, token: &str, customer: Option<&str>, method: &str) -> Response {
    let mut body = order_body("KWD", "KW", &[("OUD", 1)]);
    body["payment_method"] = json!(method);
    if let Some(c) = customer {
        body["customer_id"] = json!(c);
    }
    app.create_order(token, &uuid::Uuid::new_v4().to_string(), &body).await
}

async fn placed(app: &TestApp, token: &str, customer: Option<&str>, method: &str) -> Value {
    let response = place(app, token, customer, method).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

fn total(order: &Value) -> i64 {
    order["totals"]["grand_total"]["amount_minor"].as_i64().unwrap()
}

async fn capped(backend: Backend, cap: u32) -> Option<TestApp> {
    let app = app_with(backend, |c| c.max_open_unpaid_orders_per_customer = cap).await?;
    app.stocked("OUD", 1000, "KWD", 1000).await;
    Some(app)
}

async fn the_cap_counts_unpaid_orders_per_customer_whoever_places_them(backend: Backend) {
    let Some(app) = capped(backend, 2).await else { return };
    let alice = app.customer("cust-alice");
    let first = placed(&app, &alice, None, "card").await;
    // Staff placing for the customer count against the customer's cap.
    placed(&app, &app.staff(), Some("cust-alice"), "card").await;
    let refused = assert_problem(place(&app, &alice, None, "card").await, 409, "too_many_open_orders").await;
    assert!(refused["detail"].as_str().unwrap().contains('2'));
    assert_problem(
        place(&app, &app.staff(), Some("cust-alice"), "cod").await,
        409,
        "too_many_open_orders",
    )
    .await;
    // Other customers, and orders for no customer, are not affected; the refusals reserved nothing.
    placed(&app, &app.customer("cust-bob"), None, "card").await;
    placed(&app, &app.staff(), None, "card").await;
    assert_eq!(app.stock("OUD").await["reserved"], 4);
    // Paying for one frees a slot.
    app.step(
        &first,
        "payment/authorize",
        Some(json!({"amount_minor": total(&first), "provider_ref": "tap_1"})),
    )
    .await;
    let third = placed(&app, &alice, None, "card").await;
    assert_problem(place(&app, &alice, None, "card").await, 409, "too_many_open_orders").await;
    // So does cancelling one.
    let cancel = app.cancel(&alice, third["id"].as_str().unwrap(), 1, "c1").await;
    assert_eq!(cancel.status(), 200);
    placed(&app, &alice, None, "card").await;
}

async fn a_cod_order_counts_until_it_ships(backend: Backend) {
    let Some(app) = capped(backend, 1).await else { return };
    let carol = app.customer("cust-carol");
    let cod = placed(&app, &carol, None, "cod").await;
    assert_problem(place(&app, &carol, None, "cod").await, 409, "too_many_open_orders").await;
    app.step(
        &cod,
        "shipments",
        Some(json!({"lines": [{"sku": "OUD", "quantity": 1}], "carrier": "Aramex", "tracking_number": "AX1"})),
    )
    .await;
    placed(&app, &carol, None, "cod").await;
}

async fn concurrent_placements_by_one_customer_never_pass_the_cap(backend: Backend) {
    let Some(app) = capped(backend, 3).await else { return };
    let dave = app.customer("cust-dave");
    let attempts = (0..16).map(|_| place(&app, &dave, None, "card"));
    let statuses: Vec<u16> = join_all(attempts).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 3, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    assert_eq!(app.stock("OUD").await["reserved"], 3);
}

fn expiry(ttl_secs: u64) -> ExpirySettings {
    ExpirySettings {
        ttl: Duration::from_secs(ttl_secs),
        interval: Duration::from_secs(3600),
        batch: 100,
    }
}

async fn kinds(app: &TestApp, order: &Value) -> Vec<&'static str> {
    let id = uuid::Uuid::parse_str(order["id"].as_str().unwrap()).unwrap();
    let events = app.state.store.order_events(id).await.unwrap();
    let stored = app.state.store.get_order(id).await.unwrap().unwrap();
    assert_eq!(Order::replay(&events).unwrap(), stored, "replay rebuilds the order");
    events.iter().map(|e| e.kind()).collect()
}

async fn an_unpaid_card_order_expires_and_its_stock_comes_back(backend: Backend) {
    // The sweeper `serve` runs, with a TTL of one second looked for every 100 ms.
    let Some(app) = app_with(backend, |c| {
        c.unpaid_order_ttl_secs = 1;
        c.expiry_sweep_interval_ms = 100;
    })
    .await
    else {
        return;
    };
    app.stocked("OUD", 1000, "KWD", 10).await;
    let order = placed(&app, &app.customer("cust-erin"), None, "card").await;
    assert_eq!(app.stock("OUD").await["reserved"], 1);
    let id = order["id"].as_str().unwrap();
    let mut seen = Value::Null;
    for _ in 0..300 {
        seen = app.get_order(&app.staff(), id).await.json().await.unwrap();
        if seen["status"]["order"] == "cancelled" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen["status"]["order"], "cancelled", "{seen}");
    assert_eq!(seen["status"]["payment"], "pending");
    assert_eq!(kinds(&app, &order).await, ["order.placed", "order.expired"]);
    assert_eq!(
        metric(&app, "orderly_orders_expired_total").await.as_deref(),
        Some("orderly_orders_expired_total 1")
    );
    assert_eq!(
        app.stock("OUD").await,
        json!({"sku": "OUD", "on_hand": 10, "reserved": 0, "available": 10})
    );
    // Paying for it now is too late.
    let late = app
        .command(
            &app.staff(),
            id,
            "payment/authorize",
            2,
            "late",
            Some(json!({"amount_minor": total(&order), "provider_ref": "tap_late"})),
        )
        .await;
    assert_problem(late, 409, "invalid_transition").await;
}

async fn only_card_orders_left_unpaid_past_the_ttl_expire(backend: Backend) {
    let Some(app) = app_with(backend, |_| {}).await else {
        return;
    };
    app.stocked("OUD", 1000, "KWD", 10).await;
    let staff = app.staff();
    let unpaid = placed(&app, &staff, Some("cust-f"), "card").await;
    let failed = placed(&app, &staff, Some("cust-f"), "card").await;
    app.step(&failed, "payment/fail", Some(json!({"reason": "declined"})))
        .await;
    let paid = placed(&app, &staff, Some("cust-f"), "card").await;
    app.step(
        &paid,
        "payment/authorize",
        Some(json!({"amount_minor": total(&paid), "provider_ref": "tap_2"})),
    )
    .await;
    let cod = placed(&app, &staff, Some("cust-f"), "cod").await;
    let store = app.state.store.as_ref();
    // Not yet due: nothing happens.
    assert_eq!(sweep(store, &expiry(1800), OffsetDateTime::now_utc()).await.unwrap(), 0);
    // An hour later: the pending and the failed card orders expire; the paid one and the COD one do not.
    let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
    assert_eq!(sweep(store, &expiry(1800), later).await.unwrap(), 2);
    assert_eq!(sweep(store, &expiry(1800), later).await.unwrap(), 0, "nothing twice");
    assert_eq!(kinds(&app, &unpaid).await.last(), Some(&"order.expired"));
    assert_eq!(kinds(&app, &failed).await.last(), Some(&"order.expired"));
    assert!(!kinds(&app, &paid).await.contains(&"order.expired"));
    assert!(!kinds(&app, &cod).await.contains(&"order.expired"));
    assert_eq!(app.stock("OUD").await["reserved"], 2);
}

async fn a_customer_paying_while_the_sweeper_runs_either_pays_or_finds_it_expired(backend: Backend) {
    let Some(app) = app_with(backend, |_| {}).await else {
        return;
    };
    app.stocked("OUD", 1000, "KWD", 100).await;
    let mut orders = Vec::new();
    for _ in 0..12 {
        orders.push(placed(&app, &app.staff(), Some("cust-g"), "card").await);
    }
    let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
    let store = app.state.store.clone();
    let sweeping = tokio::spawn(async move { sweep(store.as_ref(), &expiry(1800), later).await.unwrap() });
    let (staff, keys): (String, Vec<String>) = (app.staff(), (0..12).map(|i| format!("pay-{i}")).collect());
    let paying = orders.iter().zip(&keys).map(|(o, key)| {
        app.command(
            &staff,
            o["id"].as_str().unwrap(),
            "payment/authorize",
            1,
            key,
            Some(json!({"amount_minor": total(o), "provider_ref": "tap_race"})),
        )
    });
    let answers: Vec<u16> = join_all(paying).await.iter().map(|r| r.status().as_u16()).collect();
    let expired = sweeping.await.unwrap();
    let mut authorised = 0;
    for o in &orders {
        let kinds = kinds(&app, o).await;
        let paid = kinds.contains(&"payment.authorized");
        assert_ne!(paid, kinds.contains(&"order.expired"), "{kinds:?}");
        authorised += u64::from(paid);
    }
    assert_eq!(authorised + expired, 12, "{answers:?}");
    assert_eq!(answers.iter().filter(|s| **s == 200).count() as u64, authorised);
    assert!(answers.iter().all(|s| *s == 200 || *s == 412), "{answers:?}");
    assert_eq!(app.stock("OUD").await["reserved"], authorised);
}

on_each_backend!(
    the_cap_counts_unpaid_orders_per_customer_whoever_places_them,
    a_cod_order_counts_until_it_ships,
    concurrent_placements_by_one_customer_never_pass_the_cap,
    an_unpaid_card_order_expires_and_its_stock_comes_back,
    only_card_orders_left_unpaid_past_the_ttl_expire,
    a_customer_paying_while_the_sweeper_runs_either_pays_or_finds_it_expired,
);
