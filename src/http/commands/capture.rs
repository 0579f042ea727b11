//! `POST /v1/orders/{id}/payment/capture`: money moves from the authorisation, in one capture or several.

use serde::Deserialize;
use utoipa::ToSchema;

use super::{Context, OrderCommand, Spec};
use crate::domain::order::Command;
use crate::http::error::{ApiError, Code};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureRequest {
    /// At least 1 and at most what is still authorised, in minor units.
    #[serde(deserialize_with = "crate::http::wire::schema::integral::required")]
    #[schema(schema_with = crate::http::wire::schema::amount)]
    pub amount_minor: i64,
}

impl OrderCommand for CaptureRequest {
    const SPEC: Spec = Spec {
        name: "capture",
        path: "/v1/orders/{id}/payment/capture",
        sub_id: None,
        customers_may: false,
        success: axum::http::StatusCode::OK,
        body_optional: false,
        problems: &[Code::InvalidTransition, Code::AmountInvalid],
        summary: "Capture an authorised payment",
        description: "Captures part or all of what is still authorised, up to what the grand total still lacks; \
                      partial captures add up.",
    };

    fn into_command(self, _: Context) -> Result<Command, ApiError> {
        Ok(Command::Capture {
            amount_minor: self.amount_minor,
        })
    }
}
