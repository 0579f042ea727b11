//! Reading SQLite rows into the backend-neutral row shapes: integer microseconds for times, text UUIDs.

use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::catalog::Product;
use crate::domain::events::OrderEvent;
use crate::domain::stock::StockLevel;
use crate::domain::values::Sku;
use crate::store::rows::{self, EventRow, LineRow, OrderRow, ProductRow};
use crate::store::{StoreError, db_error};

pub(super) const EVENT_COLUMNS: &str =
    "SELECT id, order_id, sequence, type, data, actor, occurred_at FROM order_events";

pub(super) fn event_row(r: &SqliteRow) -> Result<OrderEvent, StoreError> {
    let row = EventRow {
        id: uuid_of(r, "id")?,
        order_id: uuid_of(r, "order_id")?,
        sequence: r.try_get("sequence").map_err(StoreError::internal)?,
        kind: r.try_get("type").map_err(StoreError::internal)?,
        data: r.try_get("data").map_err(StoreError::internal)?,
        actor: r.try_get("actor").map_err(StoreError::internal)?,
        occurred_at: from_micros(r.try_get("occurred_at").map_err(StoreError::internal)?)?,
    };
    rows::event_from_row(row)
}

pub(super) fn micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

pub(super) fn from_micros(m: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(m) * 1_000).map_err(StoreError::internal)
}

pub(super) fn uuid_of(r: &SqliteRow, column: &str) -> Result<Uuid, StoreError> {
    let text: String = r.try_get(column).map_err(StoreError::internal)?;
    Uuid::parse_str(&text).map_err(StoreError::internal)
}

pub(super) const ORDER_COLUMNS: &str = "SELECT id, number, store, customer_id, currency, payment_method, \
    order_status, payment_status, fulfilment_status, ship_to, progress, legacy, vat_rate_bp, subtotal_minor, tax_minor, \
    shipping_minor, shipping_tax_minor, grand_total_minor, version, created_at, updated_at FROM orders";

pub(super) const LINE_COLUMNS: &str = "SELECT order_id, sku, name_en, name_ar, quantity, unit_price_minor, \
    tax_class, subtotal_minor, tax_minor, total_minor FROM order_lines";

pub(super) fn order_row(r: &SqliteRow) -> Result<OrderRow, StoreError> {
    let get = || -> Result<OrderRow, StoreError> {
        let g = |c: &str| -> Result<i64, StoreError> { r.try_get(c).map_err(StoreError::internal) };
        let s = |c: &str| -> Result<String, StoreError> { r.try_get(c).map_err(StoreError::internal) };
        Ok(OrderRow {
            id: uuid_of(r, "id")?,
            number: s("number")?,
            store: s("store")?,
            customer_id: r.try_get("customer_id").map_err(StoreError::internal)?,
            currency: s("currency")?,
            payment_method: s("payment_method")?,
            order_status: s("order_status")?,
            payment_status: s("payment_status")?,
            fulfilment_status: s("fulfilment_status")?,
            ship_to: s("ship_to")?,
            progress: s("progress")?,
            legacy: r.try_get("legacy").map_err(StoreError::internal)?,
            vat_rate_bp: g("vat_rate_bp")?,
            subtotal: g("subtotal_minor")?,
            tax: g("tax_minor")?,
            shipping: g("shipping_minor")?,
            shipping_tax: g("shipping_tax_minor")?,
            grand_total: g("grand_total_minor")?,
            version: g("version")?,
            created_at: from_micros(g("created_at")?)?,
            updated_at: from_micros(g("updated_at")?)?,
        })
    };
    get()
}

pub(super) fn line_row(r: &SqliteRow) -> Result<LineRow, StoreError> {
    let g = |c: &str| -> Result<i64, StoreError> { r.try_get(c).map_err(StoreError::internal) };
    let s = |c: &str| -> Result<String, StoreError> { r.try_get(c).map_err(StoreError::internal) };
    Ok(LineRow {
        order_id: uuid_of(r, "order_id")?,
        sku: s("sku")?,
        name_en: s("name_en")?,
        name_ar: s("name_ar")?,
        quantity: g("quantity")?,
        unit_price: g("unit_price_minor")?,
        tax_class: s("tax_class")?,
        subtotal: g("subtotal_minor")?,
        tax: g("tax_minor")?,
        total: g("total_minor")?,
    })
}

pub(super) async fn load_products(conn: &mut sqlx::SqliteConnection, skus: &[Sku]) -> Result<Vec<Product>, StoreError> {
    if skus.is_empty() {
        return Ok(Vec::new());
    }
    let in_list = |prefix: &str| {
        let mut sql = QueryBuilder::<Sqlite>::new(prefix);
        sql.push(" WHERE sku IN (");
        let mut list = sql.separated(", ");
        for sku in skus {
            list.push_bind(sku.as_str().to_owned());
        }
        sql.push(")");
        sql
    };
    let mut products = in_list("SELECT sku, name_en, name_ar, tax_class, active FROM products");
    let found = products.build().fetch_all(&mut *conn).await.map_err(db_error)?;
    let mut prices = in_list("SELECT sku, currency, amount_minor FROM product_prices");
    let price_rows = prices.build().fetch_all(&mut *conn).await.map_err(db_error)?;
    let product_rows = found
        .iter()
        .map(|r| {
            Ok(ProductRow {
                sku: r.try_get("sku")?,
                name_en: r.try_get("name_en")?,
                name_ar: r.try_get("name_ar")?,
                tax_class: r.try_get("tax_class")?,
                active: r.try_get::<i64, _>("active")? == 1,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::internal)?;
    let prices = price_rows
        .iter()
        .map(|r| Ok((r.try_get("sku")?, r.try_get("currency")?, r.try_get("amount_minor")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::internal)?;
    rows::products_from_rows(product_rows, prices)
}

pub(super) fn stock_level(r: &SqliteRow) -> Result<StockLevel, StoreError> {
    Ok(StockLevel {
        on_hand: r.try_get("on_hand").map_err(StoreError::internal)?,
        reserved: r.try_get("reserved").map_err(StoreError::internal)?,
    })
}

/// A page of products in SKU order with their stock rows.
pub(super) async fn list_products(
    conn: &mut sqlx::SqliteConnection,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<crate::store::ProductStock>, StoreError> {
    let rows = sqlx::query(
        "SELECT p.sku, s.on_hand, s.reserved FROM products p LEFT JOIN stock s ON s.sku = p.sku \
         WHERE p.sku > ? ORDER BY p.sku LIMIT ?",
    )
    .bind(after.unwrap_or(""))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let mut skus = Vec::with_capacity(rows.len());
    let mut names = Vec::with_capacity(rows.len());
    let mut levels = Vec::with_capacity(rows.len());
    for r in &rows {
        let raw: String = r.try_get("sku").map_err(StoreError::internal)?;
        skus.push(Sku::parse(&raw).map_err(|e| StoreError::internal(anyhow::anyhow!("stored SKU {raw}: {}", e.0)))?);
        names.push(raw);
        let on_hand: Option<i64> = r.try_get("on_hand").map_err(StoreError::internal)?;
        let reserved: Option<i64> = r.try_get("reserved").map_err(StoreError::internal)?;
        levels.push(
            on_hand
                .zip(reserved)
                .map(|(on_hand, reserved)| StockLevel { on_hand, reserved }),
        );
    }
    let products = load_products(conn, &skus).await?;
    Ok(rows::pair_with_stock(products, &names, levels))
}
