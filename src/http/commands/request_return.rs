//! `POST /v1/orders/{id}/returns`: the customer (for their own order) or staff open a return of delivered units.

use serde::Deserialize;
use utoipa::ToSchema;

use super::fields::{reason, sku_lines};
use super::{Context, OrderCommand, Spec};
use crate::domain::order::Command;
use crate::http::error::{ApiError, Code};
use crate::http::wire::LineRequest;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    /// Delivered units to send back, each SKU once.
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<LineRequest>,
    #[serde(default)]
    #[schema(schema_with = crate::http::wire::schema::reason)]
    pub reason: Option<String>,
}

impl OrderCommand for ReturnRequest {
    const SPEC: Spec = Spec {
        name: "request_return",
        path: "/v1/orders/{id}/returns",
        sub_id: None,
        customers_may: true,
        success: axum::http::StatusCode::CREATED,
        body_optional: false,
        problems: &[Code::InvalidTransition],
        summary: "Request a return",
        description: "Opens a return of delivered units. Customers may ask to return their own goods.",
    };

    fn into_command(self, ctx: Context) -> Result<Command, ApiError> {
        Ok(Command::RequestReturn {
            lines: sku_lines(&self.lines, ctx.limits)?,
            reason: reason(self.reason)?,
        })
    }
}
