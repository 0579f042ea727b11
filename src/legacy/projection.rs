//! The fields of an order the import decides, by name: what a sync records as changed and what the
//! reconciliation compares.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::domain::legacy::FieldChange;
use crate::domain::order::Order;
use crate::domain::status::StatusMachine;

/// The fields of an order that the import sets and the reconciliation compares, by name.
pub fn projection(o: &Order) -> BTreeMap<&'static str, Value> {
    let p = &o.progress;
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            serde_json::json!([
                l.sku.as_str(),
                l.quantity.get(),
                l.unit_price.amount_minor(),
                l.tax.amount_minor(),
                l.total.amount_minor()
            ])
        })
        .collect();
    let mut m = BTreeMap::new();
    m.insert("number", Value::from(o.number.clone()));
    m.insert(
        "customer_id",
        serde_json::json!(o.customer_id.as_ref().map(|c| c.as_str())),
    );
    m.insert("currency", Value::from(o.currency.code()));
    m.insert("status.order", Value::from(o.status.order.as_str()));
    m.insert("status.payment", Value::from(o.status.payment.as_str()));
    m.insert("status.fulfilment", Value::from(o.status.fulfilment.as_str()));
    m.insert("totals.subtotal", Value::from(o.totals.subtotal.amount_minor()));
    m.insert("totals.tax", Value::from(o.totals.tax.amount_minor()));
    m.insert("totals.shipping", Value::from(o.totals.shipping.amount_minor()));
    m.insert("totals.grand_total", Value::from(o.totals.grand_total.amount_minor()));
    m.insert("payment.authorized", Value::from(p.authorized_minor));
    m.insert("payment.captured", Value::from(p.captured()));
    m.insert("payment.refunded", Value::from(p.refunded_total()));
    m.insert("lines", Value::from(lines));
    m.insert("ship_to", serde_json::to_value(&o.ship_to).unwrap_or(Value::Null));
    m.insert("legacy", serde_json::to_value(&o.legacy).unwrap_or(Value::Null));
    m.insert(
        "created_at",
        Value::from(o.created_at.unix_timestamp_nanos().to_string()),
    );
    m
}

/// The fields where `to` differs from `from`.
pub fn diff(from: &Order, to: &Order) -> Vec<FieldChange> {
    let (a, b) = (projection(from), projection(to));
    a.into_iter()
        .zip(b)
        .filter(|((_, x), (_, y))| x != y)
        .map(|((field, x), (_, y))| FieldChange {
            field: field.to_owned(),
            from: x,
            to: y,
        })
        .collect()
}
