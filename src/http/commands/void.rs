//! The authorisation is released without capturing anything.

use serde::Deserialize;
use utoipa::ToSchema;

use super::fields::reason;
use super::{Context, OrderCommand, Spec};
use crate::domain::order::Command;
use crate::http::error::{ApiError, Code};

/// Optional; an empty body is the same as `{}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidRequest {
    #[serde(default)]
    #[schema(schema_with = crate::http::wire::schema::reason)]
    pub reason: Option<String>,
}

impl OrderCommand for VoidRequest {
    const SPEC: Spec = Spec {
        name: "void",
        path: "/v1/orders/{id}/payment/void",
        sub_id: None,
        customers_may: false,
        success: axum::http::StatusCode::OK,
        body_optional: true,
        problems: &[Code::InvalidTransition],
        summary: "Void an authorisation",
        description: "The authorisation is released without capturing anything.",
    };

    fn into_command(self, _: Context) -> Result<Command, ApiError> {
        reason(self.reason)?;
        Ok(Command::Void)
    }
}
