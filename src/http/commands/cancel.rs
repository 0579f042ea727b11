//! `POST /v1/orders/{id}/cancel`: the customer or staff cancel an order before anything has shipped.

use serde::Deserialize;
use utoipa::ToSchema;

use super::fields::reason;
use super::{Context, OrderCommand, Spec};
use crate::domain::order::Command;
use crate::http::error::{ApiError, Code};

/// Optional; an empty body is the same as `{}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    #[serde(default)]
    #[schema(schema_with = crate::http::wire::schema::reason)]
    pub reason: Option<String>,
}

impl OrderCommand for CancelRequest {
    const SPEC: Spec = Spec {
        name: "cancel",
        path: "/v1/orders/{id}/cancel",
        sub_id: None,
        customers_may: true,
        success: axum::http::StatusCode::OK,
        body_optional: true,
        problems: &[Code::InvalidTransition],
        summary: "Cancel an order",
        description: "Cancels an order that has not shipped: its reserved stock is released, an authorisation is \
                      voided and captured money is refunded. Customers may cancel their own orders.",
    };

    fn into_command(self, _: Context) -> Result<Command, ApiError> {
        Ok(Command::Cancel {
            reason: reason(self.reason)?,
        })
    }
}
