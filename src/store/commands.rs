//! The command flows, written once for both adapters over `UnitOfWork`: one database transaction that claims the
//! idempotency key, reads what the command needs, lets the domain decide, and saves the outcome with the response,
//! so a retry can never apply a change twice.
//!
//! The steps say what the flow needs, not how to get it: each adapter chooses its own statements and round trips
//! for a step (PostgreSQL reads, locks and numbers in one statement; SQLite in several), and the flow reads the
//! same on both.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::invoicing::{self, DocumentSteps};
use super::{Executed, IdempotencyKey, PlaceOrder, RenderRefusal, StoreError, StoredResponse, UpdateOrder};
use crate::domain::catalog::Product;
use crate::domain::events::{Change, OrderEvent};
use crate::domain::order::Order;
use crate::domain::placing;
use crate::domain::stock::{self, StockLevel};
use crate::domain::values::{CustomerId, Sku, StoreCode};

/// What the idempotency table held for a key.
pub(crate) enum Claim {
    /// First use (or the earlier use expired): go ahead, the key is now held by this transaction.
    New,
    /// Used before and committed: compare fingerprints, replay the response.
    Existing {
        fingerprint: String,
        response: StoredResponse,
    },
}

/// What placing an order reads, under locks held until the end of the transaction.
pub(crate) struct Placing {
    /// The catalog rows of the requested SKUs (unknown SKUs are absent).
    pub products: Vec<Product>,
    /// The stock rows of the requested SKUs, locked in SKU order (missing rows are absent).
    pub stock: Vec<(Sku, StockLevel)>,
    /// The store's next order number. Taken even if the order is then refused: numbers are unique, not
    /// contiguous (ADR 0001).
    pub number: i64,
    /// The customer's open unpaid orders (`unpaid::OPEN_UNPAID`); 0 when no customer was asked about.
    pub open_unpaid: i64,
}

/// A placed order, everything its transaction writes.
pub(crate) struct Placed<'a> {
    /// The stock levels of its SKUs after reserving its lines.
    pub reserved: &'a [(Sku, StockLevel)],
    pub order: &'a Order,
    /// Its `order.placed` event.
    pub event: &'a OrderEvent,
    pub key: &'a IdempotencyKey,
    pub response: &'a StoredResponse,
}

/// A changed order, everything its transaction writes.
pub(crate) struct Updated<'a> {
    /// The mutable part (statuses, progress, version, updated_at) is saved; after an edit (`edited`), also its
    /// lines, address, totals and search keys.
    pub order: &'a Order,
    pub events: &'a [OrderEvent],
    /// Whether the change edited the order's lines or address (`order.edited`).
    pub edited: bool,
    /// The stock levels after the change's moves; empty when it moved no stock.
    pub stock: &'a [(Sku, StockLevel)],
    pub key: &'a IdempotencyKey,
    pub response: &'a StoredResponse,
}

/// The steps of one write transaction. Dropping it without `commit` rolls everything back.
#[async_trait]
pub(crate) trait UnitOfWork: Send {
    /// Takes the key for this transaction, waiting for a concurrent holder to finish; returns what a finished
    /// holder stored.
    async fn claim(&mut self, key: &IdempotencyKey, now: OffsetDateTime) -> Result<Claim, StoreError>;
    /// Locks the placing of orders for `customer` until the transaction ends, so that concurrent placings for
    /// one customer can never pass the open-orders cap together.
    async fn lock_customer(&mut self, customer: &CustomerId) -> Result<(), StoreError>;
    /// The products and locked stock of `skus` (sorted), the next order number of `store`, and how many open
    /// unpaid orders `customer` has (read after `lock_customer`).
    async fn load_for_placing(
        &mut self,
        skus: &[Sku],
        store: &StoreCode,
        customer: Option<&CustomerId>,
    ) -> Result<Placing, StoreError>;
    async fn save_placed(&mut self, placed: &Placed<'_>) -> Result<(), StoreError>;
    /// The catalog rows of `skus` (unknown SKUs are absent), as this transaction sees them.
    async fn load_products(&mut self, skus: &[Sku]) -> Result<Vec<Product>, StoreError>;
    /// Loads an order and locks it against concurrent changes.
    async fn lock_order(&mut self, id: Uuid) -> Result<Option<Order>, StoreError>;
    /// Locks the stock rows of `skus` (sorted) for the rest of the transaction. Missing rows are left out.
    async fn lock_stock(&mut self, skus: &[Sku]) -> Result<Vec<(Sku, StockLevel)>, StoreError>;
    async fn save_updated(&mut self, updated: &Updated<'_>) -> Result<(), StoreError>;
    /// Stores a refusal as the key's response; nothing else of the transaction was written.
    async fn save_refusal(&mut self, key: &IdempotencyKey, response: &StoredResponse) -> Result<(), StoreError>;
    /// The steps of issuing invoices and credit notes in this transaction.
    fn documents(&mut self) -> &mut dyn DocumentSteps;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// Claims the key; `Some(response)` when this is a retry of a finished request.
async fn claim(
    uow: &mut dyn UnitOfWork,
    key: &IdempotencyKey,
    now: OffsetDateTime,
) -> Result<Option<StoredResponse>, StoreError> {
    match uow.claim(key, now).await? {
        Claim::New => Ok(None),
        Claim::Existing { fingerprint, response } if fingerprint == key.fingerprint => Ok(Some(response)),
        Claim::Existing { .. } => Err(StoreError::IdempotencyKeyReused),
    }
}

/// Once the key is claimed the command has started: a refusal from here on is committed as the key's outcome
/// (nothing else was written: every refusal comes before the first write), then returned.
async fn refused(
    mut uow: Box<dyn UnitOfWork>,
    key: &IdempotencyKey,
    refuse: RenderRefusal<'_>,
    error: StoreError,
) -> Result<Executed, StoreError> {
    if let Some(refusal) = error.refusal() {
        uow.save_refusal(key, &refuse(refusal)).await?;
        uow.commit().await?;
    }
    Err(error)
}

pub(crate) async fn place_order(
    mut uow: Box<dyn UnitOfWork>,
    cmd: PlaceOrder<'_>,
    now: OffsetDateTime,
) -> Result<Executed, StoreError> {
    let (key, refuse) = (cmd.idempotency, cmd.refuse);
    if let Some(replay) = claim(uow.as_mut(), key, now).await? {
        return Ok(Executed::Replayed(replay));
    }
    // The cap counts per customer id, whoever places the order: staff placing for a customer count too.
    let capped = cmd.request.customer_id.clone().filter(|_| cmd.max_open_unpaid > 0);
    if let Some(customer) = &capped {
        uow.lock_customer(customer).await?;
    }
    let mut skus: Vec<Sku> = cmd.request.lines.iter().map(|(s, _)| s.clone()).collect();
    skus.sort();
    let inputs = uow.load_for_placing(&skus, cmd.store, capped.as_ref()).await?;
    if capped.is_some() && inputs.open_unpaid >= i64::from(cmd.max_open_unpaid) {
        let refusal = StoreError::TooManyOpenOrders {
            limit: cmd.max_open_unpaid,
        };
        return refused(uow, key, refuse, refusal).await;
    }
    let placeable = match placing::check(cmd.policy, &cmd.request, &inputs.products, &inputs.stock) {
        Ok(p) => p,
        Err(e) => return refused(uow, key, refuse, e.into()).await,
    };
    let (order, event) = Order::place(
        cmd.request,
        cmd.store.order_number(inputs.number),
        cmd.store.clone(),
        placeable.priced,
        cmd.actor,
        now,
    );
    let response = (cmd.render)(&order);
    uow.save_placed(&Placed {
        reserved: &placeable.reserved,
        order: &order,
        event: &event,
        key,
        response: &response,
    })
    .await?;
    uow.commit().await?;
    Ok(Executed::Fresh(Box::new(order), response, Vec::new()))
}

/// What an update decided, before anything is written.
struct Decided {
    order: Order,
    change: crate::domain::order::OrderChange,
    levels: Vec<(Sku, StockLevel)>,
}

async fn decide_update(uow: &mut dyn UnitOfWork, cmd: &UpdateOrder<'_>) -> Result<Decided, StoreError> {
    let mut order = uow
        .lock_order(cmd.order_id)
        .await?
        .filter(|o| cmd.owner.is_none_or(|c| o.belongs_to(c)))
        .ok_or(StoreError::NotFound(super::Missing::Order))?;
    if order.version != cmd.expected_version {
        return Err(StoreError::VersionConflict {
            expected: cmd.expected_version,
            current: order.version,
        });
    }
    let products = if cmd.catalog.is_empty() {
        Vec::new()
    } else {
        uow.load_products(cmd.catalog).await?
    };
    let change = (cmd.apply)(&mut order, &products)?;
    let locked = uow.lock_stock(&stock::skus_moved(&change.stock)).await?;
    let levels = stock::apply_moves(&locked, &change.stock)?;
    Ok(Decided { order, change, levels })
}

pub(crate) async fn update_order(
    mut uow: Box<dyn UnitOfWork>,
    cmd: UpdateOrder<'_>,
    now: OffsetDateTime,
) -> Result<Executed, StoreError> {
    if let Some(replay) = claim(uow.as_mut(), cmd.idempotency, now).await? {
        return Ok(Executed::Replayed(replay));
    }
    let Decided { order, change, levels } = match decide_update(uow.as_mut(), &cmd).await {
        Ok(d) => d,
        Err(e) => return refused(uow, cmd.idempotency, cmd.refuse, e).await,
    };
    let response = (cmd.render)(&order);
    let edited = change.events.iter().any(|e| matches!(e.change, Change::Edited(_)));
    uow.save_updated(&Updated {
        order: &order,
        events: &change.events,
        edited,
        stock: &levels,
        key: cmd.idempotency,
        response: &response,
    })
    .await?;
    invoicing::issue(uow.documents(), &order, &change.events, cmd.seller, now).await?;
    uow.commit().await?;
    Ok(Executed::Fresh(Box::new(order), response, change.transitions))
}
