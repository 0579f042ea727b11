//! The action forms of an order, submitted. A form becomes the JSON body the API's command takes, and runs through
//! the API's own command path (`http::commands::submit`): the same scope check, parsing, Idempotency-Key (fixed when
//! the form was rendered, stored under the caller's principal) and If-Match (the version the form was rendered
//! at). Success redirects back to the order (303); a stale version shows the conflict page; any other problem is
//! shown on the order page beside the field it names.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::session::Staff;
use super::{Fields, failure, pages, templates};
use crate::domain::currency::Currency;
use crate::domain::order::Order;
use crate::http::AppState;
use crate::http::commands::{Submission, submit};
use crate::http::error::ApiError;
use crate::http::extract::IdempotencyKeyHeader;
use crate::store::Executed;

/// A refused action, as the order page shows it next to its form.
#[derive(Debug, Default, Serialize)]
pub struct ActionError {
    pub action: String,
    /// Problems with no field of the form to stand beside.
    pub general: Vec<String>,
    /// Form field name to problem.
    pub fields: BTreeMap<String, String>,
}

/// `1.235` in a three-decimal currency is 1235 minor units; more decimals than the currency has are refused.
pub fn parse_amount(raw: &str, currency: Currency) -> Option<i64> {
    let raw = raw.trim();
    let exp = currency.exponent() as usize;
    let (whole, frac) = raw.split_once('.').unwrap_or((raw, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || whole.len() > 15 || !digits(whole) || frac.len() > exp || !digits(frac) {
        return None;
    }
    let padded = format!("{whole}{frac:0<exp$}");
    padded.parse().ok()
}

/// The API's JSON body for a form, and which JSON line is which line of the order; for an edit, the form fields
/// each operation came from (for its `sku` and its `quantity`).
struct Body {
    json: Value,
    line_index: Vec<usize>,
    op_fields: Vec<(String, String)>,
}

fn text(fields: &Fields, name: &str, body: &mut Map<String, Value>) {
    if let Some(v) = fields.get(name).map(str::trim).filter(|v| !v.is_empty()) {
        body.insert(name.to_owned(), json!(v));
    }
}

/// Builds the body; an amount that is not a number for the currency is reported against its field at once.
fn body_of(action: &str, fields: &Fields, order: &Order) -> Result<Body, ActionError> {
    let mut body = Map::new();
    let mut line_index = Vec::new();
    let mut error = ActionError {
        action: action.to_owned(),
        ..ActionError::default()
    };
    if let Some(raw) = fields.get("amount").map(str::trim).filter(|v| !v.is_empty()) {
        match parse_amount(raw, order.currency) {
            Some(minor) => {
                body.insert("amount_minor".into(), json!(minor));
            }
            None => {
                let digits = order.currency.exponent();
                error.fields.insert(
                    "amount".into(),
                    format!(
                        "an amount such as 12.{:0<1$}, with at most {digits} decimals",
                        "5", digits as usize
                    ),
                );
                return Err(error);
            }
        }
    }
    for name in ["reason", "carrier", "tracking_number", "provider_ref", "courier_ref"] {
        text(fields, name, &mut body);
    }
    if action == "receive_return" {
        body.insert("restock".into(), json!(fields.get("restock").is_some()));
    }
    if matches!(action, "ship" | "request_return" | "refund") {
        let mut lines = Vec::new();
        for (i, line) in order.lines.iter().enumerate() {
            let Some(raw) = fields.get(&format!("qty_{i}")).map(str::trim).filter(|v| !v.is_empty()) else {
                continue;
            };
            match raw.parse::<i64>() {
                Ok(0) => {}
                Ok(q) => {
                    lines.push(json!({"sku": line.sku.as_str(), "quantity": q}));
                    line_index.push(i);
                }
                Err(_) => {
                    error
                        .fields
                        .insert(format!("qty_{i}"), "a whole number of units".into());
                    return Err(error);
                }
            }
        }
        if !lines.is_empty() || action != "refund" {
            body.insert("lines".into(), Value::Array(lines));
        }
    }
    let mut op_fields = Vec::new();
    if action == "edit" {
        let operations = edit_operations(fields, order, &mut op_fields, &mut error)?;
        body.insert("operations".into(), Value::Array(operations));
    }
    Ok(Body {
        json: Value::Object(body),
        line_index,
        op_fields,
    })
}

/// The edit form as operations: a line set to 0 is taken off, a changed count is set, and a SKU given is added.
fn edit_operations(
    fields: &Fields,
    order: &Order,
    op_fields: &mut Vec<(String, String)>,
    error: &mut ActionError,
) -> Result<Vec<Value>, ActionError> {
    let mut operations = Vec::new();
    for (i, line) in order.lines.iter().enumerate() {
        let name = format!("qty_{i}");
        let Some(raw) = fields.get(&name).map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        let sku = line.sku.as_str();
        match raw.parse::<i64>() {
            Ok(0) => operations.push(json!({"op": "remove_line", "sku": sku})),
            Ok(q) if q == line.quantity.as_i64() => continue,
            Ok(q) => operations.push(json!({"op": "set_quantity", "sku": sku, "quantity": q})),
            Err(_) => {
                error.fields.insert(name, "a whole number of units".into());
                return Err(std::mem::take(error));
            }
        }
        op_fields.push((name.clone(), name));
    }
    if let Some(sku) = fields.get("add_sku").map(str::trim).filter(|v| !v.is_empty()) {
        let raw = fields.get("add_qty").map(str::trim).unwrap_or("1");
        let Ok(quantity) = raw.parse::<i64>() else {
            error.fields.insert("add_qty".into(), "a whole number of units".into());
            return Err(std::mem::take(error));
        };
        operations.push(json!({"op": "add_line", "sku": sku, "quantity": quantity}));
        op_fields.push(("add_sku".into(), "add_qty".into()));
    }
    if operations.is_empty() {
        error
            .general
            .push("Nothing to change: set a line's units or add a product.".into());
        return Err(std::mem::take(error));
    }
    Ok(operations)
}

/// The form field a JSON pointer of the body names, if any.
fn field_of(pointer: &str, line_index: &[usize], op_fields: &[(String, String)]) -> Option<String> {
    let path: Vec<&str> = pointer.trim_start_matches('/').split('/').collect();
    match path.as_slice() {
        ["operations", j, rest @ ..] => {
            let (sku, quantity) = op_fields.get(j.parse::<usize>().ok()?)?;
            Some(
                if rest.first() == Some(&"quantity") {
                    quantity
                } else {
                    sku
                }
                .clone(),
            )
        }
        ["operations"] => None,
        ["amount_minor"] => Some("amount".into()),
        ["lines", j, ..] => j
            .parse::<usize>()
            .ok()
            .and_then(|j| line_index.get(j))
            .map(|i| format!("qty_{i}")),
        ["lines"] => Some("lines".into()),
        [name] if !name.is_empty() => Some((*name).to_owned()),
        _ => None,
    }
}

/// A problem document (fresh or replayed) as the order page shows it.
fn action_error(action: &str, problem: &Value, body: &Body) -> ActionError {
    let mut out = ActionError {
        action: action.to_owned(),
        ..ActionError::default()
    };
    let listed = problem["errors"].as_array().cloned().unwrap_or_default();
    for e in &listed {
        let detail = e["detail"].as_str().unwrap_or("").to_owned();
        match e["pointer"]
            .as_str()
            .and_then(|p| field_of(p, &body.line_index, &body.op_fields))
        {
            Some(field) => {
                out.fields.insert(field, detail);
            }
            None => out.general.push(detail),
        }
    }
    if listed.is_empty() {
        out.general.push(problem["detail"].as_str().unwrap_or("").to_owned());
    }
    out
}

pub async fn act(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, action)): Path<(String, String)>,
    fields: Fields,
) -> Response {
    let lang = staff.lang;
    if let Some(refused) = staff.forged(fields.get("csrf")) {
        return refused;
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return templates::message(lang, StatusCode::NOT_FOUND, "not_found", Some("/console/orders"));
    };
    let version = fields.get("version").and_then(|v| v.parse::<i64>().ok());
    let key = fields.get("key").map(IdempotencyKeyHeader::parse);
    let (Some(version), Some(Ok(key))) = (version, key) else {
        return templates::message(lang, StatusCode::BAD_REQUEST, "bad_form", None);
    };
    let order = match state.store.get_order(id).await {
        Ok(Some(order)) => order,
        Ok(None) => return templates::message(lang, StatusCode::NOT_FOUND, "not_found", Some("/console/orders")),
        Err(e) => return failure(lang, ApiError::from(e)),
    };
    let body = match body_of(&action, &fields, &order) {
        Ok(body) => body,
        Err(error) => {
            return pages::order_page(
                &state,
                &staff,
                order,
                None,
                Some(error),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let submission = Submission {
        name: &action,
        order_id: id,
        sub_id: fields.get("target").and_then(|t| Uuid::parse_str(t).ok()),
        key,
        version,
        body: body.json.clone(),
    };
    let back = format!("/console/orders/{id}?done={action}");
    let problem = match submit(&state, &staff.auth(), submission).await {
        Ok(Executed::Fresh(..)) => return Redirect::to(&back).into_response(),
        Ok(Executed::Replayed(stored)) => {
            state.metrics.idempotent_replay();
            if stored.status < 400 {
                return Redirect::to(&back).into_response();
            }
            (
                stored.status,
                serde_json::from_slice::<Value>(&stored.body).unwrap_or(Value::Null),
            )
        }
        Err(ApiError::VersionConflict { .. }) => {
            let reload = format!("/console/orders/{id}");
            return templates::message(lang, StatusCode::CONFLICT, "conflict", Some(&reload));
        }
        Err(e @ ApiError::Forbidden(_)) => return failure(lang, e),
        Err(e) if e.code().status().is_server_error() => return failure(lang, e),
        Err(e) => (
            e.code().status().as_u16(),
            serde_json::to_value(e.problem()).unwrap_or(Value::Null),
        ),
    };
    let error = action_error(&action, &problem.1, &body);
    let status = StatusCode::from_u16(problem.0).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
    // The page shows the order as it is now, with fresh keys on its forms.
    match state.store.get_order(id).await {
        Ok(Some(order)) => pages::order_page(&state, &staff, order, None, Some(error), status).await,
        Ok(None) => templates::message(lang, StatusCode::NOT_FOUND, "not_found", Some("/console/orders")),
        Err(e) => failure(lang, ApiError::from(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_read_with_the_currency_s_decimals() {
        assert_eq!(parse_amount("1.235", Currency::Kwd), Some(1235));
        assert_eq!(parse_amount("1.2", Currency::Kwd), Some(1200));
        assert_eq!(parse_amount("12", Currency::Aed), Some(1200));
        assert_eq!(parse_amount("1.235", Currency::Aed), None);
        assert_eq!(parse_amount("-1", Currency::Aed), None);
        assert_eq!(parse_amount("1e3", Currency::Aed), None);
        assert_eq!(parse_amount("", Currency::Aed), None);
    }

    #[test]
    fn pointers_name_the_form_s_fields() {
        assert_eq!(field_of("/amount_minor", &[], &[]).as_deref(), Some("amount"));
        assert_eq!(field_of("/lines/1/quantity", &[0, 2], &[]).as_deref(), Some("qty_2"));
        assert_eq!(field_of("/carrier", &[], &[]).as_deref(), Some("carrier"));
        assert_eq!(field_of("/", &[], &[]), None);
        let ops = [
            ("qty_1".to_owned(), "qty_1".to_owned()),
            ("add_sku".to_owned(), "add_qty".to_owned()),
        ];
        assert_eq!(field_of("/operations/1/sku", &[], &ops).as_deref(), Some("add_sku"));
        assert_eq!(
            field_of("/operations/1/quantity", &[], &ops).as_deref(),
            Some("add_qty")
        );
        assert_eq!(field_of("/operations/0/quantity", &[], &ops).as_deref(), Some("qty_1"));
        assert_eq!(field_of("/operations", &[], &ops), None);
    }
}
