//! The audit trail on PostgreSQL: appending to the one global chain of `audit_log` (serialised by a
//! transaction-scoped advisory lock, so two writers never chain onto the same row), its listing, the pages
//! `orderly verify` walks, and sealing events written before migration 0004 added the hashes.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, QueryBuilder, Row};
use uuid::Uuid;

use super::PostgresStore;
use crate::audit::chain::{self, GENESIS};
use crate::store::audit::{Audit, AuditEntry, AuditPage, AuditQuery, AuditRecord, ChainCursor, ChainLink, StoredEvent};
use crate::store::{StoreError, db_error};

use super::AUDIT_LOCK;

fn json_text(v: &Option<serde_json::Value>) -> Option<String> {
    v.as_ref().map(|v| v.to_string())
}

/// Takes the audit chain's lock until the transaction ends. A catalog write takes it first, before it reads what
/// it will record as `before`: catalog and stock writes are then serialised (they are rare; orders never take it),
/// so each row's `before` is exactly what the write replaced, and the lock always comes before any row lock.
pub(super) async fn lock(conn: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOCK)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Appends `entries` to the audit chain inside the caller's transaction (which holds [`lock`]; taking it again
/// is harmless).
pub(super) async fn append(conn: &mut PgConnection, entries: &[AuditEntry]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    lock(conn).await?;
    // Read after the lock: under READ COMMITTED this statement sees the head the previous holder committed.
    let head: Option<(i64, String)> = sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_error)?;
    let (mut seq, mut prev) = head.unwrap_or((0, GENESIS.to_owned()));
    for e in entries {
        seq += 1;
        let hash = e.hash(seq, &prev);
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, request_id, entity_type, entity_id, action, before, after, \
             prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11)",
        )
        .bind(seq)
        .bind(e.at)
        .bind(&e.actor)
        .bind(e.request_id.as_deref())
        .bind(e.entity_type)
        .bind(&e.entity_id)
        .bind(e.action)
        .bind(json_text(&e.before))
        .bind(json_text(&e.after))
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
        prev = hash;
    }
    Ok(())
}

const AUDIT_COLUMNS: &str = "SELECT seq, at, actor, request_id, entity_type, entity_id, action, before::text AS before, \
    after::text AS after, prev_hash, hash FROM audit_log";

fn parse_json(raw: Option<String>) -> Result<Option<serde_json::Value>, StoreError> {
    raw.map(|r| serde_json::from_str(&r).map_err(StoreError::internal))
        .transpose()
}

fn audit_row(r: &PgRow) -> Result<AuditRecord, StoreError> {
    let get = || -> Result<AuditRecord, anyhow::Error> {
        Ok(AuditRecord {
            seq: r.try_get("seq")?,
            at: r.try_get("at")?,
            actor: r.try_get("actor")?,
            request_id: r.try_get("request_id")?,
            entity_type: r.try_get("entity_type")?,
            entity_id: r.try_get("entity_id")?,
            action: r.try_get("action")?,
            before: parse_json(r.try_get("before")?)?,
            after: parse_json(r.try_get("after")?)?,
            prev_hash: r.try_get("prev_hash")?,
            hash: r.try_get("hash")?,
        })
    };
    get().map_err(StoreError::Internal)
}

/// The events of every order, with the order's version, in (order id, sequence) order.
const EVENT_CHAINS: &str = "SELECT o.id AS order_id, o.version, e.id AS event_id, e.sequence, e.type, \
    e.data::text AS data, e.actor, e.occurred_at, e.prev_hash, e.hash \
    FROM orders o LEFT JOIN order_events e ON e.order_id = o.id \
    WHERE o.id >= $1 AND (o.id, coalesce(e.sequence, 0)) > ($1, $2) \
    ORDER BY o.id, e.sequence NULLS FIRST LIMIT $3";

fn stored_event(r: &PgRow) -> Result<Option<StoredEvent>, StoreError> {
    let get = || -> Result<Option<StoredEvent>, anyhow::Error> {
        let Some(id) = r.try_get::<Option<Uuid>, _>("event_id")? else {
            return Ok(None);
        };
        let data: String = r.try_get("data")?;
        Ok(Some(StoredEvent {
            id,
            sequence: r.try_get("sequence")?,
            kind: r.try_get("type")?,
            data: serde_json::from_str(&data)?,
            actor: r.try_get("actor")?,
            occurred_at: r.try_get("occurred_at")?,
            prev_hash: r.try_get("prev_hash")?,
            hash: r.try_get("hash")?,
        }))
    };
    get().map_err(StoreError::Internal)
}

#[async_trait]
impl Audit for PostgresStore {
    async fn audit_log(&self, q: &AuditQuery) -> Result<AuditPage, StoreError> {
        let mut sql = QueryBuilder::<sqlx::Postgres>::new(AUDIT_COLUMNS);
        sql.push(" WHERE true");
        if let Some(t) = &q.entity_type {
            sql.push(" AND entity_type = ").push_bind(t.as_str());
        }
        if let Some(id) = &q.entity_id {
            sql.push(" AND entity_id = ").push_bind(id.as_str());
        }
        if let Some(from) = q.from {
            sql.push(" AND at >= ").push_bind(from);
        }
        if let Some(to) = q.to {
            sql.push(" AND at < ").push_bind(to);
        }
        if let Some(before) = q.before_seq {
            sql.push(" AND seq < ").push_bind(before);
        }
        sql.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(q.limit) + 1);
        let mut conn = self.db.read().await?;
        let found = sql.build().fetch_all(&mut *conn).await.map_err(db_error)?;
        let records = found.iter().map(audit_row).collect::<Result<Vec<_>, _>>()?;
        Ok(AuditPage::of(records, q.limit))
    }

    async fn audit_chain(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        let mut conn = self.db.read().await?;
        let found = sqlx::query(&format!("{AUDIT_COLUMNS} WHERE seq > $1 ORDER BY seq LIMIT $2"))
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
        found.iter().map(audit_row).collect()
    }

    async fn event_chains(&self, after: Option<ChainCursor>, limit: u32) -> Result<Vec<ChainLink>, StoreError> {
        let (order_id, sequence) = after.map_or((Uuid::nil(), -1), |c| (c.order_id, c.sequence));
        let mut conn = self.db.read().await?;
        let found = sqlx::query(EVENT_CHAINS)
            .bind(order_id)
            .bind(sequence)
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
        found
            .iter()
            .map(|r| {
                Ok(ChainLink {
                    order_id: r.try_get("order_id").map_err(StoreError::internal)?,
                    order_version: r.try_get("version").map_err(StoreError::internal)?,
                    event: stored_event(r)?,
                })
            })
            .collect()
    }
}

/// Hashes the events written before migration 0004 (their `hash` is NULL), per order in sequence order, so that
/// `orderly verify` can hold them to the chain from now on. Run by `migrate` as the owner; a no-op once done.
pub(super) async fn seal_events(pool: &PgPool) -> Result<u64, StoreError> {
    let mut sealed = 0;
    let mut after = (Uuid::nil(), 0i64);
    let mut last: HashMap<Uuid, (i64, String)> = HashMap::new();
    loop {
        let found = sqlx::query(
            "SELECT id, order_id, sequence, type, data::text AS data, actor, occurred_at FROM order_events \
             WHERE hash IS NULL AND (order_id, sequence) > ($1, $2) ORDER BY order_id, sequence LIMIT 1000",
        )
        .bind(after.0)
        .bind(after.1)
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
        if found.is_empty() {
            return Ok(sealed);
        }
        last.clear();
        let mut tx = pool.begin().await.map_err(db_error)?;
        for r in &found {
            let get = || -> Result<(Uuid, StoredEvent), anyhow::Error> {
                let data: String = r.try_get("data")?;
                let event = StoredEvent {
                    id: r.try_get("id")?,
                    sequence: r.try_get("sequence")?,
                    kind: r.try_get("type")?,
                    data: serde_json::from_str(&data)?,
                    actor: r.try_get("actor")?,
                    occurred_at: r.try_get("occurred_at")?,
                    prev_hash: None,
                    hash: None,
                };
                Ok((r.try_get("order_id")?, event))
            };
            let (order_id, e) = get().map_err(StoreError::Internal)?;
            let sequence = e.sequence;
            after = (order_id, sequence);
            let prev = match last.get(&order_id) {
                Some((s, h)) if *s == sequence - 1 => Some(h.clone()),
                _ if sequence == 1 => Some(GENESIS.to_owned()),
                _ => sqlx::query_scalar::<_, Option<String>>(
                    "SELECT hash FROM order_events WHERE order_id = $1 AND sequence = $2",
                )
                .bind(order_id)
                .bind(sequence - 1)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?
                .flatten(),
            };
            // A gap in the sequence is left unsealed: `orderly verify` reports it.
            let Some(prev) = prev else { continue };
            let hash = chain::event_hash(
                &prev,
                &chain::EventContent {
                    id: e.id,
                    order_id,
                    sequence,
                    kind: &e.kind,
                    occurred_at: e.occurred_at,
                    actor: &e.actor,
                    data: &e.data,
                },
            );
            sqlx::query("UPDATE order_events SET prev_hash = $2, hash = $3 WHERE id = $1")
                .bind(e.id)
                .bind(&prev)
                .bind(&hash)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            last.insert(order_id, (sequence, hash));
            sealed += 1;
        }
        tx.commit().await.map_err(db_error)?;
    }
}
