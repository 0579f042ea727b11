//! The real `orderly` binary as a process: graceful SIGTERM drain, configuration printing, and the
//! development token flow.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_orderly");
const SECRET: &str = "process-test-secret-process-test-secret";

struct Server {
    child: Child,
    api: String,
    admin: String,
}

/// Starts `orderly serve` in `dir` on free ports and reads the bound addresses from its startup log line.
fn start(dir: &Path, env: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_clear()
        .env("ORDERLY_LISTEN", "127.0.0.1:0")
        .env("ORDERLY_ADMIN_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn orderly");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let started = loop {
        let line = lines.next().expect("orderly exited before starting").unwrap();
        if line.contains("orderly started") {
            break line;
        }
    };
    // Keep draining stdout so the process never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let v: serde_json::Value = serde_json::from_str(&started).unwrap();
    Server {
        child,
        api: v["api"].as_str().unwrap().to_owned(),
        admin: v["admin"].as_str().unwrap().to_owned(),
    }
}

fn http(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn status_of(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn token(dir: &Path, env: &[(&str, &str)], scope: &str) -> String {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .env_clear()
        .args(["token", "--sub", "ops-1", "--scope", scope]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned()
}

fn send(addr: &str, method: &str, path: &str, token: &str, body: &str) -> String {
    http(
        addr,
        &format!(
            "{method} {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\nIdempotency-Key: {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            uuid::Uuid::new_v4(),
            body.len()
        ),
    )
}

#[test]
fn sigterm_fails_readiness_at_once_lets_in_flight_requests_finish_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("ORDERLY_JWT_SECRET", SECRET),
        ("ORDERLY_SHUTDOWN_DELAY_MS", "1000"),
        ("ORDERLY_DRAIN_TIMEOUT_MS", "5000"),
    ];
    let mut server = start(dir.path(), &env);
    let staff = token(dir.path(), &env, "orders:read orders:write catalog:write stock:write");
    let product = r#"{"name_en":"Oud","name_ar":"عود","prices":[{"amount_minor":1235,"currency":"KWD"}]}"#;
    assert_eq!(
        status_of(&send(&server.api, "PUT", "/v1/products/OUD", &staff, product)),
        201
    );
    assert_eq!(
        status_of(&send(&server.api, "PUT", "/v1/stock/OUD", &staff, r#"{"on_hand":10}"#)),
        200
    );

    // Three requests in flight: headers and half of each body sent, the rest held back.
    let body = r#"{"currency":"KWD","ship_to":{"name":"Ali","line1":"Block 2","city":"Kuwait City","country":"KW","phone":"+96551111111"},"lines":[{"sku":"OUD","quantity":1}],"payment_method":"cod"}"#;
    let (head, tail) = body.split_at(body.len() / 2);
    let mut in_flight: Vec<TcpStream> = (0..3)
        .map(|i| {
            let mut s = TcpStream::connect(&server.api).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            write!(
                s,
                "POST /v1/orders HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {staff}\r\nIdempotency-Key: drain-{i}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
                body.len()
            )
            .unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));

    let sent_term = Instant::now();
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    // Readiness turns 503 at once.
    let ready = loop {
        let r = http(
            &server.admin,
            "GET /readyz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        );
        if status_of(&r) == 503 || sent_term.elapsed() > Duration::from_millis(500) {
            break r;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status_of(&ready), 503, "{ready}");
    assert!(ready.contains("draining"));
    assert!(sent_term.elapsed() < Duration::from_millis(500));

    // Past the shutdown delay the listener is closed, yet the requests already in flight complete.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        TcpStream::connect(&server.api).is_err(),
        "new connections are refused while draining"
    );
    for s in &mut in_flight {
        s.write_all(tail.as_bytes()).unwrap();
    }
    for s in &mut in_flight {
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert_eq!(status_of(&out), 201, "{out}");
    }
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            sent_term.elapsed() < Duration::from_secs(8),
            "did not exit within delay + drain timeout"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn config_prints_the_effective_settings_with_secrets_redacted() {
    let out = Command::new(BIN)
        .arg("config")
        .env_clear()
        .env(
            "ORDERLY_DATABASE_URL",
            "postgres://orderly:hunter2@db.internal:5432/orders",
        )
        .env("ORDERLY_JWT_SECRET", "12345678901234567890123456789012345")
        .env("ORDERLY_STORE_CODE", "AE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("hunter2") && !text.contains("1234567890123"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v["database_url"],
        "postgres://orderly:[REDACTED]@db.internal:5432/orders"
    );
    assert_eq!(v["jwt_secret"], "[REDACTED]");
    assert_eq!(v["store_code"], "AE");
}

#[test]
fn production_refuses_to_start_with_the_development_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("ORDERLY_ENV", "production")
        .env("ORDERLY_SELLER_NAME", "Process Test Store")
        .env("ORDERLY_SELLER_VAT_NUMBER", "300000000000003")
        .env("ORDERLY_LISTEN", "127.0.0.1:0")
        .env("ORDERLY_ADMIN_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ORDERLY_JWT_SECRET"));
    assert!(!dir.path().join("orderly-dev.key").exists());
}

#[test]
fn production_refuses_to_start_without_the_seller_of_its_invoices() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("ORDERLY_ENV", "production")
        .env(
            "ORDERLY_JWT_SECRET",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        )
        .env("ORDERLY_LISTEN", "127.0.0.1:0")
        .env("ORDERLY_ADMIN_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ORDERLY_SELLER_NAME"));
}

#[test]
fn a_token_minted_in_the_same_directory_is_accepted_by_the_development_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path(), &[("ORDERLY_SHUTDOWN_DELAY_MS", "0")]);
    let good = token(dir.path(), &[], "orders:read");
    let list = |t: &str| {
        http(
            &server.api,
            &format!("GET /v1/orders HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {t}\r\nConnection: close\r\n\r\n"),
        )
    };
    assert_eq!(status_of(&list(&good)), 200);
    let elsewhere = tempfile::tempdir().unwrap();
    let foreign = token(elsewhere.path(), &[], "orders:read");
    assert_eq!(status_of(&list(&foreign)), 401);
    let _ = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status();
    assert!(server.child.wait().unwrap().success());
}

#[test]
fn healthcheck_exits_zero_only_when_ready() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(
        dir.path(),
        &[("ORDERLY_JWT_SECRET", SECRET), ("ORDERLY_SHUTDOWN_DELAY_MS", "0")],
    );
    let port = server.admin.rsplit(':').next().unwrap().to_owned();
    let check = || {
        Command::new(BIN)
            .arg("healthcheck")
            .env_clear()
            .env("ORDERLY_ADMIN_LISTEN", format!("127.0.0.1:{port}"))
            .status()
            .unwrap()
            .success()
    };
    assert!(check());
    let _ = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status();
    assert!(server.child.wait().unwrap().success());
    assert!(!check());
}
