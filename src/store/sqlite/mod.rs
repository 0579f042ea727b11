//! SQLite adapter: the zero-setup default, one file in the working directory.
//!
//! SQLite allows one writer at a time, so writes go through a pool of exactly one connection and queue in the
//! process (no SQLITE_BUSY storms); reads use their own pool and, with WAL, never wait for the writer. A
//! duplicate Idempotency-Key therefore waits its turn and then finds the first request's committed response.
//! Durability: WAL with `synchronous = FULL`, so an acknowledged order survives power loss, not just a crash.

mod audit;
mod backfill;
mod catalog;
mod cod;
mod invoices;
mod lines;
mod search;
mod sqlite_rows;
mod unpaid;
mod uow;

use sqlite_rows::{
    EVENT_COLUMNS, LINE_COLUMNS, ORDER_COLUMNS, event_row, from_micros, line_row, load_products, micros, order_row,
    stock_level,
};

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite};
use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::{Actor, product_entry, stock_entry};
use super::commands;
use super::rows::{self, LineRow};
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

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

struct SoleRelay;

#[async_trait]
impl super::RelayLease for SoleRelay {
    async fn is_held(&mut self) -> bool {
        true
    }
}

/// Creates the database file, if it is missing, readable and writable by its owner only (0600): it holds every
/// customer's name, address and phone. SQLite gives the `-wal` and `-shm` files it creates the mode of the
/// database file, so they are owner-only too. An existing file keeps the mode its operator gave it.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[derive(Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file. `wait` bounds how long a request queues for the writer.
    pub async fn open(path: &Path, wait: Duration) -> Result<Self, StoreError> {
        create_private(path).map_err(|e| db_error(sqlx::Error::Io(e)))?;
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(StoreError::internal)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(wait);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(wait)
            .connect_with(options.clone())
            .await
            .map_err(db_error)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(wait)
            .connect_with(options)
            .await
            .map_err(db_error)?;
        Ok(SqliteStore { writer, reader })
    }

    /// Applies pending migrations on the writer connection.
    /// Then seals the events written before the hash chain existed (migration 0004).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.writer).await.map_err(StoreError::internal)?;
        let sealed = audit::seal_events(&self.writer).await?;
        if sealed > 0 {
            tracing::info!(sealed, "order events written before the hash chain sealed");
        }
        let filled = search::fill_keys(&self.writer).await?;
        if filled > 0 {
            tracing::info!(filled, "search keys of orders written before search filled");
        }
        Ok(())
    }

    async fn lines_of(&self, ids: &[Uuid]) -> Result<Vec<LineRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = QueryBuilder::<Sqlite>::new(LINE_COLUMNS);
        sql.push(" WHERE order_id IN (");
        let mut list = sql.separated(", ");
        for id in ids {
            list.push_bind(id.to_string());
        }
        sql.push(") ORDER BY order_id, line_no");
        let found = sql.build().fetch_all(&self.reader).await.map_err(db_error)?;
        found.iter().map(line_row).collect()
    }
}

#[async_trait]
impl Orders for SqliteStore {
    async fn place_order(&self, cmd: PlaceOrder<'_>) -> Result<Executed, StoreError> {
        let uow = uow::SqliteUnitOfWork::begin(&self.writer).await?;
        commands::place_order(Box::new(uow), cmd, OffsetDateTime::now_utc()).await
    }

    async fn update_order(&self, cmd: UpdateOrder<'_>) -> Result<Executed, StoreError> {
        let uow = uow::SqliteUnitOfWork::begin(&self.writer).await?;
        commands::update_order(Box::new(uow), cmd, OffsetDateTime::now_utc()).await
    }

    async fn get_order(&self, id: Uuid) -> Result<Option<Order>, StoreError> {
        let row = sqlx::query(&format!("{ORDER_COLUMNS} WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&self.reader)
            .await
            .map_err(db_error)?;
        let Some(row) = row else { return Ok(None) };
        let lines = self.lines_of(&[id]).await?;
        rows::order_from_row(order_row(&row)?, lines).map(Some)
    }

    async fn list_orders(&self, q: &OrderQuery) -> Result<OrderPage, StoreError> {
        let mut sql = QueryBuilder::<Sqlite>::new(ORDER_COLUMNS);
        sql.push(" WHERE 1 = 1");
        if let Some(c) = &q.customer_id {
            sql.push(" AND customer_id = ").push_bind(c.as_str().to_owned());
        }
        if let Some(s) = q.status {
            sql.push(" AND order_status = ").push_bind(s.as_str());
        }
        if let Some(n) = &q.number {
            sql.push(" AND number = ").push_bind(n.clone());
        }
        if let Some(from) = q.created_from {
            sql.push(" AND created_at >= ").push_bind(micros(from));
        }
        if let Some(to) = q.created_to {
            sql.push(" AND created_at < ").push_bind(micros(to));
        }
        if let Some(search) = &q.search {
            search::push_conditions(&mut sql, search);
        }
        if let Some(after) = q.after {
            let at = micros(after.created_at);
            sql.push(" AND (created_at < ").push_bind(at);
            sql.push(" OR (created_at = ").push_bind(at);
            sql.push(" AND id < ").push_bind(after.id.to_string()).push("))");
        }
        sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(q.limit) + 1);
        let found = sql.build().fetch_all(&self.reader).await.map_err(db_error)?;
        let mut order_rows = found.iter().map(order_row).collect::<Result<Vec<_>, _>>()?;
        let has_more = order_rows.len() > q.limit as usize;
        order_rows.truncate(q.limit as usize);
        let ids: Vec<Uuid> = order_rows.iter().map(|r| r.id).collect();
        let lines = self.lines_of(&ids).await?;
        let orders = rows::orders_from_rows(order_rows, lines)?;
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
        let found = sqlx::query(&format!("{EVENT_COLUMNS} WHERE order_id = ? ORDER BY sequence"))
            .bind(id.to_string())
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        found.iter().map(event_row).collect()
    }

    async fn purge_expired_keys(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= ?")
            .bind(micros(now))
            .execute(&self.writer)
            .await
            .map_err(db_error)?;
        Ok(done.rows_affected())
    }

    async fn expirable_orders(&self, placed_before: OffsetDateTime, limit: u32) -> Result<Vec<Expirable>, StoreError> {
        unpaid::expirable(&self.reader, placed_before, limit).await
    }

    /// One process owns a SQLite file, so its sweeper always leads.
    async fn try_expiry_lease(&self) -> Result<Option<Box<dyn super::RelayLease>>, StoreError> {
        Ok(Some(Box::new(SoleRelay)))
    }
}

#[async_trait]
impl Outbox for SqliteStore {
    async fn unpublished_events(&self, limit: u32) -> Result<Vec<OrderEvent>, StoreError> {
        // rowid is insertion order, and with one writer that is commit order.
        let found = sqlx::query(&format!(
            "{EVENT_COLUMNS} WHERE published_at IS NULL ORDER BY rowid LIMIT ?"
        ))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(db_error)?;
        found.iter().map(event_row).collect()
    }

    async fn mark_published(&self, ids: &[Uuid], at: OffsetDateTime) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut sql = QueryBuilder::<Sqlite>::new("UPDATE order_events SET published_at = ");
        sql.push_bind(micros(at)).push(" WHERE id IN (");
        let mut list = sql.separated(", ");
        for id in ids {
            list.push_bind(id.to_string());
        }
        sql.push(")");
        sql.build().execute(&self.writer).await.map_err(db_error)?;
        Ok(())
    }

    async fn outbox_backlog(&self) -> Result<OutboxBacklog, StoreError> {
        let row = sqlx::query(
            "SELECT count(*) AS pending, min(occurred_at) AS oldest FROM order_events WHERE published_at IS NULL",
        )
        .fetch_one(&self.reader)
        .await
        .map_err(db_error)?;
        let oldest: Option<i64> = row.try_get("oldest").map_err(StoreError::internal)?;
        Ok(OutboxBacklog {
            pending: row.try_get("pending").map_err(StoreError::internal)?,
            oldest: oldest.map(from_micros).transpose()?,
        })
    }

    /// One process owns a SQLite file, so its relay always leads.
    async fn try_relay_lease(&self) -> Result<Option<Box<dyn super::RelayLease>>, StoreError> {
        Ok(Some(Box::new(SoleRelay)))
    }
}

#[async_trait]
impl Health for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn pool_state(&self) -> super::PoolState {
        let pools = [&self.writer, &self.reader];
        let idle: u32 = pools
            .iter()
            .map(|p| u32::try_from(p.num_idle()).unwrap_or(u32::MAX))
            .sum();
        let size: u32 = pools.iter().map(|p| p.size()).sum();
        super::PoolState {
            idle,
            in_use: size.saturating_sub(idle),
            max: pools.iter().map(|p| p.options().get_max_connections()).sum(),
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await.map_err(db_error)?;
        Ok(())
    }

    async fn schema_is_current(&self) -> Result<bool, StoreError> {
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&self.reader)
            .await
            .unwrap_or_default();
        Ok(MIGRATOR.iter().all(|m| applied.contains(&m.version)))
    }
}
