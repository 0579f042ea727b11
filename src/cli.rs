//! The `orderly` command line: `serve` (the default), `migrate`, `verify`, `token`, `healthcheck`, `config`, `openapi`, and
//! the migration tools `import legacy`, `reconcile legacy`, `export legacy`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::legacy::commands::{self as legacy, ExportTarget, ImportSource, ReconcileSource};
use crate::server::{Application, open_store};
use crate::{auth, shutdown, telemetry};

#[derive(Debug, Parser)]
#[command(name = "orderly", version, about = "Orders API for Gulf e-commerce")]
pub struct Cli {
    /// Optional TOML settings file; ORDERLY_* environment variables override it.
    #[arg(long, global = true, env = "ORDERLY_CONFIG_FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (port 8080) and the admin endpoints (port 9090). The default.
    Serve,
    /// Apply database migrations, under a lock, and exit.
    Migrate,
    /// Walk every order's event hash chain and the audit log's, print each broken link and a summary line
    /// (`VERIFY orders=N events=N audit_rows=N broken=N`); exit 0 when all is intact, 3 when a link is broken,
    /// 1 on any other error. Read-only; see docs/operations.md.
    Verify,
    /// Print a signed JWT for development and tests (last line of output).
    Token {
        #[arg(long)]
        sub: String,
        /// Space-separated scopes, e.g. "orders:read orders:write".
        #[arg(long, default_value = "")]
        scope: String,
        /// Lifetime in seconds (default: an hour, or `jwt_max_lifetime_secs` when that is shorter).
        #[arg(long)]
        ttl: Option<i64>,
    },
    /// Exit 0 when the local admin port reports ready (the container HEALTHCHECK; no shell needed).
    Healthcheck {
        /// Check liveness (/healthz) instead of readiness (/readyz).
        #[arg(long)]
        live: bool,
    },
    /// Print the effective configuration, secrets redacted.
    Config,
    /// Print the OpenAPI document.
    Openapi,
    /// Bring orders in from another system (`import legacy --help`).
    #[command(subcommand)]
    Import(ImportSource),
    /// Compare another system's export with the store (`reconcile legacy --help`).
    #[command(subcommand)]
    Reconcile(ReconcileSource),
    /// Write orders out for another system (`export legacy --help`).
    #[command(subcommand)]
    Export(ExportTarget),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            telemetry::logging::init(&config.log_level);
            open_store(&config, true).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Verify => {
            telemetry::logging::init(&config.log_level);
            verify(&config).await
        }
        Command::Token { sub, scope, ttl } => {
            anyhow::ensure!(
                config.env != crate::config::Environment::Production,
                "`orderly token` is a development tool; production tokens come from the identity provider"
            );
            let token = auth::mint(&config, &sub, &scope, ttl.unwrap_or_else(|| auth::default_ttl(&config)))?;
            println!("{token}");
            Ok(())
        }
        Command::Healthcheck { live } => healthcheck(config.admin_listen, if live { "/healthz" } else { "/readyz" }),
        Command::Config => {
            println!("{}", serde_json::to_string_pretty(&config.redacted())?);
            Ok(())
        }
        Command::Openapi => {
            println!("{}", crate::http::openapi::document());
            Ok(())
        }
        Command::Import(ImportSource::Legacy(args)) => {
            telemetry::logging::init(&config.log_level);
            legacy::import(&config, args).await
        }
        Command::Reconcile(ReconcileSource::Legacy(args)) => {
            telemetry::logging::init(&config.log_level);
            legacy::reconcile(&config, args).await
        }
        Command::Export(ExportTarget::Legacy(args)) => {
            telemetry::logging::init(&config.log_level);
            legacy::export(&config, args).await
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    telemetry::logging::init(&config.log_level);
    let app = Application::build(&config).await?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        backend = app.state().store.backend(),
        api = %app.api_addr()?,
        admin = %app.admin_addr()?,
        config = %config.redacted(),
        "orderly started"
    );
    app.run_until_stopped(shutdown::signal()).await
}

/// How many broken links `verify` prints; the summary counts them all.
const BROKEN_SHOWN: u64 = 100;

async fn verify(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config, false).await?;
    let mut shown = 0u64;
    let mut first = None;
    let summary = crate::audit::verify::verify(store.as_ref(), |b| {
        if shown < BROKEN_SHOWN {
            println!("{b}");
        }
        shown += 1;
        first.get_or_insert_with(|| b.to_string());
    })
    .await
    .context("reading the chains")?;
    println!("{summary}");
    match first {
        None => Ok(()),
        Some(first) => Err(legacy::Exit {
            code: 3,
            message: format!("{} broken link(s); the first: {first}", summary.broken),
        }
        .into()),
    }
}

/// A minimal HTTP/1.1 GET against the admin port on loopback.
fn healthcheck(admin: SocketAddr, path: &str) -> anyhow::Result<()> {
    let target = SocketAddr::from(([127, 0, 0, 1], admin.port()));
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&target, timeout).with_context(|| format!("connecting to {target}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 16];
    let n = stream.read(&mut head)?;
    let status = std::str::from_utf8(&head[..n])
        .unwrap_or("")
        .split_whitespace()
        .nth(1)
        .unwrap_or("");
    anyhow::ensure!(status == "200", "{path} answered {status:?}");
    Ok(())
}
