//! How the PostgreSQL adapter gets a connection, directly or through a transaction-mode pooler (PgBouncer), and
//! what it does when the server behind the connection is no longer the primary.
//!
//! - **A commit waiting for a synchronous standby** is not acknowledged until the standby has it. PostgreSQL 15
//!   turns the statement timeout off before it commits, and only a cancel request would cut the wait short (and
//!   then report the commit as done): sqlx never sends one, and neither does anything here (ADR 0012).
//! - **Through a transaction pooler** a session lasts one transaction, so nothing may outlive it: no setting sent at
//!   start-up (each transaction sets its own with `SET LOCAL`), no prepared statement kept across transactions
//!   (the statement cache is off, and each transaction starts with `DEALLOCATE ALL` so the names sqlx gives its
//!   statements cannot collide with another client's on the same server connection), and every read runs in a
//!   read-only transaction, so its parse and its execution reach the same server connection.
//! - **A demoted primary**: a write refused with SQLSTATE 25006 (`read_only_sql_transaction`) means the
//!   connection reaches a server that is no longer the primary. Every connection opened before that moment is
//!   closed instead of being lent again, so the pool reconnects (through the load balancer, to the new primary).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, Postgres};
use sqlx::{Connection, Executor, Transaction};

use super::PoolSettings;
use crate::store::{StoreError, db_error};

/// The session settings of every connection, as `(name, value)`.
fn session_settings(settings: &PoolSettings, pooler: bool) -> Vec<(&'static str, String)> {
    let mut all = vec![
        ("lock_timeout", settings.lock_timeout.as_millis().to_string()),
        ("statement_timeout", settings.statement_timeout.as_millis().to_string()),
        // A client that went away mid-transaction (a crash, a partition) holds its row locks until the server
        // notices: at most this long when it is idle in the transaction, and the keepalives below otherwise.
        ("idle_in_transaction_session_timeout", "10000".to_owned()),
        ("tcp_keepalives_idle", "10".to_owned()),
        ("tcp_keepalives_interval", "5".to_owned()),
        ("tcp_keepalives_count", "3".to_owned()),
    ];
    if !pooler {
        // Plan each prepared statement once. With array parameters (`sku = ANY($1)`, `unnest($1)`), the server
        // otherwise keeps re-planning them per execution, which was a quarter of its CPU per order
        // (bench/RESULTS.md); every statement here is written to have a good generic plan. Through a pooler a
        // statement lives for one transaction, so a generic plan would only lose the parameters' values.
        all.push(("plan_cache_mode", "force_generic_plan".to_owned()));
    }
    all
}

/// `BEGIN` followed by `SET LOCAL`s, sent as one simple query (one round trip).
fn begin_statement(begin: &str, sets: &[(&str, String)], deallocate: bool) -> String {
    let mut sql = begin.to_owned();
    if deallocate {
        sql.push_str("; DEALLOCATE ALL");
    }
    for (name, value) in sets {
        sql.push_str(&format!("; SET LOCAL {name} = '{value}'"));
    }
    sql
}

/// The statements that open each kind of transaction. Directly, the session settings were sent at start-up and
/// only a lease's exception is set; through a pooler every transaction sets them all.
struct Begins {
    write: String,
    read: String,
    /// A read whose statements are planned for their values (a search: see `search`).
    search: String,
    lease: String,
}

impl Begins {
    fn of(settings: &PoolSettings) -> Begins {
        let pooler = settings.transaction_pooler;
        let per_transaction = if pooler {
            session_settings(settings, true)
        } else {
            Vec::new()
        };
        // A lease's transaction stays open as long as the role is held: idle in it, on purpose.
        let mut lease = per_transaction.clone();
        lease.retain(|(name, _)| *name != "idle_in_transaction_session_timeout");
        lease.push(("idle_in_transaction_session_timeout", "0".to_owned()));
        let mut search = per_transaction.clone();
        search.retain(|(name, _)| *name != "plan_cache_mode");
        search.push(("plan_cache_mode", "force_custom_plan".to_owned()));
        Begins {
            write: begin_statement("BEGIN", &per_transaction, pooler),
            read: begin_statement("BEGIN READ ONLY", &per_transaction, pooler),
            search: begin_statement("BEGIN READ ONLY", &search, pooler),
            lease: begin_statement("BEGIN", &lease, pooler),
        }
    }
}

/// Connections opened before a moment recorded here are closed rather than lent (see the module's top).
struct Freshness {
    epoch: Instant,
    /// Nanoseconds after `epoch`; 0: no connection is stale.
    stale_before: AtomicU64,
}

impl Freshness {
    fn nanos(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn is_fresh(&self, age: Duration) -> bool {
        let opened = self
            .nanos()
            .saturating_sub(u64::try_from(age.as_nanos()).unwrap_or(u64::MAX));
        opened >= self.stale_before.load(Ordering::Relaxed)
    }
}

#[derive(Clone)]
pub(super) struct Sessions {
    pool: PgPool,
    /// For sessions of their own (the role leases), with the same settings.
    options: PgConnectOptions,
    pooler: bool,
    begin_write: Arc<str>,
    begin_read: Arc<str>,
    begin_search: Arc<str>,
    begin_lease: Arc<str>,
    freshness: Arc<Freshness>,
}

impl Sessions {
    pub(super) fn new(options: PgConnectOptions, settings: &PoolSettings) -> Self {
        let pooler = settings.transaction_pooler;
        let options = if pooler {
            // PgBouncer refuses start-up parameters it does not know; everything goes in the transactions.
            options.statement_cache_capacity(0).extra_float_digits(None)
        } else {
            let sets = session_settings(settings, false);
            options.options(sets.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>())
        };
        let options = options.application_name("orderly");
        let begins = Begins::of(settings);
        let freshness = Arc::new(Freshness {
            epoch: Instant::now(),
            stale_before: AtomicU64::new(0),
        });
        let fresh = Arc::clone(&freshness);
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(settings.acquire_timeout)
            .test_before_acquire(settings.test_before_acquire)
            .before_acquire(move |_, meta| {
                let fresh = fresh.is_fresh(meta.age);
                Box::pin(async move { Ok(fresh) })
            })
            .connect_lazy_with(options.clone());
        Sessions {
            pool,
            options,
            pooler,
            begin_write: begins.write.into(),
            begin_read: begins.read.into(),
            begin_search: begins.search.into(),
            begin_lease: begins.lease.into(),
            freshness,
        }
    }

    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(super) fn behind_pooler(&self) -> bool {
        self.pooler
    }

    /// A write transaction.
    pub(super) async fn write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool
            .begin_with(self.begin_write.to_string())
            .await
            .map_err(|e| self.noticed(db_error(e)))
    }

    /// A connection for reads: pooled, or through a pooler a read-only transaction.
    pub(super) async fn read(&self) -> Result<Reader, StoreError> {
        if self.pooler {
            let tx = self
                .pool
                .begin_with(self.begin_read.to_string())
                .await
                .map_err(db_error)?;
            Ok(Reader::InTransaction(tx))
        } else {
            Ok(Reader::Pooled(self.pool.acquire().await.map_err(db_error)?))
        }
    }

    /// A read-only transaction whose statements get custom plans, whatever the session's `plan_cache_mode`.
    pub(super) async fn read_with_custom_plans(&self) -> Result<Reader, StoreError> {
        let tx = self
            .pool
            .begin_with(self.begin_search.to_string())
            .await
            .map_err(db_error)?;
        Ok(Reader::InTransaction(tx))
    }

    /// A session of its own, outside the pool, in a transaction that may stay open (a role lease).
    pub(super) async fn lease_session(&self) -> Result<PgConnection, StoreError> {
        let mut conn = PgConnection::connect_with(&self.options).await.map_err(db_error)?;
        conn.execute(&*self.begin_lease).await.map_err(db_error)?;
        Ok(conn)
    }

    /// Passes `error` through; when it says the server is a standby now, first marks every open connection stale.
    pub(super) fn noticed(&self, error: StoreError) -> StoreError {
        if error.is_read_only() {
            self.mark_stale();
        }
        error
    }

    /// Every connection open now is closed instead of being lent again.
    pub(super) fn mark_stale(&self) {
        self.freshness
            .stale_before
            .store(self.freshness.nanos().max(1), Ordering::Relaxed);
        tracing::warn!("the database takes no writes on this connection: reconnecting every pooled connection");
    }
}

/// What reads run on: a pooled connection, or a read-only transaction (through a pooler). Either way the
/// statements see a `PgConnection`; dropping it ends the transaction (its ROLLBACK goes with the pool's check on
/// release, in the same round trip).
pub(super) enum Reader {
    Pooled(PoolConnection<Postgres>),
    InTransaction(Transaction<'static, Postgres>),
}

impl Deref for Reader {
    type Target = PgConnection;

    fn deref(&self) -> &PgConnection {
        match self {
            Reader::Pooled(c) => c,
            Reader::InTransaction(t) => t,
        }
    }
}

impl DerefMut for Reader {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            Reader::Pooled(c) => c,
            Reader::InTransaction(t) => t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pooler: bool) -> PoolSettings {
        PoolSettings {
            max_connections: 1,
            acquire_timeout: Duration::from_secs(1),
            test_before_acquire: false,
            lock_timeout: Duration::from_millis(5000),
            transaction_pooler: pooler,
            statement_timeout: Duration::from_secs(30),
        }
    }

    #[test]
    fn directly_a_write_is_a_plain_begin_and_a_lease_may_idle_in_its_transaction() {
        let b = Begins::of(&settings(false));
        assert_eq!(b.write, "BEGIN");
        assert_eq!(b.lease, "BEGIN; SET LOCAL idle_in_transaction_session_timeout = '0'");
    }

    #[test]
    fn through_a_pooler_each_transaction_carries_its_settings_and_forgets_old_statements() {
        let b = Begins::of(&settings(true));
        for sql in [&b.write, &b.read, &b.lease] {
            assert!(
                sql.contains("; DEALLOCATE ALL; SET LOCAL lock_timeout = '5000'"),
                "{sql}"
            );
            assert_eq!(sql.matches("idle_in_transaction_session_timeout").count(), 1, "{sql}");
            assert!(sql.contains("tcp_keepalives_idle"), "{sql}");
            assert!(!sql.contains("plan_cache_mode"), "{sql}");
        }
        assert!(b.read.starts_with("BEGIN READ ONLY;"));
    }

    #[test]
    fn only_connections_opened_after_the_mark_are_fresh() {
        let f = Freshness {
            epoch: Instant::now() - Duration::from_secs(10),
            stale_before: AtomicU64::new(0),
        };
        assert!(f.is_fresh(Duration::from_secs(5)), "nothing is stale before a mark");
        f.stale_before.store(f.nanos() - 1_000_000_000, Ordering::Relaxed);
        assert!(
            !f.is_fresh(Duration::from_secs(5)),
            "opened 5 s ago, before the mark 1 s ago"
        );
        assert!(f.is_fresh(Duration::from_millis(100)), "opened after the mark");
    }
}
