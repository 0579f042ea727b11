//! Tax documents on SQLite: the counter row of a series is bumped by the single writer's transaction
//! (`BEGIN IMMEDIATE`), so no other transaction can take a number until it ends; the numbers have no gap.

use async_trait::async_trait;
use uuid::Uuid;

use super::SqliteStore;
use super::uow::SqliteUnitOfWork;
use crate::domain::invoice::{DocumentKind, TaxDocument};
use crate::domain::values::StoreCode;
use crate::store::invoicing::{self, DocumentSteps, Invoices};
use crate::store::{StoreError, db_error};

#[async_trait]
impl DocumentSteps for SqliteUnitOfWork {
    async fn next_number(&mut self, kind: DocumentKind, store: &StoreCode, year: i32) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO tax_document_counters (kind, store, year, last_seq) VALUES (?, ?, ?, 1) \
             ON CONFLICT (kind, store, year) DO UPDATE SET last_seq = tax_document_counters.last_seq + 1 \
             RETURNING last_seq",
        )
        .bind(kind.as_str())
        .bind(store.as_str())
        .bind(year)
        .fetch_one(&mut *self.tx)
        .await
        .map_err(db_error)
    }

    async fn documents_of(&mut self, order_id: Uuid) -> Result<Vec<TaxDocument>, StoreError> {
        let docs: Vec<String> =
            sqlx::query_scalar("SELECT document FROM tax_documents WHERE order_id = ? ORDER BY issued_at, number")
                .bind(order_id.to_string())
                .fetch_all(&mut *self.tx)
                .await
                .map_err(db_error)?;
        docs.iter().map(|d| invoicing::decode(d)).collect()
    }

    async fn insert_document(&mut self, doc: &TaxDocument, store: &StoreCode, source: Uuid) -> Result<(), StoreError> {
        let (year, seq) = series(&doc.number)?;
        sqlx::query(
            "INSERT INTO tax_documents (number, kind, store, year, seq, order_id, source_event, issued_at, \
             references_number, document) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&doc.number)
        .bind(doc.kind.as_str())
        .bind(store.as_str())
        .bind(year)
        .bind(seq)
        .bind(doc.order_id.to_string())
        .bind(source.to_string())
        .bind(super::sqlite_rows::micros(doc.issued_at))
        .bind(doc.references.as_deref())
        .bind(invoicing::encode(doc)?)
        .execute(&mut *self.tx)
        .await
        .map_err(db_error)?;
        Ok(())
    }
}

/// The year and sequence in `INV-KW-2026-000001`.
fn series(number: &str) -> Result<(i32, i64), StoreError> {
    invoicing::series(number).ok_or_else(|| StoreError::internal(anyhow::anyhow!("bad document number {number}")))
}

#[async_trait]
impl Invoices for SqliteStore {
    async fn order_documents(&self, order_id: Uuid) -> Result<Vec<TaxDocument>, StoreError> {
        let mut conn = self.reader.acquire().await.map_err(db_error)?;
        let docs: Vec<String> =
            sqlx::query_scalar("SELECT document FROM tax_documents WHERE order_id = ? ORDER BY kind DESC, number")
                .bind(order_id.to_string())
                .fetch_all(&mut *conn)
                .await
                .map_err(db_error)?;
        docs.iter().map(|d| invoicing::decode(d)).collect()
    }

    async fn get_document(&self, number: &str) -> Result<Option<TaxDocument>, StoreError> {
        let mut conn = self.reader.acquire().await.map_err(db_error)?;
        let doc: Option<String> = sqlx::query_scalar("SELECT document FROM tax_documents WHERE number = ?")
            .bind(number)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
        doc.as_deref().map(invoicing::decode).transpose()
    }
}
