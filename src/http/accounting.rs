//! Accounting of one request from the moment `observe` sees it: the active-requests gauge, the duration metric and
//! the request's log line, all kept by a guard, so that a request its client abandons (the connection closes and
//! hyper drops the request's future) is still counted and logged, with status 499 as nginx logs it, and never
//! leaks a count in `http_server_active_requests`.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::response::Response;

use super::AppState;
use super::error::ErrorLog;
use crate::telemetry::metrics::HttpLabels;

/// The status logged and counted for a request abandoned by its client before the response was ready (nginx's
/// "client closed request"). It sits in the duration metric beside the real statuses: it is neither a server
/// error nor a client error the API answered, so 5xx error rates and 4xx dashboards are not affected.
pub const CLIENT_CLOSED_REQUEST: u16 = 499;

/// Where the auth extractor leaves the caller's `sub`, for the request's log line (which shows only its hash).
#[derive(Clone, Debug, Default)]
pub struct PrincipalSlot(Arc<OnceLock<String>>);

impl PrincipalSlot {
    pub fn record(&self, sub: &str) {
        let _ = self.0.set(sub.to_owned());
    }

    fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}

/// One request being accounted. `finish` writes its metric and log line; dropped without `finish`, it writes them
/// with status 499.
pub struct Accounting {
    state: AppState,
    method: &'static str,
    route: String,
    started: Instant,
    span: tracing::Span,
    principal: PrincipalSlot,
    done: bool,
}

impl Accounting {
    /// Counts the request in `http_server_active_requests` until this is finished or dropped.
    pub fn start(state: &AppState, method: &'static str, route: String, span: tracing::Span) -> Self {
        state.metrics.http_active.inc();
        Accounting {
            state: state.clone(),
            method,
            route,
            started: Instant::now(),
            span,
            principal: PrincipalSlot::default(),
            done: false,
        }
    }

    /// The slot to put in the request's extensions.
    pub fn principal_slot(&self) -> PrincipalSlot {
        self.principal.clone()
    }

    /// The response is ready: record it under its status.
    pub fn finish(mut self, response: &mut Response) {
        let failure = response.extensions_mut().remove::<ErrorLog>();
        self.record(response.status().as_u16(), failure);
    }

    fn record(&mut self, status: u16, failure: Option<ErrorLog>) {
        self.done = true;
        self.state.metrics.http_active.dec();
        let elapsed = self.started.elapsed();
        self.state.metrics.observe_request(
            HttpLabels {
                http_request_method: self.method.to_owned(),
                http_route: self.route.clone(),
                http_response_status_code: status,
            },
            elapsed.as_secs_f64(),
        );
        let principal = self
            .principal
            .get()
            .map(|sub| self.state.principals.hash(sub))
            .unwrap_or_default();
        self.span.in_scope(|| {
            super::log_request(self.method, &self.route, status, elapsed, &principal, failure);
        });
    }
}

impl Drop for Accounting {
    fn drop(&mut self) {
        if !self.done {
            self.record(CLIENT_CLOSED_REQUEST, None);
        }
    }
}
