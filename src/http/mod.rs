//! The axum adapter: `router()` merges one router per resource and wraps them in the request pipeline
//! (request id, trace id, timeout, metrics, one JSON log line per request). `admin` is the separate
//! operations port: health, readiness, metrics.

pub mod accounting;
pub mod admin;
pub mod audit;
pub mod catalog;
pub mod cod;
pub mod commands;
pub mod error;
pub mod events;
pub mod export;
pub mod extract;
pub mod invoices;
pub mod openapi;
pub mod orders;
pub mod ratelimit;
pub mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::auth::Verifier;
use crate::domain::pricing::PricingPolicy;
use crate::domain::values::StoreCode;
use crate::store::Store;
use crate::telemetry::Metrics;
use crate::telemetry::logging::{request_id, trace_id};
use crate::telemetry::metrics::method_label;
use crate::telemetry::principal::PrincipalHasher;
use accounting::Accounting;
use error::ApiError;
use wire::OrderLimits;

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_body_bytes: usize,
    pub order: OrderLimits,
    pub request_timeout: Duration,
    /// Open unpaid orders a customer may have when placing another (0: no cap).
    pub max_open_unpaid_orders: u32,
}

/// Process-wide health: set to draining on SIGTERM so readiness fails while requests still complete.
#[derive(Debug, Default)]
pub struct Health {
    draining: AtomicBool,
    schema_current: AtomicBool,
}

impl Health {
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}

/// What every handler shares, behind one `Arc`: cloning the state per request (axum does, for each extractor and
/// middleware) is one reference count, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Services {
    pub store: Arc<dyn Store>,
    pub verifier: Arc<Verifier>,
    pub policy: Arc<PricingPolicy>,
    pub store_code: StoreCode,
    pub limits: Limits,
    pub idempotency_ttl: time::Duration,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
    /// `max_in_flight` permits; a request that finds none is shed with 503 `overloaded`.
    pub in_flight: Arc<tokio::sync::Semaphore>,
    /// Turns a caller's `sub` into the `principal` of its log lines.
    pub principals: PrincipalHasher,
    pub rate_limits: Arc<ratelimit::RateLimits>,
    /// The operations console's keys and development sign-in.
    pub console: Arc<crate::console::Settings>,
    /// The seller on tax invoices and credit notes.
    pub seller: crate::domain::invoice::Seller,
}

/// The public API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(orders::router())
        .merge(commands::router())
        .route("/v1/orders/{id}/events", axum::routing::get(events::events))
        .merge(catalog::router())
        .merge(cod::router())
        .merge(invoices::router())
        .merge(audit::router())
        .merge(openapi::router())
        .merge(crate::console::router())
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(state.limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), ratelimit::limit))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

async fn route_not_found() -> ApiError {
    ApiError::NotFound(error::Missing::Route)
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Request id and trace id, load shedding, a deadline, metrics by route template, and one log line per request
/// (see `accounting`, which also covers requests their client abandons).
async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let id = request_id(req.headers().get("x-request-id").and_then(|v| v.to_str().ok()));
    let trace = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(trace_id)
        .map(str::to_owned);
    let span = tracing::info_span!("request", request_id = %id, trace_id = trace.as_deref().unwrap_or(""));
    req.extensions_mut().insert(extract::RequestId(Some(id.clone())));

    let accounting = Accounting::start(&state, method, route, span.clone());
    req.extensions_mut().insert(accounting.notes());
    let mut response = match state.in_flight.try_acquire() {
        // Shed at once: queueing would only add latency to requests that are already late.
        Err(_) => ApiError::Unavailable {
            why: error::Unavailable::Overloaded,
            cause: None,
        }
        .into_response(),
        Ok(_permit) => tokio::time::timeout(state.limits.request_timeout, next.run(req))
            .instrument(span)
            .await
            .unwrap_or_else(|_| {
                ApiError::Unavailable {
                    why: error::Unavailable::Timeout,
                    cause: None,
                }
                .into_response()
            }),
    };
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    if state.health.is_draining() {
        // Ask keep-alive clients to reconnect, so they land on a replica that is not shutting down.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    accounting.finish(&mut response);
    response
}

/// The request's one log line: info for success and client errors (with the problem code), warn for a retryable
/// outage, error for a failure on our side, each with its cause; `principal` is the caller's hash, or empty.
fn log_request(
    method: &str,
    route: &str,
    status: u16,
    elapsed: Duration,
    principal: &str,
    failure: Option<error::ErrorLog>,
) {
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let code = failure.as_ref().map(|f| f.code.as_str()).unwrap_or("");
    let cause = failure.as_ref().and_then(|f| f.cause.as_deref()).unwrap_or("");
    if status >= 500 && status != 503 {
        tracing::error!(target: "orderly::http", method, route, status, latency_ms, principal, code, cause, "request");
    } else if status == 503 {
        tracing::warn!(target: "orderly::http", method, route, status, latency_ms, principal, code, cause, "request");
    } else {
        tracing::info!(target: "orderly::http", method, route, status, latency_ms, principal, code, "request");
    }
}
