//! The legacy import on PostgreSQL. New orders go in with `COPY ... FROM STDIN` (text format), four tables per
//! batch in one transaction, which is what makes a million-order import run near COPY's own speed. Synced orders
//! are few and go through plain statements, each guarded by the version the import read.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::{PgConnection, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::PostgresStore;
use super::catalog::upsert_product;
use super::copy::{CopyRows, copy_in};
use super::pg_rows::{ORDER_COLUMNS, ORDERS_WITH_LINES, lines_joined, load_products, orders_of};
use crate::audit::chain::{self, GENESIS};
use crate::domain::catalog::Product;
use crate::domain::events::OrderEvent;
use crate::domain::order::Order;
use crate::domain::search::SearchKeys;
use crate::domain::status::StatusMachine;
use crate::domain::stock::StockLevel;
use crate::store::audit::{import_actor, product_entry, stock_entry};
use crate::store::backfill::{Backfill, BackfillAction, BackfillBatch, BackfillOrder, LegacyRecord, StockCount};
use crate::store::{OrderCursor, StoreError, db_error};

fn json(value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(StoreError::internal)
}

fn order_row(rows: &mut CopyRows, o: &Order) -> Result<(), StoreError> {
    rows.start()
        .uuid(o.id)
        .text(&o.number)
        .text(o.store.as_str())
        .opt(o.customer_id.as_ref().map(|c| c.as_str()))
        .text(o.currency.code())
        .text(o.payment_method.as_str())
        .text(o.status.order.as_str())
        .text(o.status.payment.as_str())
        .text(o.status.fulfilment.as_str())
        .text(&json(&o.ship_to)?)
        .int(i64::from(o.vat_rate.get()))
        .int(o.totals.subtotal.amount_minor())
        .int(o.totals.tax.amount_minor())
        .int(o.totals.shipping.amount_minor())
        .int(o.shipping_tax.amount_minor())
        .int(o.totals.grand_total.amount_minor())
        .int(o.version)
        .time(o.created_at)?
        .time(o.updated_at)?
        .text(&json(&o.progress)?)
        .opt(o.legacy.as_ref().map(json).transpose()?.as_deref());
    let keys = SearchKeys::of(o);
    rows.text_array(&keys.tokens).opt(keys.phone.as_deref());
    Ok(())
}

fn line_rows(rows: &mut CopyRows, o: &Order) {
    for (i, l) in o.lines.iter().enumerate() {
        rows.start()
            .uuid(o.id)
            .int(i64::try_from(i + 1).unwrap_or(i64::MAX))
            .text(l.sku.as_str())
            .text(&l.name_en)
            .text(&l.name_ar)
            .int(l.quantity.as_i64())
            .int(l.unit_price.amount_minor())
            .text(l.tax_class.as_str())
            .int(l.subtotal.amount_minor())
            .int(l.tax.amount_minor())
            .int(l.total.amount_minor());
    }
}

/// Imported history is backfill, so its events are stored as already published (see docs/migration.md). The event
/// is chained onto `prev_hash`, the hash of the order's event before it.
fn event_row(rows: &mut CopyRows, e: &OrderEvent, prev_hash: &str) -> Result<(), StoreError> {
    rows.start()
        .uuid(e.id)
        .uuid(e.order_id)
        .int(e.sequence)
        .text(e.kind())
        .text(&e.change.data().to_string())
        .text(&e.actor)
        .time(e.occurred_at)?
        .time(e.occurred_at)?
        .text(prev_hash)
        .text(&chain::of_event(prev_hash, e));
    Ok(())
}

/// The columns of `orders` an import writes, in the order `order_row` writes them.
const ORDER_COLUMNS_COPIED: &str = "id, number, store, customer_id, currency, payment_method, order_status, \
    payment_status, fulfilment_status, ship_to, vat_rate_bp, subtotal_minor, tax_minor, shipping_minor, \
    shipping_tax_minor, grand_total_minor, version, created_at, updated_at, progress, legacy, search_tokens, \
    search_phone";
const COPY_LINES: &str = "COPY order_lines (order_id, line_no, sku, name_en, name_ar, quantity, unit_price_minor, \
    tax_class, subtotal_minor, tax_minor, total_minor) FROM STDIN";
const COPY_EVENTS: &str = "COPY order_events (id, order_id, sequence, type, data, actor, occurred_at, published_at, prev_hash, hash) \
     FROM STDIN";
const COPY_LEGACY: &str =
    "COPY legacy_orders (legacy_order_id, order_id, checksum, synced_version, run_id, action) FROM STDIN";

/// Synced orders are staged in a temporary copy of `orders`, then moved in with one version-guarded UPDATE.
const SYNC_STAGED: &str = "UPDATE orders o SET customer_id = s.customer_id, currency = s.currency, \
    payment_method = s.payment_method, order_status = s.order_status, payment_status = s.payment_status, \
    fulfilment_status = s.fulfilment_status, ship_to = s.ship_to, vat_rate_bp = s.vat_rate_bp, \
    subtotal_minor = s.subtotal_minor, tax_minor = s.tax_minor, shipping_minor = s.shipping_minor, \
    shipping_tax_minor = s.shipping_tax_minor, grand_total_minor = s.grand_total_minor, version = s.version, \
    created_at = s.created_at, updated_at = s.updated_at, progress = s.progress, legacy = s.legacy, \
    search_tokens = s.search_tokens, search_phone = s.search_phone FROM legacy_sync s WHERE o.id = s.id AND o.version = s.version - 1 RETURNING o.id";

/// COPYs the lines and events of `orders`, and their `legacy_orders` rows when they are new. `prev_hashes` holds
/// the hash of each synced order's latest event; a new order's first event chains onto the genesis hash.
async fn copy_parts(
    conn: &mut PgConnection,
    run_id: i64,
    orders: &[&BackfillOrder],
    prev_hashes: Option<&HashMap<Uuid, String>>,
) -> Result<(), StoreError> {
    let new = prev_hashes.is_none();
    let (mut lines, mut events, mut legacy) = (CopyRows::default(), CopyRows::default(), CopyRows::default());
    for b in orders {
        line_rows(&mut lines, &b.order);
        let prev = match prev_hashes {
            None => GENESIS,
            Some(hashes) => hashes.get(&b.order.id).map(String::as_str).ok_or_else(|| {
                StoreError::internal(anyhow::anyhow!(
                    "order {} has no event {} to chain onto",
                    b.order.id,
                    b.event.sequence - 1
                ))
            })?,
        };
        event_row(&mut events, &b.event, prev)?;
        legacy
            .start()
            .int(b.legacy_order_id)
            .uuid(b.order.id)
            .text(&b.checksum)
            .int(b.order.version)
            .int(run_id)
            .text(BackfillAction::Created.as_str());
    }
    copy_in(conn, COPY_LINES, lines).await?;
    copy_in(conn, COPY_EVENTS, events).await?;
    if new {
        copy_in(conn, COPY_LEGACY, legacy).await?;
    }
    Ok(())
}

fn order_rows(orders: &[BackfillOrder]) -> Result<CopyRows, StoreError> {
    let mut rows = CopyRows::default();
    for b in orders {
        order_row(&mut rows, &b.order)?;
    }
    Ok(rows)
}

async fn write_created(conn: &mut PgConnection, run_id: i64, created: &[BackfillOrder]) -> Result<(), StoreError> {
    copy_in(
        conn,
        &format!("COPY orders ({ORDER_COLUMNS_COPIED}) FROM STDIN"),
        order_rows(created)?,
    )
    .await?;
    copy_parts(conn, run_id, &created.iter().collect::<Vec<_>>(), None).await
}

/// Writes the synced orders still at the version the import read; returns the legacy ids of the others, which
/// Orderly moved meanwhile.
async fn write_synced(conn: &mut PgConnection, run_id: i64, synced: &[BackfillOrder]) -> Result<Vec<i64>, StoreError> {
    if synced.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query("CREATE TEMPORARY TABLE legacy_sync (LIKE orders) ON COMMIT DROP")
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    copy_in(
        conn,
        &format!("COPY legacy_sync ({ORDER_COLUMNS_COPIED}) FROM STDIN"),
        order_rows(synced)?,
    )
    .await?;
    let moved_in: Vec<Uuid> = sqlx::query_scalar(SYNC_STAGED)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    let moved_in: std::collections::HashSet<Uuid> = moved_in.into_iter().collect();
    let (kept, moved): (Vec<&BackfillOrder>, Vec<&BackfillOrder>) =
        synced.iter().partition(|b| moved_in.contains(&b.order.id));
    let ids: Vec<Uuid> = kept.iter().map(|b| b.order.id).collect();
    sqlx::query("DELETE FROM order_lines WHERE order_id = ANY($1)")
        .bind(&ids)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    // The orders moved in are locked by the UPDATE above, so their latest events stay the latest.
    let sequences: Vec<i64> = kept.iter().map(|b| b.event.sequence - 1).collect();
    let prev: Vec<(Uuid, Option<String>)> = sqlx::query_as(
        "SELECT e.order_id, e.hash FROM order_events e \
         JOIN unnest($1::uuid[], $2::int8[]) AS v(id, seq) ON e.order_id = v.id AND e.sequence = v.seq",
    )
    .bind(&ids)
    .bind(&sequences)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let prev: HashMap<Uuid, String> = prev.into_iter().filter_map(|(id, h)| Some((id, h?))).collect();
    copy_parts(conn, run_id, &kept, Some(&prev)).await?;
    let legacy_ids: Vec<i64> = kept.iter().map(|b| b.legacy_order_id).collect();
    let checksums: Vec<&str> = kept.iter().map(|b| b.checksum.as_str()).collect();
    let versions: Vec<i64> = kept.iter().map(|b| b.order.version).collect();
    sqlx::query(
        "UPDATE legacy_orders l SET checksum = v.checksum, synced_version = v.version, run_id = $4, action = $5 \
         FROM unnest($1::int8[], $2::text[], $3::int8[]) AS v(id, checksum, version) WHERE l.legacy_order_id = v.id",
    )
    .bind(&legacy_ids)
    .bind(&checksums)
    .bind(&versions)
    .bind(run_id)
    .bind(BackfillAction::Updated.as_str())
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(moved.iter().map(|b| b.legacy_order_id).collect())
}

#[async_trait]
impl Backfill for PostgresStore {
    async fn begin_run(&self, digest: &str, now: OffsetDateTime) -> Result<i64, StoreError> {
        let open: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM legacy_runs WHERE digest = $1 AND finished_at IS NULL ORDER BY id DESC LIMIT 1",
        )
        .bind(digest)
        .fetch_optional(&mut *self.db.read().await?)
        .await
        .map_err(db_error)?;
        if let Some(id) = open {
            return Ok(id);
        }
        let mut tx = self.db.write().await?;
        let id = sqlx::query_scalar("INSERT INTO legacy_runs (digest, started_at) VALUES ($1, $2) RETURNING id")
            .bind(digest)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(id)
    }

    async fn legacy_records(&self, legacy_ids: &[i64]) -> Result<Vec<LegacyRecord>, StoreError> {
        let found = sqlx::query(
            "SELECT l.legacy_order_id, l.order_id, l.checksum, l.synced_version, l.run_id, l.action, o.version, \
             o.grand_total_minor FROM legacy_orders l JOIN orders o ON o.id = l.order_id \
             WHERE l.legacy_order_id = ANY($1)",
        )
        .bind(legacy_ids)
        .fetch_all(&mut *self.db.read().await?)
        .await
        .map_err(db_error)?;
        found
            .iter()
            .map(|r| {
                let action: String = r.try_get("action").map_err(StoreError::internal)?;
                Ok(LegacyRecord {
                    legacy_order_id: r.try_get("legacy_order_id").map_err(StoreError::internal)?,
                    order_id: r.try_get("order_id").map_err(StoreError::internal)?,
                    checksum: r.try_get("checksum").map_err(StoreError::internal)?,
                    synced_version: r.try_get("synced_version").map_err(StoreError::internal)?,
                    version: r.try_get("version").map_err(StoreError::internal)?,
                    run_id: r.try_get("run_id").map_err(StoreError::internal)?,
                    action: BackfillAction::parse(&action).ok_or_else(|| {
                        StoreError::internal(anyhow::anyhow!("corrupt row: legacy_orders.action {action}"))
                    })?,
                    grand_total_minor: r.try_get("grand_total_minor").map_err(StoreError::internal)?,
                })
            })
            .collect()
    }

    async fn write_backfill(&self, batch: BackfillBatch<'_>) -> Result<Vec<i64>, StoreError> {
        let mut tx = self.db.write().await?;
        write_created(&mut tx, batch.run_id, batch.created).await?;
        let moved = write_synced(&mut tx, batch.run_id, batch.synced).await?;
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
        let mut tx = self.db.write().await?;
        super::audit::lock(&mut tx).await?;
        let by = import_actor(run_id);
        let at = crate::domain::order::now_micros(now);
        let mut entries = Vec::with_capacity(products.len() + stock.len());
        let product_skus: Vec<String> = products.iter().map(|p| p.sku.as_str().to_owned()).collect();
        let before: HashMap<String, Product> = load_products(&mut tx, &product_skus)
            .await?
            .into_iter()
            .map(|p| (p.sku.as_str().to_owned(), p))
            .collect();
        for product in products {
            upsert_product(&mut tx, product).await?;
            entries.push(product_entry(&by, at, before.get(product.sku.as_str()), product));
        }
        let skus: Vec<&str> = stock.iter().map(|s| s.sku.as_str()).collect();
        let levels: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT sku, on_hand, reserved FROM stock WHERE sku = ANY($1) ORDER BY sku FOR UPDATE")
                .bind(&skus)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_error)?;
        let levels: HashMap<String, StockLevel> = levels
            .into_iter()
            .map(|(sku, on_hand, reserved)| (sku, StockLevel { on_hand, reserved }))
            .collect();
        for s in stock {
            let after = StockLevel {
                on_hand: s.on_hand,
                reserved: s.reserved,
            };
            entries.push(stock_entry(&by, at, &s.sku, levels.get(s.sku.as_str()).copied(), after));
        }
        let on_hand: Vec<i64> = stock.iter().map(|s| s.on_hand).collect();
        let reserved: Vec<i64> = stock.iter().map(|s| s.reserved).collect();
        sqlx::query(
            "INSERT INTO stock (sku, on_hand, reserved, updated_at) \
             SELECT s, h, r, $4 FROM unnest($1::text[], $2::int8[], $3::int8[]) AS v(s, h, r) \
             ON CONFLICT (sku) DO UPDATE SET on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved, \
             updated_at = EXCLUDED.updated_at",
        )
        .bind(&skus)
        .bind(&on_hand)
        .bind(&reserved)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        super::audit::append(&mut tx, &entries).await?;
        sqlx::query("UPDATE legacy_runs SET finished_at = $2 WHERE id = $1")
            .bind(run_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn orders_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Order>, StoreError> {
        let sql = format!(
            "{ORDERS_WITH_LINES}{ORDER_COLUMNS} WHERE id = ANY($1){}",
            lines_joined("")
        );
        let found = sqlx::query(&sql)
            .bind(ids)
            .fetch_all(&mut *self.db.read().await?)
            .await
            .map_err(db_error)?;
        orders_of(&found)
    }

    async fn orders_changed_since(
        &self,
        since: OffsetDateTime,
        after: Option<OrderCursor>,
        limit: u32,
    ) -> Result<Vec<Order>, StoreError> {
        let (after_at, after_id) = after.map_or((since, Uuid::nil()), |a| (a.created_at, a.id));
        let sql = format!(
            "{ORDERS_WITH_LINES}{ORDER_COLUMNS} WHERE updated_at >= $1 AND (updated_at, id) > ($2, $3) \
             AND NOT EXISTS (SELECT 1 FROM legacy_orders l WHERE l.order_id = orders.id \
             AND orders.version <= l.synced_version) ORDER BY updated_at, id LIMIT $4{}",
            lines_joined("o.updated_at, o.id")
        );
        let found = sqlx::query(&sql)
            .bind(since)
            .bind(after_at)
            .bind(after_id)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.db.read().await?)
            .await
            .map_err(db_error)?;
        orders_of(&found)
    }
}
