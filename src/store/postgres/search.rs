//! Search on PostgreSQL: the conditions `q` adds to a listing, and the filling of the search keys of orders written
//! before migrations 0006 and 0007 (the keys come from the Rust normaliser, which SQL cannot run).
//!
//! Every condition is answered by an index (migrations 0006, 0007): name words and number fragments by the GIN index on
//! `search_tokens` (`@>`: every token of the query among the order's; a number fragment is then checked whole
//! against the numbers), phones by the B-tree on `search_phone`, customer ids by the B-tree on `lower(customer_id)`.
//! A search runs with custom plans (`sessions`), so that the planner weighs how common the tokens are: for a
//! common name it reads the newest orders in order until a page is full, for a rare one the few matches.

use sqlx::{PgPool, QueryBuilder, Row};
use uuid::Uuid;

use crate::domain::search::{SearchQuery, fragment_pattern};
use crate::store::{StoreError, db_error};

/// ` AND (<any of the ways q can match>)`.
pub(super) fn push_conditions<'a>(sql: &mut QueryBuilder<'a, sqlx::Postgres>, q: &'a SearchQuery) {
    sql.push(" AND (false");
    let name = q.name_tokens();
    if !name.is_empty() {
        sql.push(" OR search_tokens @> ").push_bind(name).push("::text[]");
    }
    if !q.phones.is_empty() {
        sql.push(" OR search_phone = ANY(").push_bind(&q.phones).push(")");
    }
    if let Some(fragment) = &q.number_fragment {
        let pattern = fragment_pattern(fragment);
        sql.push(" OR (search_tokens @> ")
            .push_bind(q.number_tokens())
            .push("::text[]");
        sql.push(" AND (lower(number) LIKE ").push_bind(pattern.clone());
        sql.push(" OR lower(legacy ->> 'order_no') LIKE ")
            .push_bind(pattern)
            .push("))");
    }
    sql.push(" OR lower(customer_id) = ").push_bind(&q.customer_id);
    sql.push(")");
}

/// Fills the search keys of the orders that have none, a thousand at a time; returns how many it filled.
pub(super) async fn fill_keys(pool: &PgPool) -> Result<u64, StoreError> {
    let mut filled = 0;
    loop {
        let found = sqlx::query(
            "SELECT id, number, ship_to::text AS ship_to, legacy::text AS legacy FROM orders \
             WHERE search_tokens IS NULL LIMIT 1000",
        )
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
        if found.is_empty() {
            return Ok(filled);
        }
        let (mut ids, mut tokens, mut phones) = (Vec::new(), Vec::new(), Vec::new());
        for r in &found {
            let text = |column: &str| r.try_get::<Option<String>, _>(column).map_err(StoreError::internal);
            let keys = crate::store::search_keys_of_stored(
                &text("ship_to")?.unwrap_or_default(),
                &text("number")?.unwrap_or_default(),
                text("legacy")?.as_deref(),
            );
            ids.push(r.try_get::<Uuid, _>("id").map_err(StoreError::internal)?);
            // One array literal per order: unnest cannot take an array of arrays of different lengths.
            tokens.push(serde_json::to_string(&keys.tokens).map_err(StoreError::internal)?);
            phones.push(keys.phone);
        }
        sqlx::query(
            "UPDATE orders o SET search_tokens = ARRAY(SELECT jsonb_array_elements_text(v.tokens::jsonb)), \
             search_phone = v.phone FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(id, tokens, phone) \
             WHERE o.id = v.id",
        )
        .bind(&ids)
        .bind(&tokens)
        .bind(&phones)
        .execute(pool)
        .await
        .map_err(db_error)?;
        filled += ids.len() as u64;
    }
}
