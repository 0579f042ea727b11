//! The JSON of tax documents: an invoice or credit note exactly as issued, amounts as money objects.

use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::invoice::{DocumentLine, TaxDocument};
use crate::http::wire::MoneyView;

#[derive(Debug, Serialize, ToSchema)]
pub struct SellerView {
    pub name: String,
    /// VAT registration number.
    pub vat_number: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BuyerView {
    /// The ship-to name.
    pub name: String,
    /// The ship-to country (ISO 3166-1 alpha-2).
    pub country: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentLineView {
    /// The SKU; `shipping` for the shipping charge.
    pub sku: String,
    pub name_en: String,
    pub name_ar: String,
    /// Units invoiced; on a credit note the units refunded (0 for a refund by amount) or taken off by an edit.
    pub quantity: u32,
    pub unit_price: MoneyView,
    pub vat_rate_bp: u32,
    pub vat: MoneyView,
    /// With VAT.
    pub total: MoneyView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentTotalsView {
    /// Net of VAT, shipping included.
    pub subtotal: MoneyView,
    pub vat: MoneyView,
    pub grand_total: MoneyView,
}

/// A tax invoice or credit note. Immutable once issued.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentView {
    /// `INV-<STORE>-<YYYY>-<000001>` or `CN-<STORE>-<YYYY>-<000001>`, gap-free per store and UTC year.
    pub number: String,
    /// `invoice` or `credit_note`.
    pub kind: String,
    pub order_id: Uuid,
    pub order_number: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub issued_at: OffsetDateTime,
    pub seller: SellerView,
    pub buyer: BuyerView,
    pub currency: String,
    pub lines: Vec<DocumentLineView>,
    pub totals: DocumentTotalsView,
    /// A credit note's invoice number; null on an invoice.
    pub references: Option<String>,
    /// Orders to Saudi Arabia: the ZATCA phase-1 QR payload (base64 of TLV records); null otherwise.
    pub zatca_qr: Option<String>,
}

/// An order's documents.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDocumentsView {
    pub invoices: Vec<DocumentView>,
    pub credit_notes: Vec<DocumentView>,
}

impl From<&DocumentLine> for DocumentLineView {
    fn from(l: &DocumentLine) -> Self {
        DocumentLineView {
            sku: l.sku.clone(),
            name_en: l.name_en.clone(),
            name_ar: l.name_ar.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price.into(),
            vat_rate_bp: l.vat_rate_bp,
            vat: l.vat.into(),
            total: l.total.into(),
        }
    }
}

impl From<&TaxDocument> for DocumentView {
    fn from(d: &TaxDocument) -> Self {
        DocumentView {
            number: d.number.clone(),
            kind: d.kind.as_str().to_owned(),
            order_id: d.order_id,
            order_number: d.order_number.clone(),
            issued_at: d.issued_at,
            seller: SellerView {
                name: d.seller.name.clone(),
                vat_number: d.seller.vat_number.clone(),
            },
            buyer: BuyerView {
                name: d.buyer.name.clone(),
                country: d.buyer.country.clone(),
            },
            currency: d.currency.code().to_owned(),
            lines: d.lines.iter().map(Into::into).collect(),
            totals: DocumentTotalsView {
                subtotal: d.totals.subtotal.into(),
                vat: d.totals.vat.into(),
                grand_total: d.totals.grand_total.into(),
            },
            references: d.references.clone(),
            zatca_qr: d.zatca_qr.clone(),
        }
    }
}
