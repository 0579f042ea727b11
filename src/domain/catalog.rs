//! Products as the catalog holds them: names in English and Arabic, one price per currency, a tax class.

use serde::{Deserialize, Serialize};

use super::currency::Currency;
use super::money::Money;
use super::pricing::CatalogEntry;
use super::tax::TaxClass;
use super::values::Sku;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub sku: Sku,
    pub name_en: String,
    pub name_ar: String,
    /// At most one price per currency, in catalog order.
    pub prices: Vec<Money>,
    pub tax_class: TaxClass,
    pub active: bool,
}

impl Product {
    pub fn price_in(&self, currency: Currency) -> Option<Money> {
        self.prices.iter().copied().find(|p| p.currency() == currency)
    }

    /// What pricing needs to know about this product for an order in `currency`; `None` without such a price.
    pub fn entry_for(&self, currency: Currency) -> Option<CatalogEntry> {
        Some(CatalogEntry {
            sku: self.sku.clone(),
            name_en: self.name_en.clone(),
            name_ar: self.name_ar.clone(),
            unit_price: self.price_in(currency)?,
            tax_class: self.tax_class,
            active: self.active,
        })
    }
}
