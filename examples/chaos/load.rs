//! The load: N checkout clients, each placing one order after another for a bounded time, with the checkout
//! client's contract. Every order gets its own Idempotency-Key, kept across retries; a timeout, a connection
//! error, a 5xx, 429 or 409 `request_in_progress` is retried with the same key until a definite answer (201 or
//! another 4xx) comes, or the client gives up. `--new-key-on-retry` breaks that contract on purpose, to show
//! what the checker then finds.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use crate::record::{Acked, Attempt, Header, Intent, Outcome};

#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    /// The API entrance, e.g. http://127.0.0.1:18380.
    #[arg(long)]
    pub url: String,
    /// A bearer token with `orders:write` (a checkout backend's).
    #[arg(long, env = "CHAOS_TOKEN", hide_env_values = true)]
    pub token: String,
    #[arg(long)]
    pub scenario: String,
    /// How long clients start new orders.
    #[arg(long, default_value_t = 30)]
    pub seconds: u64,
    #[arg(long, default_value_t = 12)]
    pub clients: usize,
    /// One attempt's timeout.
    #[arg(long, default_value_t = 3000)]
    pub attempt_timeout_ms: u64,
    /// A client gives up on an order this long after its first attempt.
    #[arg(long, default_value_t = 60)]
    pub give_up_secs: u64,
    /// SKUs with plenty of stock, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub skus: Vec<String>,
    /// SKUs with little stock (orders for them start failing with 409 once it is gone), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "")]
    pub scarce: Vec<String>,
    /// Break the contract: a fresh key on every retry.
    #[arg(long)]
    pub new_key_on_retry: bool,
    /// Where the record goes (JSON lines: a header, then one intent per line).
    #[arg(long)]
    pub record: PathBuf,
}

/// The answers worth retrying with the same key.
fn retryable(status: u16, code: &str) -> bool {
    status >= 500 || status == 408 || status == 429 || (status == 409 && code == "request_in_progress")
}

struct Shared {
    args: LoadArgs,
    http: reqwest::Client,
    started: Instant,
    intents: Mutex<Vec<Intent>>,
}

impl Shared {
    fn ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    anyhow::ensure!(!args.skus.is_empty(), "--skus: at least one SKU");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()
        .context("HTTP client")?;
    let started_unix_ms = u64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis())?;
    let shared = Arc::new(Shared {
        args,
        http,
        started: Instant::now(),
        intents: Mutex::new(Vec::new()),
    });
    let workers: Vec<_> = (0..shared.args.clients)
        .map(|client| tokio::spawn(client_loop(Arc::clone(&shared), client)))
        .collect();
    for w in workers {
        w.await.context("a load client panicked")?;
    }
    let intents = std::mem::take(&mut *shared.intents.lock().await);
    let header = Header {
        scenario: shared.args.scenario.clone(),
        started_unix_ms,
        seconds: shared.args.seconds,
    };
    let mut out = tokio::fs::File::create(&shared.args.record)
        .await
        .with_context(|| format!("creating {}", shared.args.record.display()))?;
    out.write_all(format!("{}\n", serde_json::to_string(&header)?).as_bytes())
        .await?;
    for i in &intents {
        out.write_all(format!("{}\n", serde_json::to_string(i)?).as_bytes())
            .await?;
    }
    out.flush().await?;
    let acked = intents
        .iter()
        .filter(|i| matches!(i.outcome, Outcome::Acknowledged(_)))
        .count();
    let attempts: usize = intents.iter().map(|i| i.attempts.len()).sum();
    println!(
        "chaos load: scenario={} intents={} acknowledged={acked} attempts={attempts}",
        shared.args.scenario,
        intents.len()
    );
    Ok(())
}

async fn client_loop(shared: Arc<Shared>, client: usize) {
    let mut rng = StdRng::seed_from_u64(client as u64 ^ shared.started.elapsed().as_nanos() as u64);
    let deadline = Duration::from_secs(shared.args.seconds);
    let mut n = 0u64;
    while shared.started.elapsed() < deadline {
        n += 1;
        let intent = format!("{}-{client}-{n}", shared.args.scenario);
        let body = order_body(&shared.args, &intent, &mut rng);
        let done = place(&shared, intent, body, &mut rng).await;
        shared.intents.lock().await.push(done);
        tokio::time::sleep(Duration::from_millis(rng.gen_range(5..25))).await;
    }
}

fn order_body(args: &LoadArgs, intent: &str, rng: &mut StdRng) -> serde_json::Value {
    let mut skus: Vec<&String> = Vec::new();
    for _ in 0..rng.gen_range(1..=3) {
        let sku = &args.skus[rng.gen_range(0..args.skus.len())];
        if !skus.contains(&sku) {
            skus.push(sku);
        }
    }
    let scarce: Vec<&String> = args.scarce.iter().filter(|s| !s.is_empty()).collect();
    if !scarce.is_empty() && rng.gen_bool(0.2) {
        skus.push(scarce[rng.gen_range(0..scarce.len())]);
    }
    let lines: Vec<_> = skus
        .iter()
        .map(|s| json!({"sku": s, "quantity": rng.gen_range(1..=3)}))
        .collect();
    let (country, city) = if rng.gen_bool(0.5) {
        ("AE", "دبي")
    } else {
        ("KW", "السالمية")
    };
    json!({
        "customer_id": format!("chaos-{intent}"),
        "currency": "KWD",
        "ship_to": {"name": "فاطمة Chaos", "line1": "Block 3, Street 15", "city": city, "country": country,
                    "phone": "+96550000000"},
        "lines": lines,
        "payment_method": if rng.gen_bool(0.5) { "card" } else { "cod" },
    })
}

/// Places one order, retrying until a definite answer or the give-up time.
async fn place(shared: &Shared, intent: String, body: serde_json::Value, rng: &mut StdRng) -> Intent {
    let args = &shared.args;
    let first = Instant::now();
    let mut key = uuid::Uuid::now_v7().to_string();
    let mut attempts = Vec::new();
    let outcome = loop {
        let sent_ms = shared.ms();
        let response = shared
            .http
            .post(format!("{}/v1/orders", args.url))
            .bearer_auth(&args.token)
            .header("Idempotency-Key", &key)
            .json(&body)
            .timeout(Duration::from_millis(args.attempt_timeout_ms))
            .send()
            .await;
        let (answer, settled) = match response {
            Ok(r) => {
                let status = r.status().as_u16();
                let value: serde_json::Value = r.json().await.unwrap_or(serde_json::Value::Null);
                let code = value.get("code").and_then(|c| c.as_str()).unwrap_or("").to_owned();
                let settled = if status == 201 {
                    Acked::from_view(&value, &key).map(Outcome::Acknowledged)
                } else if !retryable(status, &code) {
                    Some(Outcome::Refused {
                        status,
                        code: code.clone(),
                    })
                } else {
                    None
                };
                (format!("{status} {code}").trim().to_owned(), settled)
            }
            Err(e) if e.is_timeout() => ("timeout".to_owned(), None),
            Err(e) if e.is_connect() => ("connect".to_owned(), None),
            Err(_) => ("transport".to_owned(), None),
        };
        attempts.push(Attempt {
            key: key.clone(),
            sent_ms,
            done_ms: shared.ms(),
            answer,
        });
        if let Some(outcome) = settled {
            break outcome;
        }
        if first.elapsed() >= Duration::from_secs(args.give_up_secs) {
            break Outcome::Undetermined;
        }
        if args.new_key_on_retry {
            key = uuid::Uuid::now_v7().to_string();
        }
        tokio::time::sleep(Duration::from_millis(rng.gen_range(100..300))).await;
    };
    Intent {
        customer_id: format!("chaos-{intent}"),
        intent,
        attempts,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::retryable;

    #[test]
    fn only_answers_that_may_change_are_retried() {
        for (status, code) in [
            (503, "database_unavailable"),
            (502, ""),
            (429, "rate_limited"),
            (409, "request_in_progress"),
        ] {
            assert!(retryable(status, code), "{status} {code}");
        }
        for (status, code) in [
            (409, "insufficient_stock"),
            (422, "validation_failed"),
            (422, "idempotency_key_reused"),
        ] {
            assert!(!retryable(status, code), "{status} {code}");
        }
    }
}
