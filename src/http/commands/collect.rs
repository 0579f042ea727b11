//! `POST /v1/orders/{id}/cod/collect`: the courier collected the cash for a delivered cash-on-delivery order.

use serde::Deserialize;
use utoipa::ToSchema;

use super::fields::free_text;
use super::{Context, OrderCommand, Spec};
use crate::domain::order::Command;
use crate::http::error::{ApiError, Code};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectRequest {
    /// The grand total, in minor units.
    #[serde(deserialize_with = "crate::http::wire::schema::integral::required")]
    #[schema(schema_with = crate::http::wire::schema::amount)]
    pub amount_minor: i64,
    /// The courier's reference for the collection.
    #[schema(schema_with = crate::http::wire::schema::text_200)]
    pub courier_ref: String,
}

impl OrderCommand for CollectRequest {
    const SPEC: Spec = Spec {
        name: "collect_cod",
        path: "/v1/orders/{id}/cod/collect",
        sub_id: None,
        customers_may: false,
        success: axum::http::StatusCode::OK,
        body_optional: false,
        problems: &[Code::InvalidTransition, Code::AmountInvalid],
        summary: "Record cash collected at the door",
        description: "The courier collected the grand total (any other amount is `amount_invalid`) after at \
                      least one delivery.",
    };

    fn into_command(self, _: Context) -> Result<Command, ApiError> {
        Ok(Command::CollectCod {
            amount_minor: self.amount_minor,
            courier_ref: free_text("/courier_ref", &self.courier_ref, 200)?,
        })
    }
}
