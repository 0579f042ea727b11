//! One PostgreSQL write transaction as a `UnitOfWork`.

use std::sync::LazyLock;

use async_trait::async_trait;
use sqlx::postgres::{PgPool, Postgres};
use sqlx::{Row, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{ORDER_COLUMNS, ORDERS_WITH_LINES, lines_joined, orders_with_lines, stock_level};
use crate::domain::events::OrderEvent;
use crate::domain::order::Order;
use crate::domain::stock::StockLevel;
use crate::domain::values::{Sku, StoreCode};
use crate::store::commands::{Claim, OrderInputs, UnitOfWork};
use crate::store::rows::{self, headers_from_json, headers_to_json};
use crate::store::{IdempotencyKey, StoreError, StoredResponse, db_error};

pub(super) struct PgUnitOfWork {
    tx: Transaction<'static, Postgres>,
}

impl PgUnitOfWork {
    pub(super) async fn begin(pool: &PgPool) -> Result<Self, StoreError> {
        Ok(PgUnitOfWork {
            tx: pool.begin().await.map_err(db_error)?,
        })
    }
}

/// The order of `lock_order`, locked, with its lines (built once, not per command).
pub(super) static LOCK_ORDER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{ORDERS_WITH_LINES}{ORDER_COLUMNS} WHERE id = $1 FOR UPDATE{}",
        lines_joined("")
    )
});

/// lock_timeout (55P03) and deadlocks or serialization failures (40xxx) are contention, not bugs.
fn contention_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) => match d.code().as_deref() {
            Some("55P03") | Some("40001") | Some("40P01") => StoreError::Busy(e),
            _ => db_error(e),
        },
        _ => db_error(e),
    }
}

/// `s.sku = ANY($1)` is not redundant: without it, the generic plan of this prepared statement (the planner cannot
/// see how long the arrays are) joins `unnest` against a sequential scan of the whole stock table.
pub(super) const WRITE_STOCK: &str = "UPDATE stock AS s SET on_hand = v.on_hand, reserved = v.reserved, \
    updated_at = now() FROM unnest($1::text[], $2::int8[], $3::int8[]) AS v(sku, on_hand, reserved) \
    WHERE s.sku = v.sku AND s.sku = ANY($1)";

/// See `products_for_order`.
pub(super) const PRODUCTS_FOR_ORDER: &str = "WITH locked AS MATERIALIZED (\
       SELECT sku, on_hand, reserved FROM stock WHERE sku = ANY($1) ORDER BY sku FOR UPDATE) \
     SELECT p.sku, p.name_en, p.name_ar, p.tax_class, p.active, \
       ARRAY(SELECT pp.currency::text FROM product_prices pp WHERE pp.sku = p.sku ORDER BY pp.currency) \
         AS currencies, \
       ARRAY(SELECT pp.amount_minor FROM product_prices pp WHERE pp.sku = p.sku ORDER BY pp.currency) \
         AS amounts, \
       l.on_hand, l.reserved, (SELECT count(*) FROM locked) AS n_locked, \
       (SELECT nextval('order_number_seq')) AS seq \
     FROM products p LEFT JOIN locked l ON l.sku = p.sku WHERE p.sku = ANY($1) ORDER BY p.sku";

/// Stock levels as one array per column, for the `unnest` of [`WRITE_STOCK`] and of `INSERT_PLACED`'s stock step.
pub(super) struct StockArrays<'a> {
    pub skus: Vec<&'a str>,
    pub on_hand: Vec<i64>,
    pub reserved: Vec<i64>,
}

impl<'a> StockArrays<'a> {
    pub(super) fn of(levels: &'a [(Sku, StockLevel)]) -> Self {
        StockArrays {
            skus: levels.iter().map(|(s, _)| s.as_str()).collect(),
            on_hand: levels.iter().map(|(_, l)| l.on_hand).collect(),
            reserved: levels.iter().map(|(_, l)| l.reserved).collect(),
        }
    }
}

/// Binds an event's seven columns, in `order_events` order (id, order_id, sequence, type, data, actor,
/// occurred_at), as `append_event` and `INSERT_PLACED` insert them.
pub(super) fn bind_event<'q>(query: PgQuery<'q>, e: &'q OrderEvent) -> PgQuery<'q> {
    query
        .bind(e.id)
        .bind(e.order_id)
        .bind(e.sequence)
        .bind(e.kind())
        .bind(e.change.data().to_string())
        .bind(&e.actor)
        .bind(e.occurred_at)
}

pub(super) type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

fn sku_strings(skus: &[Sku]) -> Vec<String> {
    skus.iter().map(|s| s.as_str().to_owned()).collect()
}

#[async_trait]
impl UnitOfWork for PgUnitOfWork {
    async fn claim_key(&mut self, key: &IdempotencyKey, now: OffsetDateTime) -> Result<Claim, StoreError> {
        // Blocks while another transaction holds the same key uncommitted; lock_timeout bounds the wait.
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (principal, key, fingerprint, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (principal, key) DO NOTHING",
        )
        .bind(&key.principal)
        .bind(&key.key)
        .bind(&key.fingerprint)
        .bind(now)
        .bind(now + key.ttl)
        .execute(&mut *self.tx)
        .await
        .map_err(|e| match contention_error(e) {
            StoreError::Busy(_) => StoreError::RequestInProgress,
            other => other,
        })?;
        if inserted.rows_affected() == 1 {
            return Ok(Claim::New);
        }
        let row = sqlx::query(
            "SELECT fingerprint, status_code, response_headers, response_body, expires_at \
             FROM idempotency_keys WHERE principal = $1 AND key = $2 FOR UPDATE",
        )
        .bind(&key.principal)
        .bind(&key.key)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(contention_error)?;
        let expires_at: OffsetDateTime = row.try_get("expires_at").map_err(StoreError::internal)?;
        if expires_at <= now {
            sqlx::query(
                "UPDATE idempotency_keys SET fingerprint = $3, status_code = NULL, response_headers = NULL, \
                 response_body = NULL, created_at = $4, expires_at = $5 WHERE principal = $1 AND key = $2",
            )
            .bind(&key.principal)
            .bind(&key.key)
            .bind(&key.fingerprint)
            .bind(now)
            .bind(now + key.ttl)
            .execute(&mut *self.tx)
            .await
            .map_err(db_error)?;
            return Ok(Claim::New);
        }
        let status: Option<i32> = row.try_get("status_code").map_err(StoreError::internal)?;
        let headers: Option<String> = row.try_get("response_headers").map_err(StoreError::internal)?;
        let body: Option<Vec<u8>> = row.try_get("response_body").map_err(StoreError::internal)?;
        let (Some(status), Some(headers), Some(body)) = (status, headers, body) else {
            return Err(StoreError::RequestInProgress);
        };
        Ok(Claim::Existing {
            fingerprint: row.try_get("fingerprint").map_err(StoreError::internal)?,
            response: StoredResponse {
                status: u16::try_from(status).map_err(StoreError::internal)?,
                headers: headers_from_json(&headers)?,
                body,
            },
        })
    }

    async fn save_response(&mut self, key: &IdempotencyKey, response: &StoredResponse) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE idempotency_keys SET status_code = $3, response_headers = $4, response_body = $5 \
             WHERE principal = $1 AND key = $2",
        )
        .bind(&key.principal)
        .bind(&key.key)
        .bind(i32::from(response.status))
        .bind(headers_to_json(&response.headers))
        .bind(&response.body)
        .execute(&mut *self.tx)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn lock_stock(&mut self, skus: &[Sku]) -> Result<Vec<(Sku, StockLevel)>, StoreError> {
        let found = sqlx::query("SELECT sku, on_hand, reserved FROM stock WHERE sku = ANY($1) ORDER BY sku FOR UPDATE")
            .bind(sku_strings(skus))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(contention_error)?;
        found
            .iter()
            .map(|r| {
                let sku: String = r.try_get("sku").map_err(StoreError::internal)?;
                Ok((Sku::parse(&sku).map_err(StoreError::internal)?, stock_level(r)?))
            })
            .collect()
    }

    async fn write_stock(&mut self, levels: &[(Sku, StockLevel)]) -> Result<(), StoreError> {
        let stock = StockArrays::of(levels);
        sqlx::query(WRITE_STOCK)
            .bind(&stock.skus)
            .bind(&stock.on_hand)
            .bind(&stock.reserved)
            .execute(&mut *self.tx)
            .await
            .map_err(contention_error)?;
        Ok(())
    }

    async fn lock_order(&mut self, id: Uuid) -> Result<Option<Order>, StoreError> {
        let found = sqlx::query(&LOCK_ORDER)
            .bind(id)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(contention_error)?;
        let Some((row, lines)) = orders_with_lines(&found)?.pop() else {
            return Ok(None);
        };
        rows::order_from_row(row, lines).map(Some)
    }

    async fn save_order(&mut self, o: &Order) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE orders SET order_status = $2, payment_status = $3, fulfilment_status = $4, version = $5, \
             updated_at = $6, progress = $7::jsonb WHERE id = $1",
        )
        .bind(o.id)
        .bind(o.status.order.to_string())
        .bind(o.status.payment.to_string())
        .bind(o.status.fulfilment.to_string())
        .bind(o.version)
        .bind(o.updated_at)
        .bind(serde_json::to_string(&o.progress).map_err(StoreError::internal)?)
        .execute(&mut *self.tx)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn append_event(&mut self, e: &OrderEvent) -> Result<(), StoreError> {
        bind_event(
            sqlx::query(
                "INSERT INTO order_events (id, order_id, sequence, type, data, actor, occurred_at) \
                 VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)",
            ),
            e,
        )
        .execute(&mut *self.tx)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(db_error)
    }

    /// One round trip instead of four: the stock rows are locked (in SKU order, as `lock_stock` does) by the
    /// same statement that reads the products and their prices and takes the next order number (evaluated once,
    /// as an init plan). A pricing error still wins over a stock error; the locks it took are released by the
    /// rollback, and the number it took is left unused (numbers are unique, not contiguous: ADR 0001).
    async fn products_for_order(&mut self, skus: &[Sku], _store: &StoreCode) -> Result<OrderInputs, StoreError> {
        let found = sqlx::query(PRODUCTS_FOR_ORDER)
            .bind(sku_strings(skus))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(contention_error)?;
        let number = found
            .first()
            .map(|r| r.try_get::<i64, _>("seq"))
            .transpose()
            .map_err(StoreError::internal)?;
        let mut product_rows = Vec::with_capacity(found.len());
        let mut price_rows = Vec::with_capacity(found.len());
        let mut locked = Vec::with_capacity(found.len());
        for r in &found {
            let sku: String = r.try_get("sku").map_err(StoreError::internal)?;
            let currencies: Vec<String> = r.try_get("currencies").map_err(StoreError::internal)?;
            let amounts: Vec<i64> = r.try_get("amounts").map_err(StoreError::internal)?;
            for (c, a) in currencies.into_iter().zip(amounts) {
                price_rows.push((sku.clone(), c, a));
            }
            let on_hand: Option<i64> = r.try_get("on_hand").map_err(StoreError::internal)?;
            let reserved: Option<i64> = r.try_get("reserved").map_err(StoreError::internal)?;
            if let (Some(on_hand), Some(reserved)) = (on_hand, reserved) {
                locked.push((
                    Sku::parse(&sku).map_err(StoreError::internal)?,
                    StockLevel { on_hand, reserved },
                ));
            }
            product_rows.push(rows::ProductRow {
                sku,
                name_en: r.try_get("name_en").map_err(StoreError::internal)?,
                name_ar: r.try_get("name_ar").map_err(StoreError::internal)?,
                tax_class: r.try_get("tax_class").map_err(StoreError::internal)?,
                active: r.try_get("active").map_err(StoreError::internal)?,
            });
        }
        Ok(OrderInputs {
            products: rows::products_from_rows(product_rows, price_rows)?,
            locked: Some(locked),
            number,
        })
    }

    async fn next_number(&mut self, _store: &StoreCode) -> Result<i64, StoreError> {
        sqlx::query_scalar("SELECT nextval('order_number_seq')")
            .fetch_one(&mut *self.tx)
            .await
            .map_err(db_error)
    }

    /// One round trip instead of five (see `create.rs`).
    async fn insert_placed(
        &mut self,
        reserved: &[(Sku, StockLevel)],
        o: &Order,
        e: &OrderEvent,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        super::create::insert_placed(&mut self.tx, reserved, o, e, key, response).await
    }
}
