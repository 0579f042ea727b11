//! Accounting of one request from the moment `observe` sees it: the active-requests gauge, the duration metric and
//! the request's log line, all kept by a guard, so that a request its client abandons (the connection closes and
//! hyper drops the request's future) is still counted and logged, with status 499 as nginx logs it, and never
//! leaks a count in `http_server_active_requests`.

use std::sync::atomic::{AtomicBool, Ordering};
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

/// What the handlers learn about a request that its log line needs, left in the request's extensions: the
/// caller's `sub` (the line shows only its hash) and whether the client went away while its body was read.
#[derive(Clone, Debug, Default)]
pub struct RequestNotes(Arc<Notes>);

#[derive(Debug, Default)]
struct Notes {
    principal: OnceLock<String>,
    client_gone: AtomicBool,
}

impl RequestNotes {
    /// Called by the auth extractor once the token is verified.
    pub fn record_principal(&self, sub: &str) {
        let _ = self.0.principal.set(sub.to_owned());
    }

    /// Called when reading the body failed because the connection closed: the request is logged as 499.
    pub fn record_client_gone(&self) {
        self.0.client_gone.store(true, Ordering::Relaxed);
    }

    fn principal(&self) -> Option<&str> {
        self.0.principal.get().map(String::as_str)
    }

    fn client_gone(&self) -> bool {
        self.0.client_gone.load(Ordering::Relaxed)
    }
}

/// Whether a body read failed because the client closed or reset its connection (hyper reports an early end of
/// the stream as `UnexpectedEof`, or a connection that failed as "connection error"), rather than sending bytes that
/// are not a valid body.
pub fn is_client_gone(error: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind;
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                ErrorKind::UnexpectedEof
                    | ErrorKind::ConnectionReset
                    | ErrorKind::ConnectionAborted
                    | ErrorKind::BrokenPipe
            )
        {
            return true;
        }
        if e.to_string() == "connection error" {
            return true;
        }
        next = e.source();
    }
    false
}

/// One request being accounted. `finish` writes its metric and log line; dropped without `finish`, it writes them
/// with status 499.
pub struct Accounting {
    state: AppState,
    method: &'static str,
    route: String,
    started: Instant,
    span: tracing::Span,
    notes: RequestNotes,
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
            notes: RequestNotes::default(),
            done: false,
        }
    }

    /// The notes to put in the request's extensions.
    pub fn notes(&self) -> RequestNotes {
        self.notes.clone()
    }

    /// The response is ready: record it under its status, or as 499 if the client left before sending its body.
    pub fn finish(mut self, response: &mut Response) {
        let failure = response.extensions_mut().remove::<ErrorLog>();
        let status = if self.notes.client_gone() {
            CLIENT_CLOSED_REQUEST
        } else {
            response.status().as_u16()
        };
        self.record(status, failure);
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
            .notes
            .principal()
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
