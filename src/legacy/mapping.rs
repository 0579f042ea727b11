//! The contract's status mapping: what a legacy order becomes in Orderly (statuses, lines, totals, payments,
//! the shipment and return the legacy export does not record), as docs/migration.md describes it.

use time::OffsetDateTime;

use super::fields::{Fault, Reason};
use super::order::{LegacyOrder, Letter, PayKind};
use crate::domain::allocation::allocate;
use crate::domain::events::SkuQuantity;
use crate::domain::legacy as ids;
use crate::domain::money::Money;
use crate::domain::order::{Order, PaymentMethod, Progress, Refund, Return, ShipTo, Shipment, Statuses};
use crate::domain::pricing::{PricedLine, Totals};
use crate::domain::status::{FulfilmentStatus, OrderStatus, PaymentStatus};
use crate::domain::tax::{BasisPoints, TaxClass, VatTable};
use crate::domain::values::{CountryCode, CustomerId, Sku, StoreCode};

impl LegacyOrder {
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
                    (false, _) => P::CodCancelled,
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
