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
    /// Unpaid card orders the sweeper expired, and requests refused by a rate limit (issue 14).
    orders_expired: Counter<u64, AtomicU64>,
    rate_limited: Counter<u64, AtomicU64>,
    outbox_pending: Gauge<i64, std::sync::atomic::AtomicI64>,
    outbox_oldest_age: Gauge<f64, AtomicU64>,
    db_pool: Family<PoolLabels, Gauge>,
    db_query: Family<OperationLabels, Histogram>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
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
        let orders_expired = Counter::default();
        registry.register(
            "orderly_orders_expired",
            "Unpaid card orders cancelled by the expiry sweeper",
            orders_expired.clone(),
        );
        let rate_limited = Counter::default();
        registry.register(
            "orderly_rate_limited_requests",
            "Requests answered 429 by a rate limit",
            rate_limited.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION").to_owned(),
                revision: option_env!("ORDERLY_REVISION").unwrap_or("unknown").to_owned(),
            })
            .set(1);
        registry.register("orderly_build_info", "Version and revision of the running build", build);
        registry.register_collector(Box::new(super::process::ProcessCollector));
        let db_pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "orderly_db_pool_connections",
            "Database pool connections by state",
            db_pool.clone(),
        );
        let db_query = Family::<OperationLabels, Histogram>::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        registry.register(
            "orderly_db_query_duration_seconds",
            "Duration of storage operations",
            db_query.clone(),
        );
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
            orders_expired,
            rate_limited,
            outbox_pending,
            outbox_oldest_age,
            db_pool,
            db_query,
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

    pub fn orders_expired(&self, n: u64) {
        self.orders_expired.inc_by(n);
    }

    pub fn request_rate_limited(&self) {
        self.rate_limited.inc();
    }

    /// Connections of the database pool: `idle`, `in_use`, and the configured `max`.
    pub fn set_db_pool(&self, idle: i64, in_use: i64, max: i64) {
        for (state, value) in [("idle", idle), ("in_use", in_use), ("max", max)] {
            self.db_pool.get_or_create(&PoolLabels { state }).set(value);
        }
    }

    /// One storage operation took `seconds`; `operation` is a `Store` method name.
    pub fn observe_db(&self, operation: &'static str, seconds: f64) {
        self.db_query
            .get_or_create(&OperationLabels { operation })
            .observe(seconds);
    }

    pub fn set_outbox(&self, pending: i64, oldest_age_seconds: f64) {
        self.outbox_pending.set(pending);
        self.outbox_oldest_age.set(oldest_age_seconds);
    }

    /// The classic Prometheus text format (version 0.0.4), which every scraper and `promtool check metrics`
    /// read. prometheus-client writes OpenMetrics, whose counter metadata names the family without `_total`
    /// and which ends in `# EOF`; `to_classic_text` adjusts exactly those two things.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        to_classic_text(&out)
    }
}

/// Converts OpenMetrics text to the classic format: counter HELP/TYPE lines name the `_total` series, and
/// there is no `# EOF` terminator.
pub fn to_classic_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + 64);
    for line in openmetrics.lines() {
        if line == "# EOF" {
            continue;
        }
        let meta = line
            .strip_prefix("# HELP ")
            .map(|r| ("# HELP ", r))
            .or_else(|| line.strip_prefix("# TYPE ").map(|r| ("# TYPE ", r)));
        match meta {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                let suffix = if counters.contains(name) { "_total" } else { "" };
                out.push_str(&format!("{prefix}{name}{suffix} {tail}\n"));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
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
