//! The order pages: the list (search, filters by status and date, cursor paging) through the API's own filters and
//! store query, and one order with its lines, money, shipments, returns, refunds, history and action forms.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use serde::Deserialize;
use uuid::Uuid;

use super::actions::offers;
use super::forms::ActionError;
use super::session::Staff;
use super::views::{order_row, order_view};
use super::{failure, templates};
use crate::domain::order::Order;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::orders::{Filters, decode_cursor, encode_cursor};

/// Orders per page of the list.
const PAGE: u32 = 25;
/// What staff need to act on orders.
const WRITE: &str = "orders:write";

#[derive(Debug, Default, Deserialize)]
pub struct ListForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    from: String,
    /// `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    to: String,
    cursor: Option<String>,
}

fn non_empty(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

/// `YYYY-MM-DD` as the RFC 3339 start of that day (UTC), `days` later.
fn day_start(raw: &str, days: i64) -> Result<String, ()> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(raw, &format).map_err(|_| ())?;
    let date = date.checked_add(time::Duration::days(days)).ok_or(())?;
    Ok(format!("{date}T00:00:00Z"))
}

pub async fn orders(State(state): State<AppState>, staff: Staff, Query(form): Query<ListForm>) -> Response {
    let lang = staff.lang;
    let mut field_errors = std::collections::BTreeMap::new();
    let from = non_empty(&form.from).map(|d| day_start(d, 0));
    let to = non_empty(&form.to).map(|d| day_start(d, 1));
    if matches!(from, Some(Err(()))) {
        field_errors.insert("from", "YYYY-MM-DD".to_owned());
    }
    if matches!(to, Some(Err(()))) {
        field_errors.insert("to", "YYYY-MM-DD".to_owned());
    }
    let parsed = Filters::parse(
        None,
        non_empty(&form.status),
        None,
        from.and_then(Result::ok).as_deref(),
        to.and_then(Result::ok).as_deref(),
        non_empty(&form.q),
    );
    let filters = match parsed {
        Ok(f) if field_errors.is_empty() => Some(f),
        Ok(_) => None,
        Err(ApiError::Validation(errors)) => {
            for e in errors {
                let field = if e.pointer == "/q" { "q" } else { "status" };
                field_errors.insert(field, e.detail);
            }
            None
        }
        Err(e) => return failure(lang, e),
    };
    let after = form.cursor.as_deref().and_then(decode_cursor);
    let (rows, next) = match filters {
        Some(filters) => match state.store.list_orders(&filters.query(PAGE, after)).await {
            Ok(page) => (
                page.orders.iter().map(|o| order_row(lang, o)).collect(),
                page.next.map(encode_cursor),
            ),
            Err(e) => return failure(lang, ApiError::from(e)),
        },
        None => (Vec::new(), None),
    };
    // The next page's link keeps the filters.
    let next = next.map(|cursor| {
        let query: Vec<(&str, &str)> = [
            ("q", form.q.as_str()),
            ("status", form.status.as_str()),
            ("from", form.from.as_str()),
            ("to", form.to.as_str()),
            ("cursor", cursor.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        query_string(&query)
    });
    let statuses = ["open", "confirmed", "completed", "cancelled"];
    let page = context! {
        rows => rows, next => next, paged => after.is_some(),
        q => form.q, status => form.status, from => form.from, to => form.to,
        statuses => statuses, errors => field_errors,
    };
    templates::render(lang, StatusCode::OK, "orders.html", Some(&staff), page)
}

/// `a=1&b=x%20y`: every byte but unreserved ones percent-encoded.
fn query_string(pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[derive(Debug, Default, Deserialize)]
pub struct OrderQuery {
    done: Option<String>,
}

pub async fn order(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(query): Query<OrderQuery>,
) -> Response {
    let lang = staff.lang;
    let Ok(id) = Uuid::parse_str(&id) else {
        return templates::message(lang, StatusCode::NOT_FOUND, "not_found", Some("/console/orders"));
    };
    match state.store.get_order(id).await {
        Ok(Some(order)) => order_page(&state, &staff, order, query.done, None, StatusCode::OK).await,
        Ok(None) => templates::message(lang, StatusCode::NOT_FOUND, "not_found", Some("/console/orders")),
        Err(e) => failure(lang, ApiError::from(e)),
    }
}

/// One order; `done` names the action just applied, `error` the one just refused.
pub async fn order_page(
    state: &AppState,
    staff: &Staff,
    order: Order,
    done: Option<String>,
    error: Option<ActionError>,
    status: StatusCode,
) -> Response {
    let lang = staff.lang;
    let events = match state.store.order_events(order.id).await {
        Ok(events) => events,
        Err(e) => return failure(lang, ApiError::from(e)),
    };
    let writable = staff.can(WRITE);
    let offers = if writable { offers(&order, lang) } else { Vec::new() };
    // Only the name of a command shows as done: a link cannot make the page say anything else.
    let done = done.filter(|d| {
        crate::http::commands::COMMANDS
            .iter()
            .any(|e| e.spec.name == d.as_str())
            && lang.words().contains_key(d.as_str())
    });
    let page = context! {
        done_action => done.clone(),
        order => order_view(lang, &order, &events),
        offers => offers,
        writable => writable,
        done => done.map(|d| lang.word(&d)),
        error => error,
    };
    templates::render(lang, status, "order.html", Some(staff), page)
}
