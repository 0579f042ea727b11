//! Once a command has started executing, its outcome is stored under its Idempotency-Key even when it is a
//! refusal, and a retry with the key gets that outcome back (marked `Idempotent-Replayed`), even if the state that
//! caused it has changed since. Refusals before that point (parsing, validation, authentication) store nothing, and
//! neither does a version conflict, which is a race with another writer rather than an outcome.

mod common;

use common::{TestApp, assert_problem, order_body};
use reqwest::Response;
use serde_json::{Value, json};

async fn replayed_problem(response: Response, status: u16, code: &str, original: &Value) {
    assert_eq!(
        response
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true"),
        "a replay is marked"
    );
    let problem = assert_problem(response, status, code).await;
    assert_eq!(&problem, original, "the replay is the original refusal");
}

async fn a_stock_refusal_is_the_keys_outcome(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 1).await;
    let customer = app.customer("cust-1");
    let body = order_body("KWD", "KW", &[("OUD", 2)]);
    let refused = assert_problem(
        app.create_order(&customer, "k1", &body).await,
        409,
        "insufficient_stock",
    )
    .await;

    // Stock arrives; the retry with the same key still answers the refusal it was given, and places nothing.
    assert_eq!(app.set_stock("OUD", 10).await.status(), 200);
    replayed_problem(
        app.create_order(&customer, "k1", &body).await,
        409,
        "insufficient_stock",
        &refused,
    )
    .await;
    assert_eq!(app.order_count().await, 0);
    assert_eq!(app.stock("OUD").await["reserved"], 0);

    // The same key with another request is a reuse, as for a stored success; a new key places the order.
    let other = order_body("KWD", "KW", &[("OUD", 1)]);
    assert_problem(
        app.create_order(&customer, "k1", &other).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(app.create_order(&customer, "k2", &body).await.status(), 201);
}

async fn a_domain_refusal_of_a_command_is_replayed(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 5).await;
    let staff = app.staff();
    let placed: Value = app
        .create_order(&staff, "p", &order_body("KWD", "KW", &[("OUD", 1)]))
        .await
        .json()
        .await
        .unwrap();
    let o = app
        .step(
            &placed,
            "payment/authorize",
            Some(json!({"amount_minor": 1235, "provider_ref": "psp-1"})),
        )
        .await;
    let o = app
        .step(&o, "payment/capture", Some(json!({"amount_minor": 1235})))
        .await;
    let id = o["id"].as_str().unwrap();
    let version = o["version"].as_i64().unwrap();
    let too_much = Some(json!({"amount_minor": 2000, "reason": "goodwill"}));
    let send = || app.command(&staff, id, "refunds", version, "r1", too_much.clone());
    let refused = assert_problem(send().await, 422, "refund_exceeds_captured").await;
    replayed_problem(send().await, 422, "refund_exceeds_captured", &refused).await;

    // A stale If-Match is a race with another writer, not an outcome: nothing is stored, and the retry with the
    // same key and the version re-read runs.
    let stale = app.command(&staff, id, "cancel", 1, "c1", None).await;
    assert_problem(stale, 412, "version_conflict").await;
    let retried = app.command(&staff, id, "cancel", version, "c1", None).await;
    assert_eq!(retried.status(), 200);
}

async fn validation_refusals_are_not_stored(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 5).await;
    let customer = app.customer("cust-1");
    let bad = order_body("KWD", "KW", &[("OUD", 0)]);
    assert_problem(app.create_order(&customer, "k1", &bad).await, 422, "validation_failed").await;
    // Nothing was stored under the key, so the corrected request is not a reuse: it runs.
    let good = order_body("KWD", "KW", &[("OUD", 1)]);
    assert_eq!(app.create_order(&customer, "k1", &good).await.status(), 201);
}

on_both_backends_and_pgbouncer!(
    a_stock_refusal_is_the_keys_outcome,
    a_domain_refusal_of_a_command_is_replayed,
    validation_refusals_are_not_stored,
);
