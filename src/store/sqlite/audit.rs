//! The audit trail on SQLite: appending to the one global chain of `audit_log` (every write holds the single
//! writer, so the head cannot move meanwhile), its listing, the pages `orderly verify` walks, and sealing events
//! written before migration 0004 added the hashes.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};
use uuid::Uuid;

use super::SqliteStore;
use super::sqlite_rows::{from_micros, micros, uuid_of};
use crate::audit::chain::{self, GENESIS};
use crate::store::audit::{Audit, AuditEntry, AuditPage, AuditQuery, AuditRecord, ChainCursor, ChainLink, StoredEvent};
use crate::store::{StoreError, db_error};

/// Appends `entries` to the audit chain inside the caller's (writer) transaction.
pub(super) async fn append(conn: &mut SqliteConnection, entries: &[AuditEntry]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
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
             prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(seq)
        .bind(micros(e.at))
        .bind(&e.actor)
        .bind(e.request_id.as_deref())
        .bind(e.entity_type)
        .bind(&e.entity_id)
        .bind(e.action)
        .bind(e.before.as_ref().map(|v| v.to_string()))
        .bind(e.after.as_ref().map(|v| v.to_string()))
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
        prev = hash;
    }
    Ok(())
}

const AUDIT_COLUMNS: &str = "SELECT seq, at, actor, request_id, entity_type, entity_id, action, before, after, \
    prev_hash, hash FROM audit_log";

fn parse_json(raw: Option<String>) -> Result<Option<serde_json::Value>, StoreError> {
    raw.map(|r| serde_json::from_str(&r).map_err(StoreError::internal))
        .transpose()
}

fn audit_row(r: &SqliteRow) -> Result<AuditRecord, StoreError> {
    let get = || -> Result<AuditRecord, anyhow::Error> {
        Ok(AuditRecord {
            seq: r.try_get("seq")?,
            at: from_micros(r.try_get("at")?)?,
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

/// The events of every order, with the order's version, in (order id, sequence) order. Ids are stored as
/// lowercase hyphenated text, whose order is the order of the UUIDs.
const EVENT_CHAINS: &str = "SELECT o.id AS order_id, o.version, e.id AS event_id, e.sequence, e.type, e.data, \
    e.actor, e.occurred_at, e.prev_hash, e.hash \
    FROM orders o LEFT JOIN order_events e ON e.order_id = o.id \
    WHERE o.id >= ?1 AND (o.id, coalesce(e.sequence, 0)) > (?1, ?2) \
    ORDER BY o.id, e.sequence NULLS FIRST LIMIT ?3";

fn stored_event(r: &SqliteRow) -> Result<Option<StoredEvent>, StoreError> {
    let get = || -> Result<Option<StoredEvent>, anyhow::Error> {
        let Some(id) = r.try_get::<Option<String>, _>("event_id")? else {
            return Ok(None);
        };
        let data: String = r.try_get("data")?;
        Ok(Some(StoredEvent {
            id: Uuid::parse_str(&id)?,
            sequence: r.try_get("sequence")?,
            kind: r.try_get("type")?,
            data: serde_json::from_str(&data)?,
            actor: r.try_get("actor")?,
            occurred_at: from_micros(r.try_get("occurred_at")?)?,
            prev_hash: r.try_get("prev_hash")?,
            hash: r.try_get("hash")?,
        }))
    };
    get().map_err(StoreError::Internal)
}

#[async_trait]
impl Audit for SqliteStore {
    async fn audit_log(&self, q: &AuditQuery) -> Result<AuditPage, StoreError> {
        let mut sql = QueryBuilder::<Sqlite>::new(AUDIT_COLUMNS);
        sql.push(" WHERE 1");
        if let Some(t) = &q.entity_type {
            sql.push(" AND entity_type = ").push_bind(t.clone());
        }
        if let Some(id) = &q.entity_id {
            sql.push(" AND entity_id = ").push_bind(id.clone());
        }
        if let Some(from) = q.from {
            sql.push(" AND at >= ").push_bind(micros(from));
        }
        if let Some(to) = q.to {
            sql.push(" AND at < ").push_bind(micros(to));
        }
        if let Some(before) = q.before_seq {
            sql.push(" AND seq < ").push_bind(before);
        }
        sql.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(q.limit) + 1);
        let found = sql.build().fetch_all(&self.reader).await.map_err(db_error)?;
        let records = found.iter().map(audit_row).collect::<Result<Vec<_>, _>>()?;
        Ok(AuditPage::of(records, q.limit))
    }

    async fn audit_chain(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        let found = sqlx::query(&format!("{AUDIT_COLUMNS} WHERE seq > ? ORDER BY seq LIMIT ?"))
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        found.iter().map(audit_row).collect()
    }

    async fn event_chains(&self, after: Option<ChainCursor>, limit: u32) -> Result<Vec<ChainLink>, StoreError> {
        let (order_id, sequence) = after.map_or((String::new(), -1), |c| (c.order_id.to_string(), c.sequence));
        let found = sqlx::query(EVENT_CHAINS)
            .bind(order_id)
            .bind(sequence)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(db_error)?;
        found
            .iter()
            .map(|r| {
                Ok(ChainLink {
                    order_id: uuid_of(r, "order_id")?,
                    order_version: r.try_get("version").map_err(StoreError::internal)?,
                    event: stored_event(r)?,
                })
            })
            .collect()
    }
}

/// Hashes the events written before migration 0004 (their `hash` is NULL), per order in sequence order. Run by
/// `migrate`; a no-op once done.
pub(super) async fn seal_events(writer: &SqlitePool) -> Result<u64, StoreError> {
    let mut sealed = 0;
    let mut after = (String::new(), 0i64);
    let mut last: HashMap<String, (i64, String)> = HashMap::new();
    loop {
        let mut tx = writer.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
        let found = sqlx::query(
            "SELECT id, order_id, sequence, type, data, actor, occurred_at FROM order_events \
             WHERE hash IS NULL AND (order_id, sequence) > (?, ?) ORDER BY order_id, sequence LIMIT 1000",
        )
        .bind(&after.0)
        .bind(after.1)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        if found.is_empty() {
            return Ok(sealed);
        }
        for r in &found {
            let get = || -> Result<(String, StoredEvent), anyhow::Error> {
                let data: String = r.try_get("data")?;
                let id: String = r.try_get("id")?;
                let event = StoredEvent {
                    id: Uuid::parse_str(&id)?,
                    sequence: r.try_get("sequence")?,
                    kind: r.try_get("type")?,
                    data: serde_json::from_str(&data)?,
                    actor: r.try_get("actor")?,
                    occurred_at: from_micros(r.try_get("occurred_at")?)?,
                    prev_hash: None,
                    hash: None,
                };
                Ok((r.try_get("order_id")?, event))
            };
            let (order_id, e) = get().map_err(StoreError::Internal)?;
            let sequence = e.sequence;
            after = (order_id.clone(), sequence);
            let prev = match last.get(&order_id) {
                Some((s, h)) if *s == sequence - 1 => Some(h.clone()),
                _ if sequence == 1 => Some(GENESIS.to_owned()),
                _ => sqlx::query_scalar::<_, Option<String>>(
                    "SELECT hash FROM order_events WHERE order_id = ? AND sequence = ?",
                )
                .bind(&order_id)
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
                    order_id: Uuid::parse_str(&order_id).map_err(StoreError::internal)?,
                    sequence,
                    kind: &e.kind,
                    occurred_at: e.occurred_at,
                    actor: &e.actor,
                    data: &e.data,
                },
            );
            sqlx::query("UPDATE order_events SET prev_hash = ?, hash = ? WHERE id = ?")
                .bind(&prev)
                .bind(&hash)
                .bind(e.id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            last.insert(order_id, (sequence, hash));
            sealed += 1;
        }
        tx.commit().await.map_err(db_error)?;
        last.clear();
    }
}
