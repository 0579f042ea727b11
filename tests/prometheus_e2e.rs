//! End to end with a real Prometheus (Debian package): it scrapes two running replicas, one healthy and one
//! whose database is gone, evaluates the project's own recording rules (extracted from the PrometheusRule, the
//! one source) and answers the expressions the dashboard and alerts use with the values the traffic implies.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::{Backend, TestApp, order_body};
use secrecy::SecretString;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

struct Prometheus {
    child: Child,
    url: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn prometheus_binary() -> Option<&'static str> {
    let found = ["/usr/bin/prometheus"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    if found.is_none() {
        assert!(std::env::var("CI").is_err(), "CI must install prometheus");
        eprintln!("SKIPPED: prometheus is not installed (apt-get install prometheus)");
    }
    found
}

/// The rule file promtool and Prometheus load: the PrometheusRule's spec, extracted.
fn rule_file(dir: &std::path::Path) -> std::path::PathBuf {
    let out = Command::new("python3")
        .args([
            &format!("{ROOT}/scripts/promrule.py"),
            "rules",
            &format!("{ROOT}/deploy/monitoring/prometheusrule.yaml"),
        ])
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let path = dir.join("orderly.rules.yml");
    std::fs::write(&path, out.stdout).unwrap();
    path
}

fn start_prometheus(dir: &std::path::Path, targets: &[&str]) -> Option<Prometheus> {
    let binary = prometheus_binary()?;
    let rules = rule_file(dir);
    let targets: Vec<String> = targets
        .iter()
        .map(|t| format!("'{}'", t.trim_start_matches("http://")))
        .collect();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: ['{}']\nscrape_configs:\n  - job_name: orderly\n    static_configs:\n      - targets: [{}]\n",
        rules.display(),
        targets.join(", ")
    );
    let config_path = dir.join("prometheus.yml");
    std::fs::write(&config_path, config).unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(binary)
        .arg(format!("--config.file={}", config_path.display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Some(Prometheus {
        child,
        url: format!("http://127.0.0.1:{port}"),
    })
}

async fn query(client: &reqwest::Client, prom: &Prometheus, promql: &str) -> Vec<(Value, f64)> {
    let body: Value = client
        .get(format!("{}/api/v1/query", prom.url))
        .query(&[("query", promql)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "success", "{promql}: {body}");
    body["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["metric"].clone(),
                r["value"][1].as_str().unwrap().parse::<f64>().unwrap(),
            )
        })
        .collect()
}

/// The dashboard's PromQL: target `index` of the panel titled `title`, with Grafana's variables filled in.
fn dashboard_expr(title: &str, index: usize) -> String {
    let dir = format!("{ROOT}/deploy/monitoring/dashboards");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap()).unwrap();
        let mut panels: Vec<Value> = dashboard["panels"].as_array().cloned().unwrap_or_default();
        let nested: Vec<Value> = panels
            .iter()
            .flat_map(|p| p["panels"].as_array().cloned().unwrap_or_default())
            .collect();
        panels.extend(nested);
        for p in panels {
            if p["title"].as_str() == Some(title)
                && let Some(expr) = p["targets"][index]["expr"].as_str()
            {
                return expr
                    .replace("$__rate_interval", "1m")
                    .replace("${__rate_interval}", "1m")
                    .replace("$instance", ".*");
            }
        }
    }
    panic!("no dashboard panel titled like {title:?}")
}

fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
    (actual - expected).abs() <= tolerance * expected.abs().max(1e-9)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_sees_the_traffic_the_dashboard_and_alerts_expect() {
    let dir = tempfile::tempdir().unwrap();
    let healthy = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let broken = TestApp::spawn_with(Backend::Sqlite, |c| {
        c.database_url = Some(SecretString::from("postgres://nobody@127.0.0.1:1/gone"));
        c.migrate_on_start = Some(false);
        c.db_acquire_timeout_ms = 200;
    })
    .await
    .unwrap();
    healthy.stocked("OUD", 1235, "KWD", 100_000).await;
    // Steady traffic in the background: successes and 4xx on the healthy replica, 5xx from the one without a
    // database, in a fixed mix. The expressions are queried while it runs.
    let counts = Arc::new([AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0)]);
    let running = Arc::new(AtomicBool::new(true));
    let load = {
        let (counts, running) = (counts.clone(), running.clone());
        let staff = healthy.staff();
        let broken_staff = broken.staff();
        let (h, b) = (healthy.api.clone(), broken.api.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let body = order_body("KWD", "KW", &[("OUD", 1)]);
            let mut i = 0u32;
            while running.load(Ordering::Relaxed) {
                i += 1;
                let post = |api: &str, token: &str, key: String| {
                    client
                        .post(format!("{api}/v1/orders"))
                        .bearer_auth(token)
                        .header("idempotency-key", key)
                        .json(&body)
                        .send()
                };
                assert_eq!(post(&h, &staff, format!("e2e-{i}")).await.unwrap().status(), 201);
                counts[0].fetch_add(1, Ordering::Relaxed);
                if i % 4 == 0 {
                    assert_eq!(post(&h, "not-a-token", "x".into()).await.unwrap().status(), 401);
                    counts[1].fetch_add(1, Ordering::Relaxed);
                }
                if i % 5 == 0 {
                    assert_eq!(post(&b, &broken_staff, format!("b-{i}")).await.unwrap().status(), 503);
                    counts[2].fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let started = Instant::now();
    // Prometheus starts once every series of the mix exists (the first 503 comes within 100 ms): a series born
    // between two scrapes loses its first increments to rate(), which skewed a ratio over a short run.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let Some(prom) = start_prometheus(dir.path(), &[&healthy.admin, &broken.admin]) else {
        running.store(false, Ordering::Relaxed);
        return;
    };
    tokio::time::sleep(Duration::from_secs(10)).await;
    let read = |n: usize| f64::from(counts[n].load(Ordering::Relaxed));
    let (ok, client_errors, server_errors) = (read(0), read(1), read(2));
    let throughput = (ok + client_errors + server_errors) / started.elapsed().as_secs_f64();
    let client = reqwest::Client::new();
    let total = ok + client_errors + server_errors;

    // The SLO error ratio the burn-rate alerts read.
    let ratio = query(
        &client,
        &prom,
        r#"orderly_slo:sli_error:ratio_rate5m{slo="availability"}"#,
    )
    .await;
    let expected = server_errors / total;
    assert_eq!(ratio.len(), 1, "{ratio:?}");
    assert!(
        close(ratio[0].1, expected, 0.25),
        "error ratio {} vs {expected}",
        ratio[0].1
    );

    // Request rate: the recorded total, and the per-replica split the replica-errors alert uses.
    let rate = query(&client, &prom, r#"orderly_slo:requests:rate5m{slo="availability"}"#).await;
    assert!(rate.len() == 1 && rate[0].1 > 0.0, "{rate:?}");
    let per_replica = query(&client, &prom, "instance:orderly_http_errors:rate5m").await;
    let errors_of = |target: &str| {
        per_replica
            .iter()
            .find(|(m, _)| m["instance"].as_str() == Some(target.trim_start_matches("http://")))
            .map(|(_, v)| *v)
    };
    assert_eq!(errors_of(&healthy.admin), Some(0.0), "{per_replica:?}");
    assert!(errors_of(&broken.admin).is_some_and(|v| v > 0.0), "{per_replica:?}");

    // The dashboard's own panels: traffic, error ratio and p99 latency (the 5xx wait out a 200 ms pool timeout,
    // so p99 sits near that, well under 0.5 s).
    let traffic = query(
        &client,
        &prom,
        &dashboard_expr("Requests per second by route", 0).replace("[1m]", "[5s]"),
    )
    .await;
    let traffic_sum: f64 = traffic.iter().map(|(_, v)| v).sum();
    assert!(
        close(traffic_sum, throughput, 0.3),
        "dashboard traffic {traffic_sum} vs {throughput} req/s measured"
    );
    let error_panel = query(&client, &prom, &dashboard_expr("5xx error ratio", 0)).await;
    let error_value = error_panel.iter().map(|(_, v)| *v).fold(0.0, f64::max);
    assert!(
        close(error_value, expected, 0.35),
        "dashboard error ratio {error_value} vs {expected}"
    );
    let p99 = query(&client, &prom, &dashboard_expr("API latency", 2)).await;
    assert!(!p99.is_empty(), "p99 panel returned nothing");
    assert!(
        p99.iter().all(|(_, v)| v.is_finite() && *v > 0.0 && *v <= 0.5),
        "{p99:?}"
    );
    running.store(false, Ordering::Relaxed);
    load.await.unwrap();
    eprintln!(
        "PROMETHEUS_E2E requests={total} 5xx={server_errors} 4xx={client_errors} req_per_s={throughput:.1} error_ratio={:.4} p99_s={:.4}",
        ratio[0].1,
        p99.iter().map(|(_, v)| *v).fold(0.0, f64::max)
    );
}
