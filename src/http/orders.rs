//! `/v1/orders`: place, read, list and cancel orders. Thin: extract, convert, call the store, map the result.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, Missing, TokenFault};
use super::extract::{Auth, IdempotencyKeyHeader, QueryParams, RawBody, fingerprint};
use super::wire::{CreateOrderRequest, OrderPageView, OrderView};
use crate::domain::order::Order;
use crate::domain::search::SearchQuery;
use crate::domain::status::{OrderStatus, StatusMachine};
use crate::domain::values::CustomerId;
use crate::store::{Executed, IdempotencyKey, OrderCursor, OrderQuery, PlaceOrder, StoreError, StoredResponse};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/orders", post(create_order).get(list_orders))
        .route("/v1/orders/export.csv", get(super::export::export_orders))
        .route("/v1/orders/{id}", get(get_order))
}

pub(super) const READ_ANY: &str = "orders:read";
pub(super) const READ_OWN: &str = "orders:read:own";
pub(super) const WRITE_ANY: &str = "orders:write";
pub(super) const WRITE_OWN: &str = "orders:write:own";

/// The customer whose orders alone the caller may see, or `None` for staff who may see all.
pub(super) fn own_scope(auth: &Auth, held: &str, own: &str) -> Result<Option<CustomerId>, ApiError> {
    if held != own {
        return Ok(None);
    }
    CustomerId::parse(&auth.0.sub)
        .map(Some)
        .map_err(|_| ApiError::InvalidToken(TokenFault::SubjectNotACustomer))
}

/// The response to a command or a placed order; `customer` renders the customer's view of the order.
pub(super) fn order_response(status: StatusCode, order: &Order, customer: bool) -> StoredResponse {
    let body = serde_json::to_vec(&OrderView::of(order, customer)).unwrap_or_default();
    StoredResponse {
        status: status.as_u16(),
        headers: vec![
            ("location".into(), format!("/v1/orders/{}", order.id)),
            ("etag".into(), format!("\"{}\"", order.version)),
        ],
        body,
    }
}

/// The problem a refused command answers, stored under its key so that a retry replays it.
pub(super) fn refusal_response(refusal: StoreError) -> StoredResponse {
    let problem = ApiError::from(refusal);
    StoredResponse {
        status: problem.code().status().as_u16(),
        headers: vec![("content-type".into(), "application/problem+json".into())],
        body: serde_json::to_vec(&problem.problem()).unwrap_or_default(),
    }
}

/// Turns a stored (or fresh) response into HTTP, marking replays.
pub(super) fn respond(state: &AppState, executed: Executed) -> Response {
    let (stored, replayed) = match executed {
        Executed::Fresh(_, stored, _) => (stored, false),
        Executed::Replayed(stored) => {
            state.metrics.idempotent_replay();
            (stored, true)
        }
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in &stored.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            headers.insert(n, v);
        }
    }
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    (status, headers, stored.body).into_response()
}

pub(super) fn idempotency(state: &AppState, auth: &Auth, key: IdempotencyKeyHeader, print: String) -> IdempotencyKey {
    IdempotencyKey {
        principal: auth.0.sub.clone(),
        key: key.0,
        fingerprint: print,
        ttl: state.idempotency_ttl,
    }
}

#[utoipa::path(post, path = "/v1/orders", tag = "orders",
    request_body = CreateOrderRequest,
    params(("Idempotency-Key" = String, Header, description = "Unique per intended order; retries reuse it")),
    responses(
        (status = 201, description = "Order placed; stock reserved", body = OrderView),
        (status = 409, description = "insufficient_stock or request_in_progress", body = super::error::Problem),
        (status = 422, description = "validation_failed, unknown_sku, idempotency_key_reused ...", body = super::error::Problem),
    ),
    security(("bearer" = ["orders:write", "orders:write:own"])))]
pub async fn create_order(
    State(state): State<AppState>,
    auth: Auth,
    key: IdempotencyKeyHeader,
    body: RawBody,
) -> Result<Response, ApiError> {
    let held = auth.require(&[WRITE_ANY, WRITE_OWN])?;
    let body = body.json::<CreateOrderRequest>()?;
    let mut request = body.value.parse(state.limits.order).map_err(ApiError::Validation)?;
    let own = own_scope(&auth, held, WRITE_OWN)?;
    let customer_view = own.is_some();
    if let Some(customer) = own {
        if request.customer_id.as_ref().is_some_and(|c| c != &customer) {
            return Err(ApiError::field(
                "/customer_id",
                "customers place orders for themselves only",
            ));
        }
        request.customer_id = Some(customer);
    }
    let key = idempotency(
        &state,
        &auth,
        key,
        fingerprint("POST", "/v1/orders", None, &body.canonical),
    );
    let (currency, method) = (request.currency, request.payment_method);
    let render = |o: &Order| order_response(StatusCode::CREATED, o, customer_view);
    let executed = state
        .store
        .place_order(PlaceOrder {
            idempotency: &key,
            request,
            store: &state.store_code,
            policy: &state.policy,
            actor: &auth.0.sub,
            render: &render,
            refuse: &refusal_response,
            max_open_unpaid: state.limits.max_open_unpaid_orders,
        })
        .await
        .inspect_err(|e| {
            if matches!(e, crate::store::StoreError::Stock { .. }) {
                state.metrics.stock_reservation_failed();
            }
        })?;
    if matches!(executed, Executed::Fresh(..)) {
        state
            .metrics
            .order_created(state.store_code.as_str(), currency.code(), method.as_str());
    }
    Ok(respond(&state, executed))
}

/// The order `id` names, for a caller that may read it: staff any order, a customer (`orders:read:own`) only their
/// own; anything else, a malformed id included, is 404. The second value is the customer reading as owner, if any.
pub(super) async fn readable_order(
    state: &AppState,
    auth: &Auth,
    id: &str,
) -> Result<(crate::domain::order::Order, Option<CustomerId>), ApiError> {
    let held = auth.require(&[READ_ANY, READ_OWN])?;
    let owner = own_scope(auth, held, READ_OWN)?;
    let id = Uuid::parse_str(id).map_err(|_| ApiError::NotFound(Missing::Order))?;
    let order = state
        .store
        .get_order(id)
        .await?
        .filter(|o| owner.as_ref().is_none_or(|c| o.belongs_to(c)))
        .ok_or(ApiError::NotFound(Missing::Order))?;
    Ok((order, owner))
}

#[utoipa::path(get, path = "/v1/orders/{id}", tag = "orders",
    params(("id" = Uuid, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 404, body = super::error::Problem)),
    security(("bearer" = ["orders:read", "orders:read:own"])))]
pub async fn get_order(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (order, owner) = readable_order(&state, &auth, &id).await?;
    let etag = format!("\"{}\"", order.version);
    Ok((
        [(header::ETAG, etag)],
        axum::Json(OrderView::of(&order, owner.is_some())),
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Staff only: orders whose ship-to name has words starting with every word of `q` (Arabic and Latin folded, see
    /// the API guide), whose ship-to phone is this number in any form (6 digits or more), whose order number
    /// (Orderly's or a legacy one) contains it (4 characters or more), or whose customer id is it, case-insensitively.
    pub q: Option<String>,
    pub customer_id: Option<String>,
    /// Order status: open, confirmed, completed, cancelled.
    pub status: Option<String>,
    /// Exact order number, e.g. KW-000000042.
    pub number: Option<String>,
    /// RFC 3339; inclusive.
    pub created_from: Option<String>,
    /// RFC 3339; exclusive.
    pub created_to: Option<String>,
    /// 1 to 100, default 20.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A cursor is 16 digits of microseconds since the epoch and the 32 hex digits of the order id: every string of
/// that shape (the pattern in the OpenAPI document) is a position, so a well-formed cursor is never refused.
pub const CURSOR_PATTERN: &str = "^[0-9]{16}[0-9a-f]{32}$";

pub(crate) fn encode_cursor(c: OrderCursor) -> String {
    let micros = c.created_at.unix_timestamp_nanos() / 1_000;
    format!("{micros:016}{}", c.id.simple())
}

pub(crate) fn decode_cursor(raw: &str) -> Option<OrderCursor> {
    // ASCII first: a 48-byte string with a character across byte 16 must not be sliced there.
    let ok = raw.len() == 48
        && raw.is_ascii()
        && raw[..16].bytes().all(|b| b.is_ascii_digit())
        && raw[16..].bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !ok {
        return None;
    }
    let micros: i128 = raw[..16].parse().ok()?;
    let id = Uuid::parse_str(&raw[16..]).ok()?;
    let created_at = OffsetDateTime::from_unix_timestamp_nanos(micros * 1_000).ok()?;
    Some(OrderCursor { created_at, id })
}

fn rfc3339(pointer: &str, raw: Option<&str>) -> Result<Option<OffsetDateTime>, ApiError> {
    raw.map(|r| {
        OffsetDateTime::parse(r, &time::format_description::well_known::Rfc3339)
            .map_err(|_| ApiError::field(pointer, "must be an RFC 3339 time such as 2026-11-28T10:00:00Z"))
    })
    .transpose()
}

/// The filters a listing and an export share, each checked (a bad one is a 422 naming it).
pub(crate) struct Filters {
    pub customer_id: Option<CustomerId>,
    pub status: Option<OrderStatus>,
    pub number: Option<String>,
    pub created_from: Option<OffsetDateTime>,
    pub created_to: Option<OffsetDateTime>,
    pub search: Option<SearchQuery>,
}

impl Filters {
    pub(crate) fn parse(
        customer_id: Option<&str>,
        status: Option<&str>,
        number: Option<String>,
        created_from: Option<&str>,
        created_to: Option<&str>,
        q: Option<&str>,
    ) -> Result<Filters, ApiError> {
        Ok(Filters {
            customer_id: customer_id
                .map(|c| CustomerId::parse(c).map_err(|e| ApiError::field("/customer_id", e.0)))
                .transpose()?,
            status: status
                .map(|s| {
                    OrderStatus::parse(s)
                        .ok_or_else(|| ApiError::field("/status", "one of open, confirmed, completed, cancelled"))
                })
                .transpose()?,
            number,
            created_from: rfc3339("/created_from", created_from)?,
            created_to: rfc3339("/created_to", created_to)?,
            search: q
                .map(|raw| SearchQuery::parse(raw).map_err(|e| ApiError::field("/q", e.0)))
                .transpose()?,
        })
    }

    pub(crate) fn query(self, limit: u32, after: Option<OrderCursor>) -> OrderQuery {
        OrderQuery {
            customer_id: self.customer_id,
            status: self.status,
            number: self.number,
            created_from: self.created_from,
            created_to: self.created_to,
            limit,
            after,
            search: self.search,
        }
    }
}

#[utoipa::path(get, path = "/v1/orders", tag = "orders", params(ListParams),
    responses((status = 200, body = OrderPageView), (status = 422, body = super::error::Problem)),
    security(("bearer" = ["orders:read", "orders:read:own"])))]
pub async fn list_orders(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(p): QueryParams<ListParams>,
) -> Result<Response, ApiError> {
    let held = auth.require(&[READ_ANY, READ_OWN])?;
    let own = own_scope(&auth, held, READ_OWN)?;
    let customer_view = own.is_some();
    let mut filters = Filters::parse(
        p.customer_id.as_deref(),
        p.status.as_deref(),
        p.number,
        p.created_from.as_deref(),
        p.created_to.as_deref(),
        p.q.as_deref(),
    )?;
    let limit = p.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::field("/limit", "limit is between 1 and 100"));
    }
    let after = p
        .cursor
        .as_deref()
        .map(|c| decode_cursor(c).ok_or_else(|| ApiError::field("/cursor", "not a cursor this API returned")))
        .transpose()?;
    if filters.search.is_some() {
        // Search reaches every customer's orders: staff only.
        auth.require(&[READ_ANY])?;
    }
    // Every parameter is checked before the answer that depends on who asks.
    filters.customer_id = match (own, filters.customer_id) {
        // A customer only ever lists their own orders; asking for someone else's yields nothing.
        (Some(own), Some(req)) if own != req => {
            return Ok(axum::Json(OrderPageView {
                items: vec![],
                next_cursor: None,
            })
            .into_response());
        }
        (Some(own), _) => Some(own),
        (None, req) => req,
    };
    let query = filters.query(limit, after);
    let page = state.store.list_orders(&query).await?;
    Ok(axum::Json(OrderPageView {
        items: page.orders.iter().map(|o| OrderView::of(o, customer_view)).collect(),
        next_cursor: page.next.map(encode_cursor),
    })
    .into_response())
}
