//! One SQLite write transaction (`BEGIN IMMEDIATE` on the single writer connection) as a `UnitOfWork`. Each step
//! is a few plain statements: on an embedded database a round trip costs no network, so the simplest SQL wins.

use async_trait::async_trait;
use sqlx::sqlite::SqlitePool;
use sqlx::{Row, Sqlite, SqliteConnection, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::sqlite_rows::{LINE_COLUMNS, ORDER_COLUMNS, line_row, load_products, micros, order_row, stock_level};
use crate::audit::chain::{self, GENESIS};
use crate::domain::catalog::Product;
use crate::domain::events::OrderEvent;
use crate::domain::order::Order;
use crate::domain::stock::StockLevel;
use crate::domain::values::{CustomerId, Sku, StoreCode};
use crate::store::commands::{Claim, Placed, Placing, UnitOfWork, Updated};
use crate::store::rows::{self, headers_from_json, headers_to_json};
use crate::store::{IdempotencyKey, StoreError, StoredResponse, db_error};

pub(super) async fn insert_order(conn: &mut SqliteConnection, o: &Order) -> Result<(), StoreError> {
    write_order(conn, o, "").await
}

/// Writes the order row again over the one with its id (all its columns), and its lines, which must be gone.
pub(super) async fn replace_order(conn: &mut SqliteConnection, o: &Order) -> Result<(), StoreError> {
    write_order(
        conn,
        o,
        " ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, currency = excluded.currency, \
         payment_method = excluded.payment_method, order_status = excluded.order_status, \
         payment_status = excluded.payment_status, fulfilment_status = excluded.fulfilment_status, \
         ship_to = excluded.ship_to, vat_rate_bp = excluded.vat_rate_bp, subtotal_minor = excluded.subtotal_minor, \
         tax_minor = excluded.tax_minor, shipping_minor = excluded.shipping_minor, \
         shipping_tax_minor = excluded.shipping_tax_minor, grand_total_minor = excluded.grand_total_minor, \
         version = excluded.version, created_at = excluded.created_at, updated_at = excluded.updated_at, \
         progress = excluded.progress, legacy = excluded.legacy, search_name = excluded.search_name, \
         search_phone = excluded.search_phone",
    )
    .await
}

async fn write_order(conn: &mut SqliteConnection, o: &Order, on_conflict: &str) -> Result<(), StoreError> {
    let ship_to = serde_json::to_string(&o.ship_to).map_err(StoreError::internal)?;
    let keys = crate::domain::search::SearchKeys::of(o);
    sqlx::query(
        &("INSERT INTO orders (id, number, store, customer_id, currency, payment_method, order_status, \
         payment_status, fulfilment_status, ship_to, vat_rate_bp, subtotal_minor, tax_minor, shipping_minor, \
         shipping_tax_minor, grand_total_minor, version, created_at, updated_at, progress, legacy, search_name, \
         search_phone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            .to_owned()
            + on_conflict),
    )
    .bind(o.id.to_string())
    .bind(&o.number)
    .bind(o.store.as_str())
    .bind(o.customer_id.as_ref().map(|c| c.as_str()))
    .bind(o.currency.code())
    .bind(o.payment_method.as_str())
    .bind(o.status.order.to_string())
    .bind(o.status.payment.to_string())
    .bind(o.status.fulfilment.to_string())
    .bind(ship_to)
    .bind(i64::from(o.vat_rate.get()))
    .bind(o.totals.subtotal.amount_minor())
    .bind(o.totals.tax.amount_minor())
    .bind(o.totals.shipping.amount_minor())
    .bind(o.shipping_tax.amount_minor())
    .bind(o.totals.grand_total.amount_minor())
    .bind(o.version)
    .bind(micros(o.created_at))
    .bind(micros(o.updated_at))
    .bind(serde_json::to_string(&o.progress).map_err(StoreError::internal)?)
    .bind(
        o.legacy
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(StoreError::internal)?,
    )
    .bind(keys.name)
    .bind(keys.phone)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    super::lines::insert_lines(conn, o).await
}

/// Appends an event, chained onto the order's previous one (every caller holds the writer, so that is the
/// latest); `published_at` is set only for backfilled history, which is not news to publish.
pub(super) async fn append_event(
    conn: &mut SqliteConnection,
    e: &OrderEvent,
    published_at: Option<i64>,
) -> Result<(), StoreError> {
    let prev_hash = if e.sequence == 1 {
        GENESIS.to_owned()
    } else {
        sqlx::query_scalar::<_, Option<String>>("SELECT hash FROM order_events WHERE order_id = ? AND sequence = ?")
            .bind(e.order_id.to_string())
            .bind(e.sequence - 1)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?
            .flatten()
            .ok_or_else(|| {
                StoreError::internal(anyhow::anyhow!(
                    "order {} has no hashed event {} to chain onto",
                    e.order_id,
                    e.sequence - 1
                ))
            })?
    };
    let hash = chain::of_event(&prev_hash, e);
    sqlx::query(
        "INSERT INTO order_events (id, order_id, sequence, type, data, actor, occurred_at, published_at, \
         prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(e.id.to_string())
    .bind(e.order_id.to_string())
    .bind(e.sequence)
    .bind(e.kind())
    .bind(e.change.data().to_string())
    .bind(&e.actor)
    .bind(micros(e.occurred_at))
    .bind(published_at)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

pub(super) struct SqliteUnitOfWork {
    pub(super) tx: Transaction<'static, Sqlite>,
}

impl SqliteUnitOfWork {
    async fn next_order_seq(&mut self, store: &StoreCode) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO order_number_counters (store, last) VALUES (?, 1) \
             ON CONFLICT (store) DO UPDATE SET last = last + 1 RETURNING last",
        )
        .bind(store.as_str())
        .fetch_one(&mut *self.tx)
        .await
        .map_err(db_error)
    }

    async fn write_stock(&mut self, levels: &[(Sku, StockLevel)]) -> Result<(), StoreError> {
        let now = micros(OffsetDateTime::now_utc());
        for (sku, level) in levels {
            sqlx::query("UPDATE stock SET on_hand = ?, reserved = ?, updated_at = ? WHERE sku = ?")
                .bind(level.on_hand)
                .bind(level.reserved)
                .bind(now)
                .bind(sku.as_str())
                .execute(&mut *self.tx)
                .await
                .map_err(db_error)?;
        }
        Ok(())
    }

    async fn save_order(&mut self, o: &Order) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE orders SET order_status = ?, payment_status = ?, fulfilment_status = ?, version = ?, \
             updated_at = ?, progress = ? WHERE id = ?",
        )
        .bind(o.status.order.to_string())
        .bind(o.status.payment.to_string())
        .bind(o.status.fulfilment.to_string())
        .bind(o.version)
        .bind(micros(o.updated_at))
        .bind(serde_json::to_string(&o.progress).map_err(StoreError::internal)?)
        .bind(o.id.to_string())
        .execute(&mut *self.tx)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn save_response(&mut self, key: &IdempotencyKey, response: &StoredResponse) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE idempotency_keys SET status_code = ?, response_headers = ?, response_body = ? \
             WHERE principal = ? AND key = ?",
        )
        .bind(i64::from(response.status))
        .bind(headers_to_json(&response.headers))
        .bind(&response.body)
        .bind(&key.principal)
        .bind(&key.key)
        .execute(&mut *self.tx)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    pub(super) async fn begin(writer: &SqlitePool) -> Result<Self, StoreError> {
        Ok(SqliteUnitOfWork {
            // Waiting too long for the single writer is contention (503 busy), not an outage.
            tx: writer.begin_with("BEGIN IMMEDIATE").await.map_err(|e| match e {
                sqlx::Error::PoolTimedOut => StoreError::Busy(e),
                other => db_error(other),
            })?,
        })
    }
}

#[async_trait]
impl UnitOfWork for SqliteUnitOfWork {
    async fn claim(&mut self, key: &IdempotencyKey, now: OffsetDateTime) -> Result<Claim, StoreError> {
        let row = sqlx::query(
            "SELECT fingerprint, status_code, response_headers, response_body, expires_at \
             FROM idempotency_keys WHERE principal = ? AND key = ?",
        )
        .bind(&key.principal)
        .bind(&key.key)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(db_error)?;
        if let Some(row) = row {
            let expires_at: i64 = row.try_get("expires_at").map_err(StoreError::internal)?;
            if expires_at > micros(now) {
                let status: Option<i64> = row.try_get("status_code").map_err(StoreError::internal)?;
                let headers: Option<String> = row.try_get("response_headers").map_err(StoreError::internal)?;
                let body: Option<Vec<u8>> = row.try_get("response_body").map_err(StoreError::internal)?;
                let (Some(status), Some(headers), Some(body)) = (status, headers, body) else {
                    return Err(StoreError::RequestInProgress);
                };
                return Ok(Claim::Existing {
                    fingerprint: row.try_get("fingerprint").map_err(StoreError::internal)?,
                    response: StoredResponse {
                        status: u16::try_from(status).map_err(StoreError::internal)?,
                        headers: headers_from_json(&headers)?,
                        body,
                    },
                });
            }
        }
        // New, or expired and taken over by this request.
        sqlx::query(
            "INSERT INTO idempotency_keys (principal, key, fingerprint, created_at, expires_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (principal, key) DO UPDATE SET fingerprint = excluded.fingerprint, status_code = NULL, \
             response_headers = NULL, response_body = NULL, created_at = excluded.created_at, \
             expires_at = excluded.expires_at",
        )
        .bind(&key.principal)
        .bind(&key.key)
        .bind(&key.fingerprint)
        .bind(micros(now))
        .bind(micros(now + key.ttl))
        .execute(&mut *self.tx)
        .await
        .map_err(db_error)?;
        Ok(Claim::New)
    }

    /// The write transaction (`BEGIN IMMEDIATE`) already excludes every other writer.
    async fn lock_customer(&mut self, _customer: &CustomerId) -> Result<(), StoreError> {
        Ok(())
    }

    async fn load_for_placing(
        &mut self,
        skus: &[Sku],
        store: &StoreCode,
        customer: Option<&CustomerId>,
    ) -> Result<Placing, StoreError> {
        let open_unpaid = match customer {
            Some(c) => super::unpaid::count_open_unpaid(&mut self.tx, c).await?,
            None => 0,
        };
        Ok(Placing {
            products: load_products(&mut self.tx, skus).await?,
            stock: self.lock_stock(skus).await?,
            number: self.next_order_seq(store).await?,
            open_unpaid,
        })
    }

    async fn save_placed(&mut self, p: &Placed<'_>) -> Result<(), StoreError> {
        self.write_stock(p.reserved).await?;
        insert_order(&mut self.tx, p.order).await?;
        append_event(&mut self.tx, p.event, None).await?;
        self.save_response(p.key, p.response).await
    }

    async fn load_products(&mut self, skus: &[Sku]) -> Result<Vec<Product>, StoreError> {
        load_products(&mut self.tx, skus).await
    }

    async fn lock_order(&mut self, id: Uuid) -> Result<Option<Order>, StoreError> {
        let row = sqlx::query(&format!("{ORDER_COLUMNS} WHERE id = ?"))
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_error)?;
        let Some(row) = row else { return Ok(None) };
        let lines = sqlx::query(&format!("{LINE_COLUMNS} WHERE order_id = ? ORDER BY line_no"))
            .bind(id.to_string())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(db_error)?
            .iter()
            .map(line_row)
            .collect::<Result<Vec<_>, _>>()?;
        rows::order_from_row(order_row(&row)?, lines).map(Some)
    }

    async fn lock_stock(&mut self, skus: &[Sku]) -> Result<Vec<(Sku, StockLevel)>, StoreError> {
        // The write transaction already excludes every other writer; a plain read is a locked read here.
        let mut levels = Vec::with_capacity(skus.len());
        for sku in skus {
            let row = sqlx::query("SELECT on_hand, reserved FROM stock WHERE sku = ?")
                .bind(sku.as_str())
                .fetch_optional(&mut *self.tx)
                .await
                .map_err(db_error)?;
            if let Some(row) = row {
                levels.push((sku.clone(), stock_level(&row)?));
            }
        }
        Ok(levels)
    }

    async fn save_updated(&mut self, u: &Updated<'_>) -> Result<(), StoreError> {
        self.write_stock(u.stock).await?;
        self.save_order(u.order).await?;
        if u.edited {
            super::lines::save_edited(&mut self.tx, u.order).await?;
        }
        for event in u.events {
            append_event(&mut self.tx, event, None).await?;
        }
        self.save_response(u.key, u.response).await
    }

    async fn save_refusal(&mut self, key: &IdempotencyKey, response: &StoredResponse) -> Result<(), StoreError> {
        self.save_response(key, response).await
    }

    fn documents(&mut self) -> &mut dyn crate::store::invoicing::DocumentSteps {
        self
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(db_error)
    }
}
