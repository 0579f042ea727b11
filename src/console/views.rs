//! What the pages show of an order, flattened for the templates: amounts as text with the currency's decimals
//! (`1.235 KWD`), times in UTC to the minute, statuses with the word of the page's language and a badge class, and
//! the event history as "who, when, what".

use serde::Serialize;
use time::OffsetDateTime;

use super::i18n::{Lang, status_key};
use crate::domain::Money;
use crate::domain::currency::Currency;
use crate::domain::events::OrderEvent;
use crate::domain::order::Order;

/// `1.235 KWD`: exact, with the currency's digits.
pub fn money(amount_minor: i64, currency: Currency) -> String {
    Money::new(amount_minor, currency).to_string()
}

/// `2026-11-28 10:04 UTC`.
pub fn when(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

#[derive(Serialize)]
pub struct Badge {
    /// The status as the API names it; also the badge's CSS class.
    pub code: &'static str,
    pub word: String,
}

pub fn badge(lang: Lang, code: &'static str) -> Badge {
    Badge {
        code,
        word: lang.word(status_key(code)),
    }
}

/// A row of the orders table.
#[derive(Serialize)]
pub struct OrderRow {
    pub id: String,
    pub number: String,
    pub date: String,
    pub customer: String,
    pub ship_to: String,
    pub total: String,
    pub badges: [Badge; 3],
}

pub fn badges(lang: Lang, o: &Order) -> [Badge; 3] {
    use crate::domain::status::StatusMachine;
    [
        badge(lang, o.status.order.as_str()),
        badge(lang, o.status.payment.as_str()),
        badge(lang, o.status.fulfilment.as_str()),
    ]
}

pub fn order_row(lang: Lang, o: &Order) -> OrderRow {
    OrderRow {
        id: o.id.to_string(),
        number: o.number.clone(),
        date: when(o.created_at),
        customer: o
            .customer_id
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        ship_to: o.ship_to.name.clone(),
        total: o.totals.grand_total.to_string(),
        badges: badges(lang, o),
    }
}

#[derive(Serialize)]
pub struct LineView {
    pub index: usize,
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    pub shipped: u32,
    pub returned: u32,
    pub refunded: u32,
    pub unit_price: String,
    pub total: String,
}

#[derive(Serialize)]
pub struct EventView {
    pub sequence: i64,
    pub when: String,
    pub who: String,
    pub kind: &'static str,
    pub what: String,
}

#[derive(Serialize)]
pub struct OrderView {
    pub id: String,
    pub number: String,
    pub version: i64,
    pub date: String,
    pub customer: String,
    pub ship_to: crate::domain::order::ShipTo,
    pub badges: [Badge; 3],
    pub method: String,
    pub lines: Vec<LineView>,
    pub subtotal: String,
    pub tax: String,
    pub shipping: String,
    pub grand_total: String,
    pub authorized: String,
    pub paid: String,
    pub refunded: String,
    /// What is owed either way after an edit (empty when nothing is): balance due, refund due, cash to collect.
    pub balance_due: Option<String>,
    pub refund_due: Option<String>,
    pub to_collect: Option<String>,
    pub shipments: Vec<serde_json::Value>,
    pub returns: Vec<serde_json::Value>,
    pub refunds: Vec<serde_json::Value>,
    pub events: Vec<EventView>,
}

/// `SKU x 2, SKU2 x 1`.
fn units(lines: &[crate::domain::events::SkuQuantity]) -> String {
    lines
        .iter()
        .map(|l| format!("{} × {}", l.sku, l.quantity.get()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn order_view(lang: Lang, o: &Order, events: &[OrderEvent]) -> OrderView {
    let c = o.currency;
    let p = &o.progress;
    let dues = o.dues();
    let lines = o
        .lines
        .iter()
        .enumerate()
        .map(|(index, l)| {
            let progress = p.lines.get(index).cloned().unwrap_or_default();
            LineView {
                index,
                sku: l.sku.as_str().to_owned(),
                name: if lang == Lang::Ar {
                    l.name_ar.clone()
                } else {
                    l.name_en.clone()
                },
                quantity: l.quantity.get(),
                shipped: progress.shipped,
                returned: progress.returned,
                refunded: progress.refunded_units,
                unit_price: l.unit_price.to_string(),
                total: l.total.to_string(),
            }
        })
        .collect();
    let shipments = p
        .shipments
        .iter()
        .map(|s| {
            serde_json::json!({
                "id": s.id.to_string(), "units": units(&s.lines), "carrier": s.carrier,
                "tracking_number": s.tracking_number, "shipped_at": when(s.shipped_at),
                "delivered_at": s.delivered_at.map(when),
            })
        })
        .collect();
    let returns = p
        .returns
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id.to_string(), "units": units(&r.lines), "reason": r.reason,
                "received_at": r.received_at.map(when), "restocked": r.restocked,
            })
        })
        .collect();
    let refunds = p
        .refunds
        .iter()
        .map(|r| {
            serde_json::json!({
                "amount": money(r.amount_minor, c), "reason": r.reason, "at": when(r.refunded_at),
            })
        })
        .collect();
    OrderView {
        id: o.id.to_string(),
        number: o.number.clone(),
        version: o.version,
        date: when(o.created_at),
        customer: o
            .customer_id
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        ship_to: o.ship_to.clone(),
        badges: badges(lang, o),
        method: lang.word(o.payment_method.as_str()),
        lines,
        subtotal: o.totals.subtotal.to_string(),
        tax: o.totals.tax.to_string(),
        shipping: o.totals.shipping.to_string(),
        grand_total: o.totals.grand_total.to_string(),
        authorized: money(p.authorized_minor, c),
        paid: money(p.captured(), c),
        refunded: money(p.refunded_total(), c),
        balance_due: (dues.balance_due > 0).then(|| money(dues.balance_due, c)),
        refund_due: (dues.refund_due > 0).then(|| money(dues.refund_due, c)),
        to_collect: dues.to_collect.filter(|m| *m > 0).map(|m| money(m, c)),
        shipments,
        returns,
        refunds,
        events: events.iter().map(|e| event_view(e, c)).collect(),
    }
}

/// What an event changed, in a line: its scalar fields, amounts in money, unit lists as `SKU × n`.
fn event_view(e: &OrderEvent, currency: Currency) -> EventView {
    let data = e.change.data();
    let mut what = Vec::new();
    if let serde_json::Value::Object(map) = &data {
        for (key, value) in map {
            match value {
                serde_json::Value::Number(n) if key.ends_with("_minor") => {
                    what.push(format!(
                        "{}: {}",
                        key.trim_end_matches("_minor"),
                        money(n.as_i64().unwrap_or(0), currency)
                    ));
                }
                serde_json::Value::String(s) if !key.ends_with("_id") => what.push(format!("{key}: {s}")),
                serde_json::Value::Bool(b) => what.push(format!("{key}: {b}")),
                serde_json::Value::Array(items) if key == "lines" || key == "units" => {
                    let listed: Vec<String> = items
                        .iter()
                        .filter_map(|l| Some(format!("{} × {}", l.get("sku")?.as_str()?, l.get("quantity")?)))
                        .collect();
                    if !listed.is_empty() {
                        what.push(format!("{key}: {}", listed.join(", ")));
                    }
                }
                _ => {}
            }
        }
    }
    EventView {
        sequence: e.sequence,
        when: when(e.occurred_at),
        who: e.actor.clone(),
        kind: e.kind(),
        what: what.join("; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_have_the_currency_s_decimals() {
        assert_eq!(money(1235, Currency::Kwd), "1.235 KWD");
        assert_eq!(money(4500, Currency::Aed), "45.00 AED");
    }

    #[test]
    fn times_are_utc_to_the_minute() {
        let t = time::macros::datetime!(2026-11-28 13:04:59 +03:00);
        assert_eq!(when(t), "2026-11-28 10:04 UTC");
    }
}
