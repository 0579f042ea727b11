//! The customer refused a cash-on-delivery parcel at the door; the shipped units return to origin.

use serde::Deserialize;
use utoipa::ToSchema;

use super::fields::reason;
use super::{Context, OrderCommand, Spec};
use crate::domain::order::Command;
use crate::http::error::{ApiError, Code};

/// Optional; an empty body is the same as `{}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefuseRequest {
    #[serde(default)]
    #[schema(schema_with = crate::http::wire::schema::reason)]
    pub reason: Option<String>,
}

impl OrderCommand for RefuseRequest {
    const SPEC: Spec = Spec {
        name: "refuse_cod",
        path: "/v1/orders/{id}/cod/refuse",
        sub_id: None,
        customers_may: false,
        success: axum::http::StatusCode::OK,
        body_optional: true,
        problems: &[Code::InvalidTransition],
        summary: "Record a refusal at the door",
        description: "The customer refused a cash-on-delivery parcel at the door; the shipped units return to origin.",
    };

    fn into_command(self, _: Context) -> Result<Command, ApiError> {
        Ok(Command::RefuseCod {
            reason: reason(self.reason)?,
        })
    }
}
