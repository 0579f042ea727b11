//! `GET /v1/orders/{id}/events`: an order's history, numbered without gaps.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::AppState;
use crate::http::error::{ApiError, Missing};
use crate::http::extract::Auth;
use crate::http::orders::{READ_ANY, READ_OWN, own_scope};

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: Uuid,
    /// 1, 2, 3 ... per order, without gaps.
    pub sequence: i64,
    #[serde(rename = "type")]
    #[schema(example = "payment.captured")]
    pub kind: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: OffsetDateTime,
    pub actor: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventPageView {
    pub items: Vec<EventView>,
}

#[utoipa::path(get, path = "/v1/orders/{id}/events", tag = "lifecycle", params(("id" = Uuid, Path)),
    responses((status = 200, body = EventPageView), (status = 404, body = crate::http::error::Problem)),
    security(("bearer" = ["orders:read", "orders:read:own"])))]
pub async fn events(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> Result<Response, ApiError> {
    let held = auth.require(&[READ_ANY, READ_OWN])?;
    let owner = own_scope(&auth, held, READ_OWN)?;
    let not_found = ApiError::NotFound(Missing::Order);
    let Ok(id) = Uuid::parse_str(&id) else {
        return Err(not_found);
    };
    let order = state.store.get_order(id).await?.ok_or(not_found)?;
    if owner.as_ref().is_some_and(|c| !order.belongs_to(c)) {
        return Err(ApiError::NotFound(Missing::Order));
    }
    let items = state
        .store
        .order_events(id)
        .await?
        .into_iter()
        .map(|e| EventView {
            id: e.id,
            sequence: e.sequence,
            kind: e.kind().to_owned(),
            occurred_at: e.occurred_at,
            actor: e.actor,
            data: e.change.data(),
        })
        .collect();
    Ok(axum::Json(EventPageView { items }).into_response())
}
