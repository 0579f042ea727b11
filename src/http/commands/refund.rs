//! `POST /v1/orders/{id}/refunds`: money goes back, by amount or by units, never more than was paid.

use serde::Deserialize;
use utoipa::ToSchema;

use super::fields::{reason, sku_lines};
use super::{Context, OrderCommand, Spec};
use crate::domain::order::Command;
use crate::http::error::{ApiError, Code};
use crate::http::wire::LineRequest;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Without `lines`: spread over everything still refundable. With `lines`: over those lines only.
    #[serde(default, deserialize_with = "crate::http::wire::schema::integral::optional")]
    #[schema(schema_with = crate::http::wire::schema::optional_amount)]
    pub amount_minor: Option<i64>,
    /// Units to refund; without `amount_minor` their value is refunded exactly.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Option<Vec<LineRequest>>,
    #[serde(default)]
    #[schema(schema_with = crate::http::wire::schema::reason)]
    pub reason: Option<String>,
}

impl OrderCommand for RefundRequest {
    const SPEC: Spec = Spec {
        name: "refund",
        path: "/v1/orders/{id}/refunds",
        sub_id: None,
        customers_may: false,
        success: axum::http::StatusCode::CREATED,
        body_optional: false,
        problems: &[
            Code::InvalidTransition,
            Code::AmountInvalid,
            Code::RefundExceedsCaptured,
        ],
        summary: "Refund",
        description: "Refunds an amount, the value of some units, or (with neither) everything still refundable, \
                      spread over the lines; never more than was captured or collected.",
    };

    fn into_command(self, ctx: Context) -> Result<Command, ApiError> {
        let lines = match &self.lines {
            Some(lines) => sku_lines(lines, ctx.limits)?,
            None => Vec::new(),
        };
        Ok(Command::Refund {
            amount_minor: self.amount_minor,
            lines,
            reason: reason(self.reason)?,
        })
    }
}
