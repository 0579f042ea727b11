//! `POST /v1/orders/{id}/payment/authorize`: the payment provider authorised the grand total; the order is confirmed.

use serde::Deserialize;
use utoipa::ToSchema;

use super::fields::free_text;
use super::{Context, OrderCommand, Spec};
use crate::domain::order::Command;
use crate::http::error::{ApiError, Code};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    /// The grand total, in minor units.
    #[serde(deserialize_with = "crate::http::wire::schema::integral::required")]
    #[schema(schema_with = crate::http::wire::schema::amount)]
    pub amount_minor: i64,
    /// The payment provider's reference for the authorisation.
    #[schema(schema_with = crate::http::wire::schema::text_200)]
    pub provider_ref: String,
}

impl OrderCommand for AuthorizeRequest {
    const SPEC: Spec = Spec {
        name: "authorize",
        path: "/v1/orders/{id}/payment/authorize",
        sub_id: None,
        customers_may: false,
        success: axum::http::StatusCode::OK,
        body_optional: false,
        problems: &[Code::InvalidTransition, Code::AmountInvalid],
        summary: "Record a card authorisation",
        description: "The provider authorised the order's grand total (any other amount is `amount_invalid`); \
                      an open order becomes confirmed. After an edit raised the total of an authorised or captured \
                      order, the amount is `payment.balance_due` instead, and adds to what is authorised.",
    };

    fn into_command(self, _: Context) -> Result<Command, ApiError> {
        Ok(Command::Authorize {
            amount_minor: self.amount_minor,
            provider_ref: free_text("/provider_ref", &self.provider_ref, 200)?,
        })
    }
}
