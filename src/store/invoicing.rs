//! Issuing tax invoices and credit notes inside an order's write transaction (docs/invoices.md): the payment that
//! makes an order paid in full issues its invoice, every refund after it a credit note. Numbers come from a counter
//! row per (kind, store, UTC year) locked by the transaction, so they are gap-free: a transaction that rolls back
//! gives its number back. The documents are append-only; the reads serve the API.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;
use crate::domain::events::{Change, OrderEvent};
use crate::domain::invoice::{self, DocumentKind, Seller, TaxDocument};
use crate::domain::order::Order;
use crate::domain::values::StoreCode;

/// Reading the documents.
#[async_trait]
pub trait Invoices: Send + Sync {
    /// An order's invoices and credit notes, each in number order.
    async fn order_documents(&self, order_id: Uuid) -> Result<Vec<TaxDocument>, StoreError>;
    async fn get_document(&self, number: &str) -> Result<Option<TaxDocument>, StoreError>;
}

/// The steps of issuing, inside the order's write transaction.
#[async_trait]
pub(crate) trait DocumentSteps: Send {
    /// Takes the next number of `(kind, store, year)`, holding the counter row until the transaction ends.
    async fn next_number(&mut self, kind: DocumentKind, store: &StoreCode, year: i32) -> Result<i64, StoreError>;
    /// The order's invoices and credit notes so far, in the order they were issued.
    async fn documents_of(&mut self, order_id: Uuid) -> Result<Vec<TaxDocument>, StoreError>;
    /// Stores a document, caused by the event `source`.
    async fn insert_document(&mut self, doc: &TaxDocument, store: &StoreCode, source: Uuid) -> Result<(), StoreError>;
}

pub(crate) fn decode(document: &str) -> Result<TaxDocument, StoreError> {
    serde_json::from_str(document).map_err(StoreError::internal)
}

pub(crate) fn encode(doc: &TaxDocument) -> Result<String, StoreError> {
    serde_json::to_string(doc).map_err(StoreError::internal)
}

async fn number(
    steps: &mut dyn DocumentSteps,
    kind: DocumentKind,
    order: &Order,
    now: OffsetDateTime,
) -> Result<String, StoreError> {
    let year = now.to_offset(time::UtcOffset::UTC).year();
    let seq = steps.next_number(kind, &order.store, year).await?;
    Ok(kind.number(&order.store, year, seq))
}

/// Issues what `events` call for on `order` (as it is after them): an invoice when a capture made it paid in full
/// or its cash was collected, a further invoice for the difference when a capture pays for a total an edit raised
/// after the first, a credit note for each refund of an invoiced order. An order paid before invoices existed has
/// no invoice, and its refunds no credit note.
pub(crate) async fn issue(
    steps: &mut dyn DocumentSteps,
    order: &Order,
    events: &[OrderEvent],
    seller: Option<&Seller>,
    now: OffsetDateTime,
) -> Result<Vec<TaxDocument>, StoreError> {
    let now = crate::domain::order::now_micros(now);
    let mut issued = Vec::new();
    for event in events {
        if !matches!(
            event.change,
            Change::PaymentCaptured { .. } | Change::CodCollected { .. } | Change::Refunded { .. }
        ) {
            continue;
        }
        let seller =
            seller.ok_or_else(|| StoreError::internal(anyhow::anyhow!("no seller to issue a tax document")))?;
        let paid_in_full = order.is_paid_in_full();
        let doc = match &event.change {
            Change::PaymentCaptured { .. } if paid_in_full => {
                let earlier = steps.documents_of(order.id).await?;
                if earlier.is_empty() {
                    let number = number(steps, DocumentKind::Invoice, order, now).await?;
                    invoice::invoice(order, seller, number, now)
                } else if invoice::invoiced_net(&earlier) < order.totals.grand_total.amount_minor() {
                    let number = number(steps, DocumentKind::Invoice, order, now).await?;
                    invoice::further_invoice(order, &earlier, seller, number, now)
                } else {
                    continue;
                }
            }
            Change::CodCollected { .. } => {
                let number = number(steps, DocumentKind::Invoice, order, now).await?;
                invoice::invoice(order, seller, number, now)
            }
            Change::Refunded {
                amount_minor,
                parts,
                units,
                ..
            } => {
                let earlier = steps.documents_of(order.id).await?;
                if !earlier.iter().any(|d| d.kind == DocumentKind::Invoice) {
                    continue;
                }
                let number = number(steps, DocumentKind::CreditNote, order, now).await?;
                let refund = invoice::Refund {
                    amount_minor: *amount_minor,
                    parts,
                    units,
                };
                invoice::credit_note(order, &earlier, &refund, seller, number, now)
            }
            _ => continue,
        }
        .map_err(StoreError::internal)?;
        steps.insert_document(&doc, &order.store, event.id).await?;
        issued.push(doc);
    }
    Ok(issued)
}

/// The UTC year and sequence of a document number (`INV-KW-2026-000001` -> 2026, 1).
pub(crate) fn series(number: &str) -> Option<(i32, i64)> {
    let mut parts = number.rsplitn(3, '-');
    let seq = parts.next()?.parse().ok()?;
    let year = parts.next()?.parse().ok()?;
    Some((year, seq))
}
