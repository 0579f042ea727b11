//! The one place that knows status codes: every way a request can fail is an `ApiError` variant, and one match
//! (`ApiError::code`) turns it into a stable `Code`, which alone decides the status and title. Responses are RFC 9457
//! problem+json.
//!
//! Internal error text never reaches the client. Converting an error does not log it: the response carries an
//! `ErrorLog` extension, and the `observe` middleware writes it once, on the request's log line.

use std::fmt;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::pricing::PricingError;
use crate::domain::status::InvalidTransition;
use crate::domain::values::Sku;

mod code;
mod convert;
mod detail;

pub use code::Code;

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
    /// At most `MAX_LISTED_ERRORS`, in the order found.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// How many more invalid fields there are than `errors` lists; absent when it lists them all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors_not_listed: Option<usize>,
}

/// The most field errors one problem lists. A body of a thousand bad lines is a thousand errors; listing them all
/// made a 146 KB answer to a request a client should fix from the first few.
pub const MAX_LISTED_ERRORS: usize = 50;

/// Why authentication failed; the detail the client sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenFault {
    Expired,
    BadSignature,
    ForSomeoneElse,
    Malformed,
    Uncheckable,
    /// `nbf` or `iat` lies in the future.
    NotYetValid,
    /// Valid for longer than `jwt_max_lifetime_secs`.
    TooLongLived,
    /// Not typed `at+jwt` where that is required.
    NotAnAccessToken,
    /// Signed with a key (`kid`) the JWKS does not hold.
    UnknownKey,
    /// Under an `:own` scope the subject must be a customer id.
    SubjectNotACustomer,
}

/// Something a client may retry shortly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unavailable {
    Database,
    Busy,
    Timeout,
    /// `max_in_flight` requests are already being processed.
    Overloaded,
}

/// What the client asked for that does not exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    Order,
    Shipment,
    Return,
    Product,
    Stock,
    Remittance,
    Invoice,
    Route,
}

/// Every outcome of a failed request.
#[derive(Debug)]
pub enum ApiError {
    /// Fields of the body, path or query are invalid.
    Validation(Vec<FieldError>),
    MalformedJson(String),
    /// An object of the body names this key twice (the pointer of the second one).
    DuplicateKey(String),
    UnreadableBody,
    PayloadTooLarge {
        limit: usize,
    },
    UnsupportedMediaType,
    NoCredentials,
    InvalidToken(TokenFault),
    /// The token holds none of the scopes; the first is named.
    Forbidden(&'static str),
    NotFound(Missing),
    MethodNotAllowed,
    IdempotencyKeyMissing,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    RequestInProgress,
    IfMatchRequired,
    IfMatchInvalid,
    VersionConflict {
        expected: i64,
        current: i64,
    },
    Pricing(PricingError),
    InsufficientStock {
        sku: Sku,
        requested: i64,
        available: i64,
    },
    StockBelowReserved {
        sku: Sku,
        detail: String,
    },
    /// A stock count would leave the 64-bit range.
    StockOverflow {
        sku: Sku,
        detail: String,
    },
    InvalidTransition(InvalidTransition),
    PaymentRequired,
    /// A remittance with this `(courier, reference)` is stored with another body.
    RemittanceConflict {
        courier: String,
        reference: String,
    },
    AmountInvalid(String),
    /// An edit moves the order to a country taxed at another VAT rate.
    VatCountryChange {
        from: String,
        to: String,
    },
    RefundExceedsCaptured {
        requested: i64,
        refundable: i64,
    },
    /// The customer already has `limit` unpaid orders open.
    TooManyOpenOrders {
        limit: u32,
    },
    /// The caller's token bucket is empty; a token is back in `retry_after_secs` (at least 1).
    RateLimited {
        retry_after_secs: u64,
    },
    Unavailable {
        why: Unavailable,
        /// For the log only.
        cause: Option<String>,
    },
    /// For the log only; the client sees a generic message.
    Internal(String),
}

/// The error behind a response, for the request's log line (set by `ApiError::into_response`).
#[derive(Clone, Debug)]
pub struct ErrorLog {
    pub code: Code,
    pub cause: Option<String>,
}

impl ApiError {
    /// The one match from outcome to code.
    pub fn code(&self) -> Code {
        match self {
            ApiError::Validation(_) => Code::ValidationFailed,
            ApiError::MalformedJson(_) => Code::MalformedJson,
            ApiError::DuplicateKey(_) => Code::DuplicateKey,
            ApiError::UnreadableBody => Code::UnreadableBody,
            ApiError::PayloadTooLarge { .. } => Code::PayloadTooLarge,
            ApiError::UnsupportedMediaType => Code::UnsupportedMediaType,
            ApiError::NoCredentials => Code::Unauthenticated,
            ApiError::InvalidToken(_) => Code::InvalidToken,
            ApiError::Forbidden(_) => Code::InsufficientScope,
            ApiError::NotFound(Missing::Order) => Code::OrderNotFound,
            ApiError::NotFound(Missing::Shipment) => Code::ShipmentNotFound,
            ApiError::NotFound(Missing::Return) => Code::ReturnNotFound,
            ApiError::NotFound(Missing::Product) => Code::ProductNotFound,
            ApiError::NotFound(Missing::Stock) => Code::StockNotFound,
            ApiError::NotFound(Missing::Remittance) => Code::RemittanceNotFound,
            ApiError::NotFound(Missing::Invoice) => Code::InvoiceNotFound,
            ApiError::NotFound(Missing::Route) => Code::RouteNotFound,
            ApiError::MethodNotAllowed => Code::MethodNotAllowed,
            ApiError::IdempotencyKeyMissing => Code::IdempotencyKeyMissing,
            ApiError::IdempotencyKeyInvalid => Code::IdempotencyKeyInvalid,
            ApiError::IdempotencyKeyReused => Code::IdempotencyKeyReused,
            ApiError::RequestInProgress => Code::RequestInProgress,
            ApiError::IfMatchRequired => Code::IfMatchRequired,
            ApiError::IfMatchInvalid => Code::IfMatchInvalid,
            ApiError::VersionConflict { .. } => Code::VersionConflict,
            ApiError::Pricing(PricingError::UnknownSku(_)) => Code::UnknownSku,
            ApiError::Pricing(PricingError::InactiveSku(_)) => Code::SkuInactive,
            ApiError::Pricing(PricingError::NoPriceInCurrency(..)) => Code::PriceUnavailable,
            ApiError::Pricing(PricingError::NoVatRate(_)) => Code::UnsupportedCountry,
            ApiError::Pricing(PricingError::Money(_)) => Code::AmountOutOfRange,
            ApiError::InsufficientStock { .. } => Code::InsufficientStock,
            ApiError::StockBelowReserved { .. } => Code::StockBelowReserved,
            ApiError::StockOverflow { .. } => Code::StockOverflow,
            ApiError::InvalidTransition(_) => Code::InvalidTransition,
            ApiError::PaymentRequired => Code::PaymentRequired,
            ApiError::RemittanceConflict { .. } => Code::RemittanceConflict,
            ApiError::AmountInvalid(_) => Code::AmountInvalid,
            ApiError::VatCountryChange { .. } => Code::VatCountryChange,
            ApiError::RefundExceedsCaptured { .. } => Code::RefundExceedsCaptured,
            ApiError::TooManyOpenOrders { .. } => Code::TooManyOpenOrders,
            ApiError::RateLimited { .. } => Code::RateLimited,
            ApiError::Unavailable {
                why: Unavailable::Database,
                ..
            } => Code::DatabaseUnavailable,
            ApiError::Unavailable {
                why: Unavailable::Busy, ..
            } => Code::Busy,
            ApiError::Unavailable {
                why: Unavailable::Timeout,
                ..
            } => Code::RequestTimeout,
            ApiError::Unavailable {
                why: Unavailable::Overloaded,
                ..
            } => Code::Overloaded,
            ApiError::Internal(_) => Code::InternalError,
        }
    }

    /// One invalid field.
    pub fn field(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError {
            pointer: pointer.into(),
            detail: detail.into(),
        }])
    }

    pub fn internal(cause: impl fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    fn errors(&self) -> Vec<FieldError> {
        let at = |pointer: &str, detail: &str| {
            vec![FieldError {
                pointer: pointer.into(),
                detail: detail.into(),
            }]
        };
        match self {
            ApiError::Validation(errors) => errors.iter().take(MAX_LISTED_ERRORS).cloned().collect(),
            ApiError::DuplicateKey(pointer) => at(pointer, "the key appears more than once in its object"),
            ApiError::Pricing(PricingError::NoVatRate(_)) => {
                at("/ship_to/country", "no VAT rate is configured for this country")
            }
            ApiError::AmountInvalid(detail) => at("/amount_minor", detail),
            _ => Vec::new(),
        }
    }

    /// What the log line says about the failure: the cause for server-side failures, nothing for client errors.
    fn cause(&self) -> Option<String> {
        match self {
            ApiError::Internal(cause) => Some(cause.clone()),
            ApiError::Unavailable { cause, .. } => cause.clone(),
            _ => None,
        }
    }

    /// The `Retry-After` seconds, for the codes that send one.
    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            _ if self.code().status() == StatusCode::SERVICE_UNAVAILABLE => Some(1),
            _ => None,
        }
    }

    pub fn problem(&self) -> Problem {
        let code = self.code();
        Problem {
            kind: format!("/problems/{code}"),
            title: code.title(),
            status: code.status().as_u16(),
            detail: self.detail(),
            code: code.as_str(),
            errors: self.errors(),
            errors_not_listed: match self {
                ApiError::Validation(errors) if errors.len() > MAX_LISTED_ERRORS => {
                    Some(errors.len() - MAX_LISTED_ERRORS)
                }
                _ => None,
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (code.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if code.status() == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.extensions_mut().insert(ErrorLog {
            code,
            cause: self.cause(),
        });
        response
    }
}

#[cfg(test)]
mod tests;
