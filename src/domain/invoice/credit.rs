//! A credit note for one refund. The refund's parts (per line, shipping last) are what goes back, with VAT; the VAT
//! of a part is its share of the invoiced VAT of that part, taken on the running total refunded so far:
//! `round(vat × refunded_after / total) − round(vat × refunded_before / total)`, rounded half away from zero. So
//! successive partial refunds never drift, and refunding a part in full credits exactly its invoiced VAT.

use time::OffsetDateTime;

use super::{
    DocumentError, DocumentKind, DocumentLine, DocumentTotals, Seller, TaxDocument, document, line_rate, shipping_line,
};
use crate::domain::events::SkuQuantity;
use crate::domain::money::Money;
use crate::domain::order::Order;
use crate::domain::tax::div_round_half_away;

/// The VAT inside `refunded` of a part invoiced at `total` with `vat`.
fn vat_share(vat: i64, total: i64, refunded: i64) -> i64 {
    if total <= 0 {
        return 0;
    }
    let share = div_round_half_away(i128::from(vat) * i128::from(refunded), i128::from(total));
    i64::try_from(share).unwrap_or(i64::MAX)
}

/// The credit note of a refund of `parts` (its `units` when by quantity), on `order` as it is after the refund,
/// referencing `invoice`. Refused when what is refunded in all would pass what the invoice charged for a part.
#[allow(clippy::too_many_arguments)]
pub fn credit_note(
    order: &Order,
    invoice: &TaxDocument,
    parts: &[i64],
    units: &[SkuQuantity],
    seller: &Seller,
    number: String,
    issued_at: OffsetDateTime,
) -> Result<TaxDocument, DocumentError> {
    let currency = order.currency;
    let money = |m: i64| Money::new(m, currency);
    let gross = order.part_totals();
    let n = order.lines.len();
    let mut lines = Vec::new();
    for (i, &amount) in parts.iter().enumerate() {
        if amount <= 0 {
            continue;
        }
        let (Some(&total), Some(&after)) = (gross.get(i), order.progress.refunded.get(i)) else {
            return Err(DocumentError::ExceedsInvoice(invoice.number.clone()));
        };
        if after > total {
            return Err(DocumentError::ExceedsInvoice(invoice.number.clone()));
        }
        let invoiced_vat = if i < n { order.lines[i].tax } else { order.shipping_tax }.amount_minor();
        let vat = vat_share(invoiced_vat, total, after) - vat_share(invoiced_vat, total, after - amount);
        if i == n {
            lines.push(shipping_line(order, money(amount), money(vat)));
            continue;
        }
        let l = &order.lines[i];
        let quantity = units.iter().filter(|u| u.sku == l.sku).map(|u| u.quantity.get()).sum();
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
    let grand: i64 = lines.iter().map(|l| l.total.amount_minor()).sum();
    let vat: i64 = lines.iter().map(|l| l.vat.amount_minor()).sum();
    if grand > invoice.totals.grand_total.amount_minor() || vat > invoice.totals.vat.amount_minor() {
        return Err(DocumentError::ExceedsInvoice(invoice.number.clone()));
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
