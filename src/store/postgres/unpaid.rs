//! The open-orders cap and the expiry sweeper's statements on PostgreSQL.

use std::sync::LazyLock;

use sqlx::{PgConnection, Row};
use time::OffsetDateTime;

use super::uow::contention_error;
use crate::domain::values::CustomerId;
use crate::store::unpaid::{EXPIRABLE, Expirable, OPEN_UNPAID};
use crate::store::{StoreError, db_error};

/// The class (first key) of the per-customer placing locks ("oc", open cap), so they never collide with other
/// advisory locks (the relay's and the sweeper's take single 64-bit keys, a separate key space anyway).
const CUSTOMER_LOCK_CLASS: i32 = 0x6f63;

/// Serialises the placings of one customer until the transaction ends. The lock is a statement of its own, before
/// `create::load_for_placing` counts the customer's open unpaid orders: under READ COMMITTED that count's snapshot
/// is then taken with the lock held, so it sees every order a previous holder committed. `lock_timeout` bounds the
/// wait (503 busy).
pub(super) async fn lock_customer(conn: &mut PgConnection, customer: &CustomerId) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(CUSTOMER_LOCK_CLASS)
        .bind(customer.as_str())
        .execute(&mut *conn)
        .await
        .map_err(contention_error)?;
    Ok(())
}

/// The number of open unpaid orders of the customer bound as `param`, as a scalar subquery.
pub(super) fn open_unpaid_of(param: &str) -> String {
    format!("(SELECT count(*) FROM orders WHERE customer_id = {param} AND {OPEN_UNPAID})")
}

/// See `expirable`.
pub(super) static EXPIRABLE_ORDERS: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT id, version FROM orders WHERE {EXPIRABLE} AND created_at < $1 ORDER BY created_at LIMIT $2")
});

/// Card orders placed before `placed_before` and still unpaid, oldest first (the partial index of migration 0005).
pub(super) async fn expirable(
    conn: &mut sqlx::PgConnection,
    placed_before: OffsetDateTime,
    limit: u32,
) -> Result<Vec<Expirable>, StoreError> {
    let found = sqlx::query(&EXPIRABLE_ORDERS)
        .bind(placed_before)
        .bind(i64::from(limit))
        .fetch_all(conn)
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
