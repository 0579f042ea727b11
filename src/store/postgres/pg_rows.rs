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
    order_status, payment_status, fulfilment_status, ship_to::text AS ship_to, progress::text AS progress, legacy::text AS legacy, vat_rate_bp, subtotal_minor, \
    tax_minor, shipping_minor, shipping_tax_minor, grand_total_minor, version, created_at, updated_at FROM orders";

/// Orders with their lines in one statement: `{ORDERS_WITH_LINES}(<an ORDER_COLUMNS select>{lines_joined(..)}`,
/// one row per order with its lines as arrays in line order. One round trip instead of two. The aggregate keeps
/// the lines' lookup a per-order index scan whatever the planner guesses of the outer rows (a plain join of
/// `order_lines` may be planned as a hash join over the whole table under a generic plan).
pub(super) const ORDERS_WITH_LINES: &str = "SELECT o.*, l.* FROM (";

/// Closes [`ORDERS_WITH_LINES`]; `order_by` orders the orders ("" for one).
pub(super) fn lines_joined(order_by: &str) -> String {
    let order_by = if order_by.is_empty() {
        String::new()
    } else {
        format!(" ORDER BY {order_by}")
    };
    format!(
        ") o CROSS JOIN LATERAL (SELECT array_agg(sku ORDER BY line_no) AS l_sku, \
         array_agg(name_en ORDER BY line_no) AS l_name_en, array_agg(name_ar ORDER BY line_no) AS l_name_ar, \
         array_agg(quantity ORDER BY line_no) AS l_quantity, \
         array_agg(unit_price_minor ORDER BY line_no) AS l_unit_price_minor, \
         array_agg(tax_class ORDER BY line_no) AS l_tax_class, \
         array_agg(subtotal_minor ORDER BY line_no) AS l_subtotal_minor, \
         array_agg(tax_minor ORDER BY line_no) AS l_tax_minor, array_agg(total_minor ORDER BY line_no) AS l_total_minor \
         FROM order_lines WHERE order_id = o.id) l{order_by}"
    )
}

/// The orders of an [`ORDERS_WITH_LINES`] statement's rows.
pub(super) fn orders_of(found: &[PgRow]) -> Result<Vec<crate::domain::order::Order>, StoreError> {
    orders_with_lines(found)?
        .into_iter()
        .map(|(row, lines)| rows::order_from_row(row, lines))
        .collect()
}

/// Reads the rows of an [`ORDERS_WITH_LINES`] statement into orders and their lines.
pub(super) fn orders_with_lines(found: &[PgRow]) -> Result<Vec<(OrderRow, Vec<LineRow>)>, StoreError> {
    found.iter().map(order_with_lines).collect()
}

fn order_with_lines(r: &PgRow) -> Result<(OrderRow, Vec<LineRow>), StoreError> {
    let order = order_row(r)?;
    let get = || -> Result<Vec<LineRow>, sqlx::Error> {
        let Some(sku) = r.try_get::<Option<Vec<String>>, _>("l_sku")? else {
            return Ok(Vec::new());
        };
        let name_en: Vec<String> = r.try_get("l_name_en")?;
        let name_ar: Vec<String> = r.try_get("l_name_ar")?;
        let quantity: Vec<i32> = r.try_get("l_quantity")?;
        let unit_price: Vec<i64> = r.try_get("l_unit_price_minor")?;
        let tax_class: Vec<String> = r.try_get("l_tax_class")?;
        let subtotal: Vec<i64> = r.try_get("l_subtotal_minor")?;
        let tax: Vec<i64> = r.try_get("l_tax_minor")?;
        let total: Vec<i64> = r.try_get("l_total_minor")?;
        let n = sku.len();
        let lengths = [
            name_en.len(),
            name_ar.len(),
            quantity.len(),
            unit_price.len(),
            tax_class.len(),
            subtotal.len(),
            tax.len(),
            total.len(),
        ];
        if lengths.iter().any(|&len| len != n) {
            return Err(sqlx::Error::Decode("line arrays of different lengths".into()));
        }
        let texts = sku.into_iter().zip(name_en).zip(name_ar).zip(tax_class);
        Ok(texts
            .enumerate()
            .map(|(i, (((sku, name_en), name_ar), tax_class))| LineRow {
                order_id: order.id,
                sku,
                name_en,
                name_ar,
                quantity: i64::from(quantity[i]),
                unit_price: unit_price[i],
                tax_class,
                subtotal: subtotal[i],
                tax: tax[i],
                total: total[i],
            })
            .collect())
    };
    let lines = get().map_err(StoreError::internal)?;
    Ok((order, lines))
}

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
            legacy: r.try_get("legacy")?,
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

/// The SKUs and stock of a page of products after a SKU (the console's products page).
pub(super) const LIST_PRODUCTS: &str = "SELECT p.sku, s.on_hand, s.reserved FROM products p \
     LEFT JOIN stock s ON s.sku = p.sku WHERE p.sku > $1 ORDER BY p.sku LIMIT $2";

/// A page of products in SKU order with their stock rows: the SKUs and stock in one statement, then the catalog
/// read for those SKUs.
pub(super) async fn list_products(
    exec: &mut sqlx::PgConnection,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<crate::store::ProductStock>, StoreError> {
    let rows = sqlx::query(LIST_PRODUCTS)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(&mut *exec)
        .await
        .map_err(db_error)?;
    let mut skus = Vec::with_capacity(rows.len());
    let mut levels = Vec::with_capacity(rows.len());
    for r in &rows {
        skus.push(r.try_get::<String, _>("sku").map_err(StoreError::internal)?);
        let on_hand: Option<i64> = r.try_get("on_hand").map_err(StoreError::internal)?;
        let reserved: Option<i64> = r.try_get("reserved").map_err(StoreError::internal)?;
        levels.push(
            on_hand
                .zip(reserved)
                .map(|(on_hand, reserved)| StockLevel { on_hand, reserved }),
        );
    }
    let products = load_products(exec, &skus).await?;
    Ok(rows::pair_with_stock(products, &skus, levels))
}
