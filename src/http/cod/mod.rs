//! `/v1/cod/...`: settling cash on delivery with couriers (docs/cod.md). A remittance is stored once under its
//! natural key `(courier, reference)`, so posting it again is safe without an Idempotency-Key: the same body
//! answers 200 with the stored remittance, another body 409 `remittance_conflict`. Finance reads what each courier
//! still owes, by age, and how often each courier's COD parcels are refused.

pub mod wire;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, FieldError, Missing};
use super::extract::{Auth, QueryParams, RawBody};
use crate::domain::cod;
use crate::domain::text::text;
use crate::store::cod::{PostRemittance, Posted};
use wire::{OutstandingView, RemittanceRequest, RemittanceView, ReturnsView};

pub const FINANCE_READ: &str = "finance:read";
pub const FINANCE_WRITE: &str = "finance:write";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/cod/remittances", post(post_remittance))
        .route("/v1/cod/remittances/{id}", get(get_remittance))
        .route("/v1/cod/outstanding", get(outstanding))
        .route("/v1/cod/returns", get(returns))
}

fn remittance_response(status: StatusCode, r: cod::Remittance) -> Response {
    let location = format!("/v1/cod/remittances/{}", r.id);
    (
        status,
        [(header::LOCATION, location)],
        axum::Json(RemittanceView::from(r)),
    )
        .into_response()
}

#[utoipa::path(post, path = "/v1/cod/remittances", tag = "cod", request_body = RemittanceRequest,
    responses((status = 201, description = "Stored now", body = RemittanceView),
              (status = 200, description = "Stored before with the same body", body = RemittanceView)),
    security(("bearer" = ["finance:write"])))]
pub async fn post_remittance(State(state): State<AppState>, auth: Auth, body: RawBody) -> Result<Response, ApiError> {
    auth.require(&[FINANCE_WRITE])?;
    let input = wire::parse(body.json::<RemittanceRequest>()?.value)?;
    let fingerprint = wire::fingerprint(&input)?;
    let (courier, reference) = (input.courier.clone(), input.reference.clone());
    match state
        .store
        .post_remittance(&PostRemittance { input, fingerprint })
        .await?
    {
        Posted::Created(r) => Ok(remittance_response(StatusCode::CREATED, r)),
        Posted::Replayed(r) => Ok(remittance_response(StatusCode::OK, r)),
        Posted::Conflict => Err(ApiError::RemittanceConflict { courier, reference }),
        Posted::CurrencyMismatch(found) => Err(ApiError::Validation(
            found
                .into_iter()
                .map(|m| FieldError {
                    pointer: format!("/lines/{}", m.line),
                    detail: format!(
                        "order {} is in {}, not the remittance's currency",
                        m.order_number, m.order_currency
                    ),
                })
                .collect(),
        )),
    }
}

#[utoipa::path(get, path = "/v1/cod/remittances/{id}", tag = "cod",
    params(("id" = String, Path, format = Uuid, description = "Remittance id")),
    responses((status = 200, body = RemittanceView)),
    security(("bearer" = ["finance:read"])))]
pub async fn get_remittance(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    auth.require(&[FINANCE_READ])?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound(Missing::Remittance))?;
    let r = state
        .store
        .get_remittance(id)
        .await?
        .ok_or(ApiError::NotFound(Missing::Remittance))?;
    Ok(axum::Json(RemittanceView::from(r)).into_response())
}

fn courier_param(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    raw.map(|c| text(c, 100).map_err(|e| ApiError::field("/courier", e.0)))
        .transpose()
}

fn time_param(pointer: &str, raw: Option<&str>) -> Result<Option<OffsetDateTime>, ApiError> {
    raw.map(|r| wire::rfc3339(pointer, r)).transpose()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutstandingParams {
    /// One courier; every courier when left out.
    pub courier: Option<String>,
    /// RFC 3339; default now. Collections and remittances after it are left out.
    pub as_of: Option<String>,
}

#[utoipa::path(get, path = "/v1/cod/outstanding", tag = "cod", params(OutstandingParams),
    responses((status = 200, body = OutstandingView)),
    security(("bearer" = ["finance:read"])))]
pub async fn outstanding(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(p): QueryParams<OutstandingParams>,
) -> Result<Response, ApiError> {
    auth.require(&[FINANCE_READ])?;
    let courier = courier_param(p.courier.as_deref())?;
    let as_of = time_param("/as_of", p.as_of.as_deref())?.unwrap_or_else(OffsetDateTime::now_utc);
    let orders = state.store.cod_collected(courier.as_deref(), as_of).await?;
    Ok(axum::Json(OutstandingView {
        as_of,
        couriers: cod::outstanding(&orders, as_of).into_iter().map(Into::into).collect(),
    })
    .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReturnsParams {
    /// One courier; every courier when left out.
    pub courier: Option<String>,
    /// RFC 3339; inclusive, on the time of an order's first shipment.
    pub from: Option<String>,
    /// RFC 3339; exclusive.
    pub to: Option<String>,
}

#[utoipa::path(get, path = "/v1/cod/returns", tag = "cod", params(ReturnsParams),
    responses((status = 200, body = ReturnsView)),
    security(("bearer" = ["finance:read"])))]
pub async fn returns(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(p): QueryParams<ReturnsParams>,
) -> Result<Response, ApiError> {
    auth.require(&[FINANCE_READ])?;
    let courier = courier_param(p.courier.as_deref())?;
    let from = time_param("/from", p.from.as_deref())?;
    let to = time_param("/to", p.to.as_deref())?;
    let shipped: Vec<cod::ShippedCod> = state
        .store
        .cod_shipped(courier.as_deref())
        .await?
        .into_iter()
        .filter(|s| from.is_none_or(|f| s.shipped_at >= f) && to.is_none_or(|t| s.shipped_at < t))
        .collect();
    Ok(axum::Json(ReturnsView {
        couriers: cod::refusal_rates(&shipped).into_iter().map(Into::into).collect(),
    })
    .into_response())
}
