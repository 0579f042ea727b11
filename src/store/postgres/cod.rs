//! COD settlement on PostgreSQL: posting holds a transaction-level advisory lock, so remittances are matched one
//! at a time and an order's cash is never paid over twice by two concurrent remittances; the unique
//! `(courier, reference)` backs the natural key up.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Postgres, Row, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::PostgresStore;
use crate::domain::cod::{Collected, Remittance, ShippedCod};
use crate::domain::currency::Currency;
use crate::store::cod::{self, CourierOrder, PostRemittance, Posted, RemittanceTx, Settlement};
use crate::store::{StoreError, db_error};

/// The advisory lock key of posting a remittance ("orderlyc").
const SETTLEMENT_LOCK: i64 = 0x6f72_6465_726c_7963;

const COLLECTED: &str = "\
SELECT o.id, o.number, o.currency::text AS currency, o.progress::text AS progress, \
       o.progress -> 'shipments' -> 0 ->> 'carrier' AS courier, \
       e.occurred_at AS collected_at, (e.data ->> 'amount_minor')::bigint AS collected_minor, \
       COALESCE((SELECT sum(r.amount_minor) FROM cod_remitted r \
                 WHERE r.order_id = o.id AND r.remitted_at <= $2), 0)::bigint AS remitted_minor \
FROM orders o JOIN order_events e ON e.order_id = o.id AND e.type = 'cod.collected' \
WHERE o.payment_method = 'cod' AND o.payment_status IN ('cod_collected', 'partially_refunded', 'refunded') \
  AND ($1::text IS NULL OR o.progress -> 'shipments' -> 0 ->> 'carrier' = $1) AND e.occurred_at <= $2";

fn collected_row(r: &PgRow) -> Result<CourierOrder, StoreError> {
    let progress: String = r.try_get("progress").map_err(StoreError::internal)?;
    let currency: String = r.try_get("currency").map_err(StoreError::internal)?;
    let order = Collected {
        order_id: r.try_get("id").map_err(StoreError::internal)?,
        order_number: r.try_get("number").map_err(StoreError::internal)?,
        tracking_numbers: cod::shipments_of(&progress)?.into_iter().map(|s| s.1).collect(),
        currency: currency.trim().parse::<Currency>().map_err(StoreError::internal)?,
        collected_minor: r.try_get("collected_minor").map_err(StoreError::internal)?,
        collected_at: r.try_get("collected_at").map_err(StoreError::internal)?,
        remitted_minor: r.try_get("remitted_minor").map_err(StoreError::internal)?,
    };
    let courier: Option<String> = r.try_get("courier").map_err(StoreError::internal)?;
    Ok((courier.unwrap_or_default(), order))
}

async fn collected(
    conn: &mut PgConnection,
    courier: Option<&str>,
    as_of: OffsetDateTime,
) -> Result<Vec<CourierOrder>, StoreError> {
    let rows = sqlx::query(COLLECTED)
        .bind(courier)
        .bind(as_of)
        .fetch_all(conn)
        .await
        .map_err(db_error)?;
    rows.iter().map(collected_row).collect()
}

struct PgRemittanceTx(Transaction<'static, Postgres>);

#[async_trait]
impl RemittanceTx for PgRemittanceTx {
    async fn find(&mut self, courier: &str, reference: &str) -> Result<Option<(String, String)>, StoreError> {
        let row =
            sqlx::query("SELECT fingerprint, document FROM cod_remittances WHERE courier = $1 AND reference = $2")
                .bind(courier)
                .bind(reference)
                .fetch_optional(&mut *self.0)
                .await
                .map_err(db_error)?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .transpose()
            .map_err(|e: sqlx::Error| StoreError::internal(e))
    }

    async fn collected(&mut self, courier: &str) -> Result<Vec<Collected>, StoreError> {
        let found = collected(&mut self.0, Some(courier), cod::END_OF_TIME).await?;
        Ok(found.into_iter().map(|(_, o)| o).collect())
    }

    async fn insert(&mut self, r: &Remittance, fingerprint: &str, document: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cod_remittances (id, courier, reference, remitted_at, currency, fingerprint, document) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(r.id)
        .bind(&r.courier)
        .bind(&r.reference)
        .bind(r.remitted_at)
        .bind(r.currency.code())
        .bind(fingerprint)
        .bind(document)
        .execute(&mut *self.0)
        .await
        .map_err(db_error)?;
        for (i, line) in r.lines.iter().enumerate() {
            let Some(order_id) = line.order_id else { continue };
            sqlx::query(
                "INSERT INTO cod_remitted (remittance_id, line_no, order_id, amount_minor, remitted_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(r.id)
            .bind(i32::try_from(i).map_err(StoreError::internal)?)
            .bind(order_id)
            .bind(line.amount_minor)
            .bind(r.remitted_at)
            .execute(&mut *self.0)
            .await
            .map_err(db_error)?;
        }
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.0.commit().await.map_err(db_error)
    }
}

#[async_trait]
impl Settlement for PostgresStore {
    async fn post_remittance(&self, post: &PostRemittance) -> Result<Posted, StoreError> {
        self.writing(async {
            let mut tx = self.db.write().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(SETTLEMENT_LOCK)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            cod::post(Box::new(PgRemittanceTx(tx)), post).await
        })
        .await
    }

    async fn get_remittance(&self, id: Uuid) -> Result<Option<Remittance>, StoreError> {
        let mut conn = self.db.read().await?;
        let document: Option<String> = sqlx::query_scalar("SELECT document FROM cod_remittances WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
        document.as_deref().map(cod::stored).transpose()
    }

    async fn cod_collected(
        &self,
        courier: Option<&str>,
        as_of: OffsetDateTime,
    ) -> Result<Vec<CourierOrder>, StoreError> {
        let mut conn = self.db.read().await?;
        collected(&mut conn, courier, as_of).await
    }

    async fn cod_shipped(&self, courier: Option<&str>) -> Result<Vec<ShippedCod>, StoreError> {
        let mut conn = self.db.read().await?;
        let rows = sqlx::query(
            "SELECT progress::text AS progress, payment_status FROM orders \
             WHERE payment_method = 'cod' AND fulfilment_status <> 'unfulfilled' \
               AND ($1::text IS NULL OR progress -> 'shipments' -> 0 ->> 'carrier' = $1)",
        )
        .bind(courier)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let progress: String = r.try_get("progress").map_err(StoreError::internal)?;
            let status: String = r.try_get("payment_status").map_err(StoreError::internal)?;
            out.extend(cod::shipped_cod(&progress, &status)?);
        }
        Ok(out)
    }
}
