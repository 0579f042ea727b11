//! One PostgreSQL write transaction as a `UnitOfWork`. Placing an order takes five round trips (BEGIN, claim the
//! key, `create::load_for_placing`, `create::insert_placed`, COMMIT), six for a customer under the open-orders
//! cap (`unpaid::lock_customer` before the load); an update runs one statement per write.

use std::sync::LazyLock;

use async_trait::async_trait;
use sqlx::postgres::Postgres;
use sqlx::{Row, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{ORDER_COLUMNS, ORDERS_WITH_LINES, lines_joined, orders_with_lines, stock_level};
use crate::domain::catalog::Product;
use crate::domain::events::OrderEvent;
use crate::domain::order::Order;
use crate::domain::stock::StockLevel;
use crate::domain::values::{CustomerId, Sku, StoreCode};
use crate::store::commands::{Claim, Placed, Placing, UnitOfWork, Updated};
use crate::store::rows::{self, headers_from_json, headers_to_json};
use crate::store::{IdempotencyKey, StoreError, StoredResponse, db_error};

pub(super) struct PgUnitOfWork {
    pub(super) tx: Transaction<'static, Postgres>,
}

impl PgUnitOfWork {
    pub(super) async fn begin(db: &super::sessions::Sessions) -> Result<Self, StoreError> {
        Ok(PgUnitOfWork { tx: db.write().await? })
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
pub(super) fn contention_error(e: sqlx::Error) -> StoreError {
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

pub(super) fn sku_strings(skus: &[Sku]) -> Vec<String> {
    skus.iter().map(|s| s.as_str().to_owned()).collect()
}

/// See `append_event`.
pub(super) const APPEND_EVENT: &str = "INSERT INTO order_events (id, order_id, sequence, type, data, actor, occurred_at, \
    prev_hash, hash) SELECT $1, $2, $3, $4, $5::jsonb, $6, $7, p.h, encode(sha256(convert_to(p.h || $8, 'UTF8')), \
    'hex') FROM (SELECT CASE WHEN $3 = 1 THEN repeat('0', 64) ELSE (SELECT hash FROM order_events \
    WHERE order_id = $2 AND sequence = $3 - 1) END AS h) AS p";

/// The writes of an update, one statement each.
impl PgUnitOfWork {
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

    /// Chains the event onto the order's previous one in the same statement: the server reads the previous hash
    /// (the order is locked, so it is the last one) and takes SHA-256 over it and the canonical content computed
    /// here, saving the round trip a read would cost. A missing predecessor leaves `hash` NULL, which the
    /// `order_events_hashed` constraint refuses.
    async fn append_event(&mut self, e: &OrderEvent) -> Result<(), StoreError> {
        bind_event(sqlx::query(APPEND_EVENT), e)
            .bind(crate::audit::chain::event_content_of(e))
            .execute(&mut *self.tx)
            .await
            .map_err(db_error)?;
        Ok(())
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
}

#[async_trait]
impl UnitOfWork for PgUnitOfWork {
    async fn claim(&mut self, key: &IdempotencyKey, now: OffsetDateTime) -> Result<Claim, StoreError> {
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

    async fn lock_customer(&mut self, customer: &CustomerId) -> Result<(), StoreError> {
        super::unpaid::lock_customer(&mut self.tx, customer).await
    }

    /// Numbers come from one sequence for all stores (the store code only prefixes them), so `store` is unused.
    async fn load_for_placing(
        &mut self,
        skus: &[Sku],
        _store: &StoreCode,
        customer: Option<&CustomerId>,
    ) -> Result<Placing, StoreError> {
        super::create::load_for_placing(&mut self.tx, skus, customer).await
    }

    async fn save_placed(&mut self, placed: &Placed<'_>) -> Result<(), StoreError> {
        super::create::insert_placed(&mut self.tx, placed).await
    }

    async fn load_products(&mut self, skus: &[Sku]) -> Result<Vec<Product>, StoreError> {
        super::pg_rows::load_products(&mut self.tx, &sku_strings(skus)).await
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

    async fn lock_stock(&mut self, skus: &[Sku]) -> Result<Vec<(Sku, StockLevel)>, StoreError> {
        if skus.is_empty() {
            return Ok(Vec::new());
        }
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

    async fn save_updated(&mut self, u: &Updated<'_>) -> Result<(), StoreError> {
        if !u.stock.is_empty() {
            self.write_stock(u.stock).await?;
        }
        self.save_order(u.order).await?;
        if u.edited {
            super::create::save_edited(&mut self.tx, u.order).await?;
        }
        for event in u.events {
            self.append_event(event).await?;
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
