//! The checksum of a legacy order: SHA-256 of its canonical form (docs/migration.md, "The checksum"), which a
//! second tool can compute from the legacy database.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::order::LegacyOrder;
use crate::domain::order::PaymentMethod;

impl LegacyOrder {
    /// The canonical form of docs/migration.md, whose SHA-256 is the order's checksum.
    pub fn canonical(&self) -> Value {
        let time = |t: OffsetDateTime| {
            t.format(&Rfc3339)
                .unwrap_or_default()
                .trim_end_matches('Z')
                .split('.')
                .next()
                .map(|s| format!("{s}Z"))
                .unwrap_or_default()
        };
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|i| {
                json!([
                    i.item_id,
                    i.sku.as_str(),
                    i.qty.as_i64(),
                    i.unit_price,
                    i.line_tax,
                    i.line_total
                ])
            })
            .collect();
        let payments: Vec<Value> = self
            .payments
            .iter()
            .map(|p| json!([p.pay_id, p.kind.as_str(), p.amount, time(p.at), p.reference]))
            .collect();
        json!([
            "orderly-legacy-v1",
            self.order_id,
            self.order_no,
            self.store.code(),
            self.cust_id,
            self.cust_name,
            self.phone,
            self.currency.code(),
            time(self.ordered_at),
            self.letter.as_str(),
            match self.method {
                PaymentMethod::Card => "CC",
                PaymentMethod::Cod => "COD",
            },
            self.subtotal,
            self.tax,
            self.shipping,
            self.total,
            self.ship_name,
            self.ship_addr,
            self.ship_city,
            self.country,
            items,
            payments
        ])
    }

    pub fn checksum(&self) -> String {
        hex::encode(Sha256::digest(self.canonical().to_string().as_bytes()))
    }
}
