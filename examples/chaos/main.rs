//! The client side of `make chaos` (scripts/chaos/run.sh): `load` places orders as checkout clients do and
//! records every answer; `check` holds that record against the database and the event stream and prints the
//! scenario's CHAOS line, exiting 1 on any violation. Not part of the service: it is built with the tests.

mod check;
mod load;
mod record;
mod snapshot;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Load and checks for the failure scenarios of `make chaos`")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Place orders with the checkout client's retry contract and record every answer.
    Load(load::LoadArgs),
    /// Check a recorded run against the database and the stream.
    Check(CheckArgs),
}

#[derive(clap::Args)]
struct CheckArgs {
    #[arg(long)]
    record: PathBuf,
    /// postgres://... or sqlite:path
    #[arg(long)]
    database_url: String,
    /// Check the event stream too (every event published exactly once, in order within its order).
    #[arg(long)]
    nats_url: Option<String>,
    #[arg(long, default_value = "ORDERLY_ORDERS")]
    stream: String,
    /// How long to wait for the relay to publish what is left.
    #[arg(long, default_value_t = 60)]
    drain_secs: u64,
    /// Readiness URLs of the replicas, each of which must answer 200 again.
    #[arg(long)]
    ready: Vec<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Load(args) => load::run(args).await.map(|()| true),
        Command::Check(args) => check(args).await,
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("chaos: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn check(args: CheckArgs) -> anyhow::Result<bool> {
    let text = std::fs::read_to_string(&args.record).with_context(|| format!("reading {}", args.record.display()))?;
    let mut lines = text.lines();
    let header: record::Header = serde_json::from_str(lines.next().context("empty record")?)?;
    let intents = lines
        .map(serde_json::from_str)
        .collect::<Result<Vec<record::Intent>, _>>()
        .context("the record")?;
    let not_ready = wait_ready(&args.ready, Duration::from_secs(60)).await;
    let mut snapshot = snapshot::read_database(&args.database_url, Duration::from_secs(args.drain_secs)).await?;
    if let Some(url) = &args.nats_url {
        snapshot.stream = snapshot::read_stream(url, &args.stream).await?;
    }
    let v = check::verdict(&intents, header.seconds * 1000, &snapshot, args.nats_url.is_some());
    println!(
        "CHAOS scenario={} acknowledged={} lost={} duplicated={} oversold={} unavailable_ms={} failed_definite={}",
        header.scenario, v.acknowledged, v.lost, v.duplicated, v.oversold, v.unavailable_ms, v.failed_definite
    );
    println!(
        "CHAOS-DETAIL scenario={} intents={} attempts={} server_errors={} undetermined={} phantom={} event_gaps={} \
         unpublished={} stream_missing={} stream_duplicates={} stream_unknown={} stream_out_of_order={} not_ready={}",
        header.scenario,
        intents.len(),
        v.attempts,
        v.server_errors,
        v.undetermined,
        v.phantom,
        v.event_gaps,
        v.unpublished,
        v.stream_missing,
        v.stream_duplicates,
        v.stream_unknown,
        v.stream_out_of_order,
        not_ready
    );
    Ok(v.violations() == 0 && not_ready == 0 && v.acknowledged > 0)
}

/// How many of `urls` still do not answer 200 after `wait`.
async fn wait_ready(urls: &[String], wait: Duration) -> usize {
    let http = reqwest::Client::new();
    let until = tokio::time::Instant::now() + wait;
    let mut pending: Vec<&String> = urls.iter().collect();
    while !pending.is_empty() && tokio::time::Instant::now() < until {
        let mut still = Vec::new();
        for url in pending {
            let ok = http
                .get(url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if !ok {
                still.push(url);
            }
        }
        pending = still;
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    pending.len()
}
