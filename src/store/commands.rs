//! The command flows, written once for both adapters over `UnitOfWork`: one database transaction that claims the
//! idempotency key, does the work and stores the response, so a retry can never apply a change twice.

use std::collections::BTreeMap;

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Executed, IdempotencyKey, PlaceOrder, StoreError, StoredResponse, UpdateOrder, sorted_quantities};
use crate::domain::catalog::Product;
use crate::domain::events::OrderEvent;
use crate::domain::order::{Order, StockMove};
use crate::domain::pricing::{PricingError, price_order};
use crate::domain::stock::StockLevel;
use crate::domain::values::{Sku, StoreCode};

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

/// The primitive steps of one write transaction. Dropping it without `commit` rolls everything back.
#[async_trait]
pub(crate) trait UnitOfWork: Send {
    /// Inserts the key, waiting for a concurrent holder to finish; returns what a finished holder stored.
    async fn claim_key(&mut self, key: &IdempotencyKey, now: OffsetDateTime) -> Result<Claim, StoreError>;
    async fn save_response(&mut self, key: &IdempotencyKey, response: &StoredResponse) -> Result<(), StoreError>;
    /// Locks the stock rows of `skus` (sorted) for the rest of the transaction. Missing rows are left out.
    async fn lock_stock(&mut self, skus: &[Sku]) -> Result<Vec<(Sku, StockLevel)>, StoreError>;
    async fn write_stock(&mut self, levels: &[(Sku, StockLevel)]) -> Result<(), StoreError>;
    /// Loads an order and locks it against concurrent changes.
    async fn lock_order(&mut self, id: Uuid) -> Result<Option<Order>, StoreError>;
    /// Saves the mutable part of an order: statuses, version, updated_at.
    async fn save_order(&mut self, order: &Order) -> Result<(), StoreError>;
    async fn append_event(&mut self, event: &OrderEvent) -> Result<(), StoreError>;
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;

    // The steps of placing an order, each as few round trips as the adapter can make it.

    /// The products of `skus`, and what the adapter could take in the same round trip: the stock rows of `skus`
    /// locked as `lock_stock` returns them (else `lock_stock` is called after pricing), and the store's next order
    /// number (else `next_number` is called once the stock is known to suffice).
    async fn products_for_order(&mut self, skus: &[Sku], store: &StoreCode) -> Result<OrderInputs, StoreError>;
    /// Takes the store's next order number.
    async fn next_number(&mut self, store: &StoreCode) -> Result<i64, StoreError>;
    /// Writes the reserved stock levels, inserts the order with its lines and first event, and stores the
    /// idempotent response.
    async fn insert_placed(
        &mut self,
        reserved: &[(Sku, StockLevel)],
        order: &Order,
        event: &OrderEvent,
        key: &IdempotencyKey,
        response: &StoredResponse,
    ) -> Result<(), StoreError>;
}

/// What `UnitOfWork::products_for_order` read.
pub(crate) struct OrderInputs {
    pub products: Vec<Product>,
    pub locked: Option<Vec<(Sku, StockLevel)>>,
    pub number: Option<i64>,
}

/// Claims the key; `Some(response)` when this is a retry of a finished request.
async fn claim(
    uow: &mut dyn UnitOfWork,
    key: &IdempotencyKey,
    now: OffsetDateTime,
) -> Result<Option<StoredResponse>, StoreError> {
    match uow.claim_key(key, now).await? {
        Claim::New => Ok(None),
        Claim::Existing { fingerprint, response } if fingerprint == key.fingerprint => Ok(Some(response)),
        Claim::Existing { .. } => Err(StoreError::IdempotencyKeyReused),
    }
}

pub(crate) async fn place_order(
    mut uow: Box<dyn UnitOfWork>,
    cmd: PlaceOrder<'_>,
    now: OffsetDateTime,
) -> Result<Executed, StoreError> {
    if let Some(replay) = claim(uow.as_mut(), cmd.idempotency, now).await? {
        return Ok(Executed::Replayed(replay));
    }
    let request = cmd.request;
    let wanted = sorted_quantities(&request.lines);
    let skus: Vec<Sku> = wanted.iter().map(|(s, _)| s.clone()).collect();

    // Price first, from the catalog as it is now: a bad SKU fails before any stock row is locked.
    let inputs = uow.products_for_order(&skus, cmd.store).await?;
    let mut catalog = Vec::with_capacity(inputs.products.len());
    for product in &inputs.products {
        match product.entry_for(request.currency) {
            Some(entry) => catalog.push(entry),
            None if product.active => {
                return Err(PricingError::NoPriceInCurrency(product.sku.clone(), request.currency).into());
            }
            None => return Err(PricingError::InactiveSku(product.sku.clone()).into()),
        }
    }
    let priced = price_order(
        cmd.policy,
        request.currency,
        &request.ship_to.country,
        &request.lines,
        &catalog,
    )?;

    let locked = match inputs.locked {
        Some(locked) => locked,
        None => uow.lock_stock(&skus).await?,
    };
    let locked: BTreeMap<Sku, StockLevel> = locked.into_iter().collect();
    let mut reserved = Vec::with_capacity(wanted.len());
    for (sku, quantity) in wanted {
        let level = locked.get(&sku).copied().unwrap_or(StockLevel::empty());
        match level.reserve(quantity) {
            Ok(next) => reserved.push((sku, next)),
            Err(source) => return Err(StoreError::Stock { sku, source }),
        }
    }
    let seq = match inputs.number {
        Some(seq) => seq,
        None => uow.next_number(cmd.store).await?,
    };
    let (order, event) = Order::place(
        request,
        cmd.store.order_number(seq),
        cmd.store.clone(),
        priced,
        cmd.actor,
        now,
    );
    let response = (cmd.render)(&order);
    uow.insert_placed(&reserved, &order, &event, cmd.idempotency, &response)
        .await?;
    uow.commit().await?;
    Ok(Executed::Fresh(Box::new(order), response, Vec::new()))
}

pub(crate) async fn update_order(
    mut uow: Box<dyn UnitOfWork>,
    cmd: UpdateOrder<'_>,
    now: OffsetDateTime,
) -> Result<Executed, StoreError> {
    if let Some(replay) = claim(uow.as_mut(), cmd.idempotency, now).await? {
        return Ok(Executed::Replayed(replay));
    }
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
    let change = (cmd.apply)(&mut order)?;
    move_stock(uow.as_mut(), &change.stock).await?;
    uow.save_order(&order).await?;
    for event in &change.events {
        uow.append_event(event).await?;
    }
    let response = (cmd.render)(&order);
    uow.save_response(cmd.idempotency, &response).await?;
    uow.commit().await?;
    Ok(Executed::Fresh(Box::new(order), response, change.transitions))
}

async fn move_stock(uow: &mut dyn UnitOfWork, moves: &[StockMove]) -> Result<(), StoreError> {
    if moves.is_empty() {
        return Ok(());
    }
    let mut skus: Vec<Sku> = moves
        .iter()
        .map(|m| match m {
            StockMove::Release(sku, _) | StockMove::Ship(sku, _) | StockMove::Restock(sku, _) => sku.clone(),
        })
        .collect();
    skus.sort();
    skus.dedup();
    let mut levels: BTreeMap<Sku, StockLevel> = uow.lock_stock(&skus).await?.into_iter().collect();
    for m in moves {
        let (StockMove::Release(sku, quantity) | StockMove::Ship(sku, quantity) | StockMove::Restock(sku, quantity)) =
            m;
        let level = levels.get(sku).copied().unwrap_or(StockLevel::empty());
        let q = quantity.as_i64();
        let next = match m {
            StockMove::Release(..) => level.release(q),
            StockMove::Ship(..) => level.ship(q),
            StockMove::Restock(..) => Ok(level.restock(q)),
        }
        .map_err(|source| StoreError::Stock {
            sku: sku.clone(),
            source,
        })?;
        levels.insert(sku.clone(), next);
    }
    let levels: Vec<(Sku, StockLevel)> = levels.into_iter().collect();
    uow.write_stock(&levels).await
}
