//! The Prometheus registry. Names follow Prometheus conventions (base units, `_total` counters) and the
//! OpenTelemetry HTTP semantic conventions; every label has a bounded set of values.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Seconds; 0.3 is a bucket boundary because the order-creation SLO is "under 300 ms".
const LATENCY_BUCKETS: [f64; 13] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub http_request_method: String,
    pub http_route: String,
    pub http_response_status_code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrderLabels {
    store: String,
    currency: String,
    payment_method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransitionLabels {
    status_kind: String,
    from: String,
    to: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    revision: String,
}

pub struct Metrics {
    registry: Registry,
    http_duration: Family<HttpLabels, Histogram>,
    pub http_active: Gauge<i64, std::sync::atomic::AtomicI64>,
    orders_created: Family<OrderLabels, Counter>,
    transitions: Family<TransitionLabels, Counter>,
    stock_failures: Counter<u64, AtomicU64>,
    replays: Counter<u64, AtomicU64>,
    outbox_pending: Gauge<i64, std::sync::atomic::AtomicI64>,
    outbox_oldest_age: Gauge<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let http_duration = Family::<HttpLabels, Histogram>::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        registry.register(
            "http_server_request_duration_seconds",
            "Duration of HTTP server requests",
            http_duration.clone(),
        );
        let http_active = Gauge::default();
        registry.register(
            "http_server_active_requests",
            "HTTP requests in flight",
            http_active.clone(),
        );
        let orders_created = Family::<OrderLabels, Counter>::default();
        registry.register("orderly_orders_created", "Orders placed", orders_created.clone());
        let transitions = Family::<TransitionLabels, Counter>::default();
        registry.register(
            "orderly_order_transitions",
            "Status moves of orders",
            transitions.clone(),
        );
        let stock_failures = Counter::default();
        registry.register(
            "orderly_stock_reservation_failures",
            "Orders refused for insufficient stock",
            stock_failures.clone(),
        );
        let replays = Counter::default();
        registry.register(
            "orderly_idempotent_replays",
            "Responses replayed for a reused Idempotency-Key",
            replays.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION").to_owned(),
                revision: option_env!("ORDERLY_REVISION").unwrap_or("unknown").to_owned(),
            })
            .set(1);
        registry.register("orderly_build_info", "Version and revision of the running build", build);
        let outbox_pending = Gauge::default();
        registry.register(
            "orderly_outbox_pending_events",
            "Order events not yet published to NATS",
            outbox_pending.clone(),
        );
        let outbox_oldest_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "orderly_outbox_oldest_pending_age_seconds",
            "Age of the oldest unpublished order event",
            outbox_oldest_age.clone(),
        );
        Metrics {
            registry,
            http_duration,
            http_active,
            orders_created,
            transitions,
            stock_failures,
            replays,
            outbox_pending,
            outbox_oldest_age,
        }
    }

    pub fn observe_request(&self, labels: HttpLabels, seconds: f64) {
        self.http_duration.get_or_create(&labels).observe(seconds);
    }

    pub fn order_created(&self, store: &str, currency: &str, payment_method: &str) {
        self.orders_created
            .get_or_create(&OrderLabels {
                store: store.to_owned(),
                currency: currency.to_owned(),
                payment_method: payment_method.to_owned(),
            })
            .inc();
    }

    pub fn order_transition(&self, kind: &str, from: &str, to: &str) {
        self.transitions
            .get_or_create(&TransitionLabels {
                status_kind: kind.to_owned(),
                from: from.to_owned(),
                to: to.to_owned(),
            })
            .inc();
    }

    pub fn stock_reservation_failed(&self) {
        self.stock_failures.inc();
    }

    pub fn idempotent_replay(&self) {
        self.replays.inc();
    }

    pub fn set_outbox(&self, pending: i64, oldest_age_seconds: f64) {
        self.outbox_pending.set(pending);
        self.outbox_oldest_age.set(oldest_age_seconds);
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Maps any method outside the standard set to `_OTHER`, as the OpenTelemetry conventions ask, so a client
/// inventing methods cannot create series.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "_OTHER",
    }
}
