//! VAT: rates by ship-to country in basis points, and the one rounding rule every order uses.
//!
//! Rounding rule (documented in docs/money.md): VAT is computed once per order on the sum of its taxable
//! amounts, rounded half away from zero to the currency's minor unit, then spread over the taxable lines (and
//! shipping) by largest remainder. Rounding per line instead would let a 100-line order drift by up to 50 fils.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::values::CountryCode;

/// A rate in hundredths of a percent: 500 is 5%.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BasisPoints(u32);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a VAT rate must be between 0 and 10000 basis points, got {0}")]
pub struct InvalidRate(pub i64);

impl BasisPoints {
    pub fn new(bp: i64) -> Result<Self, InvalidRate> {
        u32::try_from(bp)
            .ok()
            .filter(|v| *v <= 10_000)
            .map(BasisPoints)
            .ok_or(InvalidRate(bp))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// Whether catalog prices already include VAT. Set per store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceMode {
    #[default]
    Exclusive,
    Inclusive,
}

/// How a product is taxed. `Zero` and `Exempt` both carry no VAT; they differ on invoices, not in totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxClass {
    #[default]
    Standard,
    Zero,
    Exempt,
}

impl TaxClass {
    pub fn is_taxable(self) -> bool {
        matches!(self, TaxClass::Standard)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TaxClass::Standard => "standard",
            TaxClass::Zero => "zero",
            TaxClass::Exempt => "exempt",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "standard" => Some(TaxClass::Standard),
            "zero" => Some(TaxClass::Zero),
            "exempt" => Some(TaxClass::Exempt),
            _ => None,
        }
    }
}

/// Standard VAT rate per ship-to country.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VatTable(BTreeMap<CountryCode, BasisPoints>);

impl Default for VatTable {
    /// The rates in force in the markets Orderly serves: AE 5%, SA 15%, BH 10%, OM 5%, EG 14%, KW and QA 0%.
    fn default() -> Self {
        let rates = [
            ("AE", 500),
            ("SA", 1500),
            ("BH", 1000),
            ("OM", 500),
            ("EG", 1400),
            ("KW", 0),
            ("QA", 0),
        ];
        VatTable(
            rates
                .into_iter()
                .filter_map(|(c, bp)| Some((CountryCode::parse(c).ok()?, BasisPoints(bp))))
                .collect(),
        )
    }
}

impl VatTable {
    pub fn rate_for(&self, country: &CountryCode) -> Option<BasisPoints> {
        self.0.get(country).copied()
    }

    /// Replaces or adds rates, e.g. from configuration.
    pub fn with_rates(mut self, rates: impl IntoIterator<Item = (CountryCode, BasisPoints)>) -> Self {
        self.0.extend(rates);
        self
    }

    pub fn iter(&self) -> impl Iterator<Item = (&CountryCode, &BasisPoints)> {
        self.0.iter()
    }
}

/// The VAT contained in `amount_minor` at `rate`, rounded half away from zero.
/// Exclusive: `amount * rate / 10000`. Inclusive (the amount already holds the VAT): `amount * rate / (10000 + rate)`.
pub fn vat_on(amount_minor: i64, rate: BasisPoints, mode: PriceMode) -> i64 {
    let amount = i128::from(amount_minor);
    let rate = i128::from(rate.get());
    let (numerator, denominator) = match mode {
        PriceMode::Exclusive => (amount * rate, 10_000),
        PriceMode::Inclusive => (amount * rate, 10_000 + rate),
    };
    let rounded = div_round_half_away(numerator, denominator);
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

pub(crate) fn div_round_half_away(n: i128, d: i128) -> i128 {
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d.abs() {
        q + n.signum() * d.signum()
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bp(v: i64) -> BasisPoints {
        BasisPoints::new(v).unwrap()
    }

    #[test]
    fn default_table_holds_the_gulf_rates() {
        let t = VatTable::default();
        let rate = |c: &str| t.rate_for(&CountryCode::parse(c).unwrap()).map(BasisPoints::get);
        assert_eq!(rate("AE"), Some(500));
        assert_eq!(rate("SA"), Some(1500));
        assert_eq!(rate("BH"), Some(1000));
        assert_eq!(rate("OM"), Some(500));
        assert_eq!(rate("EG"), Some(1400));
        assert_eq!(rate("KW"), Some(0));
        assert_eq!(rate("QA"), Some(0));
        assert_eq!(rate("FR"), None);
    }

    #[test]
    fn exclusive_vat_rounds_half_away_from_zero() {
        assert_eq!(vat_on(9000, bp(500), PriceMode::Exclusive), 450);
        // 0.10 AED at 5% is 0.005: half a fils rounds up to 1.
        assert_eq!(vat_on(10, bp(500), PriceMode::Exclusive), 1);
        assert_eq!(vat_on(9, bp(500), PriceMode::Exclusive), 0);
        assert_eq!(vat_on(-10, bp(500), PriceMode::Exclusive), -1);
    }

    #[test]
    fn inclusive_vat_is_the_share_inside_the_gross() {
        // 105.00 gross at 5% holds 5.00 VAT.
        assert_eq!(vat_on(10_500, bp(500), PriceMode::Inclusive), 500);
        // 115.00 SAR gross at 15% holds 15.00.
        assert_eq!(vat_on(11_500, bp(1500), PriceMode::Inclusive), 1500);
    }

    #[test]
    fn rates_outside_zero_to_one_hundred_percent_are_rejected() {
        assert!(BasisPoints::new(-1).is_err());
        assert!(BasisPoints::new(10_001).is_err());
        assert!(BasisPoints::new(10_000).is_ok());
    }
}
