//! `GET /v1/audit`: the audit log of catalog and stock writes, newest first, for staff holding `audit:read`.
//! Filters: `entity` (`product`, `stock`, or one entity as `product:SKU` / `stock:SKU`), `from` (inclusive) and
//! `to` (exclusive) on the time of the write, and keyset pagination by `cursor` like the orders list.

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::ApiError;
use super::extract::{Auth, QueryParams};
use crate::domain::values::Sku;
use crate::store::audit::{AuditQuery, AuditRecord};

pub const AUDIT_READ: &str = "audit:read";

/// The entity types the log records.
pub const ENTITY_TYPES: &[&str] = &["product", "stock"];

/// `product`, `stock`, `product:<SKU>` or `stock:<SKU>`.
pub const ENTITY_PATTERN: &str = r"^(?:product|stock)(?::[A-Za-z0-9._-]{1,64})?$";

/// A cursor is the `seq` of the last row of the previous page, in decimal: every such string is a position.
pub const CURSOR_PATTERN: &str = "^[0-9]{1,18}$";

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/audit", get(audit_log))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// `product` or `stock` for every row of that type, `product:<SKU>` or `stock:<SKU>` for one entity.
    pub entity: Option<String>,
    /// RFC 3339; inclusive.
    pub from: Option<String>,
    /// RFC 3339; exclusive.
    pub to: Option<String>,
    /// 1 to 100, default 20.
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One audit row: who changed what, when, in which request, from what to what, and its place in the hash chain.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// 1, 2, 3 ... in commit order.
    pub seq: i64,
    #[schema(value_type = String, format = DateTime)]
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The token's `sub`, or `system:<tool>`.
    pub actor: String,
    /// The request's `x-request-id` (`legacy-run-<id>` for an import).
    pub request_id: Option<String>,
    /// `product` or `stock`.
    pub entity_type: String,
    /// The SKU.
    pub entity_id: String,
    /// `created`, `updated` (products) or `set` (stock).
    pub action: String,
    /// The entity before the write; null when it did not exist.
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<AuditRecord> for AuditView {
    fn from(r: AuditRecord) -> Self {
        AuditView {
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            request_id: r.request_id,
            entity_type: r.entity_type,
            entity_id: r.entity_id,
            action: r.action,
            before: r.before,
            after: r.after,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPageView {
    pub items: Vec<AuditView>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

const ENTITY_HELP: &str = "`product`, `stock`, `product:<SKU>` or `stock:<SKU>`";

/// `entity` as (type, optional id).
fn parse_entity(raw: &str) -> Result<(String, Option<String>), ApiError> {
    let (kind, id) = match raw.split_once(':') {
        Some((kind, id)) => (kind, Some(id)),
        None => (raw, None),
    };
    if !ENTITY_TYPES.contains(&kind) {
        return Err(ApiError::field("/entity", ENTITY_HELP));
    }
    let id = id
        .map(|id| {
            Sku::parse(id)
                .map(|s| s.as_str().to_owned())
                .map_err(|e| ApiError::field("/entity", format!("{ENTITY_HELP}: {}", e.0)))
        })
        .transpose()?;
    Ok((kind.to_owned(), id))
}

fn rfc3339(pointer: &str, raw: Option<&str>) -> Result<Option<OffsetDateTime>, ApiError> {
    raw.map(|r| {
        OffsetDateTime::parse(r, &time::format_description::well_known::Rfc3339)
            .map_err(|_| ApiError::field(pointer, "must be an RFC 3339 time such as 2026-11-28T10:00:00Z"))
    })
    .transpose()
}

fn decode_cursor(raw: &str) -> Option<i64> {
    (!raw.is_empty() && raw.len() <= 18 && raw.bytes().all(|b| b.is_ascii_digit()))
        .then(|| raw.parse().ok())
        .flatten()
}

#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = AuditPageView), (status = 422, body = super::error::Problem)),
    security(("bearer" = ["audit:read"])))]
pub async fn audit_log(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(p): QueryParams<AuditParams>,
) -> Result<Response, ApiError> {
    auth.require(&[AUDIT_READ])?;
    let (entity_type, entity_id) = match p.entity.as_deref() {
        Some(raw) => {
            let (kind, id) = parse_entity(raw)?;
            (Some(kind), id)
        }
        None => (None, None),
    };
    let limit = p.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::field("/limit", "limit is between 1 and 100"));
    }
    let before_seq = p
        .cursor
        .as_deref()
        .map(|c| decode_cursor(c).ok_or_else(|| ApiError::field("/cursor", "not a cursor this API returned")))
        .transpose()?;
    let query = AuditQuery {
        entity_type,
        entity_id,
        from: rfc3339("/from", p.from.as_deref())?,
        to: rfc3339("/to", p.to.as_deref())?,
        limit,
        before_seq,
    };
    let page = state.store.audit_log(&query).await?;
    Ok(axum::Json(AuditPageView {
        items: page.records.into_iter().map(AuditView::from).collect(),
        next_cursor: page.next.map(|seq| seq.to_string()),
    })
    .into_response())
}
