//! The outbox against a real nats-server with JetStream: every event reaches a consumer exactly once and in
//! per-order sequence, also across a relay killed mid-batch and a NATS outage; one relay leads at a time.

mod common;

use std::collections::{HashMap, HashSet};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use common::{Backend, TestApp, fresh_db, order_body};
use futures::StreamExt;
use serde_json::{Value, json};

/// A nats-server with JetStream on a free loopback port, storing in `dir`; killed when dropped.
struct Nats {
    child: Child,
    port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn nats_binary() -> Option<&'static str> {
    let found = ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    if found.is_none() {
        assert!(std::env::var("CI").is_err(), "CI must install nats-server");
        eprintln!("SKIPPED: nats-server is not installed (apt-get install nats-server)");
    }
    found
}

impl Nats {
    fn start(port: u16, dir: &Path) -> Option<Nats> {
        let child = Command::new(nats_binary()?)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Nats { child, port })
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Everything in the stream, in stream order, read with a fresh ordered consumer.
async fn stream_contents(url: &str, expected: usize) -> Vec<Value> {
    let client = async_nats::connect(url).await.unwrap();
    let js = jetstream::new(client);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut stream = js.get_stream("ORDERLY_ORDERS").await.unwrap();
        let count = stream.info().await.unwrap().state.messages as usize;
        if count >= expected || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stream = js.get_stream("ORDERLY_ORDERS").await.unwrap();
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig { ..Default::default() })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut out = Vec::new();
    // Read what is there, then wait a little longer: a duplicate would show up as an extra message.
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_millis(700), messages.next()).await {
        out.push(serde_json::from_slice(&m.payload).unwrap());
    }
    out
}

/// Exactly once, and each order's events in sequence 1, 2, 3 ...
fn assert_exactly_once_in_order(messages: &[Value], expected: usize) {
    let ids: HashSet<&str> = messages.iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), messages.len(), "no event twice");
    assert_eq!(messages.len(), expected, "every event once");
    let mut last: HashMap<&str, i64> = HashMap::new();
    for m in messages {
        let seq = m["sequence"].as_i64().unwrap();
        let previous = last.insert(m["order_id"].as_str().unwrap(), seq).unwrap_or(0);
        assert_eq!(seq, previous + 1, "per-order order: {m}");
    }
}

async fn total_events(app: &TestApp, ids: &[String]) -> usize {
    let mut n = 0;
    for id in ids {
        n += app.state.store.order_events(id.parse().unwrap()).await.unwrap().len();
    }
    n
}

async fn busy_day(app: &TestApp, orders: usize) -> Vec<String> {
    app.stocked("OUD", 1235, "KWD", 1000).await;
    let mut ids = Vec::new();
    for i in 0..orders {
        let mut body = order_body("KWD", "KW", &[("OUD", 1)]);
        body["payment_method"] = json!(if i % 2 == 0 { "card" } else { "cod" });
        let o: Value = app
            .create_order(&app.staff(), &format!("o{i}"), &body)
            .await
            .json()
            .await
            .unwrap();
        let o = if i % 2 == 0 {
            app.step(
                &o,
                "payment/authorize",
                Some(json!({"amount_minor": 1235, "provider_ref": "p"})),
            )
            .await
        } else {
            app.step(
                &o,
                "shipments",
                Some(json!({"lines": [{"sku": "OUD", "quantity": 1}], "carrier": "c", "tracking_number": "t"})),
            )
            .await
        };
        if i % 3 == 0 && i % 2 == 0 {
            app.step(&o, "cancel", None).await;
        }
        ids.push(o["id"].as_str().unwrap().to_owned());
    }
    ids
}

async fn with_relay(backend: Backend, nats: &Nats) -> Option<TestApp> {
    let url = nats.url();
    TestApp::spawn_with(backend, move |c| {
        c.nats_url = Some(secrecy::SecretString::from(url));
        c.outbox_poll_ms = 20;
    })
    .await
}

async fn a_consumer_sees_every_event_once_in_per_order_sequence(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some(nats) = Nats::start(free_port(), dir.path()) else {
        return;
    };
    let Some(app) = with_relay(backend, &nats).await else {
        return;
    };
    let ids = busy_day(&app, 12).await;
    let expected = total_events(&app, &ids).await;
    let messages = stream_contents(&nats.url(), expected).await;
    assert_exactly_once_in_order(&messages, expected);
    let subjects: HashSet<&str> = messages.iter().map(|m| m["type"].as_str().unwrap()).collect();
    assert!(
        subjects.contains("order.placed")
            && subjects.contains("payment.authorized")
            && subjects.contains("shipment.created")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_consumer_sees_every_event_once_in_per_order_sequence() {
    a_consumer_sees_every_event_once_in_per_order_sequence(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_consumer_sees_every_event_once_in_per_order_sequence() {
    a_consumer_sees_every_event_once_in_per_order_sequence(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbouncer_a_consumer_sees_every_event_once_in_per_order_sequence() {
    a_consumer_sees_every_event_once_in_per_order_sequence(Backend::PgBouncer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_wait_while_nats_is_down_and_flow_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let Some(mut nats) = Nats::start(port, dir.path()) else {
        return;
    };
    let app = with_relay(Backend::Sqlite, &nats).await.unwrap();
    let mut ids = busy_day(&app, 2).await;
    let before = total_events(&app, &ids).await;
    assert_eq!(stream_contents(&nats.url(), before).await.len(), before);

    nats.kill();
    let staff = app.staff();
    for i in 0..5 {
        let o: Value = app
            .create_order(&staff, &format!("down{i}"), &order_body("KWD", "KW", &[("OUD", 1)]))
            .await
            .json()
            .await
            .unwrap();
        ids.push(o["id"].as_str().unwrap().to_owned());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let waiting = app.state.store.outbox_backlog().await.unwrap();
    assert_eq!(waiting.pending, 5, "the new events wait in the outbox");

    let _nats = Nats::start(port, dir.path()).unwrap();
    let expected = total_events(&app, &ids).await;
    let messages = stream_contents(&format!("nats://127.0.0.1:{port}"), expected).await;
    assert_exactly_once_in_order(&messages, expected);
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.state.store.outbox_backlog().await.unwrap().pending > 0 {
        assert!(Instant::now() < deadline, "backlog did not drain");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const BIN: &str = env!("CARGO_BIN_EXE_orderly");

fn serve(dir: &Path, nats: Option<&str>) -> (Child, String) {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_clear()
        .env("ORDERLY_LISTEN", "127.0.0.1:0")
        .env("ORDERLY_ADMIN_LISTEN", "127.0.0.1:0")
        .env("ORDERLY_JWT_SECRET", common::SECRET)
        .env("ORDERLY_SHUTDOWN_DELAY_MS", "0")
        .env("ORDERLY_OUTBOX_BATCH_SIZE", "50")
        .env("ORDERLY_OUTBOX_POLL_MS", "10")
        .stdout(Stdio::piped());
    if let Some(url) = nats {
        cmd.env("ORDERLY_NATS_URL", url);
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let started = loop {
        let line = lines.next().expect("orderly exited").unwrap();
        if line.contains("orderly started") {
            break line;
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let api = serde_json::from_str::<Value>(&started).unwrap()["api"]
        .as_str()
        .unwrap()
        .to_owned();
    (child, format!("http://{api}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_mid_batch_and_restarted_loses_and_repeats_nothing() {
    let nats_dir = tempfile::tempdir().unwrap();
    let Some(nats) = Nats::start(free_port(), nats_dir.path()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = orderly::config::Config {
        jwt_secret: Some(secrecy::SecretString::from(common::SECRET)),
        ..orderly::config::Config::default()
    };
    let staff = orderly::auth::mint(&config, "ops", common::STAFF_SCOPES, 600).unwrap();
    let client = reqwest::Client::new();

    // A backlog of 400 events, written while no relay runs.
    let (mut first, api) = serve(dir.path(), None);
    let product = json!({"name_en": "Oud", "name_ar": "عود", "prices": [{"amount_minor": 1235, "currency": "KWD"}]});
    client
        .put(format!("{api}/v1/products/OUD"))
        .bearer_auth(&staff)
        .json(&product)
        .send()
        .await
        .unwrap();
    client
        .put(format!("{api}/v1/stock/OUD"))
        .bearer_auth(&staff)
        .json(&json!({"on_hand": 1000}))
        .send()
        .await
        .unwrap();
    for i in 0..400 {
        let r = client
            .post(format!("{api}/v1/orders"))
            .bearer_auth(&staff)
            .header("idempotency-key", format!("b{i}"))
            .json(&order_body("KWD", "KW", &[("OUD", 1)]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    let _ = Command::new("kill").args(["-TERM", &first.id().to_string()]).status();
    first.wait().unwrap();

    // The relay starts on the backlog and is killed (SIGKILL) part-way, between batches' publish and mark.
    let js = jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    let (mut second, _) = serve(dir.path(), Some(&nats.url()));
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let seen = match js.get_stream("ORDERLY_ORDERS").await {
            Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
            Err(_) => 0,
        };
        if seen >= 75 {
            break;
        }
        assert!(Instant::now() < deadline, "relay published nothing");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    let db = orderly::store::sqlite::SqliteStore::open(&dir.path().join("orderly.db"), Duration::from_secs(5))
        .await
        .unwrap();
    let pending = orderly::store::Outbox::outbox_backlog(&db).await.unwrap().pending;
    assert!(pending > 0, "the relay was killed before finishing the backlog");
    drop(db);

    let (mut third, _) = serve(dir.path(), Some(&nats.url()));
    let messages = stream_contents(&nats.url(), 400).await;
    let _ = Command::new("kill").args(["-TERM", &third.id().to_string()]).status();
    third.wait().unwrap();
    assert_exactly_once_in_order(&messages, 400);
}

/// Through a transaction pooler too: the lease is a transaction, which keeps its server connection.
async fn one_relay_leads_at_a_time_across_replicas(backend: Backend) {
    let Some(db) = fresh_db(backend).await else {
        return;
    };
    let a = orderly::server::open_store(&db.config, false).await.unwrap();
    let b = orderly::server::open_store(&db.config, false).await.unwrap();
    let mut lead = a.try_relay_lease().await.unwrap().expect("the first replica leads");
    assert!(lead.is_held().await);
    assert!(b.try_relay_lease().await.unwrap().is_none(), "the second stands by");
    drop(lead);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if b.try_relay_lease().await.unwrap().is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "the lease was not handed on");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_one_relay_leads_at_a_time_across_replicas() {
    one_relay_leads_at_a_time_across_replicas(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbouncer_one_relay_leads_at_a_time_across_replicas() {
    one_relay_leads_at_a_time_across_replicas(Backend::PgBouncer).await;
}
