//! `POST /v1/orders/{id}/returns/{return_id}/receive`: the warehouse received a return, and restocks it or not.

use serde::Deserialize;
use utoipa::ToSchema;

use super::SubId;
use super::{Context, OrderCommand, Spec};
use crate::domain::order::Command;
use crate::http::error::Missing;
use crate::http::error::{ApiError, Code};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveRequest {
    /// Put the returned units back on the shelf (false for damaged goods).
    pub restock: bool,
}

impl OrderCommand for ReceiveRequest {
    const SPEC: Spec = Spec {
        name: "receive_return",
        path: "/v1/orders/{id}/returns/{return_id}/receive",
        sub_id: Some(SubId {
            param: "return_id",
            missing: Missing::Return,
        }),
        customers_may: false,
        success: axum::http::StatusCode::OK,
        body_optional: false,
        problems: &[Code::InvalidTransition, Code::StockOverflow],
        summary: "Receive a return",
        description: "The returned units arrived; with `restock` they are available for sale again.",
    };

    fn into_command(self, ctx: Context) -> Result<Command, ApiError> {
        Ok(Command::ReceiveReturn {
            return_id: ctx.sub_id.ok_or(ApiError::NotFound(Missing::Return))?,
            restock: self.restock,
        })
    }
}
