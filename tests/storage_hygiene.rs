//! What the storage does at its edges: a locked SQLite file is a 503 to retry, a stock count that would overflow
//! is a 422 that moves nothing (on both backends), and the SQLite file is private to its owner.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{Backend, TestApp, assert_problem, order_body};
use serde_json::{Value, json};
use sqlx::Connection;

fn lines(sku: &str, quantity: i64) -> Value {
    json!({"lines": [{"sku": sku, "quantity": quantity}], "carrier": "Aramex", "tracking_number": "AX1"})
}

async fn a_restock_that_would_overflow_on_hand_is_a_422_and_moves_nothing(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 10).await;
    let mut body = order_body("KWD", "KW", &[("OUD", 2)]);
    body["payment_method"] = json!("cod");
    let o: Value = app.create_order(&app.staff(), "cod", &body).await.json().await.unwrap();
    let o = app.step(&o, "shipments", Some(lines("OUD", 2))).await;
    let o = app.step(&o, "cod/refuse", Some(json!({"reason": "not at home"}))).await;
    let rto = o["returns"][0]["id"].as_str().unwrap().to_owned();
    // A count near the top of the range, then two units come back.
    assert_eq!(app.set_stock("OUD", i64::MAX - 1).await.status(), 200);
    let stock_before = app.stock("OUD").await;

    let id = o["id"].as_str().unwrap();
    let version = o["version"].as_i64().unwrap();
    let action = format!("returns/{rto}/receive");
    let response = app
        .command(
            &app.staff(),
            id,
            &action,
            version,
            "receive",
            Some(json!({"restock": true})),
        )
        .await;
    let problem = assert_problem(response, 422, "stock_overflow").await;
    assert!(problem["detail"].as_str().unwrap().contains("SKU OUD"), "{problem}");

    assert_eq!(app.stock("OUD").await, stock_before);
    let after: Value = app.get_order(&app.staff(), id).await.json().await.unwrap();
    assert_eq!(after["version"], version);
    assert_eq!(after["returns"][0]["received_at"], Value::Null);

    // With room for the units the same receipt goes through.
    assert_eq!(app.set_stock("OUD", i64::MAX - 2).await.status(), 200);
    let o = app.step(&after, &action, Some(json!({"restock": true}))).await;
    assert_eq!(o["returns"][0]["restocked"], true);
    assert_eq!(app.stock("OUD").await["on_hand"], i64::MAX);
}

on_both_backends!(a_restock_that_would_overflow_on_hand_is_a_422_and_moves_nothing);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_file_locked_by_another_connection_is_a_503_with_retry_after() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.idempotency_wait_ms = 200)
        .await
        .expect("sqlite needs no setup");
    app.stocked("OUD", 1235, "KWD", 10).await;

    // Another process (a backup, `sqlite3` in a shell) holds the write lock on the file.
    let url = format!("sqlite://{}", app.db.config.sqlite_path.display());
    let mut other = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.unwrap();

    let response = app.set_stock("OUD", 7).await;
    let retry_after = response.headers().get("retry-after").cloned();
    assert_problem(response, 503, "database_unavailable").await;
    assert!(retry_after.is_some_and(|v| v.to_str().unwrap().parse::<u64>().is_ok()));
    let response = app
        .create_order(&app.staff(), "locked", &order_body("KWD", "KW", &[("OUD", 1)]))
        .await;
    assert_problem(response, 503, "database_unavailable").await;

    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    assert_eq!(
        app.stock("OUD").await["on_hand"],
        10,
        "nothing was written while locked"
    );
    assert_eq!(
        app.set_stock("OUD", 7).await.status(),
        200,
        "retried once the lock is gone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_database_and_its_wal_are_created_owner_only() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite needs no setup");
    app.stocked("OUD", 1235, "KWD", 10).await;
    let path = app.db.config.sqlite_path.clone();
    let mut checked = 0;
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        if let Ok(meta) = std::fs::metadata(&file) {
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{file}");
            checked += 1;
        }
    }
    // The database itself and, in WAL mode with a write done, its log.
    assert!(checked >= 2, "{checked} files checked");
}
