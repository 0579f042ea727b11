//! The life of an order after it is placed: card payments, cash on delivery, shipments, returns, refunds, and
//! its event history. Every command takes Idempotency-Key and If-Match and runs through `run_command`.

pub mod events;
mod requests;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};

pub use events::{EventPageView, EventView, events};
pub use requests::{
    AuthorizeRequest, CaptureRequest, CollectRequest, CommandBody, DeliverRequest, FailRequest, ReceiveRequest,
    RefundRequest, RefuseRequest, ReturnRequest, ShipmentRequest, VoidRequest,
};
use requests::{optional, reason, staff, staff_only, sub_id};

use super::AppState;
use super::error::ApiError;
use super::extract::{Auth, IdempotencyKeyHeader, IfMatch, JsonBody};
use super::orders::{CommandTarget, run_command};
use crate::domain::order::Command;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/orders/{id}/payment/authorize", post(with_body::<AuthorizeRequest>))
        .route("/v1/orders/{id}/payment/capture", post(with_body::<CaptureRequest>))
        .route("/v1/orders/{id}/payment/void", post(body_optional::<VoidRequest>))
        .route("/v1/orders/{id}/payment/fail", post(body_optional::<FailRequest>))
        .route("/v1/orders/{id}/cod/collect", post(with_body::<CollectRequest>))
        .route("/v1/orders/{id}/cod/refuse", post(body_optional::<RefuseRequest>))
        .route("/v1/orders/{id}/shipments", post(with_body::<ShipmentRequest>))
        .route("/v1/orders/{id}/shipments/{shipment_id}/deliver", post(deliver))
        .route("/v1/orders/{id}/returns", post(with_body::<ReturnRequest>))
        .route("/v1/orders/{id}/returns/{return_id}/receive", post(receive_return))
        .route("/v1/orders/{id}/refunds", post(with_body::<RefundRequest>))
        .route("/v1/orders/{id}/events", get(events))
}
macro_rules! command_docs {
    ($name:ident, $path:literal, $body:ty, $what:literal) => {
        #[utoipa::path(post, path = $path, tag = "lifecycle", request_body = $body,
                    params(("id" = Uuid, Path), ("Idempotency-Key" = String, Header), ("If-Match" = String, Header)),
                    responses((status = 200, description = $what, body = super::wire::OrderView),
                        (status = 409, description = "invalid_transition", body = super::error::Problem),
                        (status = 412, description = "version_conflict", body = super::error::Problem),
                        (status = 422, body = super::error::Problem)),
                    security(("bearer" = ["orders:write"])))]
        #[allow(dead_code)]
        fn $name() {}
    };
}

command_docs!(
    authorize_doc,
    "/v1/orders/{id}/payment/authorize",
    AuthorizeRequest,
    "Authorised; the order is confirmed"
);
command_docs!(
    capture_doc,
    "/v1/orders/{id}/payment/capture",
    CaptureRequest,
    "Captured (partial captures up to the authorised amount)"
);
command_docs!(
    void_doc,
    "/v1/orders/{id}/payment/void",
    VoidRequest,
    "Authorisation voided"
);
command_docs!(fail_doc, "/v1/orders/{id}/payment/fail", FailRequest, "Payment failed");
command_docs!(
    collect_doc,
    "/v1/orders/{id}/cod/collect",
    CollectRequest,
    "Cash collected at the door"
);
command_docs!(
    refuse_doc,
    "/v1/orders/{id}/cod/refuse",
    RefuseRequest,
    "Refused at the door; parcels return to origin"
);
command_docs!(
    ship_doc,
    "/v1/orders/{id}/shipments",
    ShipmentRequest,
    "Shipment created; reserved stock deducted"
);
command_docs!(
    deliver_doc,
    "/v1/orders/{id}/shipments/{shipment_id}/deliver",
    DeliverRequest,
    "Shipment delivered"
);
command_docs!(return_doc, "/v1/orders/{id}/returns", ReturnRequest, "Return requested");
command_docs!(
    receive_doc,
    "/v1/orders/{id}/returns/{return_id}/receive",
    ReceiveRequest,
    "Return received, optionally restocked"
);
command_docs!(
    refund_doc,
    "/v1/orders/{id}/refunds",
    RefundRequest,
    "Refund recorded and spread over the lines"
);

/// A command whose body is required.
pub async fn with_body<B: CommandBody>(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    key: IdempotencyKeyHeader,
    IfMatch(version): IfMatch,
    body: JsonBody<B>,
) -> Result<Response, ApiError> {
    if !B::CUSTOMERS_MAY {
        staff_only(&auth)?;
    }
    let command = body.value.into_command(state.limits.order)?;
    run_command(&state, &auth, key, version, target::<B>(&id), body.canonical, command).await
}

/// A command whose body may be left empty; the fingerprint then covers `{}`.
pub async fn body_optional<B: CommandBody + Default>(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    key: IdempotencyKeyHeader,
    IfMatch(version): IfMatch,
    body: Option<JsonBody<B>>,
) -> Result<Response, ApiError> {
    if !B::CUSTOMERS_MAY {
        staff_only(&auth)?;
    }
    let (value, canonical) = optional(body);
    let command = value.into_command(state.limits.order)?;
    run_command(&state, &auth, key, version, target::<B>(&id), canonical, command).await
}

fn target<B: CommandBody>(id: &str) -> CommandTarget<'_> {
    CommandTarget {
        id,
        action: B::ACTION,
        customers_may: B::CUSTOMERS_MAY,
        created: B::CREATES,
    }
}

pub async fn deliver(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, shipment_id)): Path<(String, String)>,
    key: IdempotencyKeyHeader,
    IfMatch(version): IfMatch,
    body: Option<JsonBody<DeliverRequest>>,
) -> Result<Response, ApiError> {
    staff_only(&auth)?;
    let (value, canonical) = optional(body);
    reason(value.reason)?;
    let shipment_id = sub_id(&shipment_id, "shipment_not_found", "the shipment")?;
    let action = format!("shipments/{shipment_id}/deliver");
    let command = Command::Deliver { shipment_id };
    run_command(
        &state,
        &auth,
        key,
        version,
        staff(&id, &action, false),
        canonical,
        command,
    )
    .await
}

pub async fn receive_return(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, return_id)): Path<(String, String)>,
    key: IdempotencyKeyHeader,
    IfMatch(version): IfMatch,
    body: JsonBody<ReceiveRequest>,
) -> Result<Response, ApiError> {
    staff_only(&auth)?;
    let return_id = sub_id(&return_id, "return_not_found", "the return")?;
    let action = format!("returns/{return_id}/receive");
    let command = Command::ReceiveReturn {
        return_id,
        restock: body.value.restock,
    };
    run_command(
        &state,
        &auth,
        key,
        version,
        staff(&id, &action, false),
        body.canonical,
        command,
    )
    .await
}
