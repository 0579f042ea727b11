//! Money as integer minor units of one currency. No floats anywhere; every operation is checked.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::currency::Currency;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    amount_minor: i64,
    currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount out of range")]
    Overflow,
}

impl Money {
    pub const fn new(amount_minor: i64, currency: Currency) -> Self {
        Money { amount_minor, currency }
    }

    pub const fn zero(currency: Currency) -> Self {
        Money::new(0, currency)
    }

    pub fn amount_minor(self) -> i64 {
        self.amount_minor
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn is_negative(self) -> bool {
        self.amount_minor < 0
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let sum = self
            .amount_minor
            .checked_add(other.amount_minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(sum, self.currency))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let diff = self
            .amount_minor
            .checked_sub(other.amount_minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(diff, self.currency))
    }

    pub fn checked_mul(self, factor: i64) -> Result<Money, MoneyError> {
        let product = self.amount_minor.checked_mul(factor).ok_or(MoneyError::Overflow)?;
        Ok(Money::new(product, self.currency))
    }

    /// Sums amounts that must all be in `currency`.
    pub fn sum(currency: Currency, items: impl IntoIterator<Item = Money>) -> Result<Money, MoneyError> {
        items
            .into_iter()
            .try_fold(Money::zero(currency), |acc, m| acc.checked_add(m))
    }
}

/// Renders the major-unit form, e.g. `3.705 KWD`, for logs and documents (never for arithmetic).
impl Money {
    /// The amount as decimal text with the currency's digits and no currency code: `1.235` (KWD), `-12.50` (AED),
    /// `7` (JPY). Exact: no floating point.
    pub fn decimal(self) -> String {
        let exp = self.currency.exponent();
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let abs = self.amount_minor.unsigned_abs();
        if exp == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10u64.pow(exp);
        format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = exp as usize)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.decimal(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decimal_text_has_the_currency_digits_and_no_code() {
        assert_eq!(Money::new(1235, Currency::Kwd).decimal(), "1.235");
        assert_eq!(Money::new(-1250, Currency::Aed).decimal(), "-12.50");
        assert_eq!(Money::new(7, Currency::Omr).decimal(), "0.007");
        assert_eq!(Money::new(7, Currency::Jpy).decimal(), "7");
    }

    #[test]
    fn displays_with_the_currency_exponent() {
        assert_eq!(Money::new(3705, Currency::Kwd).to_string(), "3.705 KWD");
        assert_eq!(Money::new(450, Currency::Aed).to_string(), "4.50 AED");
        assert_eq!(Money::new(-5, Currency::Bhd).to_string(), "-0.005 BHD");
        assert_eq!(Money::new(1200, Currency::Jpy).to_string(), "1200 JPY");
    }

    #[test]
    fn mixing_currencies_is_an_error() {
        let kwd = Money::new(1, Currency::Kwd);
        let aed = Money::new(1, Currency::Aed);
        assert_eq!(
            kwd.checked_add(aed),
            Err(MoneyError::CurrencyMismatch(Currency::Kwd, Currency::Aed))
        );
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let big = Money::new(i64::MAX, Currency::Usd);
        assert_eq!(big.checked_add(Money::new(1, Currency::Usd)), Err(MoneyError::Overflow));
        assert_eq!(big.checked_mul(2), Err(MoneyError::Overflow));
    }

    proptest! {
        #[test]
        fn addition_then_subtraction_is_identity(a in -1_000_000_000i64..1_000_000_000, b in -1_000_000_000i64..1_000_000_000) {
            let x = Money::new(a, Currency::Kwd);
            let y = Money::new(b, Currency::Kwd);
            prop_assert_eq!(x.checked_add(y).unwrap().checked_sub(y).unwrap(), x);
        }
    }
}
