//! The harness of tests/container.rs: gating on a Docker engine, containers and networks that remove themselves,
//! and HTTP/1.1 over loopback (raw, so a test can also hold a request half-sent).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub const IMAGE: &str = "orderly:dev";

// ---- reporting and gating ---------------------------------------------------------------------------------------

/// A line on stderr that the test harness does not capture.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Whether the Docker engine and the image are there; without them: skip, or fail when `CI` is set.
pub fn docker_available(test: &str) -> bool {
    let skip = |why: String| {
        if std::env::var_os("CI").is_some() {
            panic!("CI requires the container tests ({test}): {why}");
        }
        say(&format!("SKIPPED: {test}: {why}"));
        false
    };
    match Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .output()
    {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            return skip(format!(
                "no Docker engine (`docker info`: {})",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Err(e) => return skip(format!("no docker command ({e})")),
    }
    if !docker(&["image", "inspect", IMAGE]).status.success() {
        return skip(format!("image {IMAGE} not found; build it with `make image`"));
    }
    true
}

// ---- docker -----------------------------------------------------------------------------------------------------

pub fn docker(args: &[&str]) -> Output {
    Command::new("docker").args(args).output().expect("run docker")
}

/// Runs docker and returns its trimmed stdout; panics with its stderr when it fails.
pub fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    assert!(
        out.status.success(),
        "docker {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn unique(what: &str) -> String {
    format!(
        "orderly-test-{what}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// A container of the image, removed with its anonymous volumes when dropped.
pub struct Container {
    pub name: String,
}

impl Container {
    /// `docker run -d --name <unique> <flags> orderly:dev <args>`.
    pub fn start(what: &str, flags: &[&str], args: &[&str]) -> Container {
        let container = Container { name: unique(what) };
        docker_ok(&[&["run", "-d", "--name", &container.name], flags, &[IMAGE], args].concat());
        container
    }

    /// `docker run` in the foreground, to completion; the container stays until dropped.
    pub fn run_to_end(what: &str, flags: &[&str], args: &[&str]) -> (Container, Output) {
        let container = Container { name: unique(what) };
        let out = docker(&[&["run", "--name", &container.name], flags, &[IMAGE], args].concat());
        (container, out)
    }

    pub fn inspect(&self, format: &str) -> String {
        docker_ok(&["inspect", "--format", format, &self.name])
    }

    /// The loopback address a container port is published on.
    pub fn published(&self, port: u16) -> String {
        let out = docker_ok(&["port", &self.name, &format!("{port}/tcp")]);
        out.lines()
            .find(|l| l.starts_with("127.0.0.1:"))
            .unwrap_or_else(|| panic!("port {port} is not published on 127.0.0.1: {out}"))
            .to_owned()
    }

    pub fn logs(&self) -> String {
        let out = docker(&["logs", &self.name]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// Milliseconds from the process start to its "orderly started" log line (the host's clock for both), or "?".
    pub fn process_start_ms(&self) -> String {
        let measure = || {
            let started = OffsetDateTime::parse(&self.inspect("{{.State.StartedAt}}"), &Rfc3339).ok()?;
            let line = self.logs().lines().find(|l| l.contains("orderly started"))?.to_owned();
            let logged: Value = serde_json::from_str(&line).ok()?;
            let at = OffsetDateTime::parse(logged["timestamp"].as_str()?, &Rfc3339).ok()?;
            Some((at - started).whole_milliseconds())
        };
        measure().map_or_else(|| "?".to_owned(), |ms| ms.to_string())
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if std::thread::panicking() {
            say(&format!("--- log of {} ---\n{}", self.name, self.logs()));
        }
        let _ = docker(&["rm", "-f", "-v", &self.name]);
    }
}

/// A user-defined network, removed when dropped (declare it before its containers so they go first).
pub struct Network {
    pub name: String,
}

impl Network {
    pub fn create() -> Network {
        let network = Network { name: unique("net") };
        docker_ok(&["network", "create", &network.name]);
        network
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        let _ = docker(&["network", "rm", &self.name]);
    }
}

// ---- HTTP over loopback -----------------------------------------------------------------------------------------

pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {} {}", self.head, self.body))
    }
}

pub fn parse_reply(raw: &[u8]) -> std::io::Result<Reply> {
    let text = String::from_utf8_lossy(raw);
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, format!("no HTTP response: {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(bad)?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(bad)?;
    let mut reply = Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    };
    if reply
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        let mut rest = reply.body.as_str();
        let mut decoded = String::new();
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).map_err(|_| bad())?;
            if size == 0 || tail.len() < size {
                break;
            }
            decoded.push_str(&tail[..size]);
            rest = tail[size..].trim_start_matches("\r\n");
        }
        reply.body = decoded;
    }
    Ok(reply)
}

/// One HTTP/1.1 request on its own connection (`Connection: close`).
pub fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> std::io::Result<Reply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: orderly\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_reply(&raw)
}

/// Polls `/readyz` every 5 ms until it answers 200; returns when it did, measured from `since`.
pub fn wait_ready(admin: &str, since: Instant) -> Duration {
    loop {
        if http(admin, "GET", "/readyz", &[], "").is_ok_and(|r| r.status == 200) {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(30),
            "/readyz on {admin} not 200 within 30 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A port that was free a moment ago, for containers on the host network.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
