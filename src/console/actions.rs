//! Which commands an order takes now, as forms. The domain decides: each command is tried, with representative
//! arguments (the grand total, every unit left, the shipment or return it names), on a copy of the order, and
//! offered only if the status machines and the order's rules accept it. The copy is thrown away; nothing is saved.
//! Each offer carries an Idempotency-Key fixed now, so submitting the same rendered form twice applies once.

use serde::Serialize;
use time::OffsetDateTime;

use super::csrf::random_token;
use super::i18n::Lang;
use crate::domain::Money;
use crate::domain::events::SkuQuantity;
use crate::domain::order::{Command, Edit, EditOperation, Order};
use crate::domain::pricing::PricingPolicy;
use crate::domain::values::Quantity;

/// A line of a form that names units (ship, return, refund): at most `max` units of `sku`.
#[derive(Serialize)]
pub struct OfferLine {
    pub index: usize,
    pub sku: String,
    pub name: String,
    pub max: u32,
    /// Units on the order now (what the edit form starts from).
    pub current: u32,
}

/// One action form.
#[derive(Serialize)]
pub struct Offer {
    /// The command's name, as the API's command table has it; also the form's path segment.
    pub name: &'static str,
    /// The Idempotency-Key of this rendering of the form.
    pub key: String,
    /// The shipment or return the action is about (deliver, receive).
    pub target: Option<String>,
    /// A short description of the target (`DHL 123: SKU × 2`).
    pub about: Option<String>,
    pub lines: Vec<OfferLine>,
    /// The amount to suggest, as decimal text without the currency (`1.235`).
    pub amount: Option<String>,
    pub currency: &'static str,
}

impl Offer {
    fn new(order: &Order, name: &'static str) -> Self {
        Offer {
            name,
            key: random_token(),
            target: None,
            about: None,
            lines: Vec::new(),
            amount: None,
            currency: order.currency.code(),
        }
    }
}

/// Whether the order, as it stands, would accept `command`.
fn accepts(order: &Order, command: Command) -> bool {
    order
        .clone()
        .execute(command, "console", OffsetDateTime::now_utc())
        .is_ok()
}

/// The lines with `left(line index) > 0` units, as the order's lines and as SKU quantities.
fn lines_left(order: &Order, lang: Lang, left: impl Fn(usize) -> u32) -> (Vec<OfferLine>, Vec<SkuQuantity>) {
    let mut offer = Vec::new();
    let mut all = Vec::new();
    for (index, line) in order.lines.iter().enumerate() {
        let max = left(index);
        let Ok(quantity) = Quantity::parse(i64::from(max), u32::MAX) else {
            continue;
        };
        offer.push(OfferLine {
            index,
            sku: line.sku.as_str().to_owned(),
            name: if lang == Lang::Ar {
                line.name_ar.clone()
            } else {
                line.name_en.clone()
            },
            max,
            current: line.quantity.get(),
        });
        all.push(SkuQuantity {
            sku: line.sku.clone(),
            quantity,
        });
    }
    (offer, all)
}

fn decimal(order: &Order, minor: i64) -> String {
    Money::new(minor, order.currency).decimal()
}

/// Every action the order takes now, in the order staff usually need them.
pub fn offers(order: &Order, lang: Lang) -> Vec<Offer> {
    let p = &order.progress;
    let total = order.totals.grand_total.amount_minor();
    let mut out = Vec::new();
    let line = |i: usize| p.lines.get(i).cloned().unwrap_or_default();

    let authorize = Command::Authorize {
        amount_minor: total,
        provider_ref: "console".into(),
    };
    if accepts(order, authorize) {
        out.push(Offer {
            amount: Some(decimal(order, total)),
            ..Offer::new(order, "authorize")
        });
    }
    let left = p.authorized_minor - p.captured();
    if accepts(order, Command::Capture { amount_minor: left }) {
        out.push(Offer {
            amount: Some(decimal(order, left)),
            ..Offer::new(order, "capture")
        });
    }
    let (ship_lines, unshipped) = lines_left(order, lang, |i| {
        order.lines[i].quantity.get().saturating_sub(line(i).shipped)
    });
    let ship = Command::Ship {
        lines: unshipped,
        carrier: "console".into(),
        tracking_number: "console".into(),
    };
    if !ship_lines.is_empty() && accepts(order, ship) {
        out.push(Offer {
            lines: ship_lines,
            ..Offer::new(order, "ship")
        });
    }
    for s in p.shipments.iter().filter(|s| s.delivered_at.is_none()) {
        if accepts(order, Command::Deliver { shipment_id: s.id }) {
            out.push(Offer {
                target: Some(s.id.to_string()),
                about: Some(format!("{} {}", s.carrier, s.tracking_number)),
                ..Offer::new(order, "deliver")
            });
        }
    }
    let collect = Command::CollectCod {
        amount_minor: total,
        courier_ref: "console".into(),
    };
    if accepts(order, collect) {
        out.push(Offer {
            amount: Some(decimal(order, total)),
            ..Offer::new(order, "collect_cod")
        });
    }
    if accepts(order, Command::RefuseCod { reason: None }) {
        out.push(Offer::new(order, "refuse_cod"));
    }
    let (return_lines, returnable) = lines_left(order, lang, |i| line(i).shipped.saturating_sub(line(i).returned));
    let request_return = Command::RequestReturn {
        lines: returnable,
        reason: None,
    };
    if !return_lines.is_empty() && accepts(order, request_return) {
        out.push(Offer {
            lines: return_lines,
            ..Offer::new(order, "request_return")
        });
    }
    for r in p.returns.iter().filter(|r| r.received_at.is_none()) {
        let receive = Command::ReceiveReturn {
            return_id: r.id,
            restock: true,
        };
        if accepts(order, receive) {
            let units: Vec<String> = r
                .lines
                .iter()
                .map(|l| format!("{} × {}", l.sku, l.quantity.get()))
                .collect();
            out.push(Offer {
                target: Some(r.id.to_string()),
                about: Some(units.join(", ")),
                ..Offer::new(order, "receive_return")
            });
        }
    }
    let refund = Command::Refund {
        amount_minor: None,
        lines: Vec::new(),
        reason: None,
    };
    if accepts(order, refund) {
        let (refund_lines, _) = lines_left(order, lang, |i| {
            order.lines[i].quantity.get().saturating_sub(line(i).refunded_units)
        });
        let refundable: i64 = p.refundable_parts().iter().sum();
        out.push(Offer {
            lines: refund_lines,
            about: Some(Money::new(refundable, order.currency).to_string()),
            ..Offer::new(order, "refund")
        });
    }
    if accepts(order, Command::Void) {
        out.push(Offer::new(order, "void"));
    }
    if accepts(order, Command::Fail { reason: None }) {
        out.push(Offer::new(order, "fail"));
    }
    // An edit that changes nothing tells whether the order takes edits at all (nothing shipped, payment open).
    if let Some(first) = order.lines.first() {
        let unchanged = Command::Edit(Box::new(Edit {
            operations: vec![EditOperation::SetQuantity {
                sku: first.sku.clone(),
                quantity: first.quantity,
            }],
            catalog: Vec::new(),
            policy: PricingPolicy::default(),
            max_lines: usize::MAX,
        }));
        if accepts(order, unchanged) {
            let (lines, _) = lines_left(order, lang, |_| EDIT_MAX_UNITS);
            out.push(Offer {
                lines,
                ..Offer::new(order, "edit")
            });
        }
    }
    if accepts(order, Command::Cancel { reason: None }) {
        out.push(Offer::new(order, "cancel"));
    }
    out
}

/// The most units the edit form suggests per line; the API's own limit (`max_quantity`) still applies.
const EDIT_MAX_UNITS: u32 = 1000;
