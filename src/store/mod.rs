//! Persistence port: the `Store` traits the HTTP layer talks to (`port`), and the types that cross them.
//!
//! Two adapters implement it, `postgres` (production) and `sqlite` (the embedded default). Both run the same
//! command flows in `commands`, written once over the `UnitOfWork` trait, so idempotency, stock reservation and
//! event numbering behave identically on both. The storage conformance suite in `tests/` holds them to that.

pub mod audit;
pub mod backfill;
pub mod cod;
mod commands;
pub mod instrumented;
pub mod invoicing;
mod port;
pub mod postgres;
mod rows;
pub mod sqlite;
pub mod unpaid;

pub use audit::{Actor, Audit};
pub use backfill::{Backfill, MigrationStore};
pub use cod::Settlement;
pub use port::{Catalog, Health, Orders, Outbox, ProductStock, RelayLease, Store};

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::catalog::Product;
use crate::domain::order::{NewOrder, Order, OrderChange, OrderError};
use crate::domain::placing::PlacingError;
use crate::domain::pricing::{PricingError, PricingPolicy};
use crate::domain::status::{OrderStatus, Transition};
use crate::domain::stock::{SkuStockError, StockError};
use crate::domain::values::{CustomerId, Sku, StoreCode};

/// An Idempotency-Key as scoped to the caller, with the fingerprint of the request that first used it.
#[derive(Clone, Debug)]
pub struct IdempotencyKey {
    pub principal: String,
    pub key: String,
    pub fingerprint: String,
    /// How long the stored response is replayed.
    pub ttl: time::Duration,
}

/// The response stored with an idempotency key, replayed byte for byte to a retry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What a state-changing command did.
#[derive(Debug)]
pub enum Executed {
    /// The command ran now: the order as it stands after it, the response, and the status moves it made.
    Fresh(Box<Order>, StoredResponse, Vec<Transition>),
    /// A retry of a command that already ran: the original response.
    Replayed(StoredResponse),
}

/// Renders the response to store with the key, in the same transaction as the effect.
pub type Render<'a> = &'a (dyn Fn(&Order) -> StoredResponse + Send + Sync);

/// Renders the response to store with the key when the command, once started, is refused (see
/// `StoreError::refusal`): a retry with the key gets the same refusal back, even if the state has changed since.
pub type RenderRefusal<'a> = &'a (dyn Fn(StoreError) -> StoredResponse + Send + Sync);

/// Applies one change to a loaded order (a domain method), given the catalog rows it asked for (`UpdateOrder::
/// catalog`), and says what it did.
pub type Apply<'a> = &'a (dyn Fn(&mut Order, &[Product]) -> Result<OrderChange, OrderError> + Send + Sync);

pub struct PlaceOrder<'a> {
    pub idempotency: &'a IdempotencyKey,
    pub request: NewOrder,
    pub store: &'a StoreCode,
    pub policy: &'a PricingPolicy,
    pub actor: &'a str,
    pub render: Render<'a>,
    pub refuse: RenderRefusal<'a>,
    /// How many open unpaid orders the order's customer may already have (0: no cap); see `unpaid`.
    pub max_open_unpaid: u32,
}

pub struct UpdateOrder<'a> {
    pub idempotency: &'a IdempotencyKey,
    pub order_id: Uuid,
    /// The version the caller last saw (If-Match).
    pub expected_version: i64,
    /// `Some` for a customer: an order of someone else is reported as not found.
    pub owner: Option<&'a CustomerId>,
    /// The SKUs whose catalog rows the change needs (an edit's added lines), read in its transaction; usually none.
    pub catalog: &'a [Sku],
    pub apply: Apply<'a>,
    pub render: Render<'a>,
    pub refuse: RenderRefusal<'a>,
    /// Who issues the invoice or credit note the change may call for. `None` only for changes that can never call
    /// for one (the expiry sweeper's): should one do so, the change fails rather than go undocumented.
    pub seller: Option<&'a crate::domain::invoice::Seller>,
}

/// Keyset position in the (created_at, id) order of a listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderCursor {
    pub created_at: OffsetDateTime,
    pub id: Uuid,
}

#[derive(Clone, Debug, Default)]
pub struct OrderQuery {
    pub customer_id: Option<CustomerId>,
    pub status: Option<OrderStatus>,
    pub number: Option<String>,
    pub created_from: Option<OffsetDateTime>,
    pub created_to: Option<OffsetDateTime>,
    pub limit: u32,
    /// Continue after this position; the listing is newest first.
    pub after: Option<OrderCursor>,
    /// `q`: orders found by ship-to name, phone, order number or customer id.
    pub search: Option<crate::domain::search::SearchQuery>,
}

#[derive(Clone, Debug)]
pub struct OrderPage {
    pub orders: Vec<Order>,
    pub next: Option<OrderCursor>,
}

/// What a store operation found missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    Order,
    Product,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0:?} not found")]
    NotFound(Missing),
    #[error("the Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still being processed")]
    RequestInProgress,
    #[error("the order is at version {current}, not {expected}")]
    VersionConflict { expected: i64, current: i64 },
    #[error(transparent)]
    Pricing(#[from] PricingError),
    #[error("SKU {sku}: {source}")]
    Stock { sku: Sku, source: StockError },
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error("the customer already has {limit} unpaid orders open")]
    TooManyOpenOrders { limit: u32 },
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("the database is busy")]
    Busy(#[source] sqlx::Error),
    #[error("storage failure")]
    Internal(#[source] anyhow::Error),
}

impl StoreError {
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        StoreError::Internal(e.into())
    }

    /// A write refused because the server is read-only: a primary demoted to a standby (SQLSTATE 25006).
    pub fn is_read_only(&self) -> bool {
        matches!(self, StoreError::Unavailable(sqlx::Error::Database(d)) if d.code().as_deref() == Some("25006"))
    }

    /// A copy of this error when it is a refusal of the command itself (the order is missing, or the catalog, stock
    /// or status machine says no), which is stored under the Idempotency-Key and replayed, as Stripe does. Outages,
    /// contention and failures on our side are not refusals: they are worth a retry, so nothing is stored and the
    /// retry runs the command afresh. Nor is a version conflict: like a concurrent request with the same key, it is
    /// a race with another writer, and the client re-reads the order and retries with the same key.
    pub fn refusal(&self) -> Option<StoreError> {
        Some(match self {
            StoreError::NotFound(m) => StoreError::NotFound(*m),
            StoreError::TooManyOpenOrders { limit } => StoreError::TooManyOpenOrders { limit: *limit },
            StoreError::Pricing(p) => StoreError::Pricing(p.clone()),
            StoreError::Stock { sku, source } => match source {
                StockError::Insufficient { .. } | StockError::BelowReserved { .. } => StoreError::Stock {
                    sku: sku.clone(),
                    source: source.clone(),
                },
                _ => return None,
            },
            StoreError::Order(OrderError::Corrupt(_)) => return None,
            StoreError::Order(e) => StoreError::Order(e.clone()),
            _ => return None,
        })
    }
}

impl From<SkuStockError> for StoreError {
    fn from(e: SkuStockError) -> Self {
        StoreError::Stock {
            sku: e.sku,
            source: e.source,
        }
    }
}

impl From<PlacingError> for StoreError {
    fn from(e: PlacingError) -> Self {
        match e {
            PlacingError::Pricing(e) => e.into(),
            PlacingError::Stock(e) => e.into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolState {
    pub idle: u32,
    pub in_use: u32,
    pub max: u32,
}

/// Unpublished events: how many, and when the oldest of them happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutboxBacklog {
    pub pending: i64,
    pub oldest: Option<OffsetDateTime>,
}

/// Maps sqlx errors: a pool timeout or I/O failure means the database is unreachable, and so does a SQLite file
/// another process holds locked for longer than the busy timeout. So does a protocol error: the bytes on the
/// connection are not PostgreSQL's (a load balancer with no primary behind it accepts the connection and closes
/// it, which sqlx reads as an unexpected answer to its first message), and another connection may do better.
pub(crate) fn db_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_) => StoreError::Unavailable(e),
        sqlx::Error::Database(ref d) if d.code().as_deref().is_some_and(connection_lost) => StoreError::Unavailable(e),
        sqlx::Error::Database(ref d) if sqlite_locked(d.as_ref()) => StoreError::Unavailable(e),
        other => StoreError::Internal(other.into()),
    }
}

/// SQLITE_BUSY (5) or SQLITE_LOCKED (6), in any of their extended forms (the primary code is the low byte): the
/// file is locked by another connection (a backup, `sqlite3` in a shell, a second process on the same file) and
/// stayed so for the whole busy timeout. It is worth retrying, and it is not a bug.
fn sqlite_locked(d: &dyn sqlx::error::DatabaseError) -> bool {
    d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
        && d.code()
            .and_then(|code| code.parse::<i32>().ok())
            .is_some_and(|code| matches!(code & 0xff, 5 | 6))
}

/// SQLSTATEs of a connection the server ended or refused: class 08, shutdown or restart (57P01-57P03), a login
/// refused (class 28: during a password rotation, say) or the server out of a resource (class 53: too many
/// connections, disk full, out of memory); and a write refused as read-only (25006): the connection reaches a
/// primary that has been demoted. None is the client's doing, and a later attempt may succeed, so the request is
/// worth retrying.
fn connection_lost(code: &str) -> bool {
    ["08", "28", "53"].iter().any(|class| code.starts_with(class))
        || matches!(code, "57P01" | "57P02" | "57P03" | "25006")
}

/// The search keys of a stored order (its ship-to and legacy documents as JSON), read leniently: an order is never
/// left unsearchable, nor a migration stopped, because a field is missing.
pub(crate) fn search_keys_of_stored(
    ship_to: &str,
    number: &str,
    legacy: Option<&str>,
) -> crate::domain::search::SearchKeys {
    let doc: serde_json::Value = serde_json::from_str(ship_to).unwrap_or_default();
    let field = |name: &str| doc.get(name).and_then(serde_json::Value::as_str);
    let legacy: Option<serde_json::Value> = legacy.and_then(|l| serde_json::from_str(l).ok());
    let legacy_number = legacy
        .as_ref()
        .and_then(|l| l.get("order_no"))
        .and_then(serde_json::Value::as_str);
    crate::domain::search::SearchKeys::new(
        field("name").unwrap_or(""),
        field("phone"),
        field("country").unwrap_or(""),
        number,
        legacy_number,
    )
}
