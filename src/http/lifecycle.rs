//! The life of an order after it is placed: card payments, cash on delivery, shipments, returns, refunds, and
//! its event history. Every command takes Idempotency-Key and If-Match and runs through `run_command`.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, FieldError};
use super::extract::{Auth, IdempotencyKeyHeader, IfMatch, JsonBody};
use super::orders::{CommandTarget, READ_ANY, READ_OWN, WRITE_ANY, own_scope, run_command};
use super::wire::LineRequest;
use crate::domain::events::SkuQuantity;
use crate::domain::order::Command;
use crate::domain::values::{Quantity, Sku, text};

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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    pub amount_minor: i64,
    /// The payment provider's reference for the authorisation.
    pub provider_ref: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureRequest {
    pub amount_minor: i64,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectRequest {
    pub amount_minor: i64,
    pub courier_ref: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentRequest {
    pub lines: Vec<LineRequest>,
    pub carrier: String,
    pub tracking_number: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnRequest {
    pub lines: Vec<LineRequest>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveRequest {
    /// Put the returned units back on the shelf (false for damaged goods).
    pub restock: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Without `lines`: spread over everything still refundable. With `lines`: over those lines only.
    #[serde(default)]
    pub amount_minor: Option<i64>,
    /// Units to refund; without `amount_minor` their value is refunded exactly.
    #[serde(default)]
    pub lines: Option<Vec<LineRequest>>,
    #[serde(default)]
    pub reason: Option<String>,
}

fn free_text(pointer: &str, raw: &str, max: usize) -> Result<String, ApiError> {
    text(raw, max).map_err(|e| ApiError::field(pointer, e.0))
}

fn reason(raw: Option<String>) -> Result<Option<String>, ApiError> {
    raw.map(|r| free_text("/reason", &r, 500)).transpose()
}

fn sku_lines(lines: &[LineRequest], max_quantity: u32) -> Result<Vec<SkuQuantity>, ApiError> {
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let sku = Sku::parse(&l.sku).map_err(|e| {
            errors.push(FieldError {
                pointer: format!("/lines/{i}/sku"),
                detail: e.0,
            })
        });
        let quantity = Quantity::parse(l.quantity, max_quantity).map_err(|e| {
            errors.push(FieldError {
                pointer: format!("/lines/{i}/quantity"),
                detail: e.0,
            })
        });
        if let (Ok(sku), Ok(quantity)) = (sku, quantity) {
            out.push(SkuQuantity { sku, quantity });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// An empty body is allowed where a command needs nothing; the fingerprint then hashes `{}`.
fn optional<T: Default>(body: Option<JsonBody<T>>) -> (T, Vec<u8>) {
    match body {
        Some(b) => (b.value, b.canonical),
        None => (T::default(), b"{}".to_vec()),
    }
}

/// Staff commands check the scope before looking at the body, so a customer gets 403, not a field error.
fn staff_only(auth: &Auth) -> Result<(), ApiError> {
    auth.require(&[WRITE_ANY]).map(|_| ())
}

fn staff<'a>(id: &'a str, action: &'a str, created: bool) -> CommandTarget<'a> {
    CommandTarget {
        id,
        action,
        customers_may: false,
        created,
    }
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

fn sub_id(raw: &str, code: &'static str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::not_found(code, what))
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
    responses((status = 200, body = EventPageView), (status = 404, body = super::error::Problem)),
    security(("bearer" = ["orders:read", "orders:read:own"])))]
pub async fn events(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> Result<Response, ApiError> {
    let held = auth.require(&[READ_ANY, READ_OWN])?;
    let owner = own_scope(&auth, held, READ_OWN)?;
    let not_found = || ApiError::not_found("order_not_found", "the order");
    let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let order = state.store.get_order(id).await?.ok_or_else(not_found)?;
    if owner.as_ref().is_some_and(|c| !order.belongs_to(c)) {
        return Err(not_found());
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
