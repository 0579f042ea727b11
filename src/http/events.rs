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
    /// Who caused the event. Staff see the token subject (a staff or service id); a customer reading their own
    /// order sees `customer` for what they did and `staff` for everything else, never a staff member's id.
    pub actor: String,
    /// The event's data. A customer does not see the payment provider's or the courier's references
    /// (`provider_ref`, `courier_ref`).
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
        .map(|e| {
            let mut data = e.change.data();
            let kind = e.kind().to_owned();
            let actor = match &owner {
                None => e.actor,
                Some(customer) => {
                    hide_references(&mut data);
                    if e.actor == customer.as_str() {
                        "customer"
                    } else {
                        "staff"
                    }
                    .to_owned()
                }
            };
            EventView {
                id: e.id,
                sequence: e.sequence,
                kind,
                occurred_at: e.occurred_at,
                actor,
                data,
            }
        })
        .collect();
    Ok(axum::Json(EventPageView { items }).into_response())
}

/// What only staff see of an event's data: the payment provider's and the courier's references, wherever they
/// appear (the payment events name them; an `order.placed` or `order.imported` snapshot may hold them too).
pub(crate) const STAFF_ONLY: [&str; 2] = ["provider_ref", "courier_ref"];

/// Takes the staff-only keys out of `value`, at any depth.
fn hide_references(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for key in STAFF_ONLY {
                map.remove(key);
            }
            map.values_mut().for_each(hide_references);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(hide_references),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_taken_out_at_any_depth() {
        let mut data = serde_json::json!({
            "amount_minor": 5, "provider_ref": "psp-1",
            "order": {"progress": {"courier_ref": "c-1", "provider_ref": null, "kept": [{"provider_ref": 1}]}}
        });
        hide_references(&mut data);
        assert_eq!(
            data,
            serde_json::json!({"amount_minor": 5, "order": {"progress": {"kept": [{}]}}})
        );
    }
}
