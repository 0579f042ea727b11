//! `/v1/orders/{id}/invoices` and `/v1/invoices/{number}[.html]`: an order's tax invoices and credit notes, as
//! JSON or as a printable bilingual page (docs/invoices.md). Staff with `orders:read` see every document; a
//! customer with `orders:read:own` only those of their own orders (any other is not found).

mod page;
pub mod wire;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use uuid::Uuid;

use super::AppState;
use super::error::{ApiError, Missing};
use super::extract::Auth;
use super::orders::{READ_ANY, READ_OWN, own_scope};
use crate::domain::invoice::{DocumentKind, TaxDocument};
use crate::domain::values::CustomerId;
use wire::{DocumentView, OrderDocumentsView};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/orders/{id}/invoices", get(order_invoices))
        .route("/v1/invoices/{number}", get(get_invoice))
}

/// Whether the caller may see the documents of `order_id`: staff always, a customer for their own orders.
async fn visible(state: &AppState, owner: Option<&CustomerId>, order_id: Uuid) -> Result<bool, ApiError> {
    let Some(customer) = owner else { return Ok(true) };
    Ok(state
        .store
        .get_order(order_id)
        .await?
        .is_some_and(|o| o.belongs_to(customer)))
}

#[utoipa::path(get, path = "/v1/orders/{id}/invoices", tag = "invoices",
    params(("id" = Uuid, Path, description = "Order id")),
    responses((status = 200, body = OrderDocumentsView), (status = 404, body = super::error::Problem)),
    security(("bearer" = ["orders:read", "orders:read:own"])))]
pub async fn order_invoices(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (order, _) = super::orders::readable_order(&state, &auth, &id).await?;
    let docs = state.store.order_documents(order.id).await?;
    let of =
        |kind: DocumentKind| -> Vec<DocumentView> { docs.iter().filter(|d| d.kind == kind).map(Into::into).collect() };
    Ok(axum::Json(OrderDocumentsView {
        invoices: of(DocumentKind::Invoice),
        credit_notes: of(DocumentKind::CreditNote),
    })
    .into_response())
}

async fn find(state: &AppState, auth: &Auth, number: &str) -> Result<TaxDocument, ApiError> {
    let held = auth.require(&[READ_ANY, READ_OWN])?;
    let owner = own_scope(auth, held, READ_OWN)?;
    let doc = state
        .store
        .get_document(number)
        .await?
        .ok_or(ApiError::NotFound(Missing::Invoice))?;
    if !visible(state, owner.as_ref(), doc.order_id).await? {
        return Err(ApiError::NotFound(Missing::Invoice));
    }
    Ok(doc)
}

/// One document: `{number}` as JSON, `{number}.html` as the printable page.
#[utoipa::path(get, path = "/v1/invoices/{number}", tag = "invoices",
    params(("number" = String, Path, description = "Invoice or credit note number, e.g. INV-KW-2026-000001; \
        with `.html` appended, the printable bilingual page")),
    responses((status = 200, body = DocumentView), (status = 404, body = super::error::Problem)),
    security(("bearer" = ["orders:read", "orders:read:own"])))]
pub async fn get_invoice(
    State(state): State<AppState>,
    auth: Auth,
    Path(number): Path<String>,
) -> Result<Response, ApiError> {
    if let Some(number) = number.strip_suffix(".html") {
        let doc = find(&state, &auth, number).await?;
        return Ok(page::render(&doc));
    }
    let doc = find(&state, &auth, &number).await?;
    Ok(axum::Json(DocumentView::from(&doc)).into_response())
}
