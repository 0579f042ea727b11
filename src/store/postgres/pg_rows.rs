//! Reading PostgreSQL rows into the backend-neutral row shapes, and the catalog read shared by reads and writes.

use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::domain::catalog::Product;
use crate::domain::events::OrderEvent;
use crate::domain::stock::StockLevel;
use crate::store::rows::{self, EventRow, LineRow, OrderRow, ProductRow};
use crate::store::{StoreError, db_error};

pub(super) const EVENT_COLUMNS: &str =
    "SELECT id, order_id, sequence, type, data::text AS data, actor, occurred_at FROM order_events";

pub(super) fn event_row(r: &PgRow) -> Result<OrderEvent, StoreError> {
    let get = || -> Result<EventRow, sqlx::Error> {
        Ok(EventRow {
            id: r.try_get("id")?,
            order_id: r.try_get("order_id")?,
            sequence: r.try_get("sequence")?,
            kind: r.try_get("type")?,
            data: r.try_get("data")?,
            actor: r.try_get("actor")?,
            occurred_at: r.try_get("occurred_at")?,
        })
    };
    rows::event_from_row(get().map_err(StoreError::internal)?)
}

pub(super) const ORDER_COLUMNS: &str = "SELECT id, number, store, customer_id, currency, payment_method, \
    order_status, payment_status, fulfilment_status, ship_to::text AS ship_to, progress::text AS progress, vat_rate_bp, subtotal_minor, \
    tax_minor, shipping_minor, shipping_tax_minor, grand_total_minor, version, created_at, updated_at FROM orders";

pub(super) const LINE_COLUMNS: &str = "SELECT order_id, sku, name_en, name_ar, quantity, unit_price_minor, \
    tax_class, subtotal_minor, tax_minor, total_minor FROM order_lines WHERE order_id = ANY($1) \
    ORDER BY order_id, line_no";

pub(super) fn order_row(r: &PgRow) -> Result<OrderRow, StoreError> {
    let get = || -> Result<OrderRow, sqlx::Error> {
        Ok(OrderRow {
            id: r.try_get("id")?,
            number: r.try_get("number")?,
            store: r.try_get("store")?,
            customer_id: r.try_get("customer_id")?,
            currency: r.try_get("currency")?,
            payment_method: r.try_get("payment_method")?,
            order_status: r.try_get("order_status")?,
            payment_status: r.try_get("payment_status")?,
            fulfilment_status: r.try_get("fulfilment_status")?,
            ship_to: r.try_get("ship_to")?,
            progress: r.try_get("progress")?,
            vat_rate_bp: i64::from(r.try_get::<i32, _>("vat_rate_bp")?),
            subtotal: r.try_get("subtotal_minor")?,
            tax: r.try_get("tax_minor")?,
            shipping: r.try_get("shipping_minor")?,
            shipping_tax: r.try_get("shipping_tax_minor")?,
            grand_total: r.try_get("grand_total_minor")?,
            version: r.try_get("version")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    };
    get().map_err(StoreError::internal)
}

pub(super) fn line_row(r: &PgRow) -> Result<LineRow, StoreError> {
    let get = || -> Result<LineRow, sqlx::Error> {
        Ok(LineRow {
            order_id: r.try_get("order_id")?,
            sku: r.try_get("sku")?,
            name_en: r.try_get("name_en")?,
            name_ar: r.try_get("name_ar")?,
            quantity: i64::from(r.try_get::<i32, _>("quantity")?),
            unit_price: r.try_get("unit_price_minor")?,
            tax_class: r.try_get("tax_class")?,
            subtotal: r.try_get("subtotal_minor")?,
            tax: r.try_get("tax_minor")?,
            total: r.try_get("total_minor")?,
        })
    };
    get().map_err(StoreError::internal)
}

pub(super) async fn load_products(exec: &mut sqlx::PgConnection, skus: &[String]) -> Result<Vec<Product>, StoreError> {
    let rows = sqlx::query("SELECT sku, name_en, name_ar, tax_class, active FROM products WHERE sku = ANY($1)")
        .bind(skus)
        .fetch_all(&mut *exec)
        .await
        .map_err(db_error)?;
    let prices = sqlx::query("SELECT sku, currency, amount_minor FROM product_prices WHERE sku = ANY($1)")
        .bind(skus)
        .fetch_all(&mut *exec)
        .await
        .map_err(db_error)?;
    let product_rows = rows
        .iter()
        .map(|r| {
            Ok(ProductRow {
                sku: r.try_get("sku")?,
                name_en: r.try_get("name_en")?,
                name_ar: r.try_get("name_ar")?,
                tax_class: r.try_get("tax_class")?,
                active: r.try_get("active")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::internal)?;
    let price_rows = prices
        .iter()
        .map(|r| Ok((r.try_get("sku")?, r.try_get("currency")?, r.try_get("amount_minor")?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::internal)?;
    rows::products_from_rows(product_rows, price_rows)
}

pub(super) fn stock_level(r: &PgRow) -> Result<StockLevel, StoreError> {
    Ok(StockLevel {
        on_hand: r.try_get("on_hand").map_err(StoreError::internal)?,
        reserved: r.try_get("reserved").map_err(StoreError::internal)?,
    })
}
