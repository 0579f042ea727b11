//! The README's walkthrough works verbatim: its shell block is run against a fresh development server.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_orderly");

fn walkthrough() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme
        .split("<!-- walkthrough:start -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- walkthrough:end -->").next())
        .expect("README has a walkthrough block");
    block
        .trim()
        .trim_start_matches("```sh")
        .trim_end_matches("```")
        .to_owned()
}

#[test]
fn the_readme_walkthrough_runs_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Command::new(BIN)
        .current_dir(dir.path())
        .env_clear()
        .env("ORDERLY_LISTEN", "127.0.0.1:0")
        .env("ORDERLY_ADMIN_LISTEN", "127.0.0.1:0")
        .env("ORDERLY_SHUTDOWN_DELAY_MS", "0")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let started = loop {
        let line = lines.next().expect("server exited").unwrap();
        if line.contains("orderly started") {
            break line;
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let api = serde_json::from_str::<serde_json::Value>(&started).unwrap()["api"]
        .as_str()
        .unwrap()
        .to_owned();

    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &walkthrough()])
        .current_dir(dir.path())
        .env("API", format!("http://{api}"))
        .env("ORDERLY", BIN)
        .output()
        .unwrap();
    let _ = Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "walkthrough failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(r#""grand_total":{"amount_minor":3705,"currency":"KWD"}"#),
        "{stdout}"
    );
    assert!(stdout.contains(r#""order":"cancelled""#), "{stdout}");
    assert!(
        stdout
            .trim_end()
            .ends_with(r#"{"sku":"OUD-ROYAL-50","on_hand":50,"reserved":0,"available":50}"#),
        "{stdout}"
    );
}
