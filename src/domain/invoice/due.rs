//! Which documents an order's event calls for, and their lines (docs/invoices.md, "When a document is issued").
//!
//! The documents so far charge each part of the order (a line, by SKU, and shipping) an amount and VAT, net of
//! their credit notes. The order retains of each part its total less what was refunded against it.
//!
//! - Until the order has an invoice nothing is issued; the capture, collection or edit that leaves it paid in full
//!   issues the invoice of the order as it stands.
//! - Once it has one, whatever the documents charge a part above what the part retains is credited: a refund,
//!   or a line an edit took off or made cheaper. A credit's VAT is the running share of the VAT the part's
//!   invoices charged, so successive credits never drift and crediting a part in full gives back exactly its VAT.
//! - Once it is paid in full again, whatever a part retains above what the documents charge is invoiced: a line
//!   an edit added or raised, at the VAT the order now carries on it. A further invoice references the first.
//! - A fils of VAT an edit moved between parts already invoiced is booked once the order is paid in full.
//!
//! So whenever the order is paid in full its documents charge exactly what it retains, part by part, and exactly
//! its VAT. Money no document charged (a balance captured short of paying in full, the surplus an edit left once
//! the line it came from was credited) is refunded without a credit note.

use time::OffsetDateTime;

use super::{
    DocumentError, DocumentKind, DocumentLine, DocumentTotals, SHIPPING_SKU, Seller, TaxDocument, document,
    document_line, invoice_lines, shipping_line,
};
use crate::domain::events::{Change, SkuQuantity};
use crate::domain::money::Money;
use crate::domain::order::Order;
use crate::domain::tax::div_round_half_away;

/// The VAT inside `part` of an amount `total` that carries `vat`.
pub fn vat_share(vat: i64, total: i64, part: i64) -> i64 {
    if total <= 0 {
        return 0;
    }
    let share = div_round_half_away(i128::from(vat) * i128::from(part), i128::from(total));
    i64::try_from(share).unwrap_or(i64::MAX)
}

/// A document to issue, before it has a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Draft {
    pub kind: DocumentKind,
    lines: Vec<DocumentLine>,
}

impl Draft {
    fn new(kind: DocumentKind, lines: Vec<DocumentLine>) -> Option<Draft> {
        (!lines.is_empty()).then_some(Draft { kind, lines })
    }

    /// The document, numbered `number`. `before` are the order's documents issued before it (including earlier
    /// ones of the same event): a credit note references the latest invoice, a further invoice the first. A
    /// credit note that would bring what the documents charge below zero is refused.
    pub fn issue(
        self,
        order: &Order,
        before: &[TaxDocument],
        seller: &Seller,
        number: String,
        issued_at: OffsetDateTime,
    ) -> Result<TaxDocument, DocumentError> {
        let invoices = || before.iter().filter(|d| d.kind == DocumentKind::Invoice);
        let (total, vat) = sums(&self.lines);
        let references = match self.kind {
            DocumentKind::CreditNote => {
                let Some(latest) = invoices().next_back() else {
                    return Err(DocumentError::ExceedsInvoice(String::new()));
                };
                let (charged, charged_vat) = net(before);
                if total > charged || vat > charged_vat {
                    return Err(DocumentError::ExceedsInvoice(latest.number.clone()));
                }
                Some(latest.number.clone())
            }
            DocumentKind::Invoice => invoices().next().map(|d| d.number.clone()),
        };
        let money = |m: i64| Money::new(m, order.currency);
        let totals = DocumentTotals {
            subtotal: money(total - vat),
            vat: money(vat),
            grand_total: money(total),
        };
        document(
            order, seller, self.kind, number, issued_at, self.lines, totals, references,
        )
    }
}

fn sums(lines: &[DocumentLine]) -> (i64, i64) {
    lines.iter().fold((0, 0), |(total, vat), l| {
        (total + l.total.amount_minor(), vat + l.vat.amount_minor())
    })
}

/// What `docs` charge net of their credit notes: grand total and VAT.
pub fn net(docs: &[TaxDocument]) -> (i64, i64) {
    docs.iter().fold((0, 0), |(total, vat), d| {
        let sign = d.kind.sign();
        (
            total + sign * d.totals.grand_total.amount_minor(),
            vat + sign * d.totals.vat.amount_minor(),
        )
    })
}

/// What the documents charge one part, net of credit notes, and what its credit notes took off.
#[derive(Clone, Copy, Debug, Default)]
struct Charged {
    units: i64,
    total: i64,
    vat: i64,
    credited: i64,
    credited_vat: i64,
}

impl Charged {
    /// The VAT of crediting `amount` more: the running share of the VAT invoiced, so successive credits never
    /// drift and crediting everything gives back exactly the VAT invoiced.
    fn credit_vat(&self, amount: i64) -> i64 {
        let (invoiced, invoiced_vat) = (self.total + self.credited, self.vat + self.credited_vat);
        vat_share(invoiced_vat, invoiced, self.credited + amount) - self.credited_vat
    }
}

/// Per document-line SKU (`shipping` for shipping), in the order first seen: what is charged, and the first
/// line that charged it (for a line no longer on the order, its names and price).
fn charged<'a>(docs: &[(DocumentKind, &'a [DocumentLine])]) -> Vec<(&'a DocumentLine, Charged)> {
    let mut out: Vec<(&DocumentLine, Charged)> = Vec::new();
    for (kind, lines) in docs {
        let sign = kind.sign();
        for l in *lines {
            let i = match out.iter().position(|(first, _)| first.sku == l.sku) {
                Some(i) => i,
                None => {
                    out.push((l, Charged::default()));
                    out.len() - 1
                }
            };
            let c = &mut out[i].1;
            c.units += sign * i64::from(l.quantity);
            c.total += sign * l.total.amount_minor();
            c.vat += sign * l.vat.amount_minor();
            if *kind == DocumentKind::CreditNote {
                c.credited += l.total.amount_minor();
                c.credited_vat += l.vat.amount_minor();
            }
        }
    }
    out
}

/// One part as the order retains it, with its document line (units, total and VAT to be set).
struct Retained {
    template: DocumentLine,
    units: i64,
    total: i64,
    vat: i64,
}

impl Retained {
    fn line(&self, units: i64, total: i64, vat: i64) -> DocumentLine {
        let currency = self.template.total.currency();
        DocumentLine {
            // Shipping is one unit, whatever is charged of it.
            quantity: if self.template.sku == SHIPPING_SKU {
                1
            } else {
                u32::try_from(units).unwrap_or(0)
            },
            vat: Money::new(vat, currency),
            total: Money::new(total, currency),
            ..self.template.clone()
        }
    }
}

fn retained(order: &Order) -> Vec<Retained> {
    let gross = order.part_totals();
    let n = order.lines.len();
    let mut out = Vec::with_capacity(n + 1);
    for (i, &total) in gross.iter().enumerate() {
        let refunded = order.progress.refunded.get(i).copied().unwrap_or(0);
        let (template, units) = match order.lines.get(i) {
            Some(l) => (document_line(order, i), l.quantity.as_i64()),
            None => (
                shipping_line(order, Money::new(total, order.currency), order.shipping_tax),
                1,
            ),
        };
        let tax = template.vat.amount_minor();
        out.push(Retained {
            units,
            total: total - refunded,
            vat: tax - vat_share(tax, total, refunded),
            template,
        });
    }
    out
}

/// Whether `change` can call for a document at all (so the store reads the documents only then).
pub fn may_issue(change: &Change) -> bool {
    matches!(
        change,
        Change::PaymentCaptured { .. } | Change::CodCollected { .. } | Change::Refunded { .. } | Change::Edited(_)
    )
}

/// The documents `change` calls for on `order` (as it is after the event), given the order's documents so far,
/// in the order they are to be issued: at most two (an invoice then a credit note for what was refunded before
/// it; or a credit note then a further invoice, for an edit that took some lines off and added others).
pub fn due(order: &Order, earlier: &[TaxDocument], change: &Change) -> Vec<Draft> {
    if !may_issue(change) {
        return Vec::new();
    }
    let paid_in_full = order.is_paid_in_full() && order.progress.paid.iter().sum::<i64>() > 0;
    let first;
    let mut docs: Vec<(DocumentKind, &[DocumentLine])> = earlier.iter().map(|d| (d.kind, &d.lines[..])).collect();
    let mut out = Vec::new();
    if !docs.iter().any(|(kind, _)| *kind == DocumentKind::Invoice) {
        // The first invoice comes with the capture, the collection or the edit that leaves the order paid in
        // full (a refund never does).
        if !paid_in_full || matches!(change, Change::Refunded { .. }) {
            return out;
        }
        first = invoice_lines(order);
        docs.push((DocumentKind::Invoice, &first));
        out.extend(Draft::new(DocumentKind::Invoice, first.clone()));
    }
    let refund_units: Option<&[SkuQuantity]> = match change {
        Change::Refunded { units, .. } => Some(units),
        _ => None,
    };
    let charged = charged(&docs);
    let parts = retained(order);
    let charged_of = |sku: &str| {
        charged
            .iter()
            .find(|(l, _)| l.sku == sku)
            .map(|(_, c)| *c)
            .unwrap_or_default()
    };
    let (mut credit, mut further) = (Vec::new(), Vec::new());
    for p in &parts {
        let c = charged_of(&p.template.sku);
        if c.total > p.total {
            let units = match refund_units {
                Some(units) => units
                    .iter()
                    .filter(|u| u.sku.as_str() == p.template.sku)
                    .map(|u| i64::from(u.quantity.get()))
                    .sum(),
                None => (c.units - p.units).max(0),
            };
            let amount = c.total - p.total;
            credit.push(p.line(units, amount, c.credit_vat(amount)));
        } else if paid_in_full && p.total > c.total {
            further.push(p.line((p.units - c.units).max(0), p.total - c.total, p.vat - c.vat));
        }
    }
    // Lines the documents charge that the order no longer has: an edit took them off.
    for (line, c) in &charged {
        if c.total > 0 && !parts.iter().any(|p| p.template.sku == line.sku) {
            credit.push(DocumentLine {
                quantity: u32::try_from(c.units).unwrap_or(0),
                vat: Money::new(c.credit_vat(c.total), order.currency),
                total: Money::new(c.total, order.currency),
                ..(*line).clone()
            });
        }
    }
    // The order's VAT is one amount spread over its taxable parts, so an edit can move a fils of VAT between
    // parts whose amounts did not change, which keep the VAT their documents charged. Once the documents charge
    // every part's amount again (paid in full), whatever VAT they would differ by from the order's is booked on
    // the line with the most VAT of the documents issued now (a line of a part still on the order if there is
    // one), so the documents' VAT is the order's.
    if paid_in_full {
        let vat = |lines: &[DocumentLine]| lines.iter().map(|l| l.vat.amount_minor()).sum::<i64>();
        let charged_vat: i64 = charged.iter().map(|(_, c)| c.vat).sum();
        let order_vat: i64 = parts.iter().map(|p| p.vat).sum();
        let moved = charged_vat - vat(&credit) + vat(&further) - order_vat;
        let on_order = |l: &&mut DocumentLine| parts.iter().any(|p| p.template.sku == l.sku);
        let most_vat = |l: &&mut DocumentLine| (on_order(l), l.vat.amount_minor());
        let currency = order.currency;
        if moved == 0 {
            // In step: nothing to book.
        } else if let Some(line) = further.iter_mut().max_by_key(most_vat) {
            line.vat = Money::new(line.vat.amount_minor() - moved, currency);
        } else if let Some(line) = credit.iter_mut().max_by_key(most_vat) {
            line.vat = Money::new(line.vat.amount_minor() + moved, currency);
        } else if let Some(p) = parts.iter().max_by_key(|p| p.vat) {
            // Nothing else is issued now: a VAT-only line (amount 0) on the part with the most VAT corrects it.
            if moved > 0 {
                credit.push(p.line(0, 0, moved));
            } else {
                further.push(p.line(0, 0, -moved));
            }
        }
    }
    out.extend(Draft::new(DocumentKind::CreditNote, credit));
    out.extend(Draft::new(DocumentKind::Invoice, further));
    out
}
