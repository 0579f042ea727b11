//! `GET /v1/orders/export.csv`: every order the list's filters (and `q`) match, one CSV row per line, streamed.
//!
//! A task reads the orders a page at a time, newest first (the list's own keyset pagination, so no query holds a
//! cursor open), writes each page as CSV and hands it to the response body through a channel of two pages. Memory
//! is bounded by that, whatever the number of orders; the first bytes (BOM and header) leave before any order is
//! read; and when the client goes away the channel closes and the task stops before its next query.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;
use utoipa::IntoParams;

use super::AppState;
use super::error::ApiError;
use super::extract::{Auth, QueryParams};
use super::orders::{Filters, READ_ANY};
use crate::domain::order::Order;
use crate::domain::status::StatusMachine;
use crate::store::{OrderQuery, Store};

/// Orders read per query.
const PAGE: u32 = 500;

/// The columns, in order.
pub const COLUMNS: [&str; 20] = [
    "number",
    "created_at",
    "customer_id",
    "ship_to_name",
    "ship_country",
    "status_order",
    "status_payment",
    "status_fulfilment",
    "payment_method",
    "currency",
    "sku",
    "name_en",
    "quantity",
    "unit_price",
    "line_tax",
    "line_total",
    "order_subtotal",
    "order_tax",
    "order_shipping",
    "order_grand_total",
];

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// As for the list (staff search).
    pub q: Option<String>,
    pub customer_id: Option<String>,
    /// Order status: open, confirmed, completed, cancelled.
    pub status: Option<String>,
    /// Exact order number.
    pub number: Option<String>,
    /// RFC 3339; inclusive.
    pub created_from: Option<String>,
    /// RFC 3339; exclusive.
    pub created_to: Option<String>,
}

#[utoipa::path(get, path = "/v1/orders/export.csv", tag = "orders", params(ExportParams),
    responses(
        (status = 200, description = "UTF-8 CSV with a BOM, one row per order line (RFC 4180), newest order first",
            content_type = "text/csv", body = String),
        (status = 422, body = super::error::Problem)),
    security(("bearer" = ["orders:read"])))]
pub async fn export_orders(
    State(state): State<AppState>,
    auth: Auth,
    QueryParams(p): QueryParams<ExportParams>,
) -> Result<Response, ApiError> {
    auth.require(&[READ_ANY])?;
    let filters = Filters::parse(
        p.customer_id.as_deref(),
        p.status.as_deref(),
        p.number,
        p.created_from.as_deref(),
        p.created_to.as_deref(),
        p.q.as_deref(),
    )?;
    let query = filters.query(PAGE, None);
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    tokio::spawn(write_pages(state.store.clone(), query, tx));
    let body = Body::from_stream(stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|c| (c, rx)) },
    ));
    let filename = format!(
        "attachment; filename=\"orders-{}.csv\"",
        OffsetDateTime::now_utc().unix_timestamp()
    );
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&filename) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Writes the BOM and header, then every page, until the orders run out or the client leaves. A storage failure
/// mid-way ends the body with an error, so the client sees a transfer cut short rather than a file that looks whole.
async fn write_pages(
    store: std::sync::Arc<dyn Store>,
    mut query: OrderQuery,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    let mut head = String::from("\u{FEFF}");
    head.push_str(&COLUMNS.join(","));
    head.push_str("\r\n");
    if tx.send(Ok(Bytes::from(head))).await.is_err() {
        return;
    }
    loop {
        let page = match store.list_orders(&query).await {
            Ok(page) => page,
            Err(e) => {
                tracing::error!(error = %e, "export stopped: the orders could not be read");
                let _ = tx
                    .send(Err(std::io::Error::other("the orders could not be read")))
                    .await;
                return;
            }
        };
        let chunk = match rows(&page.orders) {
            Ok(chunk) => chunk,
            Err(e) => {
                tracing::error!(error = %e, "export stopped: a row could not be written");
                let _ = tx.send(Err(std::io::Error::other("a row could not be written"))).await;
                return;
            }
        };
        if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
            tracing::info!("export abandoned by its client");
            return;
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => return,
        }
    }
}

/// One page of orders as CSV rows, one per line (RFC 4180 quoting, CRLF).
fn rows(orders: &[Order]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(orders.len() * 600));
    for o in orders {
        let created = o.created_at.format(&Rfc3339).unwrap_or_default();
        for l in &o.lines {
            w.write_record([
                o.number.as_str(),
                &created,
                o.customer_id.as_ref().map_or("", |c| c.as_str()),
                &o.ship_to.name,
                o.ship_to.country.as_str(),
                o.status.order.as_str(),
                o.status.payment.as_str(),
                o.status.fulfilment.as_str(),
                o.payment_method.as_str(),
                o.currency.code(),
                l.sku.as_str(),
                &l.name_en,
                &l.quantity.as_i64().to_string(),
                &l.unit_price.decimal(),
                &l.tax.decimal(),
                &l.total.decimal(),
                &o.totals.subtotal.decimal(),
                &o.totals.tax.decimal(),
                &o.totals.shipping.decimal(),
                &o.totals.grand_total.decimal(),
            ])?;
        }
    }
    w.into_inner().map_err(|e| e.into_error().into())
}
