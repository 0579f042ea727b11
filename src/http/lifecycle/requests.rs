//! Request bodies of the lifecycle commands, and their parsing into domain values with JSON pointers.

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::events::SkuQuantity;
use crate::domain::values::{Quantity, Sku, text};
use crate::http::error::{ApiError, FieldError};
use crate::http::extract::{Auth, JsonBody};
use crate::http::orders::{CommandTarget, WRITE_ANY};
use crate::http::wire::LineRequest;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    pub amount_minor: i64,
    /// The payment provider's reference for the authorisation.
    pub provider_ref: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureRequest {
    pub amount_minor: i64,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectRequest {
    pub amount_minor: i64,
    pub courier_ref: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentRequest {
    pub lines: Vec<LineRequest>,
    pub carrier: String,
    pub tracking_number: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    pub lines: Vec<LineRequest>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveRequest {
    /// Put the returned units back on the shelf (false for damaged goods).
    pub restock: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Without `lines`: spread over everything still refundable. With `lines`: over those lines only.
    #[serde(default)]
    pub amount_minor: Option<i64>,
    /// Units to refund; without `amount_minor` their value is refunded exactly.
    #[serde(default)]
    pub lines: Option<Vec<LineRequest>>,
    #[serde(default)]
    pub reason: Option<String>,
}

pub(super) fn free_text(pointer: &str, raw: &str, max: usize) -> Result<String, ApiError> {
    text(raw, max).map_err(|e| ApiError::field(pointer, e.0))
}

pub(super) fn reason(raw: Option<String>) -> Result<Option<String>, ApiError> {
    raw.map(|r| free_text("/reason", &r, 500)).transpose()
}

pub(super) fn sku_lines(lines: &[LineRequest], max_quantity: u32) -> Result<Vec<SkuQuantity>, ApiError> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let sku = Sku::parse(&l.sku).map_err(|e| {
            errors.push(FieldError {
                pointer: format!("/lines/{i}/sku"),
                detail: e.0,
            })
        });
        let quantity = Quantity::parse(l.quantity, max_quantity).map_err(|e| {
            errors.push(FieldError {
                pointer: format!("/lines/{i}/quantity"),
                detail: e.0,
            })
        });
        if let (Ok(sku), Ok(quantity)) = (sku, quantity) {
            out.push(SkuQuantity { sku, quantity });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// An empty body is allowed where a command needs nothing; the fingerprint then hashes `{}`.
pub(super) fn optional<T: Default>(body: Option<JsonBody<T>>) -> (T, Vec<u8>) {
    match body {
        Some(b) => (b.value, b.canonical),
        None => (T::default(), b"{}".to_vec()),
    }
}

/// Staff commands check the scope before looking at the body, so a customer gets 403, not a field error.
pub(super) fn staff_only(auth: &Auth) -> Result<(), ApiError> {
    auth.require(&[WRITE_ANY]).map(|_| ())
}

pub(super) fn staff<'a>(id: &'a str, action: &'a str, created: bool) -> CommandTarget<'a> {
    CommandTarget {
        id,
        action,
        customers_may: false,
        created,
    }
}

pub(super) fn sub_id(raw: &str, code: &'static str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found(code, what))
}
