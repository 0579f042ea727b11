//! The part of the port the legacy migration uses: resumable import runs, what earlier imports wrote per legacy
//! order, batched writes of imported and synced orders, the catalog and stock an export brings, and the reads the
//! reconciliation and the export back need.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{OrderCursor, Store, StoreError};
use crate::domain::catalog::Product;
use crate::domain::events::OrderEvent;
use crate::domain::order::Order;
use crate::domain::values::Sku;

/// What an import run did to a legacy order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackfillAction {
    Created,
    Updated,
}

impl BackfillAction {
    pub fn as_str(self) -> &'static str {
        match self {
            BackfillAction::Created => "created",
            BackfillAction::Updated => "updated",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "created" => Some(BackfillAction::Created),
            "updated" => Some(BackfillAction::Updated),
            _ => None,
        }
    }
}

/// What the store knows of one legacy order: the last import's checksum and the version it left the order at,
/// beside the order's current version (greater: Orderly has changed it since, and owns it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyRecord {
    pub legacy_order_id: i64,
    pub order_id: Uuid,
    pub checksum: String,
    pub synced_version: i64,
    pub version: i64,
    pub run_id: i64,
    pub action: BackfillAction,
    pub grand_total_minor: i64,
}

impl LegacyRecord {
    pub fn owned_by_orderly(&self) -> bool {
        self.version > self.synced_version
    }
}

/// One order to write: its state after the write and the event that got it there.
#[derive(Clone, Debug)]
pub struct BackfillOrder {
    pub legacy_order_id: i64,
    pub checksum: String,
    pub order: Order,
    pub event: OrderEvent,
}

/// One transaction's worth of an import run.
pub struct BackfillBatch<'a> {
    pub run_id: i64,
    /// New orders (their first event is `order.imported`).
    pub created: &'a [BackfillOrder],
    /// Orders brought up to date (`order.legacy_synced`); each is written only if it is still at the version
    /// before its event, otherwise it is left alone and reported back.
    pub synced: &'a [BackfillOrder],
}

/// The stock of one SKU as an export sets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StockCount {
    pub sku: Sku,
    pub on_hand: i64,
    pub reserved: i64,
}

#[async_trait]
pub trait Backfill: Send + Sync {
    /// The unfinished run of this export (by digest) to resume, or a new run.
    async fn begin_run(&self, digest: &str, now: OffsetDateTime) -> Result<i64, StoreError>;
    async fn legacy_records(&self, legacy_ids: &[i64]) -> Result<Vec<LegacyRecord>, StoreError>;
    /// Writes the batch in one transaction. Returns the legacy ids of synced orders that Orderly changed in the
    /// meantime, which were not written.
    async fn write_backfill(&self, batch: BackfillBatch<'_>) -> Result<Vec<i64>, StoreError>;
    /// Upserts the products and sets the stock, and marks the run finished, in one transaction.
    async fn finish_run(
        &self,
        run_id: i64,
        products: &[Product],
        stock: &[StockCount],
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    async fn orders_by_ids(&self, ids: &[Uuid]) -> Result<Vec<Order>, StoreError>;
    /// Orders Orderly created, or changed after importing them, at or after `since`, in (updated_at, id) order.
    async fn orders_changed_since(
        &self,
        since: OffsetDateTime,
        after: Option<OrderCursor>,
        limit: u32,
    ) -> Result<Vec<Order>, StoreError>;
}

/// A store the migration tools can use: the whole port and the backfill part.
pub trait MigrationStore: Store + Backfill {}

impl<T: Store + Backfill> MigrationStore for T {}
