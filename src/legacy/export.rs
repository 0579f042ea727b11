//! `orderly export legacy`: the way back. The orders Orderly created, or changed after importing them, since a
//! time, written in the legacy four-file format (UTF-8 with a BOM, CRLF) so the legacy system can take them back.
//!
//! Imported orders keep their legacy ids. Orders born in Orderly get stable numeric ids derived from their UUIDs
//! (63 bits of SHA-256, far above any legacy id), as do every item and payment row, so exporting twice gives the
//! same files. A state the legacy letters cannot express (a partial shipment, an authorised open order) is written
//! with the nearest letter and listed under `approximated` in `export-report.json`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::fields::Store;
use super::order::Letter;
use super::source::{ITEMS, ORDERS, PAYMENTS, PRODUCTS};
use crate::domain::currency::Currency;
use crate::domain::order::{Order, PaymentMethod};
use crate::domain::status::{FulfilmentStatus as F, OrderStatus as O, PaymentStatus as P};
use crate::domain::values::Sku;
use crate::store::{MigrationStore, OrderCursor};

#[derive(Debug, Default, Serialize)]
pub struct Approximated {
    pub number: String,
    pub reason: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Exported {
    pub orders: u64,
    pub approximated: Vec<Approximated>,
}

/// A stable positive 63-bit id for `name`.
fn numeric_id(name: &str) -> i64 {
    let hash = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&hash[..8]);
    (u64::from_be_bytes(bytes) >> 1) as i64
}

/// Ids for the `index`-th row of a kind on an order, ascending with the index (the import orders rows by id).
fn row_id(kind: &str, order: uuid::Uuid, index: usize) -> i64 {
    (numeric_id(&format!("{kind}:{order}")) >> 12 << 12) + index as i64
}

/// Minor units as the legacy system writes amounts: dot decimal, the currency's digits.
fn decimal(minor: i64, currency: Currency) -> String {
    crate::domain::money::Money::new(minor, currency).decimal()
}

/// The legacy store of an order: its own when it is one, else by currency.
fn store_of(o: &Order) -> Store {
    match (o.store.as_str(), o.currency) {
        ("DXB", _) => Store::Dxb,
        ("RUH", _) => Store::Ruh,
        ("JED", _) => Store::Jed,
        ("KWI", _) => Store::Kwi,
        (_, Currency::Aed) => Store::Dxb,
        (_, Currency::Sar) => Store::Ruh,
        _ => Store::Kwi,
    }
}

/// The nearest legacy letter, and why it is only near when it is.
fn letter_of(o: &Order) -> (Letter, Option<&'static str>) {
    let s = o.status;
    let refunded = o.progress.refunded_total() > 0;
    match (s.order, s.fulfilment) {
        (O::Cancelled, _) => (Letter::C, None),
        (O::Open, _) if s.payment == P::Authorized => (Letter::A, Some("open with the payment authorised")),
        (O::Open, F::Unfulfilled) => (Letter::N, None),
        (O::Open, _) => (Letter::S, Some("open with shipments")),
        (_, F::Unfulfilled) => (Letter::P, None),
        (_, F::PartiallyShipped) => (Letter::S, Some("partially shipped")),
        (O::Confirmed, F::Shipped) => (Letter::S, None),
        (_, F::Returned) if s.payment == P::CodRefused => (Letter::S, None),
        (O::Completed, F::Delivered) if refunded => (Letter::X, None),
        (O::Completed, F::Delivered) => (Letter::D, None),
        (_, F::Returned) => (Letter::R, None),
        (_, F::PartiallyReturned) => (Letter::R, Some("partially returned")),
        (_, F::Delivered) => (Letter::D, Some("delivered but not completed")),
        (O::Completed, F::Shipped) => (Letter::S, Some("completed but not delivered")),
    }
}

struct Files {
    orders: csv::Writer<BufWriter<File>>,
    items: csv::Writer<BufWriter<File>>,
    payments: csv::Writer<BufWriter<File>>,
}

fn create(dir: &Path, name: &str, header: &[&str]) -> anyhow::Result<csv::Writer<BufWriter<File>>> {
    let mut file = BufWriter::new(File::create(dir.join(name))?);
    file.write_all("\u{feff}".as_bytes())?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(file);
    w.write_record(header)?;
    Ok(w)
}

fn null(v: Option<&str>) -> String {
    v.map_or_else(|| "NULL".to_owned(), str::to_owned)
}

struct Writer {
    files: Files,
    zones: BTreeMap<&'static str, TimeZone>,
    skus: BTreeMap<Sku, ()>,
}

impl Writer {
    fn local(&self, at: OffsetDateTime, store: Store) -> anyhow::Result<String> {
        let tz = self
            .zones
            .get(store.zone())
            .ok_or_else(|| anyhow::anyhow!("no zone {}", store.zone()))?;
        let micros = i64::try_from(at.unix_timestamp_nanos() / 1_000)?;
        let wall = tz.to_datetime(Timestamp::from_microsecond(micros)?);
        Ok(wall.strftime("%d/%m/%Y %H:%M:%S").to_string())
    }

    fn order(&mut self, o: &Order, letter: Letter) -> anyhow::Result<()> {
        let store = store_of(o);
        let order_id = o
            .legacy
            .as_ref()
            .map_or_else(|| numeric_id(&format!("order:{}", o.id)), |l| l.order_id);
        let cust_id = match &o.legacy {
            Some(l) => l.customer_id,
            None => o
                .customer_id
                .as_ref()
                .and_then(|c| c.as_str().strip_prefix("legacy-").and_then(|n| n.parse().ok()))
                .unwrap_or_else(|| {
                    numeric_id(&format!(
                        "customer:{}",
                        o.customer_id.as_ref().map_or("", |c| c.as_str())
                    ))
                }),
        };
        let name = o
            .legacy
            .as_ref()
            .map_or(o.ship_to.name.clone(), |l| l.customer_name.clone());
        let money = |m: i64| decimal(m, o.currency);
        let addr = match (&o.ship_to.line1, &o.ship_to.line2) {
            (Some(a), Some(b)) => Some(format!("{a}\n{b}")),
            (Some(a), None) => Some(a.clone()),
            (None, b) => b.clone(),
        };
        self.files.orders.write_record([
            order_id.to_string(),
            o.number.clone(),
            store.code().to_owned(),
            cust_id.to_string(),
            name,
            null(o.ship_to.phone.as_deref()),
            o.currency.code().to_owned(),
            self.local(o.created_at, store)?,
            letter.as_str().to_owned(),
            match o.payment_method {
                PaymentMethod::Card => "CC".to_owned(),
                PaymentMethod::Cod => "COD".to_owned(),
            },
            money(o.totals.subtotal.amount_minor()),
            money(o.totals.tax.amount_minor()),
            money(o.totals.shipping.amount_minor()),
            money(o.totals.grand_total.amount_minor()),
            o.ship_to.name.clone(),
            null(addr.as_deref()),
            o.ship_to.city.clone(),
            o.ship_to.country.as_str().to_owned(),
        ])?;
        for (i, l) in o.lines.iter().enumerate() {
            self.skus.insert(l.sku.clone(), ());
            self.files.items.write_record([
                row_id("items", o.id, i).to_string(),
                order_id.to_string(),
                l.sku.as_str().to_owned(),
                l.quantity.get().to_string(),
                money(l.unit_price.amount_minor()),
                money(l.tax.amount_minor()),
                money(l.total.amount_minor()),
            ])?;
        }
        let p = &o.progress;
        let mut rows: Vec<(&str, i64, OffsetDateTime, Option<String>)> = Vec::new();
        if p.authorized_minor > 0 {
            rows.push(("AUTH", p.authorized_minor, o.created_at, p.provider_ref.clone()));
        }
        if p.captured() > 0 {
            match o.payment_method {
                PaymentMethod::Card => rows.push(("CAPT", p.captured(), o.created_at, p.provider_ref.clone())),
                PaymentMethod::Cod => rows.push(("COD_COLL", p.captured(), o.updated_at, p.courier_ref.clone())),
            }
        }
        for r in &p.refunds {
            rows.push(("RFND", r.amount_minor, r.refunded_at, None));
        }
        if o.status.payment == P::CodRefused {
            rows.push(("COD_REF", 0, o.updated_at, None));
        }
        for (i, (kind, amount, at, reference)) in rows.into_iter().enumerate() {
            self.files.payments.write_record([
                row_id("payments", o.id, i).to_string(),
                order_id.to_string(),
                kind.to_owned(),
                money(amount),
                self.local(at, store)?,
                null(reference.as_deref()),
            ])?;
        }
        Ok(())
    }
}

/// Writes the four files to `dir` and `export-report.json` beside them.
pub async fn export(store: &dyn MigrationStore, since: OffsetDateTime, dir: &Path) -> anyhow::Result<Exported> {
    std::fs::create_dir_all(dir)?;
    let mut zones = BTreeMap::new();
    for s in [Store::Dxb, Store::Ruh, Store::Kwi] {
        zones.insert(s.zone(), TimeZone::get(s.zone())?);
    }
    let mut w = Writer {
        files: Files {
            orders: create(dir, ORDERS.name, ORDERS.columns)?,
            items: create(dir, ITEMS.name, ITEMS.columns)?,
            payments: create(dir, PAYMENTS.name, PAYMENTS.columns)?,
        },
        zones,
        skus: BTreeMap::new(),
    };
    let mut done = Exported::default();
    let mut after: Option<OrderCursor> = None;
    loop {
        let page = store.orders_changed_since(since, after, 500).await?;
        let Some(last) = page.last() else { break };
        after = Some(OrderCursor {
            created_at: last.updated_at,
            id: last.id,
        });
        for o in &page {
            let (letter, approx) = letter_of(o);
            if let Some(reason) = approx {
                done.approximated.push(Approximated {
                    number: o.number.clone(),
                    reason: reason.to_owned(),
                });
            }
            w.order(o, letter)?;
            done.orders += 1;
        }
    }
    let mut products = create(dir, PRODUCTS.name, PRODUCTS.columns)?;
    for sku in w.skus.keys() {
        let Some(product) = store.get_product(sku).await? else {
            continue;
        };
        let on_hand = store.get_stock(sku).await?.map_or(0, |s| s.on_hand);
        for price in &product.prices {
            products.write_record([
                sku.as_str().to_owned(),
                product.name_en.clone(),
                product.name_ar.clone(),
                price.currency().code().to_owned(),
                decimal(price.amount_minor(), price.currency()),
                on_hand.to_string(),
            ])?;
        }
    }
    let Files {
        orders,
        items,
        payments,
    } = w.files;
    for mut f in [orders, items, payments, products] {
        f.flush()?;
    }
    std::fs::write(
        dir.join("export-report.json"),
        serde_json::to_string_pretty(&done)? + "\n",
    )?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_with_the_currency_digits() {
        assert_eq!(decimal(1_234_500, Currency::Kwd), "1234.500");
        assert_eq!(decimal(5, Currency::Aed), "0.05");
        assert_eq!(decimal(120, Currency::Jpy), "120");
    }

    #[test]
    fn derived_ids_are_stable_and_positive() {
        assert_eq!(numeric_id("order:x"), numeric_id("order:x"));
        assert!(numeric_id("order:y") > 0);
    }
}
