//! `/v1/products/{sku}` and `/v1/stock/{sku}`: the catalog staff maintain and the stock counts the warehouse sets.
//! Every write is recorded in the audit log (`GET /v1/audit`) with the caller's `sub` and the request id.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, FieldError, Missing};
use super::extract::{Auth, RawBody, RequestId};
use super::wire::MoneyView;
use crate::domain::Money;
use crate::domain::catalog::Product;
use crate::domain::currency::Currency;
use crate::domain::stock::StockLevel;
use crate::domain::tax::TaxClass;
use crate::domain::text::text;
use crate::domain::values::Sku;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/products/{sku}", get(get_product).put(put_product))
        .route("/v1/stock/{sku}", get(get_stock).put(put_stock))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductRequest {
    #[schema(schema_with = crate::http::wire::schema::text_200)]
    pub name_en: String,
    #[schema(schema_with = crate::http::wire::schema::text_200)]
    pub name_ar: String,
    /// One price per currency, in minor units.
    #[schema(min_items = 1, max_items = 14)]
    pub prices: Vec<MoneyView>,
    /// `standard`, `zero` or `exempt`.
    #[serde(default = "standard")]
    #[schema(schema_with = crate::http::wire::schema::tax_class)]
    pub tax_class: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn standard() -> String {
    "standard".into()
}

fn yes() -> bool {
    true
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductView {
    pub sku: String,
    pub name_en: String,
    pub name_ar: String,
    pub prices: Vec<MoneyView>,
    pub tax_class: String,
    pub active: bool,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        ProductView {
            sku: p.sku.as_str().to_owned(),
            name_en: p.name_en.clone(),
            name_ar: p.name_ar.clone(),
            prices: p.prices.iter().map(|m| MoneyView::from(*m)).collect(),
            tax_class: p.tax_class.as_str().to_owned(),
            active: p.active,
        }
    }
}

pub(crate) fn parse_sku(raw: &str) -> Result<Sku, ApiError> {
    Sku::parse(raw).map_err(|e| ApiError::field("/sku", e.0))
}

pub(crate) fn parse_product(sku: Sku, r: ProductRequest) -> Result<Product, ApiError> {
    let mut errors = Vec::new();
    let mut push = |pointer: String, detail: String| errors.push(FieldError { pointer, detail });
    let name_en = text(&r.name_en, 200).map_err(|e| push("/name_en".into(), e.0)).ok();
    let name_ar = text(&r.name_ar, 200).map_err(|e| push("/name_ar".into(), e.0)).ok();
    let tax_class = TaxClass::parse(&r.tax_class);
    if tax_class.is_none() {
        push("/tax_class".into(), "one of standard, zero, exempt".into());
    }
    if r.prices.is_empty() {
        push("/prices".into(), "a product needs at least one price".into());
    }
    let mut prices: Vec<Money> = Vec::new();
    for (i, p) in r.prices.iter().enumerate() {
        match p.currency.parse::<Currency>() {
            Ok(c) if prices.iter().any(|m| m.currency() == c) => {
                push(format!("/prices/{i}/currency"), "one price per currency".into())
            }
            Ok(c) if p.amount_minor >= 0 => prices.push(Money::new(p.amount_minor, c)),
            Ok(_) => push(
                format!("/prices/{i}/amount_minor"),
                "a price must not be negative".into(),
            ),
            Err(e) => push(format!("/prices/{i}/currency"), e.to_string()),
        }
    }
    match (name_en, name_ar, tax_class) {
        (Some(name_en), Some(name_ar), Some(tax_class)) if errors.is_empty() => Ok(Product {
            sku,
            name_en,
            name_ar,
            prices,
            tax_class,
            active: r.active,
        }),
        _ => Err(ApiError::Validation(errors)),
    }
}

#[utoipa::path(put, path = "/v1/products/{sku}", tag = "catalog", request_body = ProductRequest,
    params(("sku" = String, Path)),
    responses((status = 201, body = ProductView), (status = 200, body = ProductView), (status = 422, body = super::error::Problem)),
    security(("bearer" = ["catalog:write"])))]
pub async fn put_product(
    State(state): State<AppState>,
    auth: Auth,
    request: RequestId,
    Path(sku): Path<String>,
    body: RawBody,
) -> Result<Response, ApiError> {
    auth.require(&["catalog:write"])?;
    let body = body.json::<ProductRequest>()?;
    let product = parse_product(parse_sku(&sku)?, body.value)?;
    let created = state.store.put_product(&product, &auth.actor(request)).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(ProductView::from(&product))).into_response())
}

#[utoipa::path(get, path = "/v1/products/{sku}", tag = "catalog", params(("sku" = String, Path)),
    responses((status = 200, body = ProductView), (status = 404, body = super::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_product(
    State(state): State<AppState>,
    _auth: Auth,
    Path(sku): Path<String>,
) -> Result<Response, ApiError> {
    let sku = parse_sku(&sku)?;
    let product = state
        .store
        .get_product(&sku)
        .await?
        .ok_or(ApiError::NotFound(Missing::Product))?;
    Ok(axum::Json(ProductView::from(&product)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockRequest {
    /// Units physically on hand; may not drop below what open orders reserve.
    #[serde(deserialize_with = "crate::http::wire::schema::integral::required")]
    #[schema(schema_with = crate::http::wire::schema::non_negative)]
    pub on_hand: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockView {
    pub sku: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

fn stock_view(sku: &Sku, level: StockLevel) -> StockView {
    StockView {
        sku: sku.as_str().to_owned(),
        on_hand: level.on_hand,
        reserved: level.reserved,
        available: level.available(),
    }
}

#[utoipa::path(put, path = "/v1/stock/{sku}", tag = "catalog", request_body = StockRequest, params(("sku" = String, Path)),
    responses((status = 200, body = StockView), (status = 404, body = super::error::Problem), (status = 409, body = super::error::Problem)),
    security(("bearer" = ["stock:write"])))]
pub async fn put_stock(
    State(state): State<AppState>,
    auth: Auth,
    request: RequestId,
    Path(sku): Path<String>,
    body: RawBody,
) -> Result<Response, ApiError> {
    auth.require(&["stock:write"])?;
    let body = body.json::<StockRequest>()?;
    let sku = parse_sku(&sku)?;
    if body.value.on_hand < 0 {
        return Err(ApiError::field("/on_hand", "on_hand must not be negative"));
    }
    let level = state
        .store
        .set_stock(&sku, body.value.on_hand, &auth.actor(request))
        .await?;
    Ok(axum::Json(stock_view(&sku, level)).into_response())
}

#[utoipa::path(get, path = "/v1/stock/{sku}", tag = "catalog", params(("sku" = String, Path)),
    responses((status = 200, body = StockView), (status = 404, body = super::error::Problem)),
    security(("bearer" = ["stock:read", "stock:write", "orders:read"])))]
pub async fn get_stock(
    State(state): State<AppState>,
    auth: Auth,
    Path(sku): Path<String>,
) -> Result<Response, ApiError> {
    auth.require(&["stock:read", "stock:write", "orders:read"])?;
    let sku = parse_sku(&sku)?;
    let level = state
        .store
        .get_stock(&sku)
        .await?
        .ok_or(ApiError::NotFound(Missing::Stock))?;
    Ok(axum::Json(stock_view(&sku, level)).into_response())
}
