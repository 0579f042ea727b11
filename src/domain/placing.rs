//! Whether an order can be placed against the catalog and the stock as one transaction read them, and at which
//! prices. Both stores run this same check, so a request is refused for the same reason on either.
//!
//! Pricing is checked before stock: a request for an unknown, unpriced or withdrawn product is a pricing error
//! even when its stock is also short.

use super::catalog::Product;
use super::currency::Currency;
use super::order::NewOrder;
use super::pricing::{CatalogEntry, PricedOrder, PricingError, PricingPolicy, price_order};
use super::stock::{Levels, SkuStockError, StockLevel, reserve_all};
use super::values::Sku;

/// An order that can be placed: its prices, and the stock levels of its SKUs once its lines are reserved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placeable {
    pub priced: PricedOrder,
    pub reserved: Levels,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacingError {
    #[error(transparent)]
    Pricing(#[from] PricingError),
    #[error(transparent)]
    Stock(#[from] SkuStockError),
}

/// Prices `request` from `products` (the catalog rows of its SKUs) and reserves its lines from `stock` (the
/// locked stock rows of its SKUs).
pub fn check(
    policy: &PricingPolicy,
    request: &NewOrder,
    products: &[Product],
    stock: &[(Sku, StockLevel)],
) -> Result<Placeable, PlacingError> {
    let catalog = catalog_entries(products, request.currency)?;
    let priced = price_order(
        policy,
        request.currency,
        &request.ship_to.country,
        &request.lines,
        &catalog,
    )?;
    let reserved = reserve_all(stock, &request.lines)?;
    Ok(Placeable { priced, reserved })
}

/// What pricing needs of each product in `currency`. A product without a price in the currency is refused here,
/// in SKU order: as not for sale when it is inactive (its missing price is then beside the point), else as
/// unpriced in that currency. Products that are priced but inactive are refused by `price_order`.
pub fn catalog_entries(products: &[Product], currency: Currency) -> Result<Vec<CatalogEntry>, PricingError> {
    let mut sorted: Vec<&Product> = products.iter().collect();
    sorted.sort_by(|a, b| a.sku.cmp(&b.sku));
    sorted
        .into_iter()
        .map(|product| match product.entry_for(currency) {
            Some(entry) => Ok(entry),
            None if product.active => Err(PricingError::NoPriceInCurrency(product.sku.clone(), currency)),
            None => Err(PricingError::InactiveSku(product.sku.clone())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Money;
    use crate::domain::order::{PaymentMethod, ShipTo};
    use crate::domain::stock::StockError;
    use crate::domain::tax::TaxClass;
    use crate::domain::values::{CountryCode, Quantity};

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn product(code: &str, prices: &[Money], active: bool) -> Product {
        Product {
            sku: sku(code),
            name_en: "Oud".into(),
            name_ar: "عود".into(),
            prices: prices.to_vec(),
            tax_class: TaxClass::Standard,
            active,
        }
    }

    fn kwd(minor: i64) -> Money {
        Money::new(minor, Currency::Kwd)
    }

    fn request(lines: &[(&str, i64)]) -> NewOrder {
        NewOrder {
            customer_id: None,
            currency: Currency::Kwd,
            ship_to: ShipTo {
                name: "علي".into(),
                line1: Some("Block 1".into()),
                line2: None,
                city: "Jabriya".into(),
                country: CountryCode::parse("KW").unwrap(),
                phone: Some("+96599999999".into()),
            },
            lines: lines
                .iter()
                .map(|(s, q)| (sku(s), Quantity::parse(*q, 1000).unwrap()))
                .collect(),
            payment_method: PaymentMethod::Card,
        }
    }

    fn stocked(levels: &[(&str, i64)]) -> Levels {
        levels
            .iter()
            .map(|(s, n)| {
                (
                    sku(s),
                    StockLevel {
                        on_hand: *n,
                        reserved: 0,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_placeable_order_is_priced_and_its_lines_reserved() {
        let products = [product("A", &[kwd(1000)], true), product("B", &[kwd(500)], true)];
        let placeable = check(
            &PricingPolicy::default(),
            &request(&[("B", 2), ("A", 1)]),
            &products,
            &stocked(&[("A", 1), ("B", 5)]),
        )
        .unwrap();
        assert_eq!(placeable.priced.lines.len(), 2);
        assert_eq!(
            placeable.reserved,
            vec![
                (
                    sku("A"),
                    StockLevel {
                        on_hand: 1,
                        reserved: 1
                    }
                ),
                (
                    sku("B"),
                    StockLevel {
                        on_hand: 5,
                        reserved: 2
                    }
                ),
            ]
        );
    }

    #[test]
    fn a_missing_price_is_reported_as_unpriced_when_active_and_as_not_for_sale_when_inactive() {
        let usd_only = [Money::new(100, Currency::Usd)];
        assert_eq!(
            catalog_entries(&[product("A", &usd_only, true)], Currency::Kwd),
            Err(PricingError::NoPriceInCurrency(sku("A"), Currency::Kwd))
        );
        assert_eq!(
            catalog_entries(&[product("A", &usd_only, false)], Currency::Kwd),
            Err(PricingError::InactiveSku(sku("A")))
        );
    }

    #[test]
    fn the_first_unpriced_product_in_sku_order_is_reported() {
        let products = [product("B", &[], true), product("A", &[], false)];
        assert_eq!(
            catalog_entries(&products, Currency::Kwd),
            Err(PricingError::InactiveSku(sku("A")))
        );
    }

    #[test]
    fn pricing_errors_win_over_short_stock() {
        let products = [product("A", &[kwd(1000)], false)];
        assert_eq!(
            check(&PricingPolicy::default(), &request(&[("A", 5)]), &products, &[]),
            Err(PlacingError::Pricing(PricingError::InactiveSku(sku("A"))))
        );
        assert_eq!(
            check(&PricingPolicy::default(), &request(&[("Z", 5)]), &[], &[]),
            Err(PlacingError::Pricing(PricingError::UnknownSku(sku("Z"))))
        );
    }

    #[test]
    fn short_stock_on_one_line_refuses_the_order() {
        let products = [product("A", &[kwd(1000)], true), product("B", &[kwd(500)], true)];
        assert_eq!(
            check(
                &PricingPolicy::default(),
                &request(&[("A", 1), ("B", 6)]),
                &products,
                &stocked(&[("A", 1), ("B", 5)]),
            ),
            Err(PlacingError::Stock(SkuStockError {
                sku: sku("B"),
                source: StockError::Insufficient {
                    available: 5,
                    requested: 6
                }
            }))
        );
    }
}
