//! A `Store` decorator that times every storage operation into `orderly_db_query_duration_seconds{operation}`.
//! The label is the port's method name, so its values are bounded by the trait.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    Executed, OrderPage, OrderQuery, OutboxBacklog, PlaceOrder, PoolState, RelayLease, Store, StoreError, UpdateOrder,
};
use crate::domain::catalog::Product;
use crate::domain::events::OrderEvent;
use crate::domain::order::Order;
use crate::domain::stock::StockLevel;
use crate::domain::values::Sku;
use crate::telemetry::Metrics;

pub struct Instrumented {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    /// When an operation last succeeded, in milliseconds since `epoch` (0: never).
    last_ok: AtomicU64,
    epoch: Instant,
}

impl Instrumented {
    pub fn new(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Self {
        Instrumented {
            inner,
            metrics,
            last_ok: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    async fn timed<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let out = work.await;
        self.metrics.observe_db(operation, started.elapsed().as_secs_f64());
        if out.is_ok() {
            let now = u64::try_from(self.epoch.elapsed().as_millis())
                .unwrap_or(u64::MAX)
                .max(1);
            self.last_ok.store(now, Ordering::Relaxed);
        }
        out
    }
}

#[async_trait]
impl Store for Instrumented {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn pool_state(&self) -> PoolState {
        self.inner.pool_state()
    }

    fn answered_within(&self, window: Duration) -> bool {
        let last = self.last_ok.load(Ordering::Relaxed);
        last != 0 && self.epoch.elapsed().saturating_sub(Duration::from_millis(last)) <= window
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.timed("ping", self.inner.ping()).await
    }

    async fn schema_is_current(&self) -> Result<bool, StoreError> {
        self.timed("schema_is_current", self.inner.schema_is_current()).await
    }

    async fn put_product(&self, product: &Product) -> Result<bool, StoreError> {
        self.timed("put_product", self.inner.put_product(product)).await
    }

    async fn get_product(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        self.timed("get_product", self.inner.get_product(sku)).await
    }

    async fn set_stock(&self, sku: &Sku, on_hand: i64) -> Result<StockLevel, StoreError> {
        self.timed("set_stock", self.inner.set_stock(sku, on_hand)).await
    }

    async fn get_stock(&self, sku: &Sku) -> Result<Option<StockLevel>, StoreError> {
        self.timed("get_stock", self.inner.get_stock(sku)).await
    }

    async fn place_order(&self, cmd: PlaceOrder<'_>) -> Result<Executed, StoreError> {
        self.timed("place_order", self.inner.place_order(cmd)).await
    }

    async fn update_order(&self, cmd: UpdateOrder<'_>) -> Result<Executed, StoreError> {
        self.timed("update_order", self.inner.update_order(cmd)).await
    }

    async fn get_order(&self, id: Uuid) -> Result<Option<Order>, StoreError> {
        self.timed("get_order", self.inner.get_order(id)).await
    }

    async fn list_orders(&self, query: &OrderQuery) -> Result<OrderPage, StoreError> {
        self.timed("list_orders", self.inner.list_orders(query)).await
    }

    async fn order_events(&self, id: Uuid) -> Result<Vec<OrderEvent>, StoreError> {
        self.timed("order_events", self.inner.order_events(id)).await
    }

    async fn purge_expired_keys(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.timed("purge_expired_keys", self.inner.purge_expired_keys(now))
            .await
    }

    async fn unpublished_events(&self, limit: u32) -> Result<Vec<OrderEvent>, StoreError> {
        self.timed("unpublished_events", self.inner.unpublished_events(limit))
            .await
    }

    async fn mark_published(&self, ids: &[Uuid], at: OffsetDateTime) -> Result<(), StoreError> {
        self.timed("mark_published", self.inner.mark_published(ids, at)).await
    }

    async fn outbox_backlog(&self) -> Result<OutboxBacklog, StoreError> {
        self.timed("outbox_backlog", self.inner.outbox_backlog()).await
    }

    async fn try_relay_lease(&self) -> Result<Option<Box<dyn RelayLease>>, StoreError> {
        self.timed("try_relay_lease", self.inner.try_relay_lease()).await
    }
}
