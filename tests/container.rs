//! The container image `orderly:dev` on the local Docker engine (`make image` builds it; scripts/test.sh does so
//! before the tests when Docker is available).
//!
//! Without a Docker engine or without the image these tests print `SKIPPED: ...` and pass; with `CI` set they fail
//! instead. Every test names its containers and networks uniquely and removes them, anonymous volumes included,
//! when it ends, pass or fail (Drop guards; a failing test prints the container's log first). Figures are printed as
//! `CONTAINER key=value` lines on stderr, outside the harness's capture, so they show in `cargo test` output.
//!
//! No image can be pulled here, PostgreSQL's included: the tests that need PostgreSQL run the container with
//! `--network host` against the throwaway cluster of scripts/pg-test.sh (ORDERLY_TEST_DATABASE_URL), a fresh
//! database per test, with the API and admin ports bound to 127.0.0.1. The two-replica test addresses the
//! replicas directly: the load balancer of compose.yaml needs an image that cannot be pulled here.

mod common;
mod docker;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use docker::{
    Container, IMAGE, Network, Reply, docker, docker_available, docker_ok, free_port, http, parse_reply, say, unique,
    wait_ready,
};
use orderly::config::Config;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

/// The image runs in production (ORDERLY_ENV=production), which refuses weak and published secrets: a fresh
/// random one per run.
static SECRET: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| hex::encode(rand::random::<[u8; 32]>()));
/// For the containers that rely on the generated development key.
const DEVELOPMENT: [&str; 2] = ["-e", "ORDERLY_ENV=development"];
/// The seller on tax invoices, which production requires and the image does not bake in (docs/invoices.md).
const SELLER: [&str; 4] = [
    "-e",
    "ORDERLY_SELLER_NAME=Container Test Store",
    "-e",
    "ORDERLY_SELLER_VAT_NUMBER=300000000000003",
];
const STAFF: &str = "orders:read orders:write catalog:write stock:write";
/// The security flags of the issue: read-only root, no capabilities, no privilege gain.
const LOCKED_DOWN: [&str; 5] = [
    "--read-only",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
];

// ---- the API ----------------------------------------------------------------------------------------------------

/// A token for the containers that get `ORDERLY_JWT_SECRET=SECRET`.
fn token(scope: &str) -> String {
    let config = Config {
        jwt_secret: Some(SecretString::from(SECRET.as_str())),
        ..Config::default()
    };
    orderly::auth::mint(&config, "ops-1", scope, 600).expect("mint")
}

fn order_body(sku: &str) -> String {
    json!({
        "currency": "KWD",
        "ship_to": {"name": "Ali", "line1": "Block 2", "city": "Kuwait City", "country": "KW", "phone": "+96551111111"},
        "lines": [{"sku": sku, "quantity": 1}],
        "payment_method": "card"
    })
    .to_string()
}

/// A product at 1.235 KWD with 50 on hand, through the API at `api`.
fn stock_product(api: &str, bearer: &str, sku: &str) {
    let auth = ("Authorization", bearer);
    let product =
        json!({"name_en": "Royal oud", "name_ar": "عود ملكي", "prices": [{"amount_minor": 1235, "currency": "KWD"}]});
    let r = http(
        api,
        "PUT",
        &format!("/v1/products/{sku}"),
        &[auth],
        &product.to_string(),
    )
    .unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let r = http(api, "PUT", &format!("/v1/stock/{sku}"), &[auth], r#"{"on_hand":50}"#).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
}

fn place_order(api: &str, bearer: &str, key: &str, sku: &str) -> Reply {
    http(
        api,
        "POST",
        "/v1/orders",
        &[("Authorization", bearer), ("Idempotency-Key", key)],
        &order_body(sku),
    )
    .unwrap()
}

// ---- the tests --------------------------------------------------------------------------------------------------

#[test]
fn the_image_is_small_runs_as_10001_and_describes_itself() {
    if !docker_available("the_image_is_small_runs_as_10001_and_describes_itself") {
        return;
    }
    let size: u64 = docker_ok(&["image", "inspect", "--format", "{{.Size}}", IMAGE])
        .parse()
        .unwrap();
    say(&format!(
        "CONTAINER image_bytes={size} image_mb={:.1}",
        size as f64 / 1e6
    ));
    // 24 MB since issue 14 (JWKS fetching, rate limiting, EdDSA: the binary alone is 20.2 MB) plus the SBOM.
    assert!(size <= 24_000_000, "{IMAGE} is {size} bytes, over 24 MB");

    let config: Value =
        serde_json::from_str(&docker_ok(&["image", "inspect", "--format", "{{json .Config}}", IMAGE])).unwrap();
    assert_eq!(config["User"], "10001:10001");
    assert_eq!(config["Entrypoint"], json!(["/orderly"]));
    assert_eq!(config["Healthcheck"]["Test"], json!(["CMD", "/orderly", "healthcheck"]));
    assert!(config["ExposedPorts"]["8080/tcp"].is_object() && config["ExposedPorts"]["9090/tcp"].is_object());
    assert!(config["Volumes"]["/data"].is_object(), "{config}");
    for label in ["version", "revision", "source"] {
        let value = &config["Labels"][format!("org.opencontainers.image.{label}")];
        assert!(value.as_str().is_some_and(|v| !v.is_empty()), "label {label}: {value}");
    }
    // FROM scratch: the image has no shell to run anything but the binary.
    let (_c, out) = Container::run_to_end("no-shell", &["--entrypoint", "/bin/sh"], &["-c", "true"]);
    assert!(!out.status.success(), "the image has a shell");
}

#[test]
fn docker_run_alone_gives_a_working_service_read_only_with_no_capabilities() {
    if !docker_available("docker_run_alone_gives_a_working_service_read_only_with_no_capabilities") {
        return;
    }
    let since = Instant::now();
    let c = Container::start(
        "alone",
        &[
            &LOCKED_DOWN[..],
            &DEVELOPMENT,
            &["-p", "127.0.0.1::8080", "-p", "127.0.0.1::9090"],
        ]
        .concat(),
        &[],
    );
    let admin = c.published(9090);
    let ready = wait_ready(&admin, since);
    say(&format!(
        "CONTAINER ready_ms={} backend=sqlite (docker run -> /readyz 200; process start -> listening {} ms)",
        ready.as_millis(),
        c.process_start_ms()
    ));
    assert_eq!(c.inspect("{{.HostConfig.ReadonlyRootfs}}"), "true");
    assert_eq!(c.inspect("{{.Config.User}}"), "10001:10001");
    assert_eq!(
        c.inspect("{{range .Mounts}}{{.Destination}}={{.Type}} {{end}}"),
        "/data=volume"
    );

    // The development key was created in the data volume; `orderly token` in the container signs with it.
    let out = docker_ok(&["exec", &c.name, "/orderly", "token", "--sub", "ops-1", "--scope", STAFF]);
    let bearer = format!("Bearer {}", out.lines().last().unwrap());
    let api = c.published(8080);
    stock_product(&api, &bearer, "OUD-ALONE");
    let r = place_order(&api, &bearer, "alone-1", "OUD-ALONE");
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["totals"]["grand_total"]["amount_minor"], 1235);
}

#[test]
fn the_healthcheck_follows_readiness() {
    if !docker_available("the_healthcheck_follows_readiness") {
        return;
    }
    let fast = [
        "--health-interval",
        "250ms",
        "--health-timeout",
        "2s",
        "--health-retries",
        "1",
    ];
    let since = Instant::now();
    let ready = Container::start("healthy", &[&LOCKED_DOWN[..], &DEVELOPMENT, &fast].concat(), &[]);
    // Ready only once the database answers: this one's PostgreSQL refuses connections, so it never is.
    let unready = Container::start(
        "unhealthy",
        &[
            &LOCKED_DOWN[..],
            &DEVELOPMENT,
            &fast,
            &["--health-start-period", "1ms"],
            &[
                "-e",
                "ORDERLY_DATABASE_URL=postgres://orderly@127.0.0.1:1/orderly",
                "-e",
                "ORDERLY_MIGRATE_ON_START=false",
            ],
        ]
        .concat(),
        &[],
    );
    let status = |c: &Container| c.inspect("{{.State.Health.Status}}");
    let healthy_at = loop {
        match status(&ready).as_str() {
            "healthy" => break since.elapsed(),
            "starting" => {}
            other => panic!("health {other}: {}", ready.inspect("{{json .State.Health}}")),
        }
        assert!(since.elapsed() < Duration::from_secs(30), "not healthy within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    say(&format!(
        "CONTAINER healthy_ms={} (docker run -> healthy, 250 ms interval)",
        healthy_at.as_millis()
    ));
    loop {
        match status(&unready).as_str() {
            "unhealthy" => break,
            "starting" => {}
            other => panic!("a container whose database is down became {other}"),
        }
        assert!(since.elapsed() < Duration::from_secs(30), "not unhealthy within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(unready.inspect("{{.State.Running}}"), "true");
}

#[tokio::test]
async fn the_container_uses_the_postgresql_given_by_configuration() {
    if !docker_available("the_container_uses_the_postgresql_given_by_configuration") {
        return;
    }
    let Some(db) = common::fresh_db(common::Backend::Postgres).await else {
        return;
    };
    let url = db.config.database_url.as_ref().unwrap().expose_secret().to_owned();
    let (api, admin) = (
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    );
    let since = Instant::now();
    let c = Container::start(
        "pg",
        &[
            &LOCKED_DOWN[..],
            &["--network", "host"],
            // Production migrates only when told to (the migration Job's job); this test wants it on start.
            &["-e", "ORDERLY_MIGRATE_ON_START=true"],
            &["-e", &format!("ORDERLY_DATABASE_URL={url}")],
            &["-e", &format!("ORDERLY_JWT_SECRET={}", *SECRET)],
            &SELLER,
            &["-e", &format!("ORDERLY_LISTEN={api}")],
            &["-e", &format!("ORDERLY_ADMIN_LISTEN={admin}")],
        ]
        .concat(),
        &[],
    );
    let ready = wait_ready(&admin, since);
    say(&format!(
        "CONTAINER ready_ms={} backend=postgres, migrations applied on start (process start -> listening {} ms)",
        ready.as_millis(),
        c.process_start_ms()
    ));
    assert!(c.logs().contains(r#""backend":"postgres""#), "{}", c.logs());

    let bearer = format!("Bearer {}", token(STAFF));
    stock_product(&api, &bearer, "OUD-PG");
    let r = place_order(&api, &bearer, "pg-1", "OUD-PG");
    assert_eq!(r.status, 201, "{}", r.body);
    let id: uuid::Uuid = r.json()["id"].as_str().unwrap().parse().unwrap();

    // Read back from the database itself, not through the service.
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let (status, total): (String, i64) =
        sqlx::query_as("SELECT order_status, grand_total_minor FROM orders WHERE id = $1")
            .bind(id)
            .fetch_one(&mut conn)
            .await
            .expect("the order is in PostgreSQL");
    assert_eq!((status.as_str(), total), ("open", 1235));
}

#[test]
fn docker_stop_lets_in_flight_requests_finish_and_exits_zero() {
    if !docker_available("docker_stop_lets_in_flight_requests_finish_and_exits_zero") {
        return;
    }
    let c = Container::start(
        "stop",
        &[
            &LOCKED_DOWN[..],
            &["-p", "127.0.0.1::8080", "-p", "127.0.0.1::9090"],
            &["-e", &format!("ORDERLY_JWT_SECRET={}", *SECRET)],
            &SELLER,
        ]
        .concat(),
        &[],
    );
    let (api, admin) = (c.published(8080), c.published(9090));
    wait_ready(&admin, Instant::now());
    let bearer = token(STAFF);
    stock_product(&api, &format!("Bearer {bearer}"), "OUD-STOP");

    // Three requests in flight: headers and half of each body sent, the rest held back.
    let body = order_body("OUD-STOP");
    let (head, tail) = body.split_at(body.len() / 2);
    let mut in_flight: Vec<TcpStream> = (0..3)
        .map(|i| {
            let mut s = TcpStream::connect(&api).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
            write!(
                s,
                "POST /v1/orders HTTP/1.1\r\nHost: orderly\r\nAuthorization: Bearer {bearer}\r\n\
                 Idempotency-Key: stop-{i}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{head}",
                body.len()
            )
            .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));

    let stopping = Instant::now();
    let name = c.name.clone();
    let stop = std::thread::spawn(move || {
        let out = docker(&["stop", &name]);
        (out.status.success(), stopping.elapsed())
    });
    // Readiness fails at once.
    let draining = loop {
        match http(&admin, "GET", "/readyz", &[], "") {
            Ok(r) if r.status == 503 => break r,
            _ => {}
        }
        assert!(stopping.elapsed() < Duration::from_secs(2), "/readyz did not turn 503");
        std::thread::sleep(Duration::from_millis(10));
    };
    let sigterm_seen = Instant::now();
    assert!(draining.body.contains("draining"), "{}", draining.body);
    say(&format!(
        "CONTAINER readyz_503_after_stop_ms={}",
        stopping.elapsed().as_millis()
    ));

    // Past the image's 2 s shutdown delay (counted from SIGTERM, which came before the 503) no new request is
    // served, yet those in flight complete.
    std::thread::sleep(Duration::from_millis(2300).saturating_sub(sigterm_seen.elapsed()));
    assert!(
        http(
            &api,
            "GET",
            "/v1/orders",
            &[("Authorization", &format!("Bearer {bearer}"))],
            ""
        )
        .is_err(),
        "a new request was served after the shutdown delay"
    );
    for s in &mut in_flight {
        s.write_all(tail.as_bytes()).unwrap();
    }
    for s in &mut in_flight {
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let reply = parse_reply(&raw).unwrap();
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
    let (stopped, took) = stop.join().unwrap();
    say(&format!(
        "CONTAINER stop_ms={} (docker stop with 3 requests in flight; shutdown delay 2000 ms)",
        took.as_millis()
    ));
    assert!(stopped, "docker stop failed");
    assert_eq!(c.inspect("{{.State.ExitCode}}"), "0", "{}", c.logs());
    assert!(c.logs().contains("in-flight requests finished"), "{}", c.logs());
    assert!(
        took < Duration::from_secs(9),
        "docker stop took {took:?}: too near the 10 s kill"
    );
}

#[tokio::test]
async fn two_replicas_share_orders_and_idempotency_keys_through_postgresql() {
    if !docker_available("two_replicas_share_orders_and_idempotency_keys_through_postgresql") {
        return;
    }
    let Some(db) = common::fresh_db(common::Backend::Postgres).await else {
        return;
    };
    let url = db.config.database_url.as_ref().unwrap().expose_secret().to_owned();
    let env = |name: &str, value: &str| format!("{name}={value}");
    let shared = [
        "--network".to_owned(),
        "host".to_owned(),
        "-e".to_owned(),
        env("ORDERLY_DATABASE_URL", &url),
        "-e".to_owned(),
        env("ORDERLY_JWT_SECRET", &SECRET),
        "-e".to_owned(),
        env("ORDERLY_ENV", "production"),
    ];
    let shared: Vec<&str> = LOCKED_DOWN
        .iter()
        .copied()
        .chain(shared.iter().map(String::as_str))
        .chain(SELLER)
        .collect();

    // The migration job first, as in compose.yaml and Kubernetes; production replicas do not migrate on start.
    let (_job, out) = Container::run_to_end("migrate", &shared, &["migrate"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let replica = |what: &str| {
        let (api, admin) = (
            format!("127.0.0.1:{}", free_port()),
            format!("127.0.0.1:{}", free_port()),
        );
        let since = Instant::now();
        let c = Container::start(
            what,
            &[
                &shared[..],
                &["-e", &env("ORDERLY_LISTEN", &api)],
                &["-e", &env("ORDERLY_ADMIN_LISTEN", &admin)],
            ]
            .concat(),
            &[],
        );
        let ready = wait_ready(&admin, since);
        say(&format!(
            "CONTAINER ready_ms={} backend=postgres replica={what}, schema current (process start -> listening {} ms)",
            ready.as_millis(),
            c.process_start_ms()
        ));
        (c, api, admin)
    };
    let (_a, a, a_admin) = replica("replica-a");
    let (_b, b, b_admin) = replica("replica-b");
    let bearer = format!("Bearer {}", token(STAFF));
    let auth = ("Authorization", bearer.as_str());

    // Catalog and stock written on A are seen by B.
    stock_product(&a, &bearer, "OUD-TWO");
    let r = http(&b, "GET", "/v1/stock/OUD-TWO", &[auth], "").unwrap();
    assert_eq!(r.status, 200, "{}", r.body);

    // Created on A, read on B.
    let created = place_order(&a, &bearer, "two-order-1", "OUD-TWO");
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.header("idempotent-replayed"), None);
    let order = created.json();
    let id = order["id"].as_str().unwrap();
    assert_eq!(order["version"], 1);
    let read = http(&b, "GET", &format!("/v1/orders/{id}"), &[auth], "").unwrap();
    assert_eq!(read.status, 200, "{}", read.body);
    assert_eq!(read.json()["number"], order["number"]);
    assert_eq!(read.header("etag"), Some("\"1\""));

    // The same Idempotency-Key on B replays A's response: same status, same body, marked as a replay.
    let replayed = place_order(&b, &bearer, "two-order-1", "OUD-TWO");
    assert_eq!(replayed.status, 201, "{}", replayed.body);
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    assert_eq!(replayed.body, created.body);

    // Cancelled on B, seen cancelled on A; the cancel's key replays on A too.
    let cancel = |api: &str| {
        http(
            api,
            "POST",
            &format!("/v1/orders/{id}/cancel"),
            &[auth, ("If-Match", "\"1\""), ("Idempotency-Key", "two-cancel-1")],
            r#"{"reason":"customer request"}"#,
        )
        .unwrap()
    };
    let cancelled = cancel(&b);
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.json()["status"]["order"], "cancelled");
    let seen = http(&a, "GET", &format!("/v1/orders/{id}"), &[auth], "").unwrap();
    assert_eq!(seen.json()["status"]["order"], "cancelled");
    assert_eq!(seen.json()["version"], 2);
    let again = cancel(&a);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, cancelled.body);

    // The same through a load balancer (HAProxy from Debian, checking /readyz like the Kubernetes Service):
    // round robin sends consecutive requests to both replicas, and every one of them answers as one service.
    let Some(lb) = LoadBalancer::start(&[(&a, &a_admin), (&b, &b_admin)]) else {
        return;
    };
    let first = place_order(&lb.addr, &bearer, "two-order-lb", "OUD-TWO");
    assert_eq!(first.status, 201, "{}", first.body);
    for _ in 0..6 {
        let replay = place_order(&lb.addr, &bearer, "two-order-lb", "OUD-TWO");
        assert_eq!(replay.status, 201, "{}", replay.body);
        assert_eq!(replay.header("idempotent-replayed"), Some("true"));
        assert_eq!(replay.body, first.body);
    }
    for admin in [&a_admin, &b_admin] {
        let metrics = http(admin, "GET", "/metrics", &[], "").unwrap().body;
        assert!(
            metrics.contains("http_route=\"/v1/orders\",http_response_status_code=\"201\""),
            "{admin} served none"
        );
    }
}

/// HAProxy on loopback in front of replicas given as (api, admin) addresses; stopped when dropped.
struct LoadBalancer {
    child: std::process::Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl LoadBalancer {
    fn start(replicas: &[(&str, &str)]) -> Option<LoadBalancer> {
        let Some(binary) = ["/usr/sbin/haproxy"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
        else {
            assert!(std::env::var("CI").is_err(), "CI must install haproxy");
            say("SKIPPED: the load-balancer part needs haproxy (apt-get install haproxy)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let addr = format!("127.0.0.1:{}", free_port());
        let mut cfg = format!(
            "defaults\n  mode http\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n\
             frontend api\n  bind {addr}\n  default_backend orderly\n\
             backend orderly\n  balance roundrobin\n  option httpchk\n  http-check send meth GET uri /readyz\n"
        );
        for (i, (api, admin)) in replicas.iter().enumerate() {
            let port = admin.rsplit(':').next().unwrap();
            cfg.push_str(&format!(
                "  server r{i} {api} check port {port} inter 200ms rise 1 fall 1\n"
            ));
        }
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, cfg).unwrap();
        let child = std::process::Command::new(binary)
            .arg("-f")
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Up once every replica passed a check: wait a few check intervals.
        std::thread::sleep(Duration::from_millis(800));
        Some(LoadBalancer { child, addr, _dir: dir })
    }
}

impl Drop for LoadBalancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_image_runs_in_production_and_refuses_to_start_without_a_real_key() {
    if !docker_available("the_image_runs_in_production_and_refuses_to_start_without_a_real_key") {
        return;
    }
    let env: Vec<String> = serde_json::from_str(&docker_ok(&[
        "image",
        "inspect",
        "--format",
        "{{json .Config.Env}}",
        IMAGE,
    ]))
    .unwrap();
    assert!(env.iter().any(|e| e == "ORDERLY_ENV=production"), "{env:?}");
    let refused = |what: &str, flags: &[&str]| {
        let (_c, out) = Container::run_to_end(what, &[&LOCKED_DOWN[..], flags].concat(), &[]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{what}: started anyway: {stderr}");
        stderr
    };
    // No key at all: the generated development key is not an option.
    let none = refused("no-key", &[]);
    assert!(
        none.contains("production needs a token key") && none.contains("ORDERLY_JWT_JWKS_URL"),
        "{none}"
    );
    // A weak secret and the one compose.yaml ships.
    let weak = refused("weak-key", &["-e", &format!("ORDERLY_JWT_SECRET={}", "a".repeat(32))]);
    assert!(weak.contains("too little entropy"), "{weak}");
    let shipped = refused(
        "compose-key",
        &["-e", "ORDERLY_JWT_SECRET=compose-only-secret-replace-me-0123456789"],
    );
    assert!(shipped.contains("development key"), "{shipped}");
}

#[test]
fn container_names_resolve_on_a_user_defined_network() {
    if !docker_available("container_names_resolve_on_a_user_defined_network") {
        return;
    }
    // Static glibc resolves names without NSS modules: Docker's DNS answers for a container name on the network.
    // The "database" named here is another orderly's admin port, so the connection is made and then fails on the
    // PostgreSQL handshake; a name that does not exist fails on the lookup instead.
    let network = Network::create();
    let target = Container::start(
        "dns-target",
        &[&["--network", &network.name, "-p", "127.0.0.1::9090"][..], &DEVELOPMENT].concat(),
        &[],
    );
    wait_ready(&target.published(9090), Instant::now());
    let migrate_against = |host: &str| {
        let (_c, out) = Container::run_to_end(
            "dns-client",
            &[
                "--network",
                &network.name,
                DEVELOPMENT[0],
                DEVELOPMENT[1],
                "-e",
                &format!("ORDERLY_DATABASE_URL=postgres://orderly@{host}:9090/orderly"),
            ],
            &["migrate"],
        );
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let found = migrate_against(&target.name);
    assert!(!found.contains("lookup"), "{found}");
    assert!(
        found.contains("SSLRequest"),
        "did not reach the named container: {found}"
    );
    let missing = migrate_against(&unique("no-such-host"));
    assert!(missing.contains("failed to lookup address"), "{missing}");
}

#[test]
fn compose_file_is_valid() {
    let test = "compose_file_is_valid";
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("docker-compose")
        .args(["-f", &format!("{root}/compose.yaml"), "config", "--quiet"])
        .output();
    match out {
        Ok(out) => assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr)),
        Err(e) if std::env::var_os("CI").is_some() => panic!("CI requires docker-compose ({test}): {e}"),
        Err(e) => say(&format!("SKIPPED: {test}: no docker-compose ({e})")),
    }
}
