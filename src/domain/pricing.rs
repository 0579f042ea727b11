//! Pricing an order from catalog prices: line amounts, VAT, shipping and totals that add up to the minor unit.
//!
//! The client sends SKUs and quantities only; every price comes from the catalog snapshot passed in here.

use serde::{Deserialize, Serialize};

use super::allocation::allocate;
use super::currency::Currency;
use super::money::{Money, MoneyError};
use super::tax::{BasisPoints, PriceMode, TaxClass, VatTable, vat_on};
use super::values::{CountryCode, Quantity, Sku};

/// What the catalog says about one SKU at the moment of ordering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogEntry {
    pub sku: Sku,
    pub name_en: String,
    pub name_ar: String,
    pub unit_price: Money,
    pub tax_class: TaxClass,
    pub active: bool,
}

/// Shipping fee per currency, charged once per order and taxed like a standard-rated line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShippingFees(Vec<Money>);

impl ShippingFees {
    pub fn new(fees: Vec<Money>) -> Self {
        ShippingFees(fees)
    }

    pub fn fee_for(&self, currency: Currency) -> Money {
        self.0
            .iter()
            .copied()
            .find(|m| m.currency() == currency)
            .unwrap_or(Money::zero(currency))
    }
}

/// The store's pricing rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PricingPolicy {
    pub vat: VatTable,
    pub price_mode: PriceMode,
    pub shipping: ShippingFees,
}

/// One priced line, as snapshotted on the order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedLine {
    pub sku: Sku,
    pub name_en: String,
    pub name_ar: String,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub tax_class: TaxClass,
    /// Quantity times unit price, net of VAT.
    pub subtotal: Money,
    pub tax: Money,
    /// Subtotal plus tax: what the customer pays for this line.
    pub total: Money,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub subtotal: Money,
    pub tax: Money,
    pub shipping: Money,
    pub grand_total: Money,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PricedOrder {
    pub lines: Vec<PricedLine>,
    /// VAT on shipping, part of `totals.tax`.
    pub shipping_tax: Money,
    pub vat_rate: BasisPoints,
    pub totals: Totals,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("SKU {0} is not in the catalog")]
    UnknownSku(Sku),
    #[error("SKU {0} is not for sale")]
    InactiveSku(Sku),
    #[error("SKU {0} has no price in {1}")]
    NoPriceInCurrency(Sku, Currency),
    #[error("no VAT rate is configured for country {0}")]
    NoVatRate(CountryCode),
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// Prices `lines` in `currency` for delivery to `country`. `catalog` holds the entries for the requested SKUs,
/// each with its price in `currency`; a SKU missing there is unknown.
pub fn price_order(
    policy: &PricingPolicy,
    currency: Currency,
    country: &CountryCode,
    lines: &[(Sku, Quantity)],
    catalog: &[CatalogEntry],
) -> Result<PricedOrder, PricingError> {
    let rate = policy
        .vat
        .rate_for(country)
        .ok_or_else(|| PricingError::NoVatRate(country.clone()))?;
    let charge = Charge {
        currency,
        rate,
        mode: policy.price_mode,
        shipping: policy.shipping.fee_for(currency),
    };
    price_lines(&charge, lines, catalog)
}

/// What an order is charged at besides its lines' prices: the VAT rate and price mode, and the shipping fee as
/// charged (net in exclusive mode, with VAT in inclusive mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Charge {
    pub currency: Currency,
    pub rate: BasisPoints,
    pub mode: PriceMode,
    pub shipping: Money,
}

/// Prices `lines` from `catalog` under `charge`: the one rounding rule (order-level VAT on the taxable parts,
/// spread over them by largest remainder, shipping last) that placing an order and editing it both use, so an
/// edited order carries exactly the totals it would have had if it had been placed that way.
pub fn price_lines(
    charge: &Charge,
    lines: &[(Sku, Quantity)],
    catalog: &[CatalogEntry],
) -> Result<PricedOrder, PricingError> {
    let Charge {
        currency,
        rate,
        mode,
        shipping: shipping_charged,
    } = *charge;
    // Gross amounts as charged at catalog prices: net in exclusive mode, VAT-inclusive otherwise.
    let mut entries = Vec::with_capacity(lines.len());
    for (sku, quantity) in lines {
        let entry = catalog
            .iter()
            .find(|e| &e.sku == sku)
            .ok_or_else(|| PricingError::UnknownSku(sku.clone()))?;
        if !entry.active {
            return Err(PricingError::InactiveSku(sku.clone()));
        }
        if entry.unit_price.currency() != currency {
            return Err(PricingError::NoPriceInCurrency(sku.clone(), currency));
        }
        let charged = entry.unit_price.checked_mul(quantity.as_i64())?;
        entries.push((entry, *quantity, charged));
    }

    // The taxable parts: standard-rated lines, then shipping last.
    let mut taxable: Vec<i64> = entries
        .iter()
        .map(|(e, _, charged)| {
            if e.tax_class.is_taxable() {
                charged.amount_minor()
            } else {
                0
            }
        })
        .collect();
    taxable.push(shipping_charged.amount_minor());
    let taxable_sum = Money::sum(currency, taxable.iter().map(|a| Money::new(*a, currency)))?;
    let order_tax = vat_on(taxable_sum.amount_minor(), rate, mode);
    let shares = allocate(order_tax, &taxable);

    let net_of = |charged: Money, tax: Money| match mode {
        PriceMode::Exclusive => Ok(charged),
        PriceMode::Inclusive => charged.checked_sub(tax),
    };

    let mut priced = Vec::with_capacity(entries.len());
    for ((entry, quantity, charged), share) in entries.into_iter().zip(&shares) {
        let tax = Money::new(*share, currency);
        let subtotal = net_of(charged, tax)?;
        priced.push(PricedLine {
            sku: entry.sku.clone(),
            name_en: entry.name_en.clone(),
            name_ar: entry.name_ar.clone(),
            quantity,
            unit_price: entry.unit_price,
            tax_class: entry.tax_class,
            subtotal,
            tax,
            total: subtotal.checked_add(tax)?,
        });
    }
    let shipping_tax = Money::new(shares.last().copied().unwrap_or(0), currency);
    let shipping = net_of(shipping_charged, shipping_tax)?;

    let subtotal = Money::sum(currency, priced.iter().map(|l| l.subtotal))?;
    let tax = Money::new(order_tax, currency);
    let grand_total = subtotal.checked_add(shipping)?.checked_add(tax)?;
    Ok(PricedOrder {
        lines: priced,
        shipping_tax,
        vat_rate: rate,
        totals: Totals {
            subtotal,
            tax,
            shipping,
            grand_total,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(sku: &str, minor: i64, currency: Currency, tax_class: TaxClass) -> CatalogEntry {
        CatalogEntry {
            sku: Sku::parse(sku).unwrap(),
            name_en: "Item".into(),
            name_ar: "منتج".into(),
            unit_price: Money::new(minor, currency),
            tax_class,
            active: true,
        }
    }

    fn line(sku: &str, q: i64) -> (Sku, Quantity) {
        (Sku::parse(sku).unwrap(), Quantity::parse(q, 1000).unwrap())
    }

    fn country(c: &str) -> CountryCode {
        CountryCode::parse(c).unwrap()
    }

    #[test]
    fn three_at_1_235_kwd_to_kuwait_totals_3_705_kwd() {
        let cat = [entry("OUD", 1235, Currency::Kwd, TaxClass::Standard)];
        let p = price_order(
            &PricingPolicy::default(),
            Currency::Kwd,
            &country("KW"),
            &[line("OUD", 3)],
            &cat,
        )
        .unwrap();
        assert_eq!(p.totals.grand_total, Money::new(3705, Currency::Kwd));
        assert_eq!(p.totals.tax, Money::zero(Currency::Kwd));
    }

    #[test]
    fn two_at_45_aed_to_the_emirates_carry_4_50_vat() {
        let cat = [entry("ABAYA", 4500, Currency::Aed, TaxClass::Standard)];
        let p = price_order(
            &PricingPolicy::default(),
            Currency::Aed,
            &country("AE"),
            &[line("ABAYA", 2)],
            &cat,
        )
        .unwrap();
        assert_eq!(p.totals.tax, Money::new(450, Currency::Aed));
        assert_eq!(p.totals.grand_total, Money::new(9450, Currency::Aed));
    }

    #[test]
    fn saudi_orders_carry_fifteen_percent() {
        let cat = [entry("TEA", 2000, Currency::Sar, TaxClass::Standard)];
        let p = price_order(
            &PricingPolicy::default(),
            Currency::Sar,
            &country("SA"),
            &[line("TEA", 1)],
            &cat,
        )
        .unwrap();
        assert_eq!(p.totals.tax, Money::new(300, Currency::Sar));
    }

    #[test]
    fn zero_rated_lines_carry_no_vat() {
        let cat = [
            entry("BREAD", 1000, Currency::Aed, TaxClass::Zero),
            entry("PEN", 1000, Currency::Aed, TaxClass::Standard),
        ];
        let p = price_order(
            &PricingPolicy::default(),
            Currency::Aed,
            &country("AE"),
            &[line("BREAD", 1), line("PEN", 1)],
            &cat,
        )
        .unwrap();
        assert_eq!(p.lines[0].tax.amount_minor(), 0);
        assert_eq!(p.lines[1].tax.amount_minor(), 50);
    }

    #[test]
    fn inclusive_prices_keep_the_shelf_price_as_the_line_total() {
        let policy = PricingPolicy {
            price_mode: PriceMode::Inclusive,
            ..Default::default()
        };
        let cat = [entry("DATES", 1050, Currency::Aed, TaxClass::Standard)];
        let p = price_order(&policy, Currency::Aed, &country("AE"), &[line("DATES", 2)], &cat).unwrap();
        assert_eq!(p.lines[0].total, Money::new(2100, Currency::Aed));
        assert_eq!(p.totals.tax, Money::new(100, Currency::Aed));
        assert_eq!(p.totals.grand_total, Money::new(2100, Currency::Aed));
    }

    #[test]
    fn shipping_is_charged_once_and_taxed() {
        let policy = PricingPolicy {
            shipping: ShippingFees::new(vec![Money::new(1500, Currency::Aed)]),
            ..Default::default()
        };
        let cat = [entry("PEN", 1000, Currency::Aed, TaxClass::Standard)];
        let p = price_order(&policy, Currency::Aed, &country("AE"), &[line("PEN", 1)], &cat).unwrap();
        assert_eq!(p.totals.shipping, Money::new(1500, Currency::Aed));
        assert_eq!(p.shipping_tax, Money::new(75, Currency::Aed));
        assert_eq!(p.totals.grand_total, Money::new(1000 + 50 + 1500 + 75, Currency::Aed));
    }

    #[test]
    fn refuses_unknown_inactive_and_unpriced_skus_and_unknown_countries() {
        let mut inactive = entry("OLD", 100, Currency::Kwd, TaxClass::Standard);
        inactive.active = false;
        let cat = [inactive, entry("AED-ONLY", 100, Currency::Aed, TaxClass::Standard)];
        let policy = PricingPolicy::default();
        let kw = country("KW");
        assert!(matches!(
            price_order(&policy, Currency::Kwd, &kw, &[line("NOPE", 1)], &cat),
            Err(PricingError::UnknownSku(_))
        ));
        assert!(matches!(
            price_order(&policy, Currency::Kwd, &kw, &[line("OLD", 1)], &cat),
            Err(PricingError::InactiveSku(_))
        ));
        assert!(matches!(
            price_order(&policy, Currency::Kwd, &kw, &[line("AED-ONLY", 1)], &cat),
            Err(PricingError::NoPriceInCurrency(..))
        ));
        assert!(matches!(
            price_order(&policy, Currency::Kwd, &country("FR"), &[], &cat),
            Err(PricingError::NoVatRate(_))
        ));
    }

    proptest! {
        #[test]
        fn totals_add_up_exactly_for_random_lines_and_currencies(
            currency_index in 0usize..Currency::ALL.len(),
            country_index in 0usize..7,
            inclusive in any::<bool>(),
            shipping in 0i64..100_000,
            raw_lines in prop::collection::vec((1i64..10_000_000, 1i64..1000, any::<bool>()), 1..30),
        ) {
            let currency = Currency::ALL[currency_index];
            let country = country(["AE", "SA", "BH", "OM", "EG", "KW", "QA"][country_index]);
            let policy = PricingPolicy {
                price_mode: if inclusive { PriceMode::Inclusive } else { PriceMode::Exclusive },
                shipping: ShippingFees::new(vec![Money::new(shipping, currency)]),
                ..Default::default()
            };
            let catalog: Vec<CatalogEntry> = raw_lines.iter().enumerate().map(|(i, (price, _, std))| {
                entry(&format!("SKU{i}"), *price, currency, if *std { TaxClass::Standard } else { TaxClass::Exempt })
            }).collect();
            let lines: Vec<(Sku, Quantity)> = raw_lines.iter().enumerate().map(|(i, (_, q, _))| line(&format!("SKU{i}"), *q)).collect();
            let p = price_order(&policy, currency, &country, &lines, &catalog).unwrap();

            let sum = |f: fn(&PricedLine) -> i64| p.lines.iter().map(f).sum::<i64>();
            prop_assert_eq!(sum(|l| l.subtotal.amount_minor()), p.totals.subtotal.amount_minor());
            prop_assert_eq!(sum(|l| l.tax.amount_minor()) + p.shipping_tax.amount_minor(), p.totals.tax.amount_minor());
            prop_assert_eq!(
                p.totals.subtotal.amount_minor() + p.totals.shipping.amount_minor() + p.totals.tax.amount_minor(),
                p.totals.grand_total.amount_minor()
            );
            for (l, (_, q, _)) in p.lines.iter().zip(&raw_lines) {
                prop_assert_eq!(l.subtotal.amount_minor() + l.tax.amount_minor(), l.total.amount_minor());
                let charged = l.unit_price.amount_minor() * q;
                let expected = if inclusive { charged } else { l.subtotal.amount_minor() };
                prop_assert_eq!(if inclusive { l.total.amount_minor() } else { charged }, expected);
                prop_assert!(l.tax.amount_minor() >= 0);
                if !l.tax_class.is_taxable() { prop_assert_eq!(l.tax.amount_minor(), 0); }
            }
            prop_assert!(p.lines.iter().all(|l| l.total.currency() == currency));
        }
    }
}
