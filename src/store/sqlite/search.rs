//! Search on SQLite: the conditions `q` adds to a listing, and the filling of the search keys of orders written
//! before migration 0006. Name words and order-number fragments go through the FTS5 trigram table `order_search`
//! (kept in step with `orders` by triggers), phones and customer ids through the B-tree indexes on `orders`.

use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

use crate::domain::search::{SearchQuery, fragment_pattern, word_prefix_pattern};
use crate::store::{StoreError, db_error};

/// ` AND (<any of the ways q can match>)`.
pub(super) fn push_conditions(sql: &mut QueryBuilder<'_, Sqlite>, q: &SearchQuery) {
    sql.push(" AND (0");
    if !q.name_words.is_empty() {
        sql.push(" OR rowid IN (SELECT rowid FROM order_search WHERE 1");
        for word in &q.name_words {
            sql.push(" AND name LIKE ").push_bind(word_prefix_pattern(word));
        }
        sql.push(")");
    }
    if !q.phones.is_empty() {
        sql.push(" OR search_phone IN (");
        let mut list = sql.separated(", ");
        for phone in &q.phones {
            list.push_bind(phone.clone());
        }
        sql.push(")");
    }
    if let Some(fragment) = &q.number_fragment {
        let pattern = fragment_pattern(fragment);
        // FTS5 answers a two-argument LIKE from its index; with ESCAPE it reads every row of the table, which
        // only a fragment holding `%`, `_` or `\` needs.
        let escape = if pattern.len() == fragment.len() + 2 {
            ""
        } else {
            " ESCAPE '\\'"
        };
        sql.push(" OR rowid IN (SELECT rowid FROM order_search WHERE numbers LIKE ")
            .push_bind(pattern)
            .push(escape)
            .push(")");
    }
    sql.push(" OR lower(customer_id) = ").push_bind(q.customer_id.clone());
    sql.push(")");
}

/// Fills the search keys of the orders that have none, a thousand at a time; returns how many it filled.
pub(super) async fn fill_keys(writer: &SqlitePool) -> Result<u64, StoreError> {
    let mut filled = 0;
    loop {
        let found = sqlx::query("SELECT id, number, ship_to, legacy FROM orders WHERE search_name IS NULL LIMIT 1000")
            .fetch_all(writer)
            .await
            .map_err(db_error)?;
        if found.is_empty() {
            return Ok(filled);
        }
        let mut tx = writer.begin().await.map_err(db_error)?;
        for r in &found {
            let id: String = r.try_get("id").map_err(StoreError::internal)?;
            let ship_to: String = r.try_get("ship_to").map_err(StoreError::internal)?;
            let number: String = r.try_get("number").map_err(StoreError::internal)?;
            let legacy: Option<String> = r.try_get("legacy").map_err(StoreError::internal)?;
            let keys = crate::store::search_keys_of_stored(&ship_to, &number, legacy.as_deref());
            sqlx::query("UPDATE orders SET search_name = ?, search_phone = ? WHERE id = ?")
                .bind(keys.name)
                .bind(keys.phone)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        filled += found.len() as u64;
    }
}
