//! The expiry sweeper: card orders nobody has paid for within `unpaid_order_ttl_secs` are cancelled with an
//! `order.expired` event, which releases the stock they reserved.
//!
//! One replica at a time sweeps (`Store::try_expiry_lease`: a PostgreSQL advisory lock, like the outbox
//! relay's; on SQLite the one process). Each order is expired through `update_order`, the same path as the
//! commands: under the order's row lock, at the version the sweep saw it, with the domain checking again that it
//! is still an unpaid card order. A customer authorising the order at the same moment therefore either wins
//! (the sweep's version no longer matches, or the domain refuses: the order is skipped) or finds the order
//! expired (412 on its stale version, then 409 on the cancelled order): never both.

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

use crate::domain::order::{Command, Order};
use crate::store::unpaid::Expirable;
use crate::store::{Executed, IdempotencyKey, Store, StoreError, StoredResponse, UpdateOrder};
use crate::telemetry::Metrics;

/// The actor of `order.expired` events.
pub const ACTOR: &str = "system:expiry";

#[derive(Clone, Copy, Debug)]
pub struct ExpirySettings {
    /// How long a card order may stay unpaid.
    pub ttl: Duration,
    /// How often to look for orders past it.
    pub interval: Duration,
    /// How many orders one look expires at most (the next look takes the rest).
    pub batch: u32,
}

/// Runs until `stop` turns true: while this replica holds the sweeper role, expires what is due every interval.
pub async fn run(
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    settings: ExpirySettings,
    mut stop: watch::Receiver<bool>,
) {
    let mut announced_waiting = false;
    while !*stop.borrow() {
        let mut lease = match store.try_expiry_lease().await {
            Ok(Some(lease)) => lease,
            Ok(None) => {
                if !announced_waiting {
                    tracing::info!("expiry sweeper standing by: another replica leads");
                    announced_waiting = true;
                }
                pause(&mut stop, settings.interval.max(Duration::from_secs(2))).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "expiry sweeper cannot reach the database");
                pause(&mut stop, Duration::from_secs(2)).await;
                continue;
            }
        };
        tracing::info!(ttl_secs = settings.ttl.as_secs(), "expiry sweeper leading");
        while !*stop.borrow() {
            if !lease.is_held().await {
                tracing::warn!("expiry sweeper lost its lease");
                break;
            }
            match sweep(store.as_ref(), &settings, OffsetDateTime::now_utc()).await {
                Ok(0) => {}
                Ok(n) => {
                    metrics.orders_expired(n);
                    tracing::info!(expired = n, "unpaid card orders expired");
                }
                Err(e) => tracing::warn!(error = %e, "expiry sweep failed; retried next interval"),
            }
            pause(&mut stop, settings.interval).await;
        }
    }
}

async fn pause(stop: &mut watch::Receiver<bool>, how_long: Duration) {
    let _ = tokio::time::timeout(how_long, stop.changed()).await;
}

/// One look: expires up to `batch` orders placed more than the TTL before `now`. Returns how many it expired.
pub async fn sweep(store: &dyn Store, settings: &ExpirySettings, now: OffsetDateTime) -> Result<u64, StoreError> {
    let ttl = time::Duration::try_from(settings.ttl).unwrap_or(time::Duration::MAX);
    let placed_before = now.checked_sub(ttl).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let due = store.expirable_orders(placed_before, settings.batch).await?;
    let mut expired = 0;
    for order in due {
        if expire(store, order, placed_before).await? {
            expired += 1;
        }
    }
    Ok(expired)
}

/// Expires one order; false when it moved on since the sweep saw it (paid, cancelled, changed), which is skipped.
async fn expire(store: &dyn Store, order: Expirable, placed_before: OffsetDateTime) -> Result<bool, StoreError> {
    // One key per order and version: a sweep that died after committing finds its own outcome replayed.
    let key = IdempotencyKey {
        principal: ACTOR.to_owned(),
        key: format!("expire:{}:{}", order.id, order.version),
        fingerprint: "expire".to_owned(),
        ttl: time::Duration::hours(1),
    };
    let apply = move |o: &mut Order, _: &[crate::domain::catalog::Product]| {
        o.execute(Command::Expire { placed_before }, ACTOR, OffsetDateTime::now_utc())
    };
    let render = |o: &Order| StoredResponse {
        status: 200,
        headers: Vec::new(),
        body: o.id.to_string().into_bytes(),
    };
    let outcome = store
        .update_order(UpdateOrder {
            idempotency: &key,
            order_id: order.id,
            expected_version: order.version,
            owner: None,
            seller: None,
            catalog: &[],
            apply: &apply,
            render: &render,
            refuse: &|e| StoredResponse {
                status: 409,
                headers: Vec::new(),
                body: e.to_string().into_bytes(),
            },
        })
        .await;
    match outcome {
        Ok(Executed::Fresh(..)) => Ok(true),
        Ok(Executed::Replayed(_)) => Ok(false),
        Err(StoreError::VersionConflict { .. } | StoreError::Order(_) | StoreError::NotFound(_)) => Ok(false),
        // Another request holds the order's lock too long: leave it to the next sweep.
        Err(StoreError::Busy(_) | StoreError::RequestInProgress) => Ok(false),
        Err(e) => Err(e),
    }
}
