//! The one place that knows status codes: `ApiError` renders RFC 9457 problem+json with a stable `code`.
//!
//! Internal error text never reaches the client; it is logged with the request id instead.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::order::OrderError;
use crate::domain::pricing::PricingError;
use crate::domain::stock::StockError;
use crate::store::StoreError;

/// One bad field: a JSON pointer into the request and what is wrong there.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    pub pointer: String,
    pub detail: String,
}

/// An RFC 9457 problem document.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `/problems/<code>`, documented in docs/api.md.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'static str,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable reason.
    pub code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    errors: Vec<FieldError>,
    www_authenticate: Option<&'static str>,
    retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            www_authenticate: None,
            retry_after: None,
        }
    }

    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.pointer, one.detail),
            _ => format!("{} fields are invalid", errors.len()),
        };
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Validation failed",
            detail,
        )
        .with_errors(errors)
    }

    pub fn field(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError::validation(vec![FieldError {
            pointer: pointer.into(),
            detail: detail.into(),
        }])
    }

    pub fn malformed_json(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", "Malformed JSON", detail)
    }

    pub fn unauthenticated(code: &'static str, detail: impl Into<String>) -> Self {
        let mut e = ApiError::new(StatusCode::UNAUTHORIZED, code, "Unauthenticated", detail);
        e.www_authenticate = Some("Bearer");
        e
    }

    pub fn forbidden(scope: &str) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "Insufficient scope",
            format!("this operation needs the `{scope}` scope"),
        )
    }

    pub fn not_found(code: &'static str, what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            code,
            "Not found",
            format!("{what} does not exist"),
        )
    }

    pub fn unavailable(code: &'static str, detail: &str) -> Self {
        let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, "Service unavailable", detail);
        e.retry_after = Some(1);
        e
    }

    pub fn internal() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal error",
            "the request failed on our side; it has been logged",
        )
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("/problems/{}", self.code),
            title: self.title,
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code,
            errors: self.errors.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(v) = self.www_authenticate {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(v));
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

fn pricing_error(e: PricingError) -> ApiError {
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    match e {
        PricingError::UnknownSku(sku) => ApiError::new(
            unprocessable,
            "unknown_sku",
            "Unknown SKU",
            format!("SKU {sku} is not in the catalog"),
        ),
        PricingError::InactiveSku(sku) => ApiError::new(
            unprocessable,
            "sku_inactive",
            "SKU not for sale",
            format!("SKU {sku} is not for sale"),
        ),
        PricingError::NoPriceInCurrency(sku, c) => ApiError::new(
            unprocessable,
            "price_unavailable",
            "No price in this currency",
            format!("SKU {sku} has no price in {c}"),
        ),
        PricingError::NoVatRate(country) => ApiError::new(
            unprocessable,
            "unsupported_country",
            "Country not served",
            format!("orders cannot ship to {country}: no VAT rate is configured for it"),
        )
        .with_errors(vec![FieldError {
            pointer: "/ship_to/country".into(),
            detail: "no VAT rate is configured for this country".into(),
        }]),
        PricingError::Money(_) => ApiError::new(
            unprocessable,
            "amount_out_of_range",
            "Amount out of range",
            "the order total is too large",
        ),
    }
}

fn order_error(e: OrderError) -> ApiError {
    let conflict = StatusCode::CONFLICT;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    match e {
        OrderError::InvalidTransition(t) | OrderError::AlreadyShipped(t) => ApiError::new(
            conflict,
            "invalid_transition",
            "Invalid transition",
            format!("the {} status is `{}` and cannot move to `{}`", t.kind, t.from, t.to),
        ),
        OrderError::PaymentRequired => ApiError::new(
            conflict,
            "payment_required",
            "Payment required",
            "a card order ships only while its payment is authorised or captured",
        ),
        OrderError::InvalidLine { index, field, detail } => {
            let pointer = if field == "lines" {
                "/lines".to_owned()
            } else {
                format!("/lines/{index}/{field}")
            };
            ApiError::field(pointer, detail)
        }
        OrderError::InvalidAmount(detail) => {
            let errors = vec![FieldError {
                pointer: "/amount_minor".into(),
                detail: detail.clone(),
            }];
            ApiError::new(unprocessable, "amount_invalid", "Invalid amount", detail).with_errors(errors)
        }
        OrderError::RefundExceedsCaptured { requested, refundable } => ApiError::new(
            unprocessable,
            "refund_exceeds_captured",
            "Refund exceeds what was paid",
            format!("a refund of {requested} exceeds the {refundable} still refundable"),
        ),
        OrderError::NotFound(what) => ApiError::new(
            StatusCode::NOT_FOUND,
            if what == "shipment" {
                "shipment_not_found"
            } else {
                "return_not_found"
            },
            "Not found",
            format!("no such {what} on this order"),
        ),
        OrderError::Corrupt(detail) => {
            tracing::error!(%detail, "order event stream inconsistent");
            ApiError::internal()
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound("order") => ApiError::not_found("order_not_found", "the order"),
            StoreError::NotFound("product") => ApiError::not_found("product_not_found", "the product"),
            StoreError::NotFound(what) => ApiError::not_found("not_found", what),
            StoreError::IdempotencyKeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "Idempotency-Key reused",
                "this Idempotency-Key was already used with a different request",
            ),
            StoreError::RequestInProgress => ApiError::new(
                StatusCode::CONFLICT,
                "request_in_progress",
                "Request in progress",
                "a request with this Idempotency-Key is still being processed; retry shortly",
            ),
            StoreError::VersionConflict { expected, current } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "version_conflict",
                "Version conflict",
                format!("If-Match was \"{expected}\" but the order is at \"{current}\"; reload and retry"),
            ),
            StoreError::Pricing(p) => pricing_error(p),
            StoreError::Stock { sku, source } => match source {
                StockError::Insufficient { available, requested } => ApiError::new(
                    StatusCode::CONFLICT,
                    "insufficient_stock",
                    "Insufficient stock",
                    format!("SKU {sku}: {requested} requested, {available} available"),
                ),
                StockError::BelowReserved { .. } => ApiError::new(
                    StatusCode::CONFLICT,
                    "stock_below_reserved",
                    "Stock below reserved",
                    format!("SKU {sku}: {source}"),
                ),
                other => {
                    tracing::error!(error = %other, %sku, "stock invariant violated");
                    ApiError::internal()
                }
            },
            StoreError::Order(e) => order_error(e),
            StoreError::Unavailable(err) => {
                tracing::warn!(error = %err, "database unavailable");
                ApiError::unavailable("database_unavailable", "the database cannot be reached; retry shortly")
            }
            StoreError::Busy(err) => {
                tracing::warn!(error = %err, "database contention");
                ApiError::unavailable("busy", "the system is busy; retry shortly")
            }
            StoreError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "storage failure");
                ApiError::internal()
            }
        }
    }
}
