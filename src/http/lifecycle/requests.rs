//! Request bodies of the lifecycle commands, and their parsing into domain values with JSON pointers.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::events::SkuQuantity;
use crate::domain::order::Command;
use crate::domain::values::{Quantity, Sku, text};
use crate::http::error::{ApiError, FieldError};
use crate::http::extract::{Auth, JsonBody};
use crate::http::orders::{CommandTarget, WRITE_ANY};
use crate::http::wire::LineRequest;
use crate::http::wire::OrderLimits;

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

/// A body that only carries an optional free-text reason; an empty body is the same as `{}`.
macro_rules! reason_body {
    ($name:ident) => {
        #[derive(Debug, Default, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            #[serde(default)]
            pub reason: Option<String>,
        }
    };
}

reason_body!(VoidRequest);
reason_body!(FailRequest);
reason_body!(RefuseRequest);
reason_body!(DeliverRequest);

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

/// A lifecycle command's body: where it is posted, who may post it, and how it becomes a domain command.
pub trait CommandBody: DeserializeOwned + Send + 'static {
    /// The path after `/v1/orders/{id}/`.
    const ACTION: &'static str;
    /// Answer 201: the command creates a shipment, a return or a refund.
    const CREATES: bool = false;
    /// Customers (`orders:write:own`) may send it for their own orders; otherwise staff only.
    const CUSTOMERS_MAY: bool = false;

    fn into_command(self, limits: OrderLimits) -> Result<Command, ApiError>;
}

impl CommandBody for AuthorizeRequest {
    const ACTION: &'static str = "payment/authorize";

    fn into_command(self, _: OrderLimits) -> Result<Command, ApiError> {
        let provider_ref = free_text("/provider_ref", &self.provider_ref, 200)?;
        Ok(Command::Authorize {
            amount_minor: self.amount_minor,
            provider_ref,
        })
    }
}

impl CommandBody for CaptureRequest {
    const ACTION: &'static str = "payment/capture";

    fn into_command(self, _: OrderLimits) -> Result<Command, ApiError> {
        Ok(Command::Capture {
            amount_minor: self.amount_minor,
        })
    }
}

impl CommandBody for VoidRequest {
    const ACTION: &'static str = "payment/void";

    fn into_command(self, _: OrderLimits) -> Result<Command, ApiError> {
        reason(self.reason)?;
        Ok(Command::Void)
    }
}

impl CommandBody for FailRequest {
    const ACTION: &'static str = "payment/fail";

    fn into_command(self, _: OrderLimits) -> Result<Command, ApiError> {
        Ok(Command::Fail {
            reason: reason(self.reason)?,
        })
    }
}

impl CommandBody for CollectRequest {
    const ACTION: &'static str = "cod/collect";

    fn into_command(self, _: OrderLimits) -> Result<Command, ApiError> {
        let courier_ref = free_text("/courier_ref", &self.courier_ref, 200)?;
        Ok(Command::CollectCod {
            amount_minor: self.amount_minor,
            courier_ref,
        })
    }
}

impl CommandBody for RefuseRequest {
    const ACTION: &'static str = "cod/refuse";

    fn into_command(self, _: OrderLimits) -> Result<Command, ApiError> {
        Ok(Command::RefuseCod {
            reason: reason(self.reason)?,
        })
    }
}

impl CommandBody for ShipmentRequest {
    const ACTION: &'static str = "shipments";
    const CREATES: bool = true;

    fn into_command(self, limits: OrderLimits) -> Result<Command, ApiError> {
        Ok(Command::Ship {
            lines: sku_lines(&self.lines, limits.max_quantity)?,
            carrier: free_text("/carrier", &self.carrier, 100)?,
            tracking_number: free_text("/tracking_number", &self.tracking_number, 100)?,
        })
    }
}

impl CommandBody for ReturnRequest {
    const ACTION: &'static str = "returns";
    const CREATES: bool = true;
    /// Customers may ask to return their own delivered goods.
    const CUSTOMERS_MAY: bool = true;

    fn into_command(self, limits: OrderLimits) -> Result<Command, ApiError> {
        Ok(Command::RequestReturn {
            lines: sku_lines(&self.lines, limits.max_quantity)?,
            reason: reason(self.reason)?,
        })
    }
}

impl CommandBody for RefundRequest {
    const ACTION: &'static str = "refunds";
    const CREATES: bool = true;

    fn into_command(self, limits: OrderLimits) -> Result<Command, ApiError> {
        let lines = match &self.lines {
            Some(lines) if lines.is_empty() => {
                return Err(ApiError::field("/lines", "omit lines or name at least one"));
            }
            Some(lines) => sku_lines(lines, limits.max_quantity)?,
            None => Vec::new(),
        };
        Ok(Command::Refund {
            amount_minor: self.amount_minor,
            lines,
            reason: reason(self.reason)?,
        })
    }
}
