//! Backend-neutral row shapes and their conversion into domain values. Each adapter reads its own column types
//! into these; a value that does not parse back is a corrupt row and an internal error, never a panic.

use std::collections::HashMap;

use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;
use crate::domain::catalog::Product;
use crate::domain::currency::Currency;
use crate::domain::events::{Change, OrderEvent};
use crate::domain::money::Money;
use crate::domain::order::{Order, PaymentMethod, Progress, ShipTo, Statuses};
use crate::domain::pricing::{PricedLine, Totals};
use crate::domain::status::StatusMachine;
use crate::domain::tax::{BasisPoints, TaxClass};
use crate::domain::values::{CustomerId, Quantity, Sku, StoreCode};

pub(crate) struct OrderRow {
    pub id: Uuid,
    pub number: String,
    pub store: String,
    pub customer_id: Option<String>,
    pub currency: String,
    pub payment_method: String,
    pub order_status: String,
    pub payment_status: String,
    pub fulfilment_status: String,
    pub ship_to: String,
    pub progress: String,
    /// JSON of the legacy ids, on imported orders.
    pub legacy: Option<String>,
    pub vat_rate_bp: i64,
    pub subtotal: i64,
    pub tax: i64,
    pub shipping: i64,
    pub shipping_tax: i64,
    pub grand_total: i64,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

pub(crate) struct LineRow {
    pub order_id: Uuid,
    pub sku: String,
    pub name_en: String,
    pub name_ar: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub tax_class: String,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
}

pub(crate) struct EventRow {
    pub id: Uuid,
    pub order_id: Uuid,
    pub sequence: i64,
    pub kind: String,
    pub data: String,
    pub actor: String,
    pub occurred_at: OffsetDateTime,
}

pub(crate) struct ProductRow {
    pub sku: String,
    pub name_en: String,
    pub name_ar: String,
    pub tax_class: String,
    pub active: bool,
}

fn corrupt(what: &str) -> StoreError {
    StoreError::internal(anyhow::anyhow!("corrupt row: {what}"))
}

fn parse<T>(what: &str, value: Option<T>) -> Result<T, StoreError> {
    value.ok_or_else(|| corrupt(what))
}

/// Joins orders with their lines (lines in line order) and converts them.
pub(crate) fn orders_from_rows(rows: Vec<OrderRow>, lines: Vec<LineRow>) -> Result<Vec<Order>, StoreError> {
    let mut by_order: HashMap<Uuid, Vec<LineRow>> = HashMap::new();
    for line in lines {
        by_order.entry(line.order_id).or_default().push(line);
    }
    rows.into_iter()
        .map(|row| {
            let lines = by_order.remove(&row.id).unwrap_or_default();
            order_from_row(row, lines)
        })
        .collect()
}

pub(crate) fn order_from_row(row: OrderRow, lines: Vec<LineRow>) -> Result<Order, StoreError> {
    let currency: Currency = row.currency.parse().map_err(|_| corrupt("currency"))?;
    let money = |minor| Money::new(minor, currency);
    let lines = lines
        .into_iter()
        .map(|l| {
            Ok(PricedLine {
                sku: Sku::parse(&l.sku).map_err(|_| corrupt("sku"))?,
                name_en: l.name_en,
                name_ar: l.name_ar,
                quantity: Quantity::parse(l.quantity, u32::MAX).map_err(|_| corrupt("quantity"))?,
                unit_price: money(l.unit_price),
                tax_class: parse("tax_class", TaxClass::parse(&l.tax_class))?,
                subtotal: money(l.subtotal),
                tax: money(l.tax),
                total: money(l.total),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let ship_to: ShipTo = serde_json::from_str(&row.ship_to).map_err(|_| corrupt("ship_to"))?;
    let mut progress: Progress = serde_json::from_str(&row.progress).map_err(|_| corrupt("progress"))?;
    if progress.paid.is_empty() {
        // Orders written before progress was tracked start from nothing.
        progress = Progress::for_lines(lines.len());
    }
    Ok(Order {
        id: row.id,
        number: row.number,
        store: StoreCode::parse(&row.store).map_err(|_| corrupt("store"))?,
        customer_id: row
            .customer_id
            .map(|c| CustomerId::parse(&c).map_err(|_| corrupt("customer_id")))
            .transpose()?,
        currency,
        ship_to,
        payment_method: parse("payment_method", PaymentMethod::parse(&row.payment_method))?,
        status: Statuses {
            order: parse("order_status", StatusMachine::parse(&row.order_status))?,
            payment: parse("payment_status", StatusMachine::parse(&row.payment_status))?,
            fulfilment: parse("fulfilment_status", StatusMachine::parse(&row.fulfilment_status))?,
        },
        lines,
        progress,
        shipping_tax: money(row.shipping_tax),
        vat_rate: BasisPoints::new(row.vat_rate_bp).map_err(|_| corrupt("vat_rate"))?,
        totals: Totals {
            subtotal: money(row.subtotal),
            tax: money(row.tax),
            shipping: money(row.shipping),
            grand_total: money(row.grand_total),
        },
        version: row.version,
        legacy: row
            .legacy
            .map(|l| serde_json::from_str(&l).map_err(|_| corrupt("legacy")))
            .transpose()?,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub(crate) fn event_from_row(row: EventRow) -> Result<OrderEvent, StoreError> {
    Ok(OrderEvent {
        id: row.id,
        order_id: row.order_id,
        sequence: row.sequence,
        change: serde_json::from_str(&row.data)
            .and_then(|data| Change::from_parts(&row.kind, data))
            .map_err(|_| corrupt("event data"))?,
        actor: row.actor,
        occurred_at: row.occurred_at,
    })
}

/// Builds products from their rows and all their price rows `(sku, currency, amount_minor)`.
pub(crate) fn products_from_rows(
    rows: Vec<ProductRow>,
    prices: Vec<(String, String, i64)>,
) -> Result<Vec<Product>, StoreError> {
    let mut by_sku: HashMap<String, Vec<Money>> = HashMap::new();
    for (sku, currency, amount) in prices {
        let currency: Currency = currency.parse().map_err(|_| corrupt("price currency"))?;
        by_sku.entry(sku).or_default().push(Money::new(amount, currency));
    }
    rows.into_iter()
        .map(|r| {
            let mut prices = by_sku.remove(&r.sku).unwrap_or_default();
            prices.sort_by_key(|m| m.currency());
            Ok(Product {
                sku: Sku::parse(&r.sku).map_err(|_| corrupt("sku"))?,
                name_en: r.name_en,
                name_ar: r.name_ar,
                prices,
                tax_class: parse("tax_class", TaxClass::parse(&r.tax_class))?,
                active: r.active,
            })
        })
        .collect()
}

/// The response headers as stored: a JSON array of `[name, value]` pairs.
pub(crate) fn headers_to_json(headers: &[(String, String)]) -> String {
    serde_json::to_string(headers).unwrap_or_else(|_| "[]".to_owned())
}

pub(crate) fn headers_from_json(raw: &str) -> Result<Vec<(String, String)>, StoreError> {
    serde_json::from_str(raw).map_err(|_| corrupt("stored response headers"))
}

/// The products of a listing in the listing's SKU order, each with the stock level read beside its SKU.
pub(crate) fn pair_with_stock(
    products: Vec<Product>,
    skus: &[String],
    levels: Vec<Option<crate::domain::stock::StockLevel>>,
) -> Vec<crate::store::ProductStock> {
    let mut by_sku: HashMap<String, Product> = products.into_iter().map(|p| (p.sku.as_str().to_owned(), p)).collect();
    skus.iter()
        .zip(levels)
        .filter_map(|(sku, level)| by_sku.remove(sku).map(|p| (p, level)))
        .collect()
}
