//! PRODUCTS.csv: the products and stock an import sets, with the reservations of the accepted orders and of
//! Orderly's own.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::fields::{self, Fault, Reason, nullable};
use super::run::{Engine, RunError};
use super::source::{PRODUCTS, Partitioned};
use crate::domain::catalog::Product;
use crate::domain::money::Money;
use crate::domain::status::OrderStatus;
use crate::domain::tax::TaxClass;
use crate::domain::values::Sku;
use crate::store::backfill::StockCount;

/// One product of PRODUCTS.csv, its rows folded.
pub(super) struct ProductRow {
    pub(super) product: Product,
    pub(super) on_hand: i64,
}

impl Engine<'_> {
    /// PRODUCTS.csv folded per SKU; a bad row is rejected with its SKU as the legacy id.
    pub(super) fn products(&mut self, export: &Partitioned) -> anyhow::Result<Vec<ProductRow>> {
        let mut by_sku: BTreeMap<String, ProductRow> = BTreeMap::new();
        for r in &export.products {
            let at = |i: usize| r.get(i).unwrap_or("");
            let read = || -> Result<(Sku, String, String, Money, i64), Fault> {
                let raw = fields::required("SKU", at(0))?;
                let sku =
                    Sku::parse(raw.trim()).map_err(|e| Fault::new(Reason::BadValue, format!("SKU `{raw}`: {e}")))?;
                let currency = fields::currency(at(3))?;
                let price = fields::amount("PRICE", at(4), currency)?;
                let on_hand = fields::integer("ON_HAND", at(5))?;
                if on_hand < 0 {
                    return Err(Fault::new(Reason::BadQuantity, format!("ON_HAND {on_hand}")));
                }
                use unicode_normalization::UnicodeNormalization;
                let name = |i: usize| {
                    nullable(at(i))
                        .map(|n| n.nfc().collect::<String>())
                        .unwrap_or_else(|| raw.to_owned())
                };
                Ok((sku, name(1), name(2), Money::new(price, currency), on_hand))
            };
            match read() {
                Ok((sku, name_en, name_ar, price, on_hand)) => {
                    let row = by_sku.entry(sku.as_str().to_owned()).or_insert_with(|| ProductRow {
                        product: Product {
                            sku: sku.clone(),
                            name_en,
                            name_ar,
                            prices: Vec::new(),
                            tax_class: TaxClass::Standard,
                            active: true,
                        },
                        on_hand,
                    });
                    row.product.prices.retain(|p| p.currency() != price.currency());
                    row.product.prices.push(price);
                    row.product.prices.sort_by_key(|p| p.currency());
                }
                Err(fault) => {
                    let sku = at(0).to_owned();
                    self.reject(PRODUCTS.name, sku, fault, false)?;
                }
            }
        }
        Ok(by_sku.into_values().collect())
    }

    /// What Orderly's own orders (placed in Orderly, or imported and changed since) hold reserved: the units not yet
    /// shipped of those still open or confirmed. The import must not take their reservations away.
    pub(super) async fn add_orderly_reservations(&mut self) -> Result<(), RunError> {
        let mut after = None;
        loop {
            let page = self
                .store
                .orders_changed_since(OffsetDateTime::UNIX_EPOCH, after, 1000)
                .await?;
            let Some(last) = page.last() else { return Ok(()) };
            after = Some(crate::store::OrderCursor {
                created_at: last.updated_at,
                id: last.id,
            });
            for o in page
                .iter()
                .filter(|o| matches!(o.status.order, OrderStatus::Open | OrderStatus::Confirmed))
            {
                for (sku, units) in o.unshipped() {
                    *self.reserved.entry(sku).or_default() += units;
                }
            }
        }
    }

    /// The products and stock that differ from the store's, with reservations from the accepted orders.
    pub(super) async fn catalog_changes(
        &mut self,
        rows: Vec<ProductRow>,
    ) -> Result<(Vec<Product>, Vec<StockCount>), RunError> {
        self.add_orderly_reservations().await?;
        let mut products = Vec::new();
        let mut stock = Vec::new();
        for row in rows {
            let mut product = row.product;
            let existing = self.store.get_product(&product.sku).await?;
            if let Some(e) = &existing {
                // What the legacy export does not know stays as Orderly has it.
                product.tax_class = e.tax_class;
                product.active = e.active;
            }
            if existing.as_ref() != Some(&product) {
                products.push(product.clone());
            }
            let wanted = self.reserved.get(&product.sku).copied().unwrap_or(0);
            if wanted > row.on_hand {
                self.report.stock_short.push(product.sku.as_str().to_owned());
            }
            let count = StockCount {
                sku: product.sku.clone(),
                on_hand: row.on_hand,
                reserved: wanted.min(row.on_hand),
            };
            let current = self.store.get_stock(&product.sku).await?;
            if current.is_none_or(|c| c.on_hand != count.on_hand || c.reserved != count.reserved) {
                stock.push(count);
            }
        }
        Ok((products, stock))
    }
}
