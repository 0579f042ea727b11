//! What Orderly does when the database fails over under it (docs/operations.md, "The database in production"):
//! a demoted primary costs retryable 503s and takes the replica out of rotation until the pool has reconnected,
//! and a commit that a synchronous standby has not confirmed is never acknowledged.

mod common;

use std::time::Duration;

use common::{Backend, TestApp, assert_problem, order_body};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

async fn admin() -> sqlx::PgConnection {
    <sqlx::PgConnection as sqlx::Connection>::connect(&common::pg_admin_url().unwrap())
        .await
        .unwrap()
}

fn database_name(app: &TestApp) -> String {
    let url = app.db.config.database_url.as_ref().unwrap().expose_secret().to_owned();
    url.rsplit('/').next().unwrap().to_owned()
}

async fn sql(conn: &mut sqlx::PgConnection, statement: &str) {
    sqlx::query(statement).execute(conn).await.unwrap();
}

async fn ready(app: &TestApp) -> u16 {
    app.client
        .get(format!("{}/readyz", app.admin))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demoted_primary_costs_retryable_503s_and_readiness_until_the_pool_reaches_a_writable_one() {
    let Some(app) = TestApp::spawn_with(Backend::Postgres, |c| c.db_max_connections = 3).await else {
        return;
    };
    app.stocked("OUD-1", 1_000, "KWD", 10).await;
    let staff = app.staff();
    let body = order_body("KWD", "KW", &[("OUD-1", 1)]);
    let first: Value = app.create_order(&staff, "k-1", &body).await.json().await.unwrap();
    let id = first["id"].as_str().unwrap().to_owned();

    // The server behind every connection becomes one that takes no writes, as a primary demoted to a standby does:
    // its sessions end, and new ones are read-only.
    let name = database_name(&app);
    let mut admin = admin().await;
    sql(
        &mut admin,
        &format!("ALTER DATABASE {name} SET default_transaction_read_only = on"),
    )
    .await;
    sql(
        &mut admin,
        &format!("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"),
    )
    .await;
    // Reads work on a standby: the pool fills with read-only connections again.
    let mut reads_ok = 0;
    for _ in 0..20 {
        let (a, b, c) = tokio::join!(
            app.get_order(&staff, &id),
            app.get_order(&staff, &id),
            app.get_order(&staff, &id)
        );
        reads_ok = [a, b, c].iter().filter(|r| r.status() == 200).count();
        if reads_ok == 3 {
            break;
        }
    }
    assert_eq!(reads_ok, 3, "reads on the read-only server");

    // A write is refused by the server: a retryable 503, never a 500, and nothing is stored under the key.
    assert_problem(
        app.create_order(&staff, "k-2", &body).await,
        503,
        "database_unavailable",
    )
    .await;
    assert_eq!(
        ready(&app).await,
        503,
        "a replica whose database takes no writes is not ready"
    );
    assert_eq!(ready(&app).await, 503, "reads that succeed do not make it ready again");

    // The primary is writable again (through new connections only: sessions keep what they started with).
    sql(
        &mut admin,
        &format!("ALTER DATABASE {name} RESET default_transaction_read_only"),
    )
    .await;
    let placed = app.create_order(&staff, "k-2", &body).await;
    assert_eq!(
        placed.status(),
        201,
        "the pool replaced its read-only connections without a restart"
    );
    assert_eq!(ready(&app).await, 200);
}

/// A PostgreSQL cluster of this test's own (its settings are changed server-wide), stopped on drop.
struct OwnCluster {
    port: u16,
    url: String,
}

impl OwnCluster {
    fn start() -> OwnCluster {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let out = std::process::Command::new("scripts/pg-test.sh")
            .arg("start")
            .env("ORDERLY_TEST_PG_PORT", port.to_string())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let url = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        OwnCluster { port, url }
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = std::process::Command::new("scripts/pg-test.sh")
            .arg("stop")
            .env("ORDERLY_TEST_PG_PORT", self.port.to_string())
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_is_not_acknowledged_before_its_synchronous_standby_has_it_whatever_the_statement_timeout() {
    if common::pg_admin_url().is_none() {
        return;
    }
    let cluster = OwnCluster::start();
    let url = format!("{}/orderly", cluster.url.rsplit_once('/').unwrap().0);
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&cluster.url)
        .await
        .unwrap();
    sql(&mut admin, "CREATE DATABASE orderly").await;
    // Sessions read this when they start: every connection of the app waits for a standby once one is named.
    sql(&mut admin, "ALTER DATABASE orderly SET synchronous_commit = on").await;
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.database_url = Some(SecretString::from(url));
        c.db_statement_timeout_ms = 300;
        c.request_timeout_ms = 3_000;
    })
    .await
    .unwrap();
    app.stocked("OUD-1", 1_000, "KWD", 10).await;

    // Commits now wait for a synchronous standby that is not there, as when every standby is down under
    // `synchronous_mode_strict`. A statement timeout that cancelled the wait would make PostgreSQL report the
    // commit as done (with a warning) although no standby has it.
    sql(
        &mut admin,
        "ALTER SYSTEM SET synchronous_standby_names = 'absent_standby'",
    )
    .await;
    sql(&mut admin, "SELECT pg_reload_conf()").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let staff = app.staff();
    let body = order_body("KWD", "KW", &[("OUD-1", 1)]);
    let waiting = app.create_order(&staff, "k-1", &body).await;
    assert_problem(waiting, 503, "request_timeout").await;

    // A standby confirms (here: the requirement goes): the waiting commit completes, and the client's retry with
    // the same key gets the order the first attempt placed.
    sql(&mut admin, "ALTER SYSTEM RESET synchronous_standby_names").await;
    sql(&mut admin, "SELECT pg_reload_conf()").await;
    let mut replay = app.create_order(&staff, "k-1", &body).await;
    for _ in 0..50 {
        if replay.status() != 409 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        replay = app.create_order(&staff, "k-1", &body).await;
    }
    assert_eq!(replay.status(), 201);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(app.order_count().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_balancer_with_no_primary_behind_it_is_a_retryable_503_not_a_500() {
    // As HAProxy does while no node answers its primary check: every connection is accepted, then closed unread.
    let entrance = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = entrance.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = entrance.accept().await {
            drop(socket);
        }
    });
    let app = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.database_url = Some(SecretString::from(format!(
            "postgres://orderly@127.0.0.1:{port}/orderly"
        )));
        c.migrate_on_start = Some(false);
    })
    .await
    .unwrap();
    let placed = app
        .create_order(&app.staff(), "k-1", &order_body("KWD", "KW", &[("OUD-1", 1)]))
        .await;
    assert_problem(placed, 503, "database_unavailable").await;
    assert_eq!(ready(&app).await, 503);
}
