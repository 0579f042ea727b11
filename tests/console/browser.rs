//! A headless Debian chromium driven through chromedriver (WebDriver), both started by the test itself on free
//! ports. Without chromedriver the browser tests print SKIPPED, except in CI (`CI` set), where that is a failure.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

pub struct Driver {
    child: Child,
    url: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

impl Driver {
    /// Starts chromedriver, or says why not.
    pub async fn start() -> Option<Driver> {
        let (Some(driver), Some(_)) = (on_path("chromedriver"), on_path("chromium")) else {
            assert!(
                std::env::var("CI").is_err(),
                "CI must have chromium and chromium-driver (scripts/deps.sh installs them)"
            );
            eprintln!("SKIPPED: the console's browser tests need chromium and chromium-driver (scripts/deps.sh)");
            return None;
        };
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, which the browsers it starts join: dropping the driver ends them all, even
            // when a test fails before closing its browser.
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        // Owned by the `Driver` from here on, so it is killed (on drop) whatever happens next.
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let status = format!("{}/status", driver.url);
        for _ in 0..100 {
            if reqwest::get(&status).await.is_ok_and(|r| r.status().is_success()) {
                return Some(driver);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not answer on port {port}");
    }

    /// A new browser: headless, its own profile, a window wide enough for the screenshots.
    pub async fn browser(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1366,1000", "--lang=en-GB", "--font-render-hinting=none"],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("a chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text of the element `css` names.
pub async fn text(b: &Client, css: &str) -> String {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap_or_default()
}

/// Whether some element matches `css`.
pub async fn exists(b: &Client, css: &str) -> bool {
    !b.find_all(Locator::Css(css)).await.unwrap_or_default().is_empty()
}

/// Replaces the value of the input `css` names.
pub async fn fill(b: &Client, css: &str, value: &str) {
    let input = b.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
    input.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
    input
        .send_keys(value)
        .await
        .unwrap_or_else(|e| panic!("type into {css}: {e}"));
}

pub async fn click(b: &Client, css: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// The `<html>` element's attribute.
pub async fn html_attr(b: &Client, name: &str) -> String {
    b.find(Locator::Css("html"))
        .await
        .expect("html")
        .attr(name)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Saves a screenshot as target/console-screenshots/<name>.png.
pub async fn screenshot(b: &Client, name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    let png = b.screenshot().await.expect("screenshot");
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).expect("write screenshot");
    path
}

/// Waits (up to 10 s) for an element matching `css`: a submitted form's answer has arrived.
pub async fn wait_for(b: &Client, css: &str) {
    b.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("waiting for {css}: {e}"));
}

/// Waits (up to 10 s) until the current URL's path and query satisfy `ok`.
pub async fn wait_url(b: &Client, ok: impl Fn(&str, Option<&str>) -> bool) {
    for _ in 0..100 {
        if b.current_url().await.is_ok_and(|u| ok(u.path(), u.query())) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page did not change: {:?}", b.current_url().await);
}
