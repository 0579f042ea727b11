//! The API listener against hostile and careless clients, on the real `orderly` binary as a process: slow and fat
//! request heads, idle keep-alive connections, load shedding, requests abandoned mid-body, and what the request log
//! says about the caller. Waits are bounded loops that end as soon as the behaviour shows; none asserts a duration.

mod binary;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use binary::{PATIENCE, Server, closed_by_server, http, read_response, status_of, token};
use hmac::{Hmac, Mac};

#[test]
fn slowloris_connections_are_closed_after_the_header_read_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[("ORDERLY_HEADER_READ_TIMEOUT_MS", "1000")]);
    let mut conns: Vec<TcpStream> = (0..50)
        .map(|_| {
            let mut s = TcpStream::connect(&server.api).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
            s.write_all(b"GET /v1/products HTTP/1.1\r\nHost: t\r\n").unwrap();
            s
        })
        .collect();
    // Meanwhile, another client is served.
    let other = http(
        &server.api,
        "GET /v1/nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status_of(&other), 404, "{other}");
    let began = Instant::now();
    // One more header byte per connection every 100 ms, until the server has closed them all.
    while !conns.is_empty() && began.elapsed() < PATIENCE {
        conns.retain_mut(|s| s.write_all(b"X").is_ok() && !closed_by_server(s));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(conns.is_empty(), "{} slowloris connections still open", conns.len());
}

#[test]
fn fat_request_heads_are_refused_without_the_memory_and_other_clients_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    assert_eq!(
        status_of(&http(
            &server.api,
            "GET /v1/nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        )),
        404
    );
    let idle = server.rss_kib();
    let fat = format!(
        "GET /v1/products HTTP/1.1\r\nHost: t\r\nX-Fat: {}",
        "a".repeat(400 * 1024)
    );
    let mut conns: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut s = TcpStream::connect(&server.api).unwrap();
            s.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
            // The server stops reading at its cap and closes: the rest of the write fails, which is the point.
            let _ = s.write_all(fat.as_bytes());
            s
        })
        .collect();
    let grown = server.rss_kib().saturating_sub(idle);
    eprintln!("RSS at idle {idle} KiB; with 300 fat heads sent, {grown} KiB more");
    assert!(grown < 64 * 1024, "RSS grew by {grown} KiB with 300 fat heads open");
    // Meanwhile, another client is served.
    let staff = token(dir.path(), "ops-1", "orders:read");
    let listing = http(
        &server.api,
        &format!("GET /v1/orders HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {staff}\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(status_of(&listing), 200, "{listing}");
    let began = Instant::now();
    while !conns.is_empty() && began.elapsed() < PATIENCE {
        for s in &conns {
            s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        }
        conns.retain_mut(|s| !closed_by_server(s));
    }
    assert!(conns.is_empty(), "{} fat-head connections still open", conns.len());
}

#[test]
fn a_request_head_over_the_cap_answers_431() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[("ORDERLY_MAX_HEADER_BYTES", "16384")]);
    let fits = format!(
        "GET /v1/nope HTTP/1.1\r\nHost: t\r\nX-Pad: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(12_000)
    );
    assert_eq!(status_of(&http(&server.api, &fits)), 404);
    let over = format!(
        "GET /v1/nope HTTP/1.1\r\nHost: t\r\nX-Pad: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(20_000)
    );
    let answer = http(&server.api, &over);
    assert_eq!(status_of(&answer), 431, "{answer}");
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("ORDERLY_IDLE_TIMEOUT_MS", "1000"),
            ("ORDERLY_HEADER_READ_TIMEOUT_MS", "60000"),
        ],
    );
    let mut s = TcpStream::connect(&server.api).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    // Keep-alive works: two requests on one connection.
    for _ in 0..2 {
        s.write_all(b"GET /v1/nope HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        assert_eq!(status_of(&read_response(&mut s)), 404);
    }
    let mut rest = [0u8; 1];
    let after_idle = s.read(&mut rest);
    assert!(
        matches!(after_idle, Ok(0))
            || after_idle
                .as_ref()
                .is_err_and(|e| e.kind() == ErrorKind::ConnectionReset),
        "the idle connection was not closed: {after_idle:?}"
    );
}

#[test]
fn beyond_max_in_flight_requests_are_shed_with_503_overloaded_and_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    // The probe below is anonymous and fast: no per-IP limit, so only shedding can refuse it.
    let server = Server::start(
        dir.path(),
        &[("ORDERLY_MAX_IN_FLIGHT", "1"), ("ORDERLY_RATE_LIMIT_IP_PER_SEC", "0")],
    );
    let staff = token(dir.path(), "ops-1", "catalog:write");
    // Held in flight: the head and half of a body.
    let mut held = TcpStream::connect(&server.api).unwrap();
    held.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        held,
        "PUT /v1/products/OUD HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {staff}\r\nIdempotency-Key: held-1\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"name_en\":"
    )
    .unwrap();
    // The held request is in flight once the server counts it; if it never is, say what became of it.
    let began = Instant::now();
    while server.active_requests() < 1 && began.elapsed() < PATIENCE {
        std::thread::sleep(Duration::from_millis(20));
    }
    if server.active_requests() < 1 {
        held.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let mut answer = String::new();
        let _ = held.read_to_string(&mut answer);
        panic!(
            "the held request never counted as in flight; it was answered {answer:?}; server log: {:#?}",
            server.log.lock().unwrap()
        );
    }
    let shed = http(
        &server.api,
        "GET /v1/nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status_of(&shed), 503, "{shed}");
    assert!(shed.to_ascii_lowercase().contains("\r\nretry-after: 1\r\n"), "{shed}");
    assert!(shed.contains(r#""code":"overloaded""#), "{shed}");
    drop(held);
    // Once the held request is gone there is room again.
    let began = Instant::now();
    let next = loop {
        let r = http(
            &server.api,
            "GET /v1/nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        );
        if status_of(&r) != 503 || began.elapsed() > PATIENCE {
            break r;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status_of(&next), 404, "{next}");
}

#[test]
fn requests_reset_mid_body_are_logged_as_499_and_leave_no_active_request_behind() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let staff = token(dir.path(), "ops-1", "catalog:write");
    let aborted: Vec<TcpStream> = (0..5)
        .map(|i| {
            let mut s = TcpStream::connect(&server.api).unwrap();
            write!(
                s,
                "PUT /v1/products/OUD{i} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {staff}\r\nIdempotency-Key: abort-{i}\r\n\
                 Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"name_en\":"
            )
            .unwrap();
            s
        })
        .collect();
    let wait_for = |want: i64| {
        let began = Instant::now();
        loop {
            let n = server.active_requests();
            if n == want || began.elapsed() > PATIENCE {
                return n;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    assert_eq!(wait_for(5), 5, "the five requests are in flight");
    // Aborted as a killed client or a proxy giving up does it: a reset, not an orderly close.
    for s in aborted {
        socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO)).unwrap();
    }
    assert_eq!(
        wait_for(0),
        0,
        "http_server_active_requests after the clients went away"
    );
    let began = Instant::now();
    while server.requests_logged_with(499).len() < 5 && began.elapsed() < PATIENCE {
        std::thread::sleep(Duration::from_millis(20));
    }
    let lines = server.requests_logged_with(499);
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert!(lines.iter().all(|l| l["route"] == "/v1/products/{sku}"), "{lines:?}");
    let metrics = http(
        &server.admin,
        "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("http_server_request_duration_seconds_count")
                && l.contains("http_response_status_code=\"499\"")
                && l.ends_with(" 5")),
        "{metrics}"
    );
}

#[test]
fn request_log_lines_name_the_caller_by_a_keyed_hash_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[("ORDERLY_LOG_PRINCIPAL_SALT", "pepper-for-the-logs")]);
    let sub = "0f7d3c1e-5b7a-4e2b-9a51-6c2d8e4f1a90";
    let customer = token(dir.path(), sub, "orders:read:own");
    let listing = http(
        &server.api,
        &format!("GET /v1/orders HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {customer}\r\nConnection: close\r\n\r\n"),
    );
    assert_eq!(status_of(&listing), 200, "{listing}");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"pepper-for-the-logs").unwrap();
    mac.update(sub.as_bytes());
    let want = hex::encode(&mac.finalize().into_bytes()[..8]);
    let began = Instant::now();
    while server.requests_logged_with(200).is_empty() && began.elapsed() < PATIENCE {
        std::thread::sleep(Duration::from_millis(20));
    }
    let lines = server.requests_logged_with(200);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["principal"], want.as_str(), "{}", lines[0]);
    let log = server.log.lock().unwrap().join("\n");
    assert!(
        !log.contains(sub) && !log.contains(&customer),
        "the raw subject or token reached the log"
    );
}

#[test]
fn requests_abandoned_while_their_handler_waits_are_logged_as_499_and_leave_no_active_request_behind() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("ORDERLY_IDEMPOTENCY_WAIT_MS", "60000"),
            ("ORDERLY_REQUEST_TIMEOUT_MS", "60000"),
        ],
    );
    let staff = token(dir.path(), "ops-1", "catalog:write");
    // The database's write lock, held: every write of the server waits for it.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = format!("sqlite://{}", dir.path().join("orderly.db").display());
    let mut lock = rt.block_on(sqlx::SqliteConnection::connect(&url)).unwrap();
    rt.block_on(sqlx::query("BEGIN IMMEDIATE").execute(&mut lock)).unwrap();
    let product = r#"{"name_en":"Oud","name_ar":"عود","prices":[{"amount_minor":1235,"currency":"KWD"}]}"#;
    let waiting: Vec<TcpStream> = (0..5)
        .map(|i| {
            let mut s = TcpStream::connect(&server.api).unwrap();
            write!(
                s,
                "PUT /v1/products/OUD{i} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {staff}\r\nIdempotency-Key: wait-{i}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{product}",
                product.len()
            )
            .unwrap();
            s
        })
        .collect();
    let wait_for = |want: i64| {
        let began = Instant::now();
        loop {
            let n = server.active_requests();
            if n == want || began.elapsed() > PATIENCE {
                return n;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    assert_eq!(wait_for(5), 5, "the five requests are in flight");
    drop(waiting);
    assert_eq!(
        wait_for(0),
        0,
        "http_server_active_requests after the clients went away"
    );
    let began = Instant::now();
    while server.requests_logged_with(499).len() < 5 && began.elapsed() < PATIENCE {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(server.requests_logged_with(499).len(), 5);
    rt.block_on(sqlx::query("ROLLBACK").execute(&mut lock)).unwrap();
}
