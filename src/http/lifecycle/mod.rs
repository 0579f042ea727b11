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
    AuthorizeRequest, CaptureRequest, CollectRequest, ReasonRequest, ReceiveRequest, RefundRequest, ReturnRequest,
    ShipmentRequest,
};
use requests::{free_text, optional, reason, sku_lines, staff, staff_only, sub_id};

use super::AppState;
use super::error::ApiError;
use super::extract::{Auth, IdempotencyKeyHeader, IfMatch, JsonBody};
use super::orders::{CommandTarget, run_command};
use crate::domain::order::Command;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/orders/{id}/payment/authorize", post(authorize))
        .route("/v1/orders/{id}/payment/capture", post(capture))
        .route("/v1/orders/{id}/payment/void", post(void))
        .route("/v1/orders/{id}/payment/fail", post(fail))
        .route("/v1/orders/{id}/cod/collect", post(collect))
        .route("/v1/orders/{id}/cod/refuse", post(refuse))
        .route("/v1/orders/{id}/shipments", post(ship))
        .route("/v1/orders/{id}/shipments/{shipment_id}/deliver", post(deliver))
        .route("/v1/orders/{id}/returns", post(request_return))
        .route("/v1/orders/{id}/returns/{return_id}/receive", post(receive_return))
        .route("/v1/orders/{id}/refunds", post(refund))
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
    ReasonRequest,
    "Authorisation voided"
);
command_docs!(
    fail_doc,
    "/v1/orders/{id}/payment/fail",
    ReasonRequest,
    "Payment failed"
);
command_docs!(
    collect_doc,
    "/v1/orders/{id}/cod/collect",
    CollectRequest,
    "Cash collected at the door"
);
command_docs!(
    refuse_doc,
    "/v1/orders/{id}/cod/refuse",
    ReasonRequest,
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
    ReasonRequest,
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

pub async fn authorize(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    key: IdempotencyKeyHeader,
    IfMatch(version): IfMatch,
    body: JsonBody<AuthorizeRequest>,
) -> Result<Response, ApiError> {
    staff_only(&auth)?;
    let provider_ref = free_text("/provider_ref", &body.value.provider_ref, 200)?;
    let command = Command::Authorize {
        amount_minor: body.value.amount_minor,
        provider_ref,
    };
    run_command(
        &state,
        &auth,
        key,
        version,
        staff(&id, "payment/authorize", false),
        body.canonical,
        command,
    )
    .await
}

pub async fn capture(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    key: IdempotencyKeyHeader,
    IfMatch(version): IfMatch,
    body: JsonBody<CaptureRequest>,
) -> Result<Response, ApiError> {
    staff_only(&auth)?;
    let command = Command::Capture {
        amount_minor: body.value.amount_minor,
    };
    run_command(
        &state,
        &auth,
        key,
        version,
        staff(&id, "payment/capture", false),
        body.canonical,
        command,
    )
    .await
}

pub async fn void(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    key: IdempotencyKeyHeader,
    IfMatch(version): IfMatch,
    body: Option<JsonBody<ReasonRequest>>,
) -> Result<Response, ApiError> {
    staff_only(&auth)?;
    let (_, canonical) = optional(body);
    run_command(
        &state,
        &auth,
        key,
        version,
        staff(&id, "payment/void", false),
        canonical,
        Command::Void,
    )
    .await
}

pub async fn fail(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    key: IdempotencyKeyHeader,
    IfMatch(version): IfMatch,
    body: Option<JsonBody<ReasonRequest>>,
) -> Result<Response, ApiError> {
    staff_only(&auth)?;
    let (value, canonical) = optional(body);
    let command = Command::Fail {
        reason: reason(value.reason)?,
    };
    run_command(
        &state,
        &auth,
        key,
        version,
        staff(&id, "payment/fail", false),
        canonical,
        command,
    )
    .await
}

pub async fn collect(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    key: IdempotencyKeyHeader,
    IfMatch(version): IfMatch,
    body: JsonBody<CollectRequest>,
) -> Result<Response, ApiError> {
    staff_only(&auth)?;
    let courier_ref = free_text("/courier_ref", &body.value.courier_ref, 200)?;
    let command = Command::CollectCod {
        amount_minor: body.value.amount_minor,
        courier_ref,
    };
    run_command(
        &state,
        &auth,
        key,
        version,
        staff(&id, "cod/collect", false),
        body.canonical,
        command,
    )
    .await
}

pub async fn refuse(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    key: IdempotencyKeyHeader,
    IfMatch(version): IfMatch,
    body: Option<JsonBody<ReasonRequest>>,
) -> Result<Response, ApiError> {
    staff_only(&auth)?;
    let (value, canonical) = optional(body);
    let command = Command::RefuseCod {
        reason: reason(value.reason)?,
    };
    run_command(
        &state,
        &auth,
        key,
        version,
        staff(&id, "cod/refuse", false),
        canonical,
        command,
    )
    .await
}

pub async fn ship(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    key: IdempotencyKeyHeader,
    IfMatch(version): IfMatch,
    body: JsonBody<ShipmentRequest>,
) -> Result<Response, ApiError> {
    staff_only(&auth)?;
    let v = body.value;
    let command = Command::Ship {
        lines: sku_lines(&v.lines, state.limits.order.max_quantity)?,
        carrier: free_text("/carrier", &v.carrier, 100)?,
        tracking_number: free_text("/tracking_number", &v.tracking_number, 100)?,
    };
    run_command(
        &state,
        &auth,
        key,
        version,
        staff(&id, "shipments", true),
        body.canonical,
        command,
    )
    .await
}

pub async fn deliver(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, shipment_id)): Path<(String, String)>,
    key: IdempotencyKeyHeader,
    IfMatch(version): IfMatch,
    body: Option<JsonBody<ReasonRequest>>,
) -> Result<Response, ApiError> {
    staff_only(&auth)?;
    let (_, canonical) = optional(body);
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

pub async fn request_return(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    key: IdempotencyKeyHeader,
    IfMatch(version): IfMatch,
    body: JsonBody<ReturnRequest>,
) -> Result<Response, ApiError> {
    let v = body.value;
    let command = Command::RequestReturn {
        lines: sku_lines(&v.lines, state.limits.order.max_quantity)?,
        reason: reason(v.reason)?,
    };
    // Customers may ask to return their own delivered goods.
    let target = CommandTarget {
        id: &id,
        action: "returns",
        customers_may: true,
        created: true,
    };
    run_command(&state, &auth, key, version, target, body.canonical, command).await
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

pub async fn refund(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    key: IdempotencyKeyHeader,
    IfMatch(version): IfMatch,
    body: JsonBody<RefundRequest>,
) -> Result<Response, ApiError> {
    staff_only(&auth)?;
    let v = body.value;
    let lines = match &v.lines {
        Some(lines) if lines.is_empty() => return Err(ApiError::field("/lines", "omit lines or name at least one")),
        Some(lines) => sku_lines(lines, state.limits.order.max_quantity)?,
        None => Vec::new(),
    };
    let command = Command::Refund {
        amount_minor: v.amount_minor,
        lines,
        reason: reason(v.reason)?,
    };
    run_command(
        &state,
        &auth,
        key,
        version,
        staff(&id, "refunds", true),
        body.canonical,
        command,
    )
    .await
}
