//! Search on PostgreSQL: the conditions `q` adds to a listing, and the filling of the search keys of orders written
//! before migration 0006 (the keys come from the Rust normaliser, which SQL cannot run).
//!
//! Every condition is answered by an index (migration 0006): name words by the trigram index on `search_name`
//! (`LIKE '% word%'`), phones by the B-tree on `search_phone`, number fragments by the trigram indexes on the lower-case
//! order numbers, customer ids by the B-tree on `lower(customer_id)`. A search runs with custom plans (`sessions`),
//! so that the planner sees the patterns: a generic plan cannot tell a rare name from a common one.

use sqlx::{PgPool, QueryBuilder, Row};
use uuid::Uuid;

use crate::domain::search::{SearchQuery, fragment_pattern, word_prefix_pattern};
use crate::store::{StoreError, db_error};

/// ` AND (<any of the ways q can match>)`.
pub(super) fn push_conditions<'a>(sql: &mut QueryBuilder<'a, sqlx::Postgres>, q: &'a SearchQuery) {
    sql.push(" AND (false");
    if !q.name_words.is_empty() {
        sql.push(" OR (true");
        for word in &q.name_words {
            sql.push(" AND search_name LIKE ").push_bind(word_prefix_pattern(word));
        }
        sql.push(")");
    }
    if !q.phones.is_empty() {
        sql.push(" OR search_phone = ANY(").push_bind(&q.phones).push(")");
    }
    if let Some(fragment) = &q.number_fragment {
        let pattern = fragment_pattern(fragment);
        sql.push(" OR lower(number) LIKE ").push_bind(pattern.clone());
        sql.push(" OR lower(legacy ->> 'order_no') LIKE ").push_bind(pattern);
    }
    sql.push(" OR lower(customer_id) = ").push_bind(&q.customer_id);
    sql.push(")");
}

/// Fills the search keys of the orders that have none, a thousand at a time; returns how many it filled.
pub(super) async fn fill_keys(pool: &PgPool) -> Result<u64, StoreError> {
    let mut filled = 0;
    loop {
        let found = sqlx::query("SELECT id, ship_to::text AS ship_to FROM orders WHERE search_name IS NULL LIMIT 1000")
            .fetch_all(pool)
            .await
            .map_err(db_error)?;
        if found.is_empty() {
            return Ok(filled);
        }
        let (mut ids, mut names, mut phones) = (Vec::new(), Vec::new(), Vec::new());
        for r in &found {
            let ship_to: String = r.try_get("ship_to").map_err(StoreError::internal)?;
            let keys = crate::store::search_keys_of_stored(&ship_to);
            ids.push(r.try_get::<Uuid, _>("id").map_err(StoreError::internal)?);
            names.push(keys.name);
            phones.push(keys.phone);
        }
        sqlx::query(
            "UPDATE orders o SET search_name = v.name, search_phone = v.phone \
             FROM unnest($1::uuid[], $2::text[], $3::text[]) AS v(id, name, phone) WHERE o.id = v.id",
        )
        .bind(&ids)
        .bind(&names)
        .bind(&phones)
        .execute(pool)
        .await
        .map_err(db_error)?;
        filled += ids.len() as u64;
    }
}
