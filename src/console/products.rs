//! Products and stock: the list (SKU order, with stock), and one product's edit form (names, a price per currency,
//! tax class, active) and stock form (units on hand). Saving goes through the API's own parsing
//! (`http::catalog::parse_product`) and the store's audited catalog writes, under the staff member's `sub` and the
//! request id, with the API's scopes (`catalog:write`, `stock:write`).

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use super::forms::parse_amount;
use super::session::Staff;
use super::{Fields, failure, templates};
use crate::domain::catalog::Product;
use crate::domain::currency::Currency;
use crate::domain::stock::StockLevel;
use crate::domain::values::Sku;
use crate::http::AppState;
use crate::http::catalog::{ProductRequest, parse_product, parse_sku};
use crate::http::error::ApiError;
use crate::http::extract::RequestId;
use crate::http::wire::MoneyView;

const PAGE: u32 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    after: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct EditQuery {
    saved: Option<String>,
}

pub async fn list(State(state): State<AppState>, staff: Staff, Query(query): Query<ListQuery>) -> Response {
    let lang = staff.lang;
    let after = query.after.as_deref().and_then(|a| parse_sku(a).ok());
    let found = match state.store.list_products(after.as_ref(), PAGE).await {
        Ok(found) => found,
        Err(e) => return failure(lang, ApiError::from(e)),
    };
    let next = (found.len() == PAGE as usize)
        .then(|| found.last().map(|(p, _)| p.sku.as_str().to_owned()))
        .flatten();
    let rows: Vec<_> = found
        .iter()
        .map(|(p, stock)| {
            context! {
                sku => p.sku.as_str(), name_en => p.name_en, name_ar => p.name_ar, active => p.active,
                prices => p.prices.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", "),
                stock => stock.map(|s| context! { on_hand => s.on_hand, reserved => s.reserved, available => s.available() }),
            }
        })
        .collect();
    let page = context! { rows => rows, next => next };
    templates::render(lang, StatusCode::OK, "products.html", Some(&staff), page)
}

/// The edit page: `values` are the form's fields as shown (from the product, or as submitted).
fn edit_page(
    staff: &Staff,
    sku: &str,
    values: BTreeMap<String, String>,
    stock: Option<StockLevel>,
    errors: BTreeMap<String, String>,
    status: StatusCode,
    saved: bool,
) -> Response {
    let currencies: Vec<&str> = Currency::ALL.iter().map(|c| c.code()).collect();
    let page = context! {
        sku => sku, values => values, currencies => currencies, errors => errors,
        stock => stock.map(|s| context! { on_hand => s.on_hand, reserved => s.reserved, available => s.available() }),
        can_catalog => staff.can("catalog:write"), can_stock => staff.can("stock:write"),
        tax_classes => ["standard", "zero", "exempt"], saved => saved,
    };
    templates::render(staff.lang, status, "product.html", Some(staff), page)
}

fn values_of(product: &Product) -> BTreeMap<String, String> {
    let mut values = BTreeMap::from([
        ("name_en".to_owned(), product.name_en.clone()),
        ("name_ar".to_owned(), product.name_ar.clone()),
        ("tax_class".to_owned(), product.tax_class.as_str().to_owned()),
    ]);
    if product.active {
        values.insert("active".into(), "on".into());
    }
    for price in &product.prices {
        values.insert(format!("price_{}", price.currency().code()), price.decimal());
    }
    values
}

pub async fn edit(
    State(state): State<AppState>,
    staff: Staff,
    Path(sku): Path<String>,
    Query(query): Query<EditQuery>,
) -> Response {
    let lang = staff.lang;
    let Ok(parsed) = parse_sku(&sku) else {
        return templates::message(lang, StatusCode::NOT_FOUND, "not_found", Some("/console/products"));
    };
    let (product, stock) = match (
        state.store.get_product(&parsed).await,
        state.store.get_stock(&parsed).await,
    ) {
        (Ok(p), Ok(s)) => (p, s),
        (Err(e), _) | (_, Err(e)) => return failure(lang, ApiError::from(e)),
    };
    let values = product.as_ref().map(values_of).unwrap_or_default();
    edit_page(
        &staff,
        parsed.as_str(),
        values,
        stock,
        BTreeMap::new(),
        StatusCode::OK,
        query.saved.is_some(),
    )
}

/// The API's request body from the form, with the fields of amounts that are not numbers.
fn request_of(fields: &Fields) -> (ProductRequest, Vec<Currency>, BTreeMap<String, String>) {
    let mut prices = Vec::new();
    let mut order = Vec::new();
    let mut errors = BTreeMap::new();
    for c in Currency::ALL {
        let name = format!("price_{}", c.code());
        let Some(raw) = fields.get(&name).map(str::trim).filter(|v| !v.is_empty()) else {
            continue;
        };
        match parse_amount(raw, c) {
            Some(amount_minor) => {
                prices.push(MoneyView {
                    amount_minor,
                    currency: c.code().to_owned(),
                });
                order.push(c);
            }
            None => {
                errors.insert(name, format!("an amount with at most {} decimals", c.exponent()));
            }
        }
    }
    let request = ProductRequest {
        name_en: fields.get("name_en").unwrap_or("").to_owned(),
        name_ar: fields.get("name_ar").unwrap_or("").to_owned(),
        prices,
        tax_class: fields.get("tax_class").unwrap_or("standard").to_owned(),
        active: fields.get("active").is_some(),
    };
    (request, order, errors)
}

/// A product form's checks before anything is read: the session's CSRF token, the scope, a well-formed SKU.
fn admitted(staff: &Staff, fields: &Fields, scope: &'static str, sku: &str) -> Result<Sku, Box<Response>> {
    if let Some(refused) = staff.forged(fields.get("csrf")) {
        return Err(Box::new(refused));
    }
    if !staff.can(scope) {
        return Err(Box::new(failure(staff.lang, ApiError::Forbidden(scope))));
    }
    parse_sku(sku).map_err(|_| {
        Box::new(templates::message(
            staff.lang,
            StatusCode::NOT_FOUND,
            "not_found",
            Some("/console/products"),
        ))
    })
}

pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    request_id: RequestId,
    Path(sku): Path<String>,
    fields: Fields,
) -> Response {
    let lang = staff.lang;
    let parsed = match admitted(&staff, &fields, "catalog:write", &sku) {
        Ok(parsed) => parsed,
        Err(refused) => return *refused,
    };
    let (request, currencies, mut errors) = request_of(&fields);
    let outcome = match parse_product(parsed.clone(), request) {
        Ok(product) if errors.is_empty() => {
            match state.store.put_product(&product, &staff.auth().actor(request_id)).await {
                Ok(_) => return Redirect::to(&format!("/console/products/{sku}?saved=1")).into_response(),
                Err(e) => ApiError::from(e),
            }
        }
        Ok(_) => ApiError::Validation(Vec::new()),
        Err(e) => e,
    };
    match outcome {
        ApiError::Validation(listed) => {
            for e in listed {
                let path: Vec<&str> = e.pointer.trim_start_matches('/').split('/').collect();
                let field = match path.as_slice() {
                    ["prices", i, ..] => i
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| currencies.get(i))
                        .map(|c| format!("price_{}", c.code()))
                        .unwrap_or_else(|| "prices".into()),
                    [name] if !name.is_empty() => (*name).to_owned(),
                    _ => "prices".into(),
                };
                errors.insert(field, e.detail);
            }
            let values = fields.map();
            let stock = state.store.get_stock(&parsed).await.ok().flatten();
            edit_page(
                &staff,
                parsed.as_str(),
                values,
                stock,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
                false,
            )
        }
        other => failure(lang, other),
    }
}

pub async fn set_stock(
    State(state): State<AppState>,
    staff: Staff,
    request_id: RequestId,
    Path(sku): Path<String>,
    fields: Fields,
) -> Response {
    let lang = staff.lang;
    let parsed = match admitted(&staff, &fields, "stock:write", &sku) {
        Ok(parsed) => parsed,
        Err(refused) => return *refused,
    };
    let on_hand = fields
        .get("on_hand")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v >= 0);
    let result = match on_hand {
        None => Err(ApiError::field("/on_hand", "a whole number of units, 0 or more")),
        Some(n) => state
            .store
            .set_stock(&parsed, n, &staff.auth().actor(request_id))
            .await
            .map_err(ApiError::from),
    };
    match result {
        Ok(_) => Redirect::to(&format!("/console/products/{sku}?saved=1")).into_response(),
        Err(e) if e.code().status().is_client_error() && e.code().status() != StatusCode::FORBIDDEN => {
            let product = state.store.get_product(&parsed).await.ok().flatten();
            let stock = state.store.get_stock(&parsed).await.ok().flatten();
            let values = product.as_ref().map(values_of).unwrap_or_default();
            let errors = BTreeMap::from([("on_hand".to_owned(), e.problem().detail)]);
            let status = e.code().status();
            edit_page(&staff, parsed.as_str(), values, stock, errors, status, false)
        }
        Err(e) => failure(lang, e),
    }
}
