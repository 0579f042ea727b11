//! Small value types parsed at the edge, so the rest of the domain never sees an invalid one.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a raw value was refused; the HTTP layer attaches the JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(msg: impl Into<String>) -> Invalid {
    Invalid(msg.into())
}

/// Stock keeping unit: 1 to 64 characters of ASCII letters, digits, `-`, `_` and `.`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sku(String);

impl Sku {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if raw.is_empty() || raw.len() > 64 || !raw.chars().all(ok_char) {
            return Err(invalid(
                "a SKU is 1 to 64 characters of letters, digits, '-', '_' and '.'",
            ));
        }
        if raw == crate::domain::invoice::SHIPPING_SKU {
            return Err(invalid(
                "`shipping` names the shipping line of invoices and is not a product's SKU",
            ));
        }
        Ok(Sku(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// ISO 3166-1 alpha-2 country code, upper case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CountryCode(String);

impl CountryCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if raw.len() == 2 && raw.chars().all(|c| c.is_ascii_uppercase()) {
            Ok(CountryCode(raw.to_owned()))
        } else {
            Err(invalid("a country is an ISO 3166-1 alpha-2 code such as KW or AE"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who an order belongs to: the `sub` of a customer's token. 1 to 128 printable characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerId(String);

impl CustomerId {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        // The free-text refusals hold for ids too (a bidi override in an id shown to staff lies as well as one in a
        // name), but an id is compared byte for byte, so it is not normalised.
        if raw.is_empty() || raw.chars().count() > 128 || raw.chars().any(|c| super::text::refusal(c).is_some()) {
            return Err(invalid(
                "a customer id is 1 to 128 printable characters, without bidi or invisible format characters",
            ));
        }
        Ok(CustomerId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Units of one SKU on one order line. The upper bound comes from configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Quantity(u32);

impl Quantity {
    pub fn parse(raw: i64, max: u32) -> Result<Self, Invalid> {
        match u32::try_from(raw) {
            Ok(q) if (1..=max).contains(&q) => Ok(Quantity(q)),
            _ => Err(invalid(format!("quantity must be between 1 and {max}"))),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }

    pub fn as_i64(self) -> i64 {
        i64::from(self.0)
    }
}

/// The store an order was placed in; prefixes order numbers (`KW-000000042`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoreCode(String);

impl StoreCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let ok = (2..=8).contains(&raw.len()) && raw.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if ok {
            Ok(StoreCode(raw.to_owned()))
        } else {
            Err(invalid("a store code is 2 to 8 upper-case letters or digits"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The human order number for the `seq`-th order of this store.
    pub fn order_number(&self, seq: i64) -> String {
        format!("{}-{seq:09}", self.0)
    }
}

/// Free text a person typed: the one validator, in `text`.
pub use super::text::text;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_accepts_catalog_codes_and_refuses_the_rest() {
        assert!(Sku::parse("DATES-AJWA-1KG").is_ok());
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("has space").is_err());
        assert!(Sku::parse(&"x".repeat(65)).is_err());
        assert!(Sku::parse("shipping").is_err(), "the invoices' shipping line");
        assert!(Sku::parse("SHIPPING").is_ok());
    }

    #[test]
    fn quantity_is_positive_and_bounded() {
        assert!(Quantity::parse(0, 100).is_err());
        assert!(Quantity::parse(-3, 100).is_err());
        assert!(Quantity::parse(101, 100).is_err());
        assert_eq!(Quantity::parse(100, 100).unwrap().get(), 100);
    }

    #[test]
    fn country_codes_are_two_upper_case_letters() {
        assert!(CountryCode::parse("KW").is_ok());
        assert!(CountryCode::parse("kw").is_err());
        assert!(CountryCode::parse("KWT").is_err());
    }

    #[test]
    fn customer_ids_refuse_controls_and_invisible_characters() {
        assert!(CustomerId::parse("cust-1").is_ok());
        assert!(CustomerId::parse("عميل-٧").is_ok());
        for bad in ["cu\0st", "cust\u{202E}1", "cust\u{200B}", "a\u{2028}b"] {
            assert!(CustomerId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn order_numbers_are_zero_padded_per_store() {
        let store = StoreCode::parse("AE").unwrap();
        assert_eq!(store.order_number(123_457), "AE-000123457");
    }
}
