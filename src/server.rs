//! Builds the application from configuration, binds the API and admin listeners, and runs them until told to
//! stop, then drains: readiness fails at once, serving goes on for `shutdown_delay` while load balancers take
//! the replica out, then no new connections are accepted and in-flight requests get up to `drain_timeout`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;

use crate::auth::Verifier;
use crate::config::Config;
use crate::http::wire::OrderLimits;
use crate::http::{self, AppState, Health, Limits, Services};
use crate::store::postgres::{PoolSettings, PostgresStore};
use crate::store::sqlite::SqliteStore;
use crate::store::{MigrationStore, Store};
use crate::telemetry::Metrics;

/// Opens the configured store, applying migrations first when `migrate` is set.
pub async fn open_store(config: &Config, migrate: bool) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = open_migration_store(config, migrate).await?;
    Ok(store)
}

/// The configured store with the part of the port the legacy migration tools use.
pub async fn open_migration_store(config: &Config, migrate: bool) -> anyhow::Result<Arc<dyn MigrationStore>> {
    let wait = Config::ms(config.idempotency_wait_ms);
    match &config.database_url {
        Some(url) => {
            let settings = PoolSettings {
                max_connections: config.db_max_connections,
                acquire_timeout: Config::ms(config.db_acquire_timeout_ms),
                test_before_acquire: config.db_test_before_acquire,
                lock_timeout: wait,
                transaction_pooler: config.db_transaction_pooler,
                statement_timeout: Config::ms(config.db_statement_timeout_ms),
            };
            let store = PostgresStore::connect_lazy(url.expose_secret(), &settings).context("database_url")?;
            if migrate {
                store.migrate().await.context("applying PostgreSQL migrations")?;
            }
            Ok(Arc::new(store))
        }
        None => {
            let store = SqliteStore::open(&config.sqlite_path, wait)
                .await
                .with_context(|| format!("opening SQLite database {}", config.sqlite_path.display()))?;
            if migrate {
                store.migrate().await.context("applying SQLite migrations")?;
            }
            Ok(Arc::new(store))
        }
    }
}

pub struct Application {
    api: TcpListener,
    admin: TcpListener,
    state: AppState,
    shutdown_delay: Duration,
    drain_timeout: Duration,
    connections: crate::connections::ConnectionLimits,
    relay: Option<crate::outbox::RelaySettings>,
    expiry: Option<crate::expiry::ExpirySettings>,
}

impl Application {
    /// Opens the store and binds both ports (port 0 picks a free one; see `api_addr`).
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        let metrics = Arc::new(Metrics::new());
        let store: Arc<dyn Store> = Arc::new(crate::store::instrumented::Instrumented::new(
            open_store(config, config.migrate_on_start()).await?,
            metrics.clone(),
        ));
        let verifier = Verifier::from_config(config).await.context("JWT key")?;
        let state = AppState::new(Services {
            store,
            verifier: Arc::new(verifier),
            policy: Arc::new(config.pricing_policy()?),
            store_code: config.store_code()?,
            limits: Limits {
                max_body_bytes: config.max_body_bytes,
                order: OrderLimits {
                    max_lines: config.max_lines,
                    max_quantity: config.max_quantity,
                },
                request_timeout: Config::ms(config.request_timeout_ms),
                max_open_unpaid_orders: config.max_open_unpaid_orders_per_customer,
            },
            idempotency_ttl: time::Duration::seconds(i64::try_from(config.idempotency_ttl_secs).unwrap_or(86_400)),
            metrics,
            health: Arc::new(Health::default()),
            in_flight: Arc::new(tokio::sync::Semaphore::new(config.max_in_flight.max(1) as usize)),
            principals: crate::telemetry::principal::PrincipalHasher::from_config(config),
            rate_limits: http::ratelimit::RateLimits::new(config.rate_limits()),
            console: Arc::new(crate::console::Settings::from_config(config)),
            seller: config.seller()?,
        });
        let api = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding API listener {}", config.listen))?;
        let admin = TcpListener::bind(config.admin_listen)
            .await
            .with_context(|| format!("binding admin listener {}", config.admin_listen))?;
        Ok(Application {
            api,
            admin,
            state,
            shutdown_delay: Config::ms(config.shutdown_delay_ms),
            drain_timeout: Config::ms(config.drain_timeout_ms),
            connections: config.connections(),
            relay: config.relay(),
            expiry: config.expiry(),
        })
    }

    pub fn api_addr(&self) -> std::io::Result<SocketAddr> {
        self.api.local_addr()
    }

    pub fn admin_addr(&self) -> std::io::Result<SocketAddr> {
        self.admin.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `stop` resolves, then drains as described at the top of this module.
    pub async fn run_until_stopped(self, stop: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let health = self.state.health.clone();
        let (drain_tx, drain_rx) = tokio::sync::oneshot::channel::<()>();
        let (admin_tx, admin_rx) = tokio::sync::oneshot::channel::<()>();

        let api = crate::connections::serve(
            self.api,
            http::router(self.state.clone()),
            self.connections,
            async move {
                let _ = drain_rx.await;
            },
        );
        let admin =
            axum::serve(self.admin, http::admin::router(self.state.clone())).with_graceful_shutdown(async move {
                let _ = admin_rx.await;
            });
        let mut api_task = tokio::spawn(api);
        let admin_task = tokio::spawn(async move { admin.await });
        let purge = tokio::spawn(purge_expired_keys(self.state.clone()));
        let (relay_stop, relay_stopped) = tokio::sync::watch::channel(false);
        let (store, metrics) = (self.state.store.clone(), self.state.metrics.clone());
        let expiry = self
            .expiry
            .map(|s| tokio::spawn(crate::expiry::run(store, metrics, s, relay_stopped.clone())));
        let (relay, backlog) = match self.relay {
            Some(settings) => (
                Some(tokio::spawn(crate::outbox::run(
                    self.state.store.clone(),
                    settings,
                    relay_stopped,
                ))),
                Some(tokio::spawn(crate::outbox::watch_backlog(
                    self.state.store.clone(),
                    self.state.metrics.clone(),
                    Duration::from_secs(5),
                ))),
            ),
            None => (None, None),
        };

        tokio::select! {
            () = stop => {}
            ended = &mut api_task => {
                purge.abort();
                expiry.inspect(|e| e.abort());
                let _ = admin_tx.send(());
                return match ended {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(e).context("API server failed"),
                    Err(e) => Err(e).context("API server task failed"),
                };
            }
        }

        health.start_draining();
        tracing::info!(
            delay_ms = self.shutdown_delay.as_millis() as u64,
            "draining: readiness now fails"
        );
        tokio::time::sleep(self.shutdown_delay).await;
        let _ = drain_tx.send(());
        tracing::info!(
            timeout_ms = self.drain_timeout.as_millis() as u64,
            "no longer accepting connections"
        );
        match tokio::time::timeout(self.drain_timeout, &mut api_task).await {
            Ok(_) => tracing::info!("in-flight requests finished"),
            Err(_) => {
                tracing::warn!("drain timeout reached; abandoning the requests still running");
                api_task.abort();
            }
        }
        purge.abort();
        expiry.inspect(|e| e.abort());
        if let Some(b) = backlog {
            b.abort();
        }
        // The relay publishes what the drained requests wrote, then gives up its lease.
        let _ = relay_stop.send(true);
        if let Some(relay) = relay
            && tokio::time::timeout(Duration::from_secs(5), relay).await.is_err()
        {
            tracing::warn!("outbox relay did not stop in time");
        }
        let _ = admin_tx.send(());
        let _ = admin_task.await;
        tracing::info!(version = env!("CARGO_PKG_VERSION"), "stopped");
        Ok(())
    }
}

/// Hourly clean-up of expired Idempotency-Keys.
async fn purge_expired_keys(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match state.store.purge_expired_keys(time::OffsetDateTime::now_utc()).await {
            Ok(n) if n > 0 => tracing::info!(purged = n, "expired idempotency keys removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging idempotency keys failed"),
        }
    }
}
