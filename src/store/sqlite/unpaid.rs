//! The open-orders cap and the expiry sweeper's statements on SQLite.

use sqlx::sqlite::SqlitePool;
use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::sqlite_rows::micros;
use crate::domain::values::CustomerId;
use crate::store::unpaid::{EXPIRABLE, Expirable, OPEN_UNPAID};
use crate::store::{StoreError, db_error};

/// The customer's open unpaid orders. The write transaction (`BEGIN IMMEDIATE`) already excludes every other
/// writer, so no placing of the same customer can commit between this count and the commit.
pub(super) async fn count_open_unpaid(conn: &mut SqliteConnection, customer: &CustomerId) -> Result<i64, StoreError> {
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM orders WHERE customer_id = ? AND {OPEN_UNPAID}"
    ))
    .bind(customer.as_str())
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)
}

/// Card orders placed before `placed_before` and still unpaid, oldest first.
pub(super) async fn expirable(
    pool: &SqlitePool,
    placed_before: OffsetDateTime,
    limit: u32,
) -> Result<Vec<Expirable>, StoreError> {
    let found = sqlx::query(&format!(
        "SELECT id, version FROM orders WHERE {EXPIRABLE} AND created_at < ? ORDER BY created_at LIMIT ?"
    ))
    .bind(micros(placed_before))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    found
        .iter()
        .map(|r| {
            let id: String = r.try_get("id").map_err(StoreError::internal)?;
            Ok(Expirable {
                id: Uuid::parse_str(&id).map_err(StoreError::internal)?,
                version: r.try_get("version").map_err(StoreError::internal)?,
            })
        })
        .collect()
}
