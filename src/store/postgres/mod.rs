//! PostgreSQL adapter: the production store. Stock rows are locked in SKU order (`FOR UPDATE`), lines and stock
//! updates go in one statement each through `unnest`, and a duplicate Idempotency-Key blocks on the primary key
//! until the first request commits, bounded by `lock_timeout`.

mod audit;
mod backfill;
mod catalog;
mod cod;
mod copy;
mod create;
mod invoices;
mod pg_rows;
#[cfg(test)]
mod plans;
mod search;
mod sessions;
mod unpaid;
mod uow;

use pg_rows::{
    EVENT_COLUMNS, ORDER_COLUMNS, ORDERS_WITH_LINES, event_row, lines_joined, load_products, orders_with_lines,
    stock_level,
};

use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::{Executor, QueryBuilder, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::{Actor, product_entry, stock_entry};
use super::commands;
use super::rows;
use super::unpaid::Expirable;
use super::{
    Catalog, Executed, Health, OrderCursor, OrderPage, OrderQuery, Orders, Outbox, OutboxBacklog, PlaceOrder,
    ProductStock, StoreError, UpdateOrder, db_error,
};
use crate::domain::catalog::Product;
use crate::domain::events::OrderEvent;
use crate::domain::order::Order;
use crate::domain::status::StatusMachine;
use crate::domain::stock::{StockError, StockLevel};
use crate::domain::values::Sku;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Pool sizing and timeouts.
#[derive(Clone, Debug)]
pub struct PoolSettings {
    pub max_connections: u32,
    /// How long a request waits for a connection before it is answered 503.
    pub acquire_timeout: Duration,
    /// Ping an idle connection before lending it. Off: a connection the server dropped fails its next statement
    /// (503, retryable; sqlx then discards it on release) instead of costing every request a round trip.
    pub test_before_acquire: bool,
    /// How long a duplicate request waits for the first one holding its Idempotency-Key.
    pub lock_timeout: Duration,
    /// The URL reaches a transaction-mode pooler (PgBouncer), not PostgreSQL itself (`sessions`).
    pub transaction_pooler: bool,
    /// Of reads; writes have none (`sessions`).
    pub statement_timeout: Duration,
}

#[derive(Clone)]
pub struct PostgresStore {
    db: sessions::Sessions,
}

/// The advisory lock key of the outbox relay role ("orderly1" in ASCII).
const RELAY_LOCK: i64 = 0x6f72_6465_726c_7931;
/// The advisory lock key of the expiry sweeper role ("orderly2").
const EXPIRY_LOCK: i64 = 0x6f72_6465_726c_7932;
/// The transaction-scoped advisory lock key of the audit chain's head ("orderly3").
pub(super) const AUDIT_LOCK: i64 = 0x6f72_6465_726c_7933;
// Every single-key advisory lock of the application is declared here, and no two may share a key: a role's
// session-long lock on the audit key would block every catalog write.
const _: () = assert!(RELAY_LOCK != EXPIRY_LOCK && RELAY_LOCK != AUDIT_LOCK && EXPIRY_LOCK != AUDIT_LOCK);

/// A role held by one replica at a time: a session of its own, in a transaction holding the role's advisory lock
/// (a transaction-scoped lock, so that it also holds through a transaction pooler, which keeps the server
/// connection for as long as the transaction is open). It ends with the session, and a session on a server that
/// has become a standby holds nothing.
struct PgRelayLease {
    conn: sqlx::PgConnection,
}

#[async_trait]
impl super::RelayLease for PgRelayLease {
    async fn is_held(&mut self) -> bool {
        // Simple-protocol statements: nothing is prepared in a transaction that may stay open for days.
        let primary = self.conn.fetch_one("SELECT NOT pg_is_in_recovery()").await;
        primary.is_ok_and(|row| row.try_get::<bool, _>(0).unwrap_or(false))
    }
}

impl PostgresStore {
    /// Builds the pool without connecting: the service starts (and reports not ready) while the database is down.
    pub fn connect_lazy(url: &str, settings: &PoolSettings) -> Result<Self, StoreError> {
        let options: PgConnectOptions = url.parse().map_err(StoreError::internal)?;
        Ok(PostgresStore {
            db: sessions::Sessions::new(options, settings),
        })
    }

    pub fn pool(&self) -> &PgPool {
        self.db.pool()
    }

    /// Applies pending migrations. sqlx holds a PostgreSQL advisory lock meanwhile, so two migrators never race.
    /// Then seals the events written before the hash chain existed (migration 0004), which SQL alone cannot hash.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        if self.db.behind_pooler() {
            return Err(StoreError::internal(anyhow::anyhow!(
                "migrations hold a session-level lock, which a transaction pooler cannot keep: run `orderly migrate` \
                 with ORDERLY_DATABASE_URL pointing at PostgreSQL itself and ORDERLY_DB_TRANSACTION_POOLER unset"
            )));
        }
        MIGRATOR.run(self.pool()).await.map_err(StoreError::internal)?;
        let sealed = audit::seal_events(self.pool()).await?;
        if sealed > 0 {
            tracing::info!(sealed, "order events written before the hash chain sealed");
        }
        let filled = search::fill_keys(self.pool()).await?;
        if filled > 0 {
            tracing::info!(filled, "search keys of orders written before search filled");
        }
        Ok(())
    }
}

/// The statement of one page of orders matching `q`: one text per combination of filters (each a prepared
/// statement of its own), the values bound.
fn list_query(q: &OrderQuery) -> QueryBuilder<'_, sqlx::Postgres> {
    let mut sql = QueryBuilder::new(ORDERS_WITH_LINES);
    sql.push(ORDER_COLUMNS).push(" WHERE true");
    if let Some(c) = &q.customer_id {
        sql.push(" AND customer_id = ").push_bind(c.as_str());
    }
    if let Some(s) = q.status {
        sql.push(" AND order_status = ").push_bind(s.as_str());
    }
    if let Some(n) = &q.number {
        sql.push(" AND number = ").push_bind(n.as_str());
    }
    if let Some(from) = q.created_from {
        sql.push(" AND created_at >= ").push_bind(from);
    }
    if let Some(to) = q.created_to {
        sql.push(" AND created_at < ").push_bind(to);
    }
    if let Some(search) = &q.search {
        search::push_conditions(&mut sql, search);
    }
    if let Some(after) = q.after {
        sql.push(" AND (created_at, id) < (").push_bind(after.created_at);
        sql.push(", ").push_bind(after.id).push(")");
    }
    sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(i64::from(q.limit) + 1)
        .push(lines_joined("o.created_at DESC, o.id DESC"));
    sql
}

/// The order of `get_order`, with its lines (built once, not per request).
static GET_ORDER: LazyLock<String> =
    LazyLock::new(|| format!("{ORDERS_WITH_LINES}{ORDER_COLUMNS} WHERE id = $1{}", lines_joined("")));

#[async_trait]
impl Orders for PostgresStore {
    async fn place_order(&self, cmd: PlaceOrder<'_>) -> Result<Executed, StoreError> {
        self.writing(async {
            let uow = uow::PgUnitOfWork::begin(&self.db).await?;
            commands::place_order(Box::new(uow), cmd, OffsetDateTime::now_utc()).await
        })
        .await
    }

    async fn update_order(&self, cmd: UpdateOrder<'_>) -> Result<Executed, StoreError> {
        self.writing(async {
            let uow = uow::PgUnitOfWork::begin(&self.db).await?;
            commands::update_order(Box::new(uow), cmd, OffsetDateTime::now_utc()).await
        })
        .await
    }

    async fn get_order(&self, id: Uuid) -> Result<Option<Order>, StoreError> {
        let mut conn = self.db.read().await?;
        let found = sqlx::query(&GET_ORDER)
            .bind(id)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
        let Some((row, lines)) = orders_with_lines(&found)?.pop() else {
            return Ok(None);
        };
        rows::order_from_row(row, lines).map(Some)
    }

    async fn list_orders(&self, q: &OrderQuery) -> Result<OrderPage, StoreError> {
        let mut sql = list_query(q);
        let mut conn = if q.search.is_some() {
            self.db.read_with_custom_plans().await?
        } else {
            self.db.read().await?
        };
        let found = sql.build().fetch_all(&mut *conn).await.map_err(db_error)?;
        let mut groups = orders_with_lines(&found)?;
        let has_more = groups.len() > q.limit as usize;
        groups.truncate(q.limit as usize);
        let orders = groups
            .into_iter()
            .map(|(row, lines)| rows::order_from_row(row, lines))
            .collect::<Result<Vec<_>, _>>()?;
        let next = has_more
            .then(|| {
                orders.last().map(|o| OrderCursor {
                    created_at: o.created_at,
                    id: o.id,
                })
            })
            .flatten();
        Ok(OrderPage { orders, next })
    }

    async fn order_events(&self, id: Uuid) -> Result<Vec<OrderEvent>, StoreError> {
        let mut conn = self.db.read().await?;
        let found = sqlx::query(&format!("{EVENT_COLUMNS} WHERE order_id = $1 ORDER BY sequence"))
            .bind(id)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
        found.iter().map(event_row).collect()
    }

    async fn purge_expired_keys(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.writing(async {
            let mut tx = self.db.write().await?;
            let done = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            tx.commit().await.map_err(db_error)?;
            Ok(done.rows_affected())
        })
        .await
    }

    async fn expirable_orders(&self, placed_before: OffsetDateTime, limit: u32) -> Result<Vec<Expirable>, StoreError> {
        unpaid::expirable(&mut *self.db.read().await?, placed_before, limit).await
    }

    async fn try_expiry_lease(&self) -> Result<Option<Box<dyn super::RelayLease>>, StoreError> {
        self.try_lease(EXPIRY_LOCK).await
    }
}

#[async_trait]
impl Outbox for PostgresStore {
    async fn unpublished_events(&self, limit: u32) -> Result<Vec<OrderEvent>, StoreError> {
        let mut conn = self.db.read().await?;
        let found = sqlx::query(&format!(
            "{EVENT_COLUMNS} WHERE published_at IS NULL ORDER BY position LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
        found.iter().map(event_row).collect()
    }

    async fn mark_published(&self, ids: &[Uuid], at: OffsetDateTime) -> Result<(), StoreError> {
        self.writing(async {
            let mut tx = self.db.write().await?;
            sqlx::query("UPDATE order_events SET published_at = $2 WHERE id = ANY($1)")
                .bind(ids)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            tx.commit().await.map_err(db_error)
        })
        .await
    }

    async fn outbox_backlog(&self) -> Result<OutboxBacklog, StoreError> {
        let mut conn = self.db.read().await?;
        let row = sqlx::query(
            "SELECT count(*) AS pending, min(occurred_at) AS oldest FROM order_events WHERE published_at IS NULL",
        )
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
        Ok(OutboxBacklog {
            pending: row.try_get("pending").map_err(StoreError::internal)?,
            oldest: row.try_get("oldest").map_err(StoreError::internal)?,
        })
    }

    async fn try_relay_lease(&self) -> Result<Option<Box<dyn super::RelayLease>>, StoreError> {
        self.try_lease(RELAY_LOCK).await
    }
}

impl PostgresStore {
    /// A role held by one replica at a time (see `PgRelayLease`); none on a server that is not the primary.
    async fn try_lease(&self, key: i64) -> Result<Option<Box<dyn super::RelayLease>>, StoreError> {
        let mut conn = self.db.lease_session().await?;
        let row = conn
            .fetch_one(&*format!(
                "SELECT CASE WHEN pg_is_in_recovery() THEN false ELSE pg_try_advisory_xact_lock({key}) END"
            ))
            .await
            .map_err(db_error)?;
        let got: bool = row.try_get(0).map_err(StoreError::internal)?;
        Ok(got.then(|| Box::new(PgRelayLease { conn }) as Box<dyn super::RelayLease>))
    }

    /// Runs a write; a refusal as read-only (a demoted primary) marks the pool's connections stale (`sessions`).
    async fn writing<T>(&self, work: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
        work.await.map_err(|e| self.db.noticed(e))
    }
}

#[async_trait]
impl Health for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn pool_state(&self) -> super::PoolState {
        let pool = self.pool();
        let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX);
        super::PoolState {
            idle,
            in_use: pool.size().saturating_sub(idle),
            max: pool.options().get_max_connections(),
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // Simple protocol (nothing prepared); a standby, or a read-only session, is not ready for writes.
        let row = self
            .pool()
            .fetch_one("SELECT current_setting('transaction_read_only') = 'off'")
            .await
            .map_err(db_error)?;
        if row.try_get::<bool, _>(0).map_err(StoreError::internal)? {
            Ok(())
        } else {
            self.db.mark_stale();
            Err(StoreError::Unavailable(sqlx::Error::Protocol(
                "the server takes no writes (a standby, or a read-only session)".into(),
            )))
        }
    }

    async fn schema_is_current(&self) -> Result<bool, StoreError> {
        let mut conn = self.db.read().await?;
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&mut *conn)
            .await
            .or_else(|e| match &e {
                sqlx::Error::Database(d) if d.code().as_deref() == Some("42P01") => Ok(Vec::new()),
                _ => Err(db_error(e)),
            })?;
        Ok(MIGRATOR.iter().all(|m| applied.contains(&m.version)))
    }
}
