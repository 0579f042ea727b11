//! One legacy order, read from its rows and checked against the contract; its checksum; and the Orderly order it
//! becomes through the status mapping (docs/migration.md).

use csv::StringRecord;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use unicode_normalization::UnicodeNormalization;

use super::fields::{self, Fault, Reason, Store, Zones, nullable, required};
use crate::domain::allocation::allocate;
use crate::domain::currency::Currency;
use crate::domain::events::SkuQuantity;
use crate::domain::legacy::{self as ids, LegacyRef};
use crate::domain::money::Money;
use crate::domain::order::{Order, PaymentMethod, Progress, Refund, Return, ShipTo, Shipment, Statuses};
use crate::domain::pricing::{PricedLine, Totals};
use crate::domain::status::{FulfilmentStatus, OrderStatus, PaymentStatus};
use crate::domain::tax::{BasisPoints, TaxClass, VatTable};
use crate::domain::values::{CountryCode, CustomerId, Quantity, Sku, StoreCode};

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

    fn has(&self, kind: PayKind) -> bool {
        self.payments.iter().any(|p| p.kind == kind)
    }

    /// Captured by card, or collected in cash.
    pub fn paid(&self) -> i64 {
        match self.method {
            PaymentMethod::Card => self.sum(PayKind::Capt),
            PaymentMethod::Cod => self.sum(PayKind::CodColl),
        }
    }

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

    pub fn legacy_ref(&self) -> LegacyRef {
        LegacyRef {
            order_id: self.order_id,
            order_no: self.order_no.clone(),
            customer_id: self.cust_id,
            customer_name: self.cust_name.clone(),
        }
    }

    /// Where the three status machines stand, by the contract's mapping.
    pub fn statuses(&self) -> Statuses {
        use FulfilmentStatus as F;
        use OrderStatus as O;
        use PaymentStatus as P;
        let card = self.method == PaymentMethod::Card;
        let refunded = self.sum(PayKind::Rfnd);
        let after_refunds = |none: P| {
            if refunded == 0 {
                none
            } else if refunded >= self.paid() {
                P::Refunded
            } else {
                P::PartiallyRefunded
            }
        };
        let (order, payment, fulfilment) = match self.letter {
            Letter::N | Letter::A => (O::Open, if card { P::Pending } else { P::CodPending }, F::Unfulfilled),
            Letter::P => {
                let payment = match (card, self.has(PayKind::Capt)) {
                    (true, true) => P::Captured,
                    (true, false) if self.has(PayKind::Auth) => P::Authorized,
                    (true, false) => P::Captured,
                    (false, _) => P::CodPending,
                };
                (O::Confirmed, payment, F::Unfulfilled)
            }
            Letter::S => (O::Confirmed, if card { P::Captured } else { P::CodPending }, F::Shipped),
            Letter::D => (
                O::Completed,
                if card { P::Captured } else { P::CodCollected },
                F::Delivered,
            ),
            Letter::C => {
                let payment = match (card, self.has(PayKind::Capt)) {
                    (true, true) => after_refunds(P::Captured).max_refund(),
                    (true, false) => P::Voided,
                    (false, _) => P::CodPending,
                };
                (O::Cancelled, payment, F::Unfulfilled)
            }
            Letter::R => (
                O::Completed,
                after_refunds(if card { P::Captured } else { P::CodCollected }),
                F::Returned,
            ),
            Letter::X => (
                O::Completed,
                after_refunds(if card { P::Captured } else { P::CodCollected }),
                F::Delivered,
            ),
        };
        if !card && self.has(PayKind::CodRef) {
            return Statuses {
                order,
                payment: P::CodRefused,
                fulfilment: F::Returned,
            };
        }
        Statuses {
            order,
            payment,
            fulfilment,
        }
    }

    /// The Orderly order this legacy order becomes (version 1, before any sync).
    pub fn to_order(&self, names: &dyn Fn(&Sku) -> (String, String), vat: &VatTable) -> Result<Order, Fault> {
        let bad = |what: &str| Fault::new(Reason::BadValue, what.to_owned());
        let money = |minor| Money::new(minor, self.currency);
        let lines: Vec<PricedLine> = self
            .items
            .iter()
            .map(|i| {
                let (name_en, name_ar) = names(&i.sku);
                PricedLine {
                    sku: i.sku.clone(),
                    name_en,
                    name_ar,
                    quantity: i.qty,
                    unit_price: money(i.unit_price),
                    tax_class: if i.line_tax > 0 {
                        TaxClass::Standard
                    } else {
                        TaxClass::Zero
                    },
                    subtotal: money(i.line_total - i.line_tax),
                    tax: money(i.line_tax),
                    total: money(i.line_total),
                }
            })
            .collect();
        let line_tax: i64 = self.items.iter().map(|i| i.line_tax).sum();
        let shipping_tax = self.tax - line_tax;
        let country = CountryCode::parse(self.country).map_err(|_| bad("country"))?;
        let statuses = self.statuses();
        let progress = self.progress(&lines, shipping_tax, statuses);
        let updated_at = self
            .payments
            .iter()
            .map(|p| p.at)
            .fold(self.ordered_at, OffsetDateTime::max);
        Ok(Order {
            id: ids::order_id(self.order_id),
            number: self.order_no.clone(),
            store: StoreCode::parse(self.store.code()).map_err(|_| bad("store"))?,
            customer_id: Some(CustomerId::parse(&format!("legacy-{}", self.cust_id)).map_err(|_| bad("customer"))?),
            currency: self.currency,
            ship_to: ShipTo {
                name: self.ship_name.clone(),
                line1: self.ship_addr.clone(),
                line2: None,
                city: self.ship_city.clone(),
                country: country.clone(),
                phone: self.phone.clone(),
            },
            payment_method: self.method,
            status: statuses,
            lines,
            shipping_tax: money(shipping_tax),
            vat_rate: vat
                .rate_for(&country)
                .unwrap_or(BasisPoints::new(0).map_err(|_| bad("vat"))?),
            totals: Totals {
                subtotal: money(self.subtotal),
                tax: money(self.tax),
                shipping: money(self.shipping),
                grand_total: money(self.total),
            },
            progress,
            version: 1,
            legacy: Some(self.legacy_ref()),
            created_at: self.ordered_at,
            updated_at,
        })
    }

    fn progress(&self, lines: &[PricedLine], shipping_tax: i64, statuses: Statuses) -> Progress {
        let mut p = Progress::for_lines(lines.len());
        let mut parts: Vec<i64> = lines.iter().map(|l| l.total.amount_minor()).collect();
        parts.push(self.shipping + shipping_tax);
        p.paid = allocate(self.paid(), &parts);
        p.refunded = allocate(self.sum(PayKind::Rfnd), &p.paid);
        p.authorized_minor = self.sum(PayKind::Auth);
        let reference = |kinds: &[PayKind]| {
            self.payments
                .iter()
                .filter(|x| kinds.contains(&x.kind))
                .find_map(|x| x.reference.clone())
        };
        p.provider_ref = reference(&[PayKind::Auth, PayKind::Capt]);
        p.courier_ref = reference(&[PayKind::CodColl]);
        p.refunds = self
            .payments
            .iter()
            .filter(|x| x.kind == PayKind::Rfnd)
            .map(|x| Refund {
                id: ids::derived_id(&format!("orderly-legacy-refund:{}", x.pay_id)),
                amount_minor: x.amount,
                reason: Some("legacy refund".into()),
                refunded_at: x.at,
            })
            .collect();
        let all: Vec<SkuQuantity> = lines
            .iter()
            .map(|l| SkuQuantity {
                sku: l.sku.clone(),
                quantity: l.quantity,
            })
            .collect();
        let shipped = statuses.fulfilment != FulfilmentStatus::Unfulfilled;
        if shipped {
            for (lp, l) in p.lines.iter_mut().zip(lines) {
                lp.shipped = l.quantity.get();
            }
            let delivered = matches!(self.letter, Letter::D | Letter::R | Letter::X);
            p.shipments.push(Shipment {
                id: ids::derived_id(&format!("orderly-legacy-shipment:{}", self.order_id)),
                lines: all.clone(),
                carrier: "legacy".into(),
                tracking_number: self.order_no.clone(),
                shipped_at: self.ordered_at,
                delivered_at: delivered.then_some(self.ordered_at),
            });
        }
        if statuses.fulfilment == FulfilmentStatus::Returned {
            for (lp, l) in p.lines.iter_mut().zip(lines) {
                lp.returned = l.quantity.get();
            }
            let to_origin = statuses.payment == PaymentStatus::CodRefused;
            p.returns.push(Return {
                id: ids::derived_id(&format!("orderly-legacy-return:{}", self.order_id)),
                lines: all,
                reason: Some(
                    if to_origin {
                        "refused at the door"
                    } else {
                        "legacy return"
                    }
                    .into(),
                ),
                to_origin,
                received_at: (!to_origin).then_some(self.ordered_at),
                restocked: false,
            });
        }
        p
    }
}

trait MaxRefund {
    fn max_refund(self) -> Self;
}

impl MaxRefund for PaymentStatus {
    /// A cancelled card order whose capture was given back: `refunded` (the contract's "refunded if CAPT rows").
    fn max_refund(self) -> Self {
        match self {
            PaymentStatus::Captured | PaymentStatus::PartiallyRefunded => PaymentStatus::Refunded,
            other => other,
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
