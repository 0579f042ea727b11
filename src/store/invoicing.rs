//! Issuing tax invoices and credit notes inside an order's write transaction (docs/invoices.md): the event that
//! makes an order paid in full issues its invoice, refunds and edits after it credit notes and further invoices.
//! Numbers come from a counter row per (kind, store, UTC year) locked by the transaction, so they are gap-free: a
//! transaction that rolls back gives its number back. The documents are append-only; the reads serve the API.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreError;
use crate::domain::events::OrderEvent;
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

/// Issues what `events` call for on `order` (as it is after them; `invoice::due` decides): the invoice when the
/// order becomes paid in full, then credit notes and further invoices that keep the documents charging what the
/// order retains. An order paid before invoices existed has no invoice until an edit leaves it paid in full.
///
/// Each document records the event that caused it; the second document of one event records a name-based UUID
/// (v5) of the event's id and the document's kind, so `source_event` stays unique and points back to the event.
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
        if !invoice::may_issue(&event.change) {
            continue;
        }
        let mut docs = steps.documents_of(order.id).await?;
        let drafts = invoice::due(order, &docs, &event.change);
        if drafts.is_empty() {
            continue;
        }
        let seller =
            seller.ok_or_else(|| StoreError::internal(anyhow::anyhow!("no seller to issue a tax document")))?;
        for (i, draft) in drafts.into_iter().enumerate() {
            let number = number(steps, draft.kind, order, now).await?;
            let doc = draft
                .issue(order, &docs, seller, number, now)
                .map_err(StoreError::internal)?;
            let source = if i == 0 {
                event.id
            } else {
                Uuid::new_v5(&event.id, doc.kind.as_str().as_bytes())
            };
            steps.insert_document(&doc, &order.store, source).await?;
            docs.push(doc.clone());
            issued.push(doc);
        }
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
