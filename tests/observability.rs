//! What operators see: `/metrics` is valid exposition with bounded labels and the full metric set, and the
//! JSON request log carries request and trace ids but never tokens, addresses or phone numbers.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use common::{Backend, TestApp, order_body};

async fn scrape(app: &TestApp) -> String {
    app.client
        .get(format!("{}/metrics", app.admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn series(text: &str, name: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .map(|l| l.rsplit_once(' ').unwrap().0.to_owned())
        .collect()
}

fn promtool() -> Option<&'static str> {
    let found = ["/usr/bin/promtool"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    if found.is_none() {
        assert!(std::env::var("CI").is_err(), "CI must install prometheus (promtool)");
        eprintln!("SKIPPED: promtool is not installed (apt-get install prometheus)");
    }
    found
}

#[tokio::test]
async fn metrics_pass_promtool_with_no_findings_and_hold_the_full_set() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.stocked("OUD", 1235, "KWD", 1).await;
    let body = order_body("KWD", "KW", &[("OUD", 1)]);
    app.create_order(&app.staff(), "m1", &body).await;
    app.create_order(&app.staff(), "m1", &body).await; // a replay
    app.create_order(&app.staff(), "m2", &body).await; // out of stock
    let text = scrape(&app).await;
    for name in [
        "http_server_request_duration_seconds_bucket",
        "http_server_active_requests",
        "orderly_orders_created_total",
        "orderly_stock_reservation_failures_total",
        "orderly_idempotent_replays_total",
        "orderly_db_pool_connections",
        "orderly_db_query_duration_seconds_bucket",
        "orderly_build_info",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        assert!(text.lines().any(|l| l.starts_with(name)), "{name} missing from\n{text}");
    }
    assert!(
        text.contains(r#"orderly_orders_created_total{store="KW",currency="KWD",payment_method="card"} 1"#),
        "{text}"
    );
    assert!(text.contains("orderly_idempotent_replays_total 1"));
    assert!(text.contains("orderly_stock_reservation_failures_total 1"));
    assert!(text.contains(r#"http_route="/v1/orders""#));

    let Some(promtool) = promtool() else { return };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let findings = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && findings.trim().is_empty(),
        "promtool findings:\n{findings}"
    );
}

#[tokio::test]
async fn five_hundred_unknown_paths_add_at_most_one_series_per_method() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let before = series(&scrape(&app).await, "http_server_request_duration_seconds_count");
    for i in 0..500 {
        let path = format!("{}/{}/{}", app.api, uuid::Uuid::new_v4(), i);
        let request = if i % 2 == 0 {
            app.client.get(path)
        } else {
            app.client.post(path)
        };
        request.send().await.unwrap();
    }
    let after = series(&scrape(&app).await, "http_server_request_duration_seconds_count");
    let added: Vec<&String> = after.iter().filter(|s| !before.contains(s)).collect();
    assert!(added.len() <= 2, "unknown paths created series: {added:?}");
    assert!(added.iter().all(|s| s.contains(r#"http_route="unmatched""#)));
}

const BIN: &str = env!("CARGO_BIN_EXE_orderly");

#[test]
fn request_logs_carry_ids_and_never_tokens_addresses_or_phones() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("ORDERLY_LISTEN", "127.0.0.1:0")
        .env("ORDERLY_ADMIN_LISTEN", "127.0.0.1:0")
        .env("ORDERLY_JWT_SECRET", common::SECRET)
        .env("ORDERLY_SHUTDOWN_DELAY_MS", "0")
        .env("ORDERLY_LOG_LEVEL", "debug")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut reader = BufReader::new(server.stdout.take().unwrap()).lines();
    let started = loop {
        let line = reader.next().unwrap().unwrap();
        if line.contains("orderly started") {
            break line;
        }
    };
    let sink = lines.clone();
    let collector = std::thread::spawn(move || {
        for line in reader.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let startup: serde_json::Value = serde_json::from_str(&started).unwrap();
    assert!(startup["version"].is_string() && startup["config"].as_str().unwrap().contains("[REDACTED]"));
    let api = startup["api"].as_str().unwrap().to_owned();

    let config = orderly::config::Config {
        jwt_secret: Some(secrecy::SecretString::from(common::SECRET)),
        ..orderly::config::Config::default()
    };
    let token = orderly::auth::mint(&config, "ops-1", common::STAFF_SCOPES, 600).unwrap();
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let rt = tokio::runtime::Runtime::new().unwrap();
    let echoed = rt.block_on(async {
        let client = reqwest::Client::new();
        let mut body = order_body("KWD", "KW", &[("NOPE", 1)]);
        body["ship_to"]["line1"] = serde_json::json!("Secret Street 99, Villa 7");
        body["ship_to"]["phone"] = serde_json::json!("+96512345678");
        let r = client
            .post(format!("http://{api}/v1/orders"))
            .bearer_auth(&token)
            .header("idempotency-key", "log-1")
            .header("x-request-id", "req-abc-123")
            .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
            .json(&body)
            .send()
            .await
            .unwrap();
        r.headers()["x-request-id"].to_str().unwrap().to_owned()
    });
    assert_eq!(echoed, "req-abc-123");
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    assert!(server.wait().unwrap().success());
    collector.join().unwrap();
    let logs = lines.lock().unwrap().join("\n");
    let request_line = logs
        .lines()
        .find(|l| l.contains("req-abc-123") && l.contains(r#""message":"request""#))
        .unwrap_or_else(|| panic!("no log line for the request:\n{logs}"));
    assert!(request_line.contains(trace), "{request_line}");
    assert!(request_line.contains(r#""route":"/v1/orders""#), "{request_line}");
    assert!(request_line.contains(r#""status":422"#), "{request_line}");
    for secret in [token.as_str(), "Secret Street", "12345678", "Villa 7"] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs:\n{logs}");
    }
    assert!(logs.contains(r#""message":"stopped""#), "a shutdown line is logged");
}

#[tokio::test]
async fn readiness_trusts_recent_successes_and_pings_only_when_quiet() {
    use orderly::store::instrumented::Instrumented;
    use orderly::store::{Catalog, Health};
    use std::time::Duration;
    let (inner, _db) = common::fresh_store(Backend::Sqlite).await.unwrap();
    let store = Instrumented::new(inner, std::sync::Arc::new(orderly::telemetry::Metrics::new()));
    assert!(
        !store.answered_within(Duration::from_secs(60)),
        "nothing has answered yet"
    );
    store
        .get_stock(&orderly::domain::values::Sku::parse("ANY").unwrap())
        .await
        .unwrap();
    assert!(store.answered_within(Duration::from_secs(5)));
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert!(
        !store.answered_within(Duration::from_millis(10)),
        "an old success no longer counts"
    );
}
