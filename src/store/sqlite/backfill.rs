//! The legacy import on SQLite: each batch is one `BEGIN IMMEDIATE` transaction on the single writer, with
//! plain prepared inserts (an embedded database has no round trips to save).

use async_trait::async_trait;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::SqliteStore;
use super::catalog::upsert_product;
use super::sqlite_rows::{ORDER_COLUMNS, load_products, micros, order_row, stock_level, uuid_of};
use super::uow::{append_event, insert_order, replace_order};
use crate::domain::catalog::Product;
use crate::domain::order::Order;
use crate::domain::stock::StockLevel;
use crate::store::audit::{import_actor, product_entry, stock_entry};
use crate::store::backfill::{Backfill, BackfillAction, BackfillBatch, BackfillOrder, LegacyRecord, StockCount};
use crate::store::{OrderCursor, StoreError, db_error, rows};

async fn record_legacy(
    conn: &mut SqliteConnection,
    run_id: i64,
    b: &BackfillOrder,
    action: BackfillAction,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO legacy_orders (legacy_order_id, order_id, checksum, synced_version, run_id, action) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (legacy_order_id) DO UPDATE SET checksum = excluded.checksum, \
         synced_version = excluded.synced_version, run_id = excluded.run_id, action = excluded.action",
    )
    .bind(b.legacy_order_id)
    .bind(b.order.id.to_string())
    .bind(&b.checksum)
    .bind(b.order.version)
    .bind(run_id)
    .bind(action.as_str())
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Writes one synced order if it is still at the version the import read; false when Orderly moved it meanwhile.
async fn write_synced(conn: &mut SqliteConnection, run_id: i64, s: &BackfillOrder) -> Result<bool, StoreError> {
    let id = s.order.id.to_string();
    let current: Option<i64> = sqlx::query_scalar("SELECT version FROM orders WHERE id = ?")
        .bind(&id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
    if current != Some(s.order.version - 1) {
        return Ok(false);
    }
    sqlx::query("DELETE FROM order_lines WHERE order_id = ?")
        .bind(&id)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    replace_order(conn, &s.order).await?;
    append_event(conn, &s.event, Some(micros(s.event.occurred_at))).await?;
    record_legacy(conn, run_id, s, BackfillAction::Updated).await?;
    Ok(true)
}

fn records_from(found: &[sqlx::sqlite::SqliteRow]) -> Result<Vec<LegacyRecord>, StoreError> {
    found
        .iter()
        .map(|r| {
            let get = |c: &str| -> Result<i64, StoreError> { r.try_get(c).map_err(StoreError::internal) };
            let action: String = r.try_get("action").map_err(StoreError::internal)?;
            Ok(LegacyRecord {
                legacy_order_id: get("legacy_order_id")?,
                order_id: uuid_of(r, "order_id")?,
                checksum: r.try_get("checksum").map_err(StoreError::internal)?,
                synced_version: get("synced_version")?,
                version: get("version")?,
                run_id: get("run_id")?,
                action: BackfillAction::parse(&action).ok_or_else(|| {
                    StoreError::internal(anyhow::anyhow!("corrupt row: legacy_orders.action {action}"))
                })?,
                grand_total_minor: get("grand_total_minor")?,
            })
        })
        .collect()
}

impl SqliteStore {
    async fn orders_where(&self, mut sql: QueryBuilder<'_, Sqlite>) -> Result<Vec<Order>, StoreError> {
        let found = sql.build().fetch_all(&self.reader).await.map_err(db_error)?;
        let order_rows = found.iter().map(order_row).collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<Uuid> = order_rows.iter().map(|r| r.id).collect();
        let lines = self.lines_of(&ids).await?;
        rows::orders_from_rows(order_rows, lines)
    }
}

#[async_trait]
impl Backfill for SqliteStore {
    async fn begin_run(&self, digest: &str, now: OffsetDateTime) -> Result<i64, StoreError> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
        let open: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM legacy_runs WHERE digest = ? AND finished_at IS NULL ORDER BY id DESC LIMIT 1",
        )
        .bind(digest)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let id = match open {
            Some(id) => id,
            None => sqlx::query_scalar("INSERT INTO legacy_runs (digest, started_at) VALUES (?, ?) RETURNING id")
                .bind(digest)
                .bind(micros(now))
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?,
        };
        tx.commit().await.map_err(db_error)?;
        Ok(id)
    }

    async fn legacy_records(&self, legacy_ids: &[i64]) -> Result<Vec<LegacyRecord>, StoreError> {
        let mut records = Vec::with_capacity(legacy_ids.len());
        // SQLite binds at most 32766 parameters per statement.
        for chunk in legacy_ids.chunks(10_000) {
            let mut sql = QueryBuilder::<Sqlite>::new(
                "SELECT l.legacy_order_id, l.order_id, l.checksum, l.synced_version, l.run_id, l.action, o.version, \
                 o.grand_total_minor FROM legacy_orders l JOIN orders o ON o.id = l.order_id \
                 WHERE l.legacy_order_id IN (",
            );
            let mut list = sql.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            sql.push(")");
            let found = sql.build().fetch_all(&self.reader).await.map_err(db_error)?;
            records.extend(records_from(&found)?);
        }
        Ok(records)
    }

    async fn write_backfill(&self, batch: BackfillBatch<'_>) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
        for c in batch.created {
            insert_order(&mut tx, &c.order).await?;
            append_event(&mut tx, &c.event, Some(micros(c.event.occurred_at))).await?;
            record_legacy(&mut tx, batch.run_id, c, BackfillAction::Created).await?;
        }
        let mut moved = Vec::new();
        for s in batch.synced {
            if !write_synced(&mut tx, batch.run_id, s).await? {
                moved.push(s.legacy_order_id);
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(moved)
    }

    async fn finish_run(
        &self,
        run_id: i64,
        products: &[Product],
        stock: &[StockCount],
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
        let by = import_actor(run_id);
        let at = crate::domain::order::now_micros(now);
        let mut entries = Vec::with_capacity(products.len() + stock.len());
        for product in products {
            let before = load_products(&mut tx, std::slice::from_ref(&product.sku)).await?.pop();
            upsert_product(&mut tx, product).await?;
            entries.push(product_entry(&by, at, before.as_ref(), product));
        }
        for s in stock {
            let before = sqlx::query("SELECT on_hand, reserved FROM stock WHERE sku = ?")
                .bind(s.sku.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?
                .as_ref()
                .map(stock_level)
                .transpose()?;
            let after = StockLevel {
                on_hand: s.on_hand,
                reserved: s.reserved,
            };
            entries.push(stock_entry(&by, at, &s.sku, before, after));
            sqlx::query(
                "INSERT INTO stock (sku, on_hand, reserved, updated_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (sku) DO UPDATE SET on_hand = excluded.on_hand, reserved = excluded.reserved, \
                 updated_at = excluded.updated_at",
            )
            .bind(s.sku.as_str())
            .bind(s.on_hand)
            .bind(s.reserved)
            .bind(micros(now))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        super::audit::append(&mut tx, &entries).await?;
        sqlx::query("UPDATE legacy_runs SET finished_at = ? WHERE id = ?")
            .bind(micros(now))
            .bind(run_id)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn orders_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Order>, StoreError> {
        let mut orders = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(10_000) {
            let mut sql = QueryBuilder::<Sqlite>::new(ORDER_COLUMNS);
            sql.push(" WHERE id IN (");
            let mut list = sql.separated(", ");
            for id in chunk {
                list.push_bind(id.to_string());
            }
            sql.push(")");
            orders.extend(self.orders_where(sql).await?);
        }
        Ok(orders)
    }

    async fn orders_changed_since(
        &self,
        since: OffsetDateTime,
        after: Option<OrderCursor>,
        limit: u32,
    ) -> Result<Vec<Order>, StoreError> {
        let (after_at, after_id) = after.map_or((since, String::new()), |a| (a.created_at, a.id.to_string()));
        let mut sql = QueryBuilder::<Sqlite>::new(ORDER_COLUMNS);
        sql.push(" WHERE updated_at >= ")
            .push_bind(micros(since))
            .push(" AND (updated_at > ")
            .push_bind(micros(after_at))
            .push(" OR (updated_at = ")
            .push_bind(micros(after_at))
            .push(" AND id > ")
            .push_bind(after_id)
            .push(
                ")) AND NOT EXISTS (SELECT 1 FROM legacy_orders l WHERE l.order_id = orders.id \
                   AND orders.version <= l.synced_version) ORDER BY updated_at, id LIMIT ",
            )
            .push_bind(i64::from(limit));
        self.orders_where(sql).await
    }
}
