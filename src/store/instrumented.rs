//! A `Store` decorator that times every storage operation into `orderly_db_query_duration_seconds{operation}`.
//! The label is the port's method name, so its values are bounded by the traits. Every operation goes through
//! `timed`; `Health`'s synchronous methods pass through, except `answered_within`, which only this decorator can
//! answer because it sees every operation succeed.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::audit::{Actor, Audit, AuditPage, AuditQuery, AuditRecord, ChainCursor, ChainLink};
use super::cod::{CourierOrder, PostRemittance, Posted, Settlement};
use super::invoicing::Invoices;
use super::unpaid::Expirable;
use super::{
    Catalog, Executed, Health, OrderPage, OrderQuery, Orders, Outbox, OutboxBacklog, PlaceOrder, PoolState,
    ProductStock, RelayLease, Store, StoreError, UpdateOrder,
};
use crate::domain::catalog::Product;
use crate::domain::cod::{Remittance, ShippedCod};
use crate::domain::events::OrderEvent;
use crate::domain::invoice::TaxDocument;
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
    /// A write was refused as read-only (a demoted primary) and no ping has found the database writable since:
    /// until one does, successful reads prove nothing about taking orders.
    read_only_seen: AtomicBool,
}

impl Instrumented {
    pub fn new(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Self {
        Instrumented {
            inner,
            metrics,
            last_ok: AtomicU64::new(0),
            epoch: Instant::now(),
            read_only_seen: AtomicBool::new(false),
        }
    }

    /// Runs one operation of the inner store, records how long it took and, when it succeeded, that the
    /// database answered.
    async fn timed<T>(
        &self,
        operation: &'static str,
        work: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let out = work.await;
        self.metrics.observe_db(operation, started.elapsed().as_secs_f64());
        if out.as_ref().is_err_and(StoreError::is_read_only) {
            self.read_only_seen.store(true, Ordering::Relaxed);
        }
        if out.is_ok() {
            let now = u64::try_from(self.epoch.elapsed().as_millis())
                .unwrap_or(u64::MAX)
                .max(1);
            self.last_ok.store(now, Ordering::Relaxed);
        }
        out
    }
}

/// Implements a port trait for `Instrumented` from its method signatures: each method calls the inner store's
/// method of the same name under `timed`, labelled with that name, so a label cannot drift from its operation.
macro_rules! timed_port {
    ($port:ident { $(fn $op:ident(&self $(, $arg:ident: $ty:ty)*) -> $out:ty;)* }) => {
        #[async_trait]
        impl $port for Instrumented {
            $(async fn $op(&self $(, $arg: $ty)*) -> Result<$out, StoreError> {
                self.timed(stringify!($op), self.inner.$op($($arg),*)).await
            })*
        }
    };
}

timed_port!(Catalog {
    fn put_product(&self, product: &Product, by: &Actor) -> bool;
    fn get_product(&self, sku: &Sku) -> Option<Product>;
    fn set_stock(&self, sku: &Sku, on_hand: i64, by: &Actor) -> StockLevel;
    fn get_stock(&self, sku: &Sku) -> Option<StockLevel>;
    fn list_products(&self, after: Option<&Sku>, limit: u32) -> Vec<ProductStock>;
});

timed_port!(Orders {
    fn place_order(&self, cmd: PlaceOrder<'_>) -> Executed;
    fn update_order(&self, cmd: UpdateOrder<'_>) -> Executed;
    fn get_order(&self, id: Uuid) -> Option<Order>;
    fn list_orders(&self, query: &OrderQuery) -> OrderPage;
    fn order_events(&self, id: Uuid) -> Vec<OrderEvent>;
    fn purge_expired_keys(&self, now: OffsetDateTime) -> u64;
    fn expirable_orders(&self, placed_before: OffsetDateTime, limit: u32) -> Vec<Expirable>;
    fn try_expiry_lease(&self) -> Option<Box<dyn RelayLease>>;
});

timed_port!(Outbox {
    fn unpublished_events(&self, limit: u32) -> Vec<OrderEvent>;
    fn mark_published(&self, ids: &[Uuid], at: OffsetDateTime) -> ();
    fn outbox_backlog(&self) -> OutboxBacklog;
    fn try_relay_lease(&self) -> Option<Box<dyn RelayLease>>;
});

timed_port!(Audit {
    fn audit_log(&self, query: &AuditQuery) -> AuditPage;
    fn audit_chain(&self, after_seq: i64, limit: u32) -> Vec<AuditRecord>;
    fn event_chains(&self, after: Option<ChainCursor>, limit: u32) -> Vec<ChainLink>;
});

timed_port!(Settlement {
    fn post_remittance(&self, post: &PostRemittance) -> Posted;
    fn get_remittance(&self, id: Uuid) -> Option<Remittance>;
    fn cod_collected(&self, courier: Option<&str>, as_of: OffsetDateTime) -> Vec<CourierOrder>;
    fn cod_shipped(&self, courier: Option<&str>) -> Vec<ShippedCod>;
});

timed_port!(Invoices {
    fn order_documents(&self, order_id: Uuid) -> Vec<TaxDocument>;
    fn get_document(&self, number: &str) -> Option<TaxDocument>;
});

#[async_trait]
impl Health for Instrumented {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn pool_state(&self) -> PoolState {
        self.inner.pool_state()
    }

    fn answered_within(&self, window: Duration) -> bool {
        let last = self.last_ok.load(Ordering::Relaxed);
        !self.read_only_seen.load(Ordering::Relaxed)
            && last != 0
            && self.epoch.elapsed().saturating_sub(Duration::from_millis(last)) <= window
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let out = self.timed("ping", self.inner.ping()).await;
        if out.is_ok() {
            self.read_only_seen.store(false, Ordering::Relaxed);
        }
        out
    }

    async fn schema_is_current(&self) -> Result<bool, StoreError> {
        self.timed("schema_is_current", self.inner.schema_is_current()).await
    }
}
