//! The further invoice an edit that raised the total calls for once the balance is captured: for the difference
//! between the order as it now stands and what its documents so far charged (invoices less credit notes).
//!
//! Each line (and shipping) that now costs more than was charged for it is invoiced for the difference, with the
//! units added and the VAT difference; whatever else makes up the difference (lines removed or made cheaper
//! after the first invoice, surplus refunded) goes on one adjustment line, so the document's totals are exactly
//! the order's grand total and VAT less what was charged before.

use std::collections::HashMap;

use time::OffsetDateTime;

use super::credit::net;
use super::{
    DocumentError, DocumentKind, DocumentLine, DocumentTotals, Seller, TaxDocument, adjustment_line, document,
    line_rate, shipping_line,
};
use crate::domain::money::Money;
use crate::domain::order::Order;

/// What `docs` charged net of credit notes: the grand total.
pub fn invoiced_net(docs: &[TaxDocument]) -> i64 {
    net(docs).0
}

/// Per document-line SKU (`shipping` for shipping): units, total and VAT charged, net of credit notes.
fn charged_per_line(docs: &[TaxDocument]) -> HashMap<&str, (i64, i64, i64)> {
    let mut out: HashMap<&str, (i64, i64, i64)> = HashMap::new();
    for d in docs {
        let sign = if d.kind == DocumentKind::Invoice { 1 } else { -1 };
        for l in &d.lines {
            let e = out.entry(l.sku.as_str()).or_default();
            e.0 += sign * i64::from(l.quantity);
            e.1 += sign * l.total.amount_minor();
            e.2 += sign * l.vat.amount_minor();
        }
    }
    out
}

/// The further invoice of `order` after `earlier` documents, referencing the first invoice.
pub fn further_invoice(
    order: &Order,
    earlier: &[TaxDocument],
    seller: &Seller,
    number: String,
    issued_at: OffsetDateTime,
) -> Result<TaxDocument, DocumentError> {
    let currency = order.currency;
    let money = |m: i64| Money::new(m, currency);
    let charged = charged_per_line(earlier);
    let before = |sku: &str| charged.get(sku).copied().unwrap_or_default();
    let mut lines = Vec::new();
    for (i, l) in order.lines.iter().enumerate() {
        let (units, total, vat) = before(l.sku.as_str());
        let more = l.total.amount_minor() - total;
        if more <= 0 {
            continue;
        }
        lines.push(DocumentLine {
            sku: l.sku.as_str().to_owned(),
            name_en: l.name_en.clone(),
            name_ar: l.name_ar.clone(),
            quantity: u32::try_from(l.quantity.as_i64() - units).unwrap_or(0),
            unit_price: l.unit_price,
            vat_rate_bp: line_rate(order, i),
            vat: money(l.tax.amount_minor() - vat),
            total: money(more),
        });
    }
    let (_, shipped_total, shipped_vat) = before("shipping");
    let shipping = order.totals.shipping.amount_minor() + order.shipping_tax.amount_minor();
    if shipping > shipped_total {
        let vat = money(order.shipping_tax.amount_minor() - shipped_vat);
        lines.push(shipping_line(order, money(shipping - shipped_total), vat));
    }
    let (charged_total, charged_vat) = net(earlier);
    let grand = order.totals.grand_total.amount_minor() - charged_total;
    let vat = order.totals.tax.amount_minor() - charged_vat;
    let rest = grand - lines.iter().map(|l| l.total.amount_minor()).sum::<i64>();
    let rest_vat = vat - lines.iter().map(|l| l.vat.amount_minor()).sum::<i64>();
    if rest != 0 || rest_vat != 0 {
        lines.push(adjustment_line(order, money(rest), money(rest_vat)));
    }
    let totals = DocumentTotals {
        subtotal: money(grand - vat),
        vat: money(vat),
        grand_total: money(grand),
    };
    let first = earlier.iter().find(|d| d.kind == DocumentKind::Invoice);
    let references = first.map(|d| d.number.clone());
    document(
        order,
        seller,
        DocumentKind::Invoice,
        number,
        issued_at,
        lines,
        totals,
        references,
    )
}
