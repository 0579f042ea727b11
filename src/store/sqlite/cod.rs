//! COD settlement on SQLite: posting runs in a `BEGIN IMMEDIATE` transaction on the single writer, so
//! remittances are matched one at a time; the unique `(courier, reference)` backs the natural key up.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteConnection, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::SqliteStore;
use super::sqlite_rows::{from_micros, micros, uuid_of};
use crate::domain::cod::{Collected, Remittance, ShippedCod};
use crate::domain::currency::Currency;
use crate::store::cod::{self, CourierOrder, PostRemittance, Posted, RemittanceTx, Settlement};
use crate::store::{StoreError, db_error};

const COLLECTED: &str = "\
SELECT o.id, o.number, o.currency, o.progress, \
       json_extract(o.progress, '$.shipments[0].carrier') AS courier, \
       e.occurred_at AS collected_at, json_extract(e.data, '$.amount_minor') AS collected_minor, \
       COALESCE((SELECT sum(r.amount_minor) FROM cod_remitted r \
                 WHERE r.order_id = o.id AND r.remitted_at <= ?2), 0) AS remitted_minor \
FROM orders o JOIN order_events e ON e.order_id = o.id AND e.type = 'cod.collected' \
WHERE o.payment_method = 'cod' AND o.payment_status IN ('cod_collected', 'partially_refunded', 'refunded') \
  AND (?1 IS NULL OR json_extract(o.progress, '$.shipments[0].carrier') = ?1) AND e.occurred_at <= ?2";

fn collected_row(r: &SqliteRow) -> Result<CourierOrder, StoreError> {
    let progress: String = r.try_get("progress").map_err(StoreError::internal)?;
    let currency: String = r.try_get("currency").map_err(StoreError::internal)?;
    let order = Collected {
        order_id: uuid_of(r, "id")?,
        order_number: r.try_get("number").map_err(StoreError::internal)?,
        tracking_numbers: cod::shipments_of(&progress)?.into_iter().map(|s| s.1).collect(),
        currency: currency.parse::<Currency>().map_err(StoreError::internal)?,
        collected_minor: r.try_get("collected_minor").map_err(StoreError::internal)?,
        collected_at: from_micros(r.try_get("collected_at").map_err(StoreError::internal)?)?,
        remitted_minor: r.try_get("remitted_minor").map_err(StoreError::internal)?,
    };
    let courier: Option<String> = r.try_get("courier").map_err(StoreError::internal)?;
    Ok((courier.unwrap_or_default(), order))
}

async fn collected(
    conn: &mut SqliteConnection,
    courier: Option<&str>,
    as_of: OffsetDateTime,
) -> Result<Vec<CourierOrder>, StoreError> {
    let rows = sqlx::query(COLLECTED)
        .bind(courier)
        .bind(micros(as_of))
        .fetch_all(conn)
        .await
        .map_err(db_error)?;
    rows.iter().map(collected_row).collect()
}

struct SqliteRemittanceTx(Transaction<'static, Sqlite>);

#[async_trait]
impl RemittanceTx for SqliteRemittanceTx {
    async fn find(&mut self, courier: &str, reference: &str) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query("SELECT fingerprint, document FROM cod_remittances WHERE courier = ? AND reference = ?")
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
        let now = micros(OffsetDateTime::now_utc());
        sqlx::query(
            "INSERT INTO cod_remittances (id, courier, reference, remitted_at, currency, fingerprint, document, \
             created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(r.id.to_string())
        .bind(&r.courier)
        .bind(&r.reference)
        .bind(micros(r.remitted_at))
        .bind(r.currency.code())
        .bind(fingerprint)
        .bind(document)
        .bind(now)
        .execute(&mut *self.0)
        .await
        .map_err(db_error)?;
        for (i, line) in r.lines.iter().enumerate() {
            let Some(order_id) = line.order_id else { continue };
            sqlx::query(
                "INSERT INTO cod_remitted (remittance_id, line_no, order_id, amount_minor, remitted_at) \
                 VALUES (?, ?, ?, ?, ?)",
            )
            .bind(r.id.to_string())
            .bind(i64::try_from(i).map_err(StoreError::internal)?)
            .bind(order_id.to_string())
            .bind(line.amount_minor)
            .bind(micros(r.remitted_at))
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
impl Settlement for SqliteStore {
    async fn post_remittance(&self, post: &PostRemittance) -> Result<Posted, StoreError> {
        let tx = self.writer.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
        cod::post(Box::new(SqliteRemittanceTx(tx)), post).await
    }

    async fn get_remittance(&self, id: Uuid) -> Result<Option<Remittance>, StoreError> {
        let mut conn = self.reader.acquire().await.map_err(db_error)?;
        let document: Option<String> = sqlx::query_scalar("SELECT document FROM cod_remittances WHERE id = ?")
            .bind(id.to_string())
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
        let mut conn = self.reader.acquire().await.map_err(db_error)?;
        collected(&mut conn, courier, as_of).await
    }

    async fn cod_shipped(&self, courier: Option<&str>) -> Result<Vec<ShippedCod>, StoreError> {
        let mut conn = self.reader.acquire().await.map_err(db_error)?;
        let rows = sqlx::query(
            "SELECT progress, payment_status FROM orders \
             WHERE payment_method = 'cod' AND fulfilment_status <> 'unfulfilled' \
               AND (?1 IS NULL OR json_extract(progress, '$.shipments[0].carrier') = ?1)",
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
