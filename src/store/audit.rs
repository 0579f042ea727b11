//! The part of the port for the audit trail: who changed the catalog and stock (the `audit_log` table, one global
//! hash chain), and the reads `orderly verify` walks both chains with. Writes are recorded by the catalog
//! operations themselves, in their own transaction, so a change and its audit row commit or roll back together.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;

/// Who asked for a catalog or stock write: the token's `sub` (or a `system:` name for the tools) and the request
/// id the HTTP layer assigned, recorded with the write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub actor: String,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn new(actor: impl Into<String>, request_id: Option<String>) -> Self {
        Actor {
            actor: actor.into(),
            request_id,
        }
    }

    /// A tool rather than a person, e.g. `system:legacy-import`.
    pub fn system(name: &str) -> Self {
        Actor::new(format!("system:{name}"), None)
    }
}

/// The actor of the legacy import's catalog and stock writes: `system:legacy-import`, with the run as the request
/// id (`legacy-run-<id>`), which ties the audit rows to the run's report.
pub fn import_actor(run_id: i64) -> Actor {
    Actor::new("system:legacy-import", Some(format!("legacy-run-{run_id}")))
}

/// What one audit row records, before the store numbers and chains it.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    pub at: OffsetDateTime,
    pub actor: String,
    pub request_id: Option<String>,
    /// `product` or `stock`.
    pub entity_type: &'static str,
    pub entity_id: String,
    /// `created`, `updated` (products) or `set` (stock).
    pub action: &'static str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// One stored audit row, with its place in the chain.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRecord {
    /// 1, 2, 3 ... without gaps, in commit order: the row's id.
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor: String,
    pub request_id: Option<String>,
    pub entity_type: String,
    pub entity_id: String,
    pub action: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub prev_hash: String,
    pub hash: String,
}

/// A listing of the audit log, newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// Inclusive.
    pub from: Option<OffsetDateTime>,
    /// Exclusive.
    pub to: Option<OffsetDateTime>,
    pub limit: u32,
    /// Continue with rows older than this `seq`.
    pub before_seq: Option<i64>,
}

#[derive(Clone, Debug)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    /// The `seq` to continue before, when there is more.
    pub next: Option<i64>,
}

impl AuditPage {
    /// A page from up to `limit + 1` rows read newest first: the extra row only says that there is more.
    pub(crate) fn of(mut records: Vec<AuditRecord>, limit: u32) -> Self {
        let more = records.len() > limit as usize;
        records.truncate(limit as usize);
        let next = if more { records.last().map(|r| r.seq) } else { None };
        AuditPage { records, next }
    }
}

/// An order and, unless it has none, one of its events, as stored, for `orderly verify`.
#[derive(Clone, Debug)]
pub struct ChainLink {
    pub order_id: Uuid,
    pub order_version: i64,
    pub event: Option<StoredEvent>,
}

/// An event row with its hashes, the data as the database returns it.
#[derive(Clone, Debug)]
pub struct StoredEvent {
    pub id: Uuid,
    pub sequence: i64,
    pub kind: String,
    pub data: serde_json::Value,
    pub actor: String,
    pub occurred_at: OffsetDateTime,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

/// Where a walk of the event chains stands: after this order's event of this sequence (0: the order itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainCursor {
    pub order_id: Uuid,
    pub sequence: i64,
}

#[async_trait]
pub trait Audit: Send + Sync {
    /// Audit rows matching the query, newest first.
    async fn audit_log(&self, query: &AuditQuery) -> Result<AuditPage, StoreError>;
    /// Up to `limit` audit rows after `after_seq`, oldest first: one page of the chain.
    async fn audit_chain(&self, after_seq: i64, limit: u32) -> Result<Vec<AuditRecord>, StoreError>;
    /// Up to `limit` orders-with-events rows after `after`, in (order id, sequence) order; an order without
    /// events appears once with `event: None`. One page of every order's chain.
    async fn event_chains(&self, after: Option<ChainCursor>, limit: u32) -> Result<Vec<ChainLink>, StoreError>;
}

/// A product as its audit rows show it before and after a write.
pub fn product_state(p: &crate::domain::catalog::Product) -> serde_json::Value {
    serde_json::json!({
        "sku": p.sku.as_str(),
        "name_en": p.name_en,
        "name_ar": p.name_ar,
        "prices": p.prices.iter().map(|m| serde_json::json!({
            "currency": m.currency().code(),
            "amount_minor": m.amount_minor(),
        })).collect::<Vec<_>>(),
        "tax_class": p.tax_class.as_str(),
        "active": p.active,
    })
}

/// A stock level as its audit rows show it.
pub fn stock_state(l: crate::domain::stock::StockLevel) -> serde_json::Value {
    serde_json::json!({ "on_hand": l.on_hand, "reserved": l.reserved })
}

/// The audit row of a product write (`created` when there was no product before).
pub fn product_entry(
    by: &Actor,
    at: OffsetDateTime,
    before: Option<&crate::domain::catalog::Product>,
    after: &crate::domain::catalog::Product,
) -> AuditEntry {
    AuditEntry {
        at,
        actor: by.actor.clone(),
        request_id: by.request_id.clone(),
        entity_type: "product",
        entity_id: after.sku.as_str().to_owned(),
        action: if before.is_some() { "updated" } else { "created" },
        before: before.map(product_state),
        after: Some(product_state(after)),
    }
}

/// The audit row of a stock write.
pub fn stock_entry(
    by: &Actor,
    at: OffsetDateTime,
    sku: &crate::domain::values::Sku,
    before: Option<crate::domain::stock::StockLevel>,
    after: crate::domain::stock::StockLevel,
) -> AuditEntry {
    AuditEntry {
        at,
        actor: by.actor.clone(),
        request_id: by.request_id.clone(),
        entity_type: "stock",
        entity_id: sku.as_str().to_owned(),
        action: "set",
        before: before.map(stock_state),
        after: Some(stock_state(after)),
    }
}

impl AuditEntry {
    /// The hash of this entry as row `seq` after a row that hashed to `prev_hash`.
    pub fn hash(&self, seq: i64, prev_hash: &str) -> String {
        crate::audit::chain::audit_hash(
            prev_hash,
            &crate::audit::chain::AuditContent {
                seq,
                at: self.at,
                actor: &self.actor,
                request_id: self.request_id.as_deref(),
                entity_type: self.entity_type,
                entity_id: &self.entity_id,
                action: self.action,
                before: self.before.as_ref(),
                after: self.after.as_ref(),
            },
        )
    }
}

impl AuditRecord {
    /// The hash this row should have, recomputed from its content and its stored `prev_hash`.
    pub fn recomputed_hash(&self) -> String {
        crate::audit::chain::audit_hash(
            &self.prev_hash,
            &crate::audit::chain::AuditContent {
                seq: self.seq,
                at: self.at,
                actor: &self.actor,
                request_id: self.request_id.as_deref(),
                entity_type: &self.entity_type,
                entity_id: &self.entity_id,
                action: &self.action,
                before: self.before.as_ref(),
                after: self.after.as_ref(),
            },
        )
    }
}
