//! Test harness: a fresh database per test (a SQLite file in a temp dir, or a new PostgreSQL database on the
//! cluster named by ORDERLY_TEST_DATABASE_URL), an in-process app on free ports, and request helpers.
#![allow(dead_code)]

pub mod cod;
pub mod legacy;
pub mod shop;

use std::sync::Arc;

use orderly::config::Config;
use orderly::http::AppState;
use orderly::server::{Application, open_store};
use orderly::store::Store;
use reqwest::{Response, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use tempfile::TempDir;

pub const SECRET: &str = "test-secret-test-secret-test-secret!";
pub const STAFF_SCOPES: &str = "orders:read orders:write catalog:write stock:write";
pub const CUSTOMER_SCOPES: &str = "orders:read:own orders:write:own";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    /// PostgreSQL through PgBouncer in transaction pooling mode (scripts/pgbouncer-test.sh), migrated directly.
    PgBouncer,
}

/// The admin URL of the test PostgreSQL cluster. In CI its absence is a failure, not a skip.
pub fn pg_admin_url() -> Option<String> {
    match std::env::var("ORDERLY_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok() => panic!("CI must set ORDERLY_TEST_DATABASE_URL (scripts/test.sh does)"),
        _ => {
            eprintln!("SKIPPED: PostgreSQL tests need ORDERLY_TEST_DATABASE_URL; run scripts/test.sh");
            None
        }
    }
}

/// A fresh, empty database and the configuration pointing at it.
pub struct TestDb {
    pub config: Config,
    _dir: TempDir,
}

pub async fn fresh_db(backend: Backend) -> Option<TestDb> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_listen: "127.0.0.1:0".parse().unwrap(),
        sqlite_path: dir.path().join("orderly.db"),
        jwt_secret: Some(SecretString::from(SECRET)),
        dev_key_file: dir.path().join("dev.key"),
        migrate_on_start: Some(true),
        shutdown_delay_ms: 0,
        // Off unless a test is about them (tests/abuse.rs): other tests send bursts from one token on purpose.
        rate_limit_customer_per_sec: 0,
        rate_limit_staff_per_sec: 0,
        rate_limit_ip_per_sec: 0,
        max_open_unpaid_orders_per_customer: 0,
        ..Config::default()
    };
    if backend != Backend::Sqlite {
        let admin = pg_admin_url()?;
        let name = format!("orderly_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
            .await
            .expect("connect to test cluster");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create database");
        let url = match admin.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => panic!("ORDERLY_TEST_DATABASE_URL must end in /<database>"),
        };
        config.database_url = Some(SecretString::from(url));
        if backend == Backend::PgBouncer {
            let bouncer = pgbouncer_url()?;
            open_store(&config, true).await.expect("migrate directly");
            config.database_url = Some(SecretString::from(format!("{bouncer}/{name}")));
            config.db_transaction_pooler = true;
            config.migrate_on_start = Some(false);
        }
    }
    Some(TestDb { config, _dir: dir })
}

/// The base URL of PgBouncer in front of the test cluster (transaction mode). In CI its absence is a failure.
pub fn pgbouncer_url() -> Option<String> {
    match std::env::var("ORDERLY_TEST_PGBOUNCER_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok() => panic!("CI must set ORDERLY_TEST_PGBOUNCER_URL (scripts/test.sh does)"),
        _ => {
            eprintln!("SKIPPED: PgBouncer tests need ORDERLY_TEST_PGBOUNCER_URL; run scripts/test.sh");
            None
        }
    }
}

/// A store on a fresh database, migrated.
pub async fn fresh_store(backend: Backend) -> Option<(Arc<dyn Store>, TestDb)> {
    let db = fresh_db(backend).await?;
    let store = open_store(&db.config, true).await.expect("open store");
    Some((store, db))
}

pub struct TestApp {
    pub api: String,
    pub admin: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub db: TestDb,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        TestApp::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let mut db = fresh_db(backend).await?;
        tweak(&mut db.config);
        Some(TestApp::serve(db).await)
    }

    /// Serves an existing database (one a command-line tool has written, say).
    pub async fn serve(db: TestDb) -> TestApp {
        let app = Application::build(&db.config).await.expect("build app");
        let api = format!("http://{}", app.api_addr().unwrap());
        let admin = format!("http://{}", app.admin_addr().unwrap());
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        TestApp {
            api,
            admin,
            client: reqwest::Client::new(),
            state,
            db,
        }
    }

    /// The admin port's `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.admin))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    pub fn token(&self, sub: &str, scope: &str) -> String {
        orderly::auth::mint(&self.db.config, sub, scope, 600).expect("mint")
    }

    pub fn staff(&self) -> String {
        self.token("ops-1", STAFF_SCOPES)
    }

    pub fn customer(&self, id: &str) -> String {
        self.token(id, CUSTOMER_SCOPES)
    }

    pub async fn put_product(&self, sku: &str, prices: &[(i64, &str)]) -> Response {
        let prices: Vec<Value> = prices
            .iter()
            .map(|(a, c)| json!({"amount_minor": a, "currency": c}))
            .collect();
        let body = json!({"name_en": format!("Item {sku}"), "name_ar": "منتج", "prices": prices, "tax_class": "standard", "active": true});
        self.client
            .put(format!("{}/v1/products/{sku}", self.api))
            .bearer_auth(self.staff())
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn set_stock(&self, sku: &str, on_hand: i64) -> Response {
        self.client
            .put(format!("{}/v1/stock/{sku}", self.api))
            .bearer_auth(self.staff())
            .json(&json!({"on_hand": on_hand}))
            .send()
            .await
            .unwrap()
    }

    /// A product with one price and stock on hand.
    pub async fn stocked(&self, sku: &str, price_minor: i64, currency: &str, on_hand: i64) {
        let product = self.put_product(sku, &[(price_minor, currency)]).await;
        let status = product.status();
        assert!(
            status.is_success(),
            "put product: {status} {}",
            product.text().await.unwrap_or_default()
        );
        let stock = self.set_stock(sku, on_hand).await;
        let status = stock.status();
        assert_eq!(
            status,
            StatusCode::OK,
            "set stock: {}",
            stock.text().await.unwrap_or_default()
        );
    }

    pub async fn stock(&self, sku: &str) -> Value {
        self.client
            .get(format!("{}/v1/stock/{sku}", self.api))
            .bearer_auth(self.staff())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn create_order(&self, token: &str, key: &str, body: &Value) -> Response {
        self.client
            .post(format!("{}/v1/orders", self.api))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get_order(&self, token: &str, id: &str) -> Response {
        self.client
            .get(format!("{}/v1/orders/{id}", self.api))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn cancel(&self, token: &str, id: &str, version: i64, key: &str) -> Response {
        self.client
            .post(format!("{}/v1/orders/{id}/cancel", self.api))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .header("if-match", format!("\"{version}\""))
            .send()
            .await
            .unwrap()
    }

    /// POSTs a command to `/v1/orders/{id}/{action}` with If-Match and Idempotency-Key.
    pub async fn command(
        &self,
        token: &str,
        id: &str,
        action: &str,
        version: i64,
        key: &str,
        body: Option<Value>,
    ) -> Response {
        let mut request = self
            .client
            .post(format!("{}/v1/orders/{id}/{action}", self.api))
            .bearer_auth(token)
            .header("idempotency-key", key)
            .header("if-match", format!("\"{version}\""));
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// Runs a staff command that must succeed; returns the order after it.
    pub async fn step(&self, order: &Value, action: &str, body: Option<Value>) -> Value {
        let id = order["id"].as_str().unwrap();
        let version = order["version"].as_i64().unwrap();
        let key = uuid::Uuid::new_v4().to_string();
        let response = self.command(&self.staff(), id, action, version, &key, body).await;
        let status = response.status();
        let value: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{action}: {status} {value}");
        value
    }

    /// How many orders exist, as staff see them.
    pub async fn order_count(&self) -> usize {
        let mut total = 0;
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{}/v1/orders?limit=100", self.api);
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let page: Value = self
                .client
                .get(url)
                .bearer_auth(self.staff())
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            total += page["items"].as_array().unwrap().len();
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return total,
            }
        }
    }
}

pub fn order_body(currency: &str, country: &str, lines: &[(&str, i64)]) -> Value {
    let lines: Vec<Value> = lines.iter().map(|(s, q)| json!({"sku": s, "quantity": q})).collect();
    json!({
        "currency": currency,
        "ship_to": {"name": "فاطمة الكندري", "line1": "Block 3, Street 12, House 7", "city": "Salmiya", "country": country, "phone": "+965 5000 0000"},
        "lines": lines,
        "payment_method": "card",
    })
}

/// Asserts a problem+json response with `status` and `code`; returns the problem document.
pub async fn assert_problem(response: Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status, "status for {code}");
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], code, "{problem}");
    assert_eq!(problem["status"], status);
    assert!(problem["title"].is_string() && problem["detail"].is_string() && problem["type"].is_string());
    problem
}

/// Runs each named `async fn(TestApp)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::common::TestApp::spawn($crate::common::Backend::Sqlite).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::common::TestApp::spawn($crate::common::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

/// `on_both_backends!`, and once more on PostgreSQL through PgBouncer.
#[macro_export]
macro_rules! on_both_backends_and_pgbouncer {
    ($($name:ident),* $(,)?) => {
        $crate::on_both_backends!($($name),*);
        $crate::through_pgbouncer!($($name),*);
    };
}

/// Runs each named `async fn(TestApp)` on PostgreSQL through PgBouncer in transaction pooling mode.
#[macro_export]
macro_rules! through_pgbouncer {
    ($($name:ident),* $(,)?) => {
        mod pgbouncer {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::common::TestApp::spawn($crate::common::Backend::PgBouncer).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}

/// Runs each named `async fn(Backend)` once on SQLite and once on PostgreSQL (for tests that set up the database
/// themselves, such as the command-line tools').
#[macro_export]
macro_rules! on_each_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Backend::Sqlite).await; }
        )* }
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::common::Backend::Postgres).await; }
        )* }
    };
}
