//! The open-orders cap and the expiry sweeper's statements on PostgreSQL.

use sqlx::postgres::PgPool;
use sqlx::{PgConnection, Row};
use time::OffsetDateTime;

use super::uow::contention_error;
use crate::domain::values::CustomerId;
use crate::store::unpaid::{EXPIRABLE, Expirable, OPEN_UNPAID};
use crate::store::{StoreError, db_error};

/// The class (first key) of the per-customer placing locks ("oc", open cap), so they never collide with other
/// advisory locks (the relay's and the sweeper's take single 64-bit keys, a separate key space anyway).
const CUSTOMER_LOCK_CLASS: i32 = 0x6f63;

/// Serialises the placings of one customer until the transaction ends, then counts the customer's open unpaid
/// orders. The lock is a statement of its own: under READ COMMITTED the count's snapshot is then taken after the
/// lock is held, so it sees every order a previous holder committed. `lock_timeout` bounds the wait (503 busy).
pub(super) async fn count_open_unpaid(conn: &mut PgConnection, customer: &CustomerId) -> Result<i64, StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(CUSTOMER_LOCK_CLASS)
        .bind(customer.as_str())
        .execute(&mut *conn)
        .await
        .map_err(contention_error)?;
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM orders WHERE customer_id = $1 AND {OPEN_UNPAID}"
    ))
    .bind(customer.as_str())
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)
}

/// Card orders placed before `placed_before` and still unpaid, oldest first (the partial index of migration 0005).
pub(super) async fn expirable(
    pool: &PgPool,
    placed_before: OffsetDateTime,
    limit: u32,
) -> Result<Vec<Expirable>, StoreError> {
    let found = sqlx::query(&format!(
        "SELECT id, version FROM orders WHERE {EXPIRABLE} AND created_at < $1 ORDER BY created_at LIMIT $2"
    ))
    .bind(placed_before)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(db_error)?;
    found
        .iter()
        .map(|r| {
            Ok(Expirable {
                id: r.try_get("id").map_err(StoreError::internal)?,
                version: r.try_get("version").map_err(StoreError::internal)?,
            })
        })
        .collect()
}
