//! The courier delivered one shipment of the order.

use serde::Deserialize;
use utoipa::ToSchema;

use super::fields::reason;
use super::{Context, OrderCommand, Spec, SubId};
use crate::domain::order::Command;
use crate::http::error::{ApiError, Code, Missing};

/// Optional; an empty body is the same as `{}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverRequest {
    #[serde(default)]
    #[schema(schema_with = crate::http::wire::schema::reason)]
    pub reason: Option<String>,
}

impl OrderCommand for DeliverRequest {
    const SPEC: Spec = Spec {
        name: "deliver",
        path: "/v1/orders/{id}/shipments/{shipment_id}/deliver",
        sub_id: Some(SubId {
            param: "shipment_id",
            missing: Missing::Shipment,
        }),
        customers_may: false,
        success: axum::http::StatusCode::OK,
        body_optional: true,
        problems: &[Code::InvalidTransition],
        summary: "Record a delivery",
        description: "The courier delivered one shipment of the order.",
    };

    fn into_command(self, ctx: Context) -> Result<Command, ApiError> {
        reason(self.reason)?;
        let shipment_id = ctx.sub_id.ok_or(ApiError::NotFound(Missing::Shipment))?;
        Ok(Command::Deliver { shipment_id })
    }
}
