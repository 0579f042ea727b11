//! The port, split by concern so each caller (and the timing decorator) deals with the part it uses: the catalog
//! and its stock, orders, the outbox, health, the audit trail (`audit`), COD settlement (`cod`) and tax documents (`invoicing`). `Store` is all seven, for the one `Arc<dyn Store>` the service
//! shares.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::{Actor, Audit};
use super::cod::Settlement;
use super::invoicing::Invoices;
use super::unpaid::Expirable;
use super::{Executed, OrderPage, OrderQuery, OutboxBacklog, PlaceOrder, PoolState, StoreError, UpdateOrder};
use crate::domain::catalog::Product;
use crate::domain::events::OrderEvent;
use crate::domain::order::Order;
use crate::domain::stock::StockLevel;
use crate::domain::values::Sku;

/// Products and their stock, as the back office maintains them.
#[async_trait]
pub trait Catalog: Send + Sync {
    /// Creates or replaces a product, recording who did it in the audit log in the same transaction. Returns true
    /// when it was created.
    async fn put_product(&self, product: &Product, by: &Actor) -> Result<bool, StoreError>;
    async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError>;
    /// Sets the counted stock of an existing product, keeping what open orders reserve; audited like
    /// `put_product`.
    async fn set_stock(&self, sku: &Sku, on_hand: i64, by: &Actor) -> Result<StockLevel, StoreError>;
    async fn get_stock(&self, sku: &Sku) -> Result<Option<StockLevel>, StoreError>;
    /// Up to `limit` products in SKU order, after `after`, each with its stock row where it has one (the
    /// operations console's list).
    async fn list_products(&self, after: Option<&Sku>, limit: u32) -> Result<Vec<ProductStock>, StoreError>;
}

/// A product and its stock row, if it has one.
pub type ProductStock = (Product, Option<StockLevel>);

/// Orders: the two idempotent commands, the reads, and the expiry of idempotency records.
#[async_trait]
pub trait Orders: Send + Sync {
    /// Prices and places an order, reserving stock for every line or none, in one transaction with its event
    /// and its idempotency record.
    async fn place_order(&self, cmd: PlaceOrder<'_>) -> Result<Executed, StoreError>;
    /// Loads, checks the version, applies and saves one change to an order, with its event and idempotency record.
    async fn update_order(&self, cmd: UpdateOrder<'_>) -> Result<Executed, StoreError>;
    async fn get_order(&self, id: Uuid) -> Result<Option<Order>, StoreError>;
    async fn list_orders(&self, query: &OrderQuery) -> Result<OrderPage, StoreError>;
    async fn order_events(&self, id: Uuid) -> Result<Vec<OrderEvent>, StoreError>;
    /// Deletes idempotency records past their expiry; returns how many.
    async fn purge_expired_keys(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
    /// Up to `limit` card orders placed before `placed_before` and still unpaid, oldest first, for the expiry
    /// sweeper (which expires each through `update_order`, so the domain checks again under the order's lock).
    async fn expirable_orders(&self, placed_before: OffsetDateTime, limit: u32) -> Result<Vec<Expirable>, StoreError>;
    /// Tries to become the one replica whose sweeper expires unpaid orders; `None` while another holds the role.
    async fn try_expiry_lease(&self) -> Result<Option<Box<dyn RelayLease>>, StoreError>;
}

/// The transactional outbox the relay publishes from.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Up to `limit` events not yet published, oldest first (per order always in sequence).
    async fn unpublished_events(&self, limit: u32) -> Result<Vec<OrderEvent>, StoreError>;
    async fn mark_published(&self, ids: &[Uuid], at: OffsetDateTime) -> Result<(), StoreError>;
    async fn outbox_backlog(&self) -> Result<OutboxBacklog, StoreError>;
    /// Tries to become the one relay that publishes the outbox; `None` while another replica holds the role.
    async fn try_relay_lease(&self) -> Result<Option<Box<dyn RelayLease>>, StoreError>;
}

/// What readiness, logs and metrics ask of the database.
#[async_trait]
pub trait Health: Send + Sync {
    /// Which adapter this is, for logs and metrics: `postgres` or `sqlite`.
    fn backend(&self) -> &'static str;
    /// Connections of the pool(s) right now.
    fn pool_state(&self) -> PoolState;
    /// Whether some operation succeeded within `window`: under load readiness trusts this instead of queueing a
    /// ping behind the requests (a saturated pool is busy, not down). Only the timing decorator tracks it.
    fn answered_within(&self, _window: std::time::Duration) -> bool {
        false
    }
    async fn ping(&self) -> Result<(), StoreError>;
    /// Whether every embedded migration has been applied.
    async fn schema_is_current(&self) -> Result<bool, StoreError>;
}

/// The whole port, implemented by every type that implements its six parts.
pub trait Store: Catalog + Orders + Outbox + Health + Audit + Settlement + Invoices + 'static {}

impl<T: Catalog + Orders + Outbox + Health + Audit + Settlement + Invoices + 'static> Store for T {}

/// Held by the one replica whose relay publishes the outbox; dropping it hands the role on.
#[async_trait]
pub trait RelayLease: Send {
    /// Whether the role is still held (on PostgreSQL: the session holding the advisory lock is alive).
    async fn is_held(&mut self) -> bool;
}
