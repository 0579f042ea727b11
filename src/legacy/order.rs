//! One legacy order, read from its rows and checked against the contract; its checksum; and the Orderly order it
//! becomes through the status mapping (docs/migration.md).

use csv::StringRecord;
use time::OffsetDateTime;
use unicode_normalization::UnicodeNormalization;

use super::fields::{self, Fault, Reason, Store, Zones, nullable, required};
use crate::domain::currency::Currency;
use crate::domain::legacy::LegacyRef;
use crate::domain::order::PaymentMethod;
use crate::domain::values::{Quantity, Sku};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Letter {
    N,
    A,
    P,
    S,
    D,
    C,
    R,
    X,
}

impl Letter {
    pub const ALL: [Letter; 8] = [
        Letter::N,
        Letter::A,
        Letter::P,
        Letter::S,
        Letter::D,
        Letter::C,
        Letter::R,
        Letter::X,
    ];

    fn parse(raw: &str) -> Result<Self, Fault> {
        let value = required("STATUS", raw)?;
        Ok(match value.trim().to_ascii_uppercase().as_str() {
            "N" => Letter::N,
            "A" => Letter::A,
            "P" => Letter::P,
            "S" => Letter::S,
            "D" => Letter::D,
            "C" => Letter::C,
            "R" => Letter::R,
            "X" => Letter::X,
            _ => return Err(Fault::new(Reason::BadCode, format!("STATUS `{value}`"))),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Letter::N => "N",
            Letter::A => "A",
            Letter::P => "P",
            Letter::S => "S",
            Letter::D => "D",
            Letter::C => "C",
            Letter::R => "R",
            Letter::X => "X",
        }
    }

    /// Neither cancelled nor shipped: Orderly holds a reservation for its units.
    pub fn reserves_stock(self) -> bool {
        matches!(self, Letter::N | Letter::A | Letter::P)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayKind {
    Auth,
    Capt,
    Rfnd,
    CodColl,
    CodRef,
}

impl PayKind {
    fn parse(raw: &str) -> Result<Self, Fault> {
        let value = required("TYPE", raw)?;
        Ok(match value.trim().to_ascii_uppercase().as_str() {
            "AUTH" => PayKind::Auth,
            "CAPT" => PayKind::Capt,
            "RFND" => PayKind::Rfnd,
            "COD_COLL" => PayKind::CodColl,
            "COD_REF" => PayKind::CodRef,
            _ => return Err(Fault::new(Reason::BadCode, format!("payment TYPE `{value}`"))),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PayKind::Auth => "AUTH",
            PayKind::Capt => "CAPT",
            PayKind::Rfnd => "RFND",
            PayKind::CodColl => "COD_COLL",
            PayKind::CodRef => "COD_REF",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub item_id: i64,
    pub sku: Sku,
    pub qty: Quantity,
    pub unit_price: i64,
    pub line_tax: i64,
    pub line_total: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub pay_id: i64,
    pub kind: PayKind,
    pub amount: i64,
    pub at: OffsetDateTime,
    pub reference: Option<String>,
}

/// A legacy order, normalised: what the checksum covers and what the Orderly order is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyOrder {
    pub order_id: i64,
    pub order_no: String,
    pub store: Store,
    pub cust_id: i64,
    pub cust_name: String,
    pub phone: Option<String>,
    pub currency: Currency,
    pub ordered_at: OffsetDateTime,
    pub letter: Letter,
    pub method: PaymentMethod,
    pub subtotal: i64,
    pub tax: i64,
    pub shipping: i64,
    pub total: i64,
    pub ship_name: String,
    pub ship_addr: Option<String>,
    pub ship_city: String,
    pub country: &'static str,
    pub items: Vec<Item>,
    pub payments: Vec<Payment>,
}

/// Where in the export a fault sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Orders,
    Items,
    Payments,
}

pub type Located = (Place, Fault);

fn nfc(raw: &str) -> String {
    raw.nfc().collect()
}

fn text(column: &str, raw: &str) -> Result<String, Fault> {
    required(column, raw).map(nfc)
}

/// A fault of the ORDERS row.
fn o<T>(r: Result<T, Fault>) -> Result<T, Located> {
    r.map_err(|e| (Place::Orders, e))
}

fn at(record: &StringRecord, i: usize) -> &str {
    record.get(i).unwrap_or("")
}

impl LegacyOrder {
    /// Reads and checks one order with its items and payments; the first fault found rejects it.
    pub fn assemble(
        order: &StringRecord,
        items: &[StringRecord],
        payments: &[StringRecord],
        zones: &Zones,
    ) -> Result<LegacyOrder, Located> {
        let order_id = o(fields::integer("ORDER_ID", at(order, 0)))?;
        let order_no = o(text("ORDER_NO", at(order, 1)))?;
        let store = o(Store::parse(at(order, 2)))?;
        let cust_id = o(fields::integer("CUST_ID", at(order, 3)))?;
        let cust_name = o(text("CUST_NAME", at(order, 4)))?;
        let currency = o(fields::currency(at(order, 6)))?;
        let ordered_at = o(zones.time("ORDER_DATE", at(order, 7), store))?;
        let letter = o(Letter::parse(at(order, 8)))?;
        let method = o(
            match required("PAY_METHOD", at(order, 9)).map(|m| m.trim().to_ascii_uppercase()) {
                Ok(m) if m == "CC" => Ok(PaymentMethod::Card),
                Ok(m) if m == "COD" => Ok(PaymentMethod::Cod),
                Ok(m) => Err(Fault::new(Reason::BadCode, format!("PAY_METHOD `{m}`"))),
                Err(e) => Err(e),
            },
        )?;
        let money = |column: &str, i: usize| o(fields::amount(column, at(order, i), currency));
        let subtotal = money("SUBTOTAL", 10)?;
        let tax = money("TAX", 11)?;
        let shipping = money("SHIPPING", 12)?;
        let total = money("TOTAL", 13)?;
        let ship_name = o(text("SHIP_NAME", at(order, 14)))?;
        let ship_addr = nullable(at(order, 15)).map(nfc);
        let ship_city = o(text("SHIP_CITY", at(order, 16)))?;
        let country = o(fields::country(at(order, 17)))?;
        let phone = o(fields::phone(at(order, 5), country))?;
        if order_no.len() > 64 || order_no.chars().any(char::is_control) {
            return Err((
                Place::Orders,
                Fault::new(Reason::BadValue, format!("ORDER_NO `{order_no}`")),
            ));
        }

        let mut lines = items
            .iter()
            .map(|r| Item::read(r, currency).map_err(|e| (Place::Items, e)))
            .collect::<Result<Vec<_>, _>>()?;
        lines.sort_by_key(|i| i.item_id);
        let mut pays = payments
            .iter()
            .map(|r| Payment::read(r, currency, store, zones).map_err(|e| (Place::Payments, e)))
            .collect::<Result<Vec<_>, _>>()?;
        pays.sort_by_key(|p| p.pay_id);

        let legacy = LegacyOrder {
            order_id,
            order_no,
            store,
            cust_id,
            cust_name,
            phone,
            currency,
            ordered_at,
            letter,
            method,
            subtotal,
            tax,
            shipping,
            total,
            ship_name,
            ship_addr,
            ship_city,
            country,
            items: lines,
            payments: pays,
        };
        legacy.check()?;
        Ok(legacy)
    }

    fn check(&self) -> Result<(), Located> {
        if self.items.is_empty() {
            return o(Err(Fault::new(Reason::NoItems, "the order has no items")));
        }
        let mismatch = |detail: String| o(Err(Fault::new(Reason::TotalsMismatch, detail)));
        let mut net = 0i64;
        let mut line_tax = 0i64;
        for i in &self.items {
            let line_net = i.qty.as_i64().checked_mul(i.unit_price).unwrap_or(i64::MAX);
            if line_net.checked_add(i.line_tax) != Some(i.line_total) {
                return mismatch(format!("item {}: QTY x UNIT_PRICE + LINE_TAX != LINE_TOTAL", i.item_id));
            }
            net = net.saturating_add(line_net);
            line_tax = line_tax.saturating_add(i.line_tax);
        }
        if net != self.subtotal {
            return mismatch(format!("the items add up to {net}, SUBTOTAL is {}", self.subtotal));
        }
        if self
            .subtotal
            .checked_add(self.tax)
            .and_then(|s| s.checked_add(self.shipping))
            != Some(self.total)
        {
            return mismatch(format!(
                "SUBTOTAL + TAX + SHIPPING is {}, TOTAL is {}",
                self.subtotal.saturating_add(self.tax).saturating_add(self.shipping),
                self.total
            ));
        }
        if line_tax > self.tax {
            return mismatch(format!("the items' tax {line_tax} exceeds TAX {}", self.tax));
        }
        let paid = self.paid();
        let refunded = self.sum(PayKind::Rfnd);
        if refunded > paid {
            let fault = Fault::new(
                Reason::RefundExceedsPaid,
                format!("refunds of {refunded} exceed the {paid} captured or collected"),
            );
            return Err((Place::Payments, fault));
        }
        Ok(())
    }

    pub fn sum(&self, kind: PayKind) -> i64 {
        self.payments.iter().filter(|p| p.kind == kind).map(|p| p.amount).sum()
    }

    pub fn has(&self, kind: PayKind) -> bool {
        self.payments.iter().any(|p| p.kind == kind)
    }

    /// Captured by card, or collected in cash.
    pub fn paid(&self) -> i64 {
        match self.method {
            PaymentMethod::Card => self.sum(PayKind::Capt),
            PaymentMethod::Cod => self.sum(PayKind::CodColl),
        }
    }

    pub fn legacy_ref(&self) -> LegacyRef {
        LegacyRef {
            order_id: self.order_id,
            order_no: self.order_no.clone(),
            customer_id: self.cust_id,
            customer_name: self.cust_name.clone(),
        }
    }
}

impl Item {
    fn read(r: &StringRecord, currency: Currency) -> Result<Item, Fault> {
        let qty_raw = required("QTY", at(r, 3))?;
        let qty = qty_raw
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|q| Quantity::parse(q, u32::MAX).ok())
            .ok_or_else(|| Fault::new(Reason::BadQuantity, format!("QTY `{qty_raw}`")))?;
        let sku_raw = required("SKU", at(r, 2))?;
        Ok(Item {
            item_id: fields::integer("ITEM_ID", at(r, 0))?,
            sku: Sku::parse(sku_raw.trim())
                .map_err(|e| Fault::new(Reason::BadValue, format!("SKU `{sku_raw}`: {e}")))?,
            qty,
            unit_price: fields::amount("UNIT_PRICE", at(r, 4), currency)?,
            line_tax: fields::amount("LINE_TAX", at(r, 5), currency)?,
            line_total: fields::amount("LINE_TOTAL", at(r, 6), currency)?,
        })
    }
}

impl Payment {
    fn read(r: &StringRecord, currency: Currency, store: Store, zones: &Zones) -> Result<Payment, Fault> {
        Ok(Payment {
            pay_id: fields::integer("PAY_ID", at(r, 0))?,
            kind: PayKind::parse(at(r, 2))?,
            amount: fields::amount("AMOUNT", at(r, 3), currency)?,
            at: zones.time("PAY_DATE", at(r, 4), store)?,
            reference: nullable(at(r, 5)).map(nfc),
        })
    }
}
