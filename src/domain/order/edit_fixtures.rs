//! The shop, orders and payments the edit and document tests share, and the random edit operation of their
//! property tests.

use time::OffsetDateTime;

use super::*;
use crate::domain::Money;
use crate::domain::catalog::Product;
use crate::domain::pricing::{PricingPolicy, ShippingFees, price_order};
use crate::domain::tax::{PriceMode, TaxClass};

pub(super) const SKUS: [&str; 6] = ["A", "B", "C", "D", "E", "F"];

pub(super) fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

pub(super) fn qty(n: u32) -> Quantity {
    Quantity::parse(i64::from(n), 1000).unwrap()
}

pub(super) fn address(country: &str) -> ShipTo {
    ShipTo {
        name: "فاطمة Al Marri".into(),
        line1: Some("Street 1".into()),
        line2: None,
        city: "Dubai".into(),
        country: CountryCode::parse(country).unwrap(),
        phone: Some("+971500000000".into()),
    }
}

pub(super) struct Shop {
    pub(super) currency: Currency,
    pub(super) policy: PricingPolicy,
    pub(super) products: Vec<Product>,
}

impl Shop {
    pub(super) fn new(currency: Currency, mode: PriceMode, shipping: i64, prices: &[(i64, bool)]) -> Self {
        let products = SKUS
            .iter()
            .zip(prices)
            .map(|(s, (minor, standard))| Product {
                sku: sku(s),
                name_en: format!("Item {s}"),
                name_ar: "منتج".into(),
                prices: vec![Money::new(*minor, currency)],
                tax_class: if *standard { TaxClass::Standard } else { TaxClass::Zero },
                active: true,
            })
            .collect();
        let policy = PricingPolicy {
            price_mode: mode,
            shipping: ShippingFees::new(vec![Money::new(shipping, currency)]),
            ..PricingPolicy::default()
        };
        Shop {
            currency,
            policy,
            products,
        }
    }

    /// What placing `lines` to `country` fresh would price.
    pub(super) fn price(
        &self,
        country: &CountryCode,
        lines: &[(Sku, Quantity)],
    ) -> crate::domain::pricing::PricedOrder {
        let catalog: Vec<_> = self
            .products
            .iter()
            .filter_map(|p| p.entry_for(self.currency))
            .collect();
        price_order(&self.policy, self.currency, country, lines, &catalog).unwrap()
    }

    pub(super) fn place(
        &self,
        method: PaymentMethod,
        country: &str,
        lines: &[(Sku, Quantity)],
    ) -> (Order, Vec<OrderEvent>) {
        let ship_to = address(country);
        let priced = self.price(&ship_to.country, lines);
        let request = NewOrder {
            customer_id: None,
            currency: self.currency,
            ship_to,
            lines: lines.to_vec(),
            payment_method: method,
        };
        let (o, e) = Order::place(
            request,
            "AE-1".into(),
            StoreCode::parse("AE").unwrap(),
            priced,
            "t",
            OffsetDateTime::now_utc(),
        );
        (o, vec![e])
    }

    pub(super) fn edit(&self, operations: Vec<EditOperation>) -> Command {
        Command::Edit(Box::new(Edit {
            operations,
            catalog: self.products.clone(),
            policy: self.policy.clone(),
            max_lines: 100,
        }))
    }
}

pub(super) fn run(o: &mut Order, log: &mut Vec<OrderEvent>, c: Command) -> Result<OrderChange, OrderError> {
    let change = o.execute(c, "ops", OffsetDateTime::now_utc())?;
    log.extend(change.events.clone());
    Ok(change)
}

/// 0: unpaid card, 1: authorised, 2: captured in full, 3: captured in part, 4: COD, 5: captured in full and
/// partly refunded (a goodwill gesture).
pub(super) fn pay(o: &mut Order, log: &mut Vec<OrderEvent>, how: u8) {
    let total = o.totals.grand_total.amount_minor();
    let authorize = Command::Authorize {
        amount_minor: total,
        provider_ref: "psp".into(),
    };
    match how % 6 {
        1 => {
            run(o, log, authorize).unwrap();
        }
        2 | 3 | 5 => {
            run(o, log, authorize).unwrap();
            let amount = if how % 6 == 3 { total / 2 + 1 } else { total };
            run(o, log, Command::Capture { amount_minor: amount }).unwrap();
            if how % 6 == 5 {
                let goodwill = Command::Refund {
                    amount_minor: Some(total / 3 + 1),
                    lines: vec![],
                    reason: None,
                };
                run(o, log, goodwill).unwrap();
            }
        }
        _ => {}
    }
}

/// A random edit operation from three numbers: which kind, which SKU, how many units; the address changes go to
/// a country taxed like the Emirates (Oman) or to one that is not (Bahrain, refused).
pub(super) fn op(pick: (u8, u8, u32)) -> EditOperation {
    let (kind, s, q) = pick;
    let s = sku(SKUS[usize::from(s) % SKUS.len()]);
    match kind % 7 {
        0 | 1 => EditOperation::AddLine {
            sku: s,
            quantity: qty(q % 5 + 1),
        },
        2 => EditOperation::RemoveLine { sku: s },
        3 | 4 => EditOperation::SetQuantity {
            sku: s,
            quantity: qty(q % 5 + 1),
        },
        // Oman is taxed like the Emirates; Bahrain is not.
        5 => EditOperation::SetShipTo {
            ship_to: address(if q % 2 == 0 { "OM" } else { "AE" }),
        },
        _ => EditOperation::SetShipTo { ship_to: address("BH") },
    }
}
