//! Tax invoices and credit notes (docs/invoices.md): the documents an order's money leaves behind. An invoice is
//! issued when the order becomes paid in full; after it, a credit note for what a refund or an edit takes off and
//! a further invoice for what an edit adds (`due`). They are built here from the order and its documents so far,
//! numbered by the store (gap-free per kind, store and UTC year) and never change once stored.

mod due;
#[cfg(test)]
mod tests;
pub mod zatca;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

pub use due::{Draft, due, may_issue, net, vat_share};

use super::currency::Currency;
use super::money::Money;
use super::order::Order;
use super::values::StoreCode;

/// Who issues the documents: the business's legal name and VAT registration number (configuration).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seller {
    pub name: String,
    pub vat_number: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Invoice,
    CreditNote,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "invoice",
            DocumentKind::CreditNote => "credit_note",
        }
    }

    /// The number's prefix: `INV` or `CN`.
    pub fn prefix(self) -> &'static str {
        match self {
            DocumentKind::Invoice => "INV",
            DocumentKind::CreditNote => "CN",
        }
    }

    /// How a document counts towards what an order's documents charge: invoices add, credit notes take off.
    pub fn sign(self) -> i64 {
        match self {
            DocumentKind::Invoice => 1,
            DocumentKind::CreditNote => -1,
        }
    }

    /// `INV-KW-2026-000001`: kind, store, UTC year, then the year's sequence (gap-free, from 1).
    pub fn number(self, store: &StoreCode, year: i32, seq: i64) -> String {
        format!("{}-{}-{year:04}-{seq:06}", self.prefix(), store.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buyer {
    pub name: String,
    pub country: String,
}

/// One line of a document. Shipping, when charged, is a line of its own with SKU `shipping`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentLine {
    pub sku: String,
    pub name_en: String,
    pub name_ar: String,
    /// Units invoiced; on a credit note the units refunded (0 for a refund by amount) or taken off by an edit.
    pub quantity: u32,
    pub unit_price: Money,
    pub vat_rate_bp: u32,
    pub vat: Money,
    /// With VAT.
    pub total: Money,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentTotals {
    /// Net of VAT (lines and shipping).
    pub subtotal: Money,
    pub vat: Money,
    pub grand_total: Money,
}

/// An invoice or a credit note, exactly as stored and answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxDocument {
    pub number: String,
    pub kind: DocumentKind,
    pub order_id: Uuid,
    pub order_number: String,
    #[serde(with = "time::serde::rfc3339")]
    pub issued_at: OffsetDateTime,
    pub seller: Seller,
    pub buyer: Buyer,
    pub currency: Currency,
    pub lines: Vec<DocumentLine>,
    pub totals: DocumentTotals,
    /// A credit note's invoice number.
    pub references: Option<String>,
    /// Orders shipped to Saudi Arabia: the ZATCA phase-1 QR payload (base64 TLV).
    pub zatca_qr: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Qr(#[from] zatca::TooLong),
    #[error("credit notes would exceed invoice {0}")]
    ExceedsInvoice(String),
}

/// The SKU of the shipping line; no product may have it (`Sku::parse` refuses it).
pub const SHIPPING_SKU: &str = "shipping";

/// The shipping part as a line, when anything was charged for it.
pub(crate) fn shipping_line(order: &Order, total: Money, vat: Money) -> DocumentLine {
    DocumentLine {
        sku: SHIPPING_SKU.into(),
        name_en: "Shipping".into(),
        name_ar: "الشحن".into(),
        quantity: 1,
        unit_price: order.totals.shipping,
        vat_rate_bp: order.vat_rate.get(),
        vat,
        total,
    }
}

/// The VAT rate a line is taxed at: the order's for standard-rated lines, 0 for zero-rated and exempt ones.
fn line_rate(order: &Order, i: usize) -> u32 {
    if order.lines[i].tax_class.is_taxable() {
        order.vat_rate.get()
    } else {
        0
    }
}

/// Line `i` of the order as a document line: its units, price snapshot, VAT rate, VAT and total.
fn document_line(order: &Order, i: usize) -> DocumentLine {
    let l = &order.lines[i];
    DocumentLine {
        sku: l.sku.as_str().to_owned(),
        name_en: l.name_en.clone(),
        name_ar: l.name_ar.clone(),
        quantity: l.quantity.get(),
        unit_price: l.unit_price,
        vat_rate_bp: line_rate(order, i),
        vat: l.tax,
        total: l.total,
    }
}

/// The invoice of an order paid in full: every line at its price snapshot, and shipping when charged.
fn invoice_lines(order: &Order) -> Vec<DocumentLine> {
    let mut lines: Vec<DocumentLine> = (0..order.lines.len()).map(|i| document_line(order, i)).collect();
    let shipping_total = order.totals.shipping.amount_minor() + order.shipping_tax.amount_minor();
    if shipping_total > 0 {
        lines.push(shipping_line(
            order,
            Money::new(shipping_total, order.currency),
            order.shipping_tax,
        ));
    }
    lines
}

#[allow(clippy::too_many_arguments)]
fn document(
    order: &Order,
    seller: &Seller,
    kind: DocumentKind,
    number: String,
    issued_at: OffsetDateTime,
    lines: Vec<DocumentLine>,
    totals: DocumentTotals,
    references: Option<String>,
) -> Result<TaxDocument, DocumentError> {
    let zatca_qr = if order.ship_to.country.as_str() == "SA" {
        Some(zatca::payload(seller, issued_at, totals.grand_total, totals.vat)?)
    } else {
        None
    };
    Ok(TaxDocument {
        number,
        kind,
        order_id: order.id,
        order_number: order.number.clone(),
        issued_at,
        seller: seller.clone(),
        buyer: Buyer {
            name: order.ship_to.name.clone(),
            country: order.ship_to.country.as_str().to_owned(),
        },
        currency: order.currency,
        lines,
        totals,
        references,
        zatca_qr,
    })
}
