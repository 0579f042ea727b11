//! `POST /v1/orders/{id}/shipments`: some or all of the unshipped units leave the warehouse.

use serde::Deserialize;
use utoipa::ToSchema;

use super::fields::{free_text, sku_lines};
use super::{Context, OrderCommand, Spec};
use crate::domain::order::Command;
use crate::http::error::{ApiError, Code};
use crate::http::wire::LineRequest;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentRequest {
    /// Units of the order's lines, each SKU once.
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<LineRequest>,
    #[schema(schema_with = crate::http::wire::schema::text_100)]
    pub carrier: String,
    #[schema(schema_with = crate::http::wire::schema::text_100)]
    pub tracking_number: String,
}

impl OrderCommand for ShipmentRequest {
    const SPEC: Spec = Spec {
        name: "ship",
        path: "/v1/orders/{id}/shipments",
        sub_id: None,
        customers_may: false,
        success: axum::http::StatusCode::CREATED,
        body_optional: false,
        problems: &[Code::InvalidTransition, Code::PaymentRequired],
        summary: "Create a shipment",
        description: "Ships some or all of the units not yet shipped; they leave the reserved stock. A card order \
                      ships only while its payment is authorised or captured.",
    };

    fn into_command(self, ctx: Context) -> Result<Command, ApiError> {
        Ok(Command::Ship {
            lines: sku_lines(&self.lines, ctx.limits)?,
            carrier: free_text("/carrier", &self.carrier, 100)?,
            tracking_number: free_text("/tracking_number", &self.tracking_number, 100)?,
        })
    }
}
