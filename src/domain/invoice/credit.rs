//! A credit note for one refund. The refund's parts (per line, shipping last) are what goes back, with VAT; the VAT
//! of a part is its share of the invoiced VAT of that part, taken on the running total refunded so far:
//! `round(vat × refunded_after / total) − round(vat × refunded_before / total)`, rounded half away from zero. So
//! successive partial refunds never drift, and refunding a part in full credits exactly its invoiced VAT.

use time::OffsetDateTime;

use super::{
    DocumentError, DocumentKind, DocumentLine, DocumentTotals, Seller, TaxDocument, adjustment_line, document,
    line_rate, shipping_line,
};
use crate::domain::events::SkuQuantity;
use crate::domain::money::Money;
use crate::domain::order::Order;
use crate::domain::tax::div_round_half_away;

/// The VAT inside `refunded` of a part invoiced at `total` with `vat`.
pub(super) fn vat_share(vat: i64, total: i64, refunded: i64) -> i64 {
    if total <= 0 {
        return 0;
    }
    let share = div_round_half_away(i128::from(vat) * i128::from(refunded), i128::from(total));
    i64::try_from(share).unwrap_or(i64::MAX)
}

/// A refund as its event records it: the amount, its spread over the parts (per line, shipping last) and, for a
/// refund by quantity, the units. What the parts do not account for came out of the surplus an edit left.
pub struct Refund<'a> {
    pub amount_minor: i64,
    pub parts: &'a [i64],
    pub units: &'a [SkuQuantity],
}

/// The credit note of `refund`, on `order` as it is after the refund, referencing the order's latest invoice among
/// `earlier` (its documents so far). Refused when what is refunded in all would pass what the invoices charged,
/// for a part or in total.
pub fn credit_note(
    order: &Order,
    earlier: &[TaxDocument],
    refund: &Refund<'_>,
    seller: &Seller,
    number: String,
    issued_at: OffsetDateTime,
) -> Result<TaxDocument, DocumentError> {
    let Some(invoice) = earlier.iter().rev().find(|d| d.kind == DocumentKind::Invoice) else {
        return Err(DocumentError::ExceedsInvoice(String::new()));
    };
    let exceeds = || DocumentError::ExceedsInvoice(invoice.number.clone());
    let currency = order.currency;
    let money = |m: i64| Money::new(m, currency);
    let gross = order.part_totals();
    let n = order.lines.len();
    let mut lines = Vec::new();
    for (i, &amount) in refund.parts.iter().enumerate() {
        if amount <= 0 {
            continue;
        }
        let (Some(&total), Some(&after)) = (gross.get(i), order.progress.refunded.get(i)) else {
            return Err(exceeds());
        };
        if after > total {
            return Err(exceeds());
        }
        let invoiced_vat = if i < n { order.lines[i].tax } else { order.shipping_tax }.amount_minor();
        let vat = vat_share(invoiced_vat, total, after) - vat_share(invoiced_vat, total, after - amount);
        if i == n {
            lines.push(shipping_line(order, money(amount), money(vat)));
            continue;
        }
        let l = &order.lines[i];
        let quantity = refund
            .units
            .iter()
            .filter(|u| u.sku == l.sku)
            .map(|u| u.quantity.get())
            .sum();
        lines.push(DocumentLine {
            sku: l.sku.as_str().to_owned(),
            name_en: l.name_en.clone(),
            name_ar: l.name_ar.clone(),
            quantity,
            unit_price: l.unit_price,
            vat_rate_bp: line_rate(order, i),
            vat: money(vat),
            total: money(amount),
        });
    }
    // The surplus an edit left: its VAT in the proportion the invoice charged VAT.
    let from_surplus = refund.amount_minor - refund.parts.iter().sum::<i64>();
    if from_surplus > 0 {
        let vat = vat_share(
            invoice.totals.vat.amount_minor(),
            invoice.totals.grand_total.amount_minor(),
            from_surplus,
        );
        lines.push(adjustment_line(order, money(from_surplus), money(vat)));
    }
    let grand: i64 = lines.iter().map(|l| l.total.amount_minor()).sum();
    let vat: i64 = lines.iter().map(|l| l.vat.amount_minor()).sum();
    let (invoiced, invoiced_vat) = net(earlier);
    if grand > invoiced || vat > invoiced_vat {
        return Err(exceeds());
    }
    let totals = DocumentTotals {
        subtotal: money(grand - vat),
        vat: money(vat),
        grand_total: money(grand),
    };
    let references = Some(invoice.number.clone());
    document(
        order,
        seller,
        DocumentKind::CreditNote,
        number,
        issued_at,
        lines,
        totals,
        references,
    )
}

/// What `docs` charged net of their credit notes: grand total and VAT.
pub(super) fn net(docs: &[TaxDocument]) -> (i64, i64) {
    docs.iter().fold((0, 0), |(total, vat), d| {
        let sign = if d.kind == DocumentKind::Invoice { 1 } else { -1 };
        (
            total + sign * d.totals.grand_total.amount_minor(),
            vat + sign * d.totals.vat.amount_minor(),
        )
    })
}
