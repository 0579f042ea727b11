//! The payment failed at the provider; the order stays open until cancelled.

use serde::Deserialize;
use utoipa::ToSchema;

use super::fields::reason;
use super::{Context, OrderCommand, Spec};
use crate::domain::order::Command;
use crate::http::error::{ApiError, Code};

/// Optional; an empty body is the same as `{}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FailRequest {
    #[serde(default)]
    #[schema(schema_with = crate::http::wire::schema::reason)]
    pub reason: Option<String>,
}

impl OrderCommand for FailRequest {
    const SPEC: Spec = Spec {
        name: "fail",
        path: "/v1/orders/{id}/payment/fail",
        sub_id: None,
        customers_may: false,
        success: axum::http::StatusCode::OK,
        body_optional: true,
        problems: &[Code::InvalidTransition],
        summary: "Record a failed payment",
        description: "The payment failed at the provider; the order stays open until cancelled.",
    };

    fn into_command(self, _: Context) -> Result<Command, ApiError> {
        Ok(Command::Fail {
            reason: reason(self.reason)?,
        })
    }
}
