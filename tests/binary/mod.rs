//! The real `orderly` binary as a process, for tests that need its listener as it runs in production: start it
//! with settings in its environment, read its addresses and keep its log lines, and speak raw HTTP/1.1 to it.
#![allow(dead_code)] // each test crate uses a part

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_orderly");
pub const SECRET: &str = "connections-test-secret-connections-test";

pub struct Server {
    pub child: Child,
    pub api: String,
    pub admin: String,
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `orderly serve` in `dir` on free ports with `env`, keeping its log lines.
    pub fn start(dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(dir)
            .env_clear()
            .env("ORDERLY_LISTEN", "127.0.0.1:0")
            .env("ORDERLY_ADMIN_LISTEN", "127.0.0.1:0")
            .env("ORDERLY_JWT_SECRET", SECRET)
            .env("ORDERLY_SHUTDOWN_DELAY_MS", "0")
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
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let v: serde_json::Value = serde_json::from_str(&started).unwrap();
        Server {
            child,
            api: v["api"].as_str().unwrap().to_owned(),
            admin: v["admin"].as_str().unwrap().to_owned(),
            log,
        }
    }

    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// The request log lines (JSON) with `status` as given.
    pub fn requests_logged_with(&self, status: u64) -> Vec<serde_json::Value> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["message"] == "request" && v["status"] == status)
            .collect()
    }

    pub fn active_requests(&self) -> i64 {
        let text = http(
            &self.admin,
            "GET /metrics HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        );
        text.lines()
            .find_map(|l| l.strip_prefix("http_server_active_requests "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(-1)
    }
}

pub fn token(dir: &Path, sub: &str, scope: &str) -> String {
    let out = Command::new(BIN)
        .current_dir(dir)
        .env_clear()
        .env("ORDERLY_JWT_SECRET", SECRET)
        .args(["token", "--sub", sub, "--scope", scope])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned()
}

/// One request on its own connection, read to the end.
pub fn http(addr: &str, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

pub fn status_of(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Reads one response with a `Content-Length` body from a keep-alive connection.
pub fn read_response(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "connection closed mid-response");
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    s.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}

/// Whether the server has closed `s`: end of stream or a reset (bytes of a final response are read and dropped).
pub fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return false,
            Err(_) => return true,
        }
    }
}

pub const PATIENCE: Duration = Duration::from_secs(15);
