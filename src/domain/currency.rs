//! ISO 4217 currencies Orderly sells in, with the number of minor-unit digits each one uses.
//!
//! The exponent is the whole reason this type exists: 1 KWD is 1000 fils, 1 AED is 100 fils, 1 JPY is 1 yen.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Currency {
    Kwd,
    Bhd,
    Omr,
    Jod,
    Iqd,
    Lyd,
    Tnd,
    Aed,
    Sar,
    Qar,
    Egp,
    Usd,
    Eur,
    Jpy,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a supported ISO 4217 currency code")]
pub struct UnknownCurrency(pub String);

impl Currency {
    pub const ALL: [Currency; 14] = [
        Currency::Kwd,
        Currency::Bhd,
        Currency::Omr,
        Currency::Jod,
        Currency::Iqd,
        Currency::Lyd,
        Currency::Tnd,
        Currency::Aed,
        Currency::Sar,
        Currency::Qar,
        Currency::Egp,
        Currency::Usd,
        Currency::Eur,
        Currency::Jpy,
    ];

    /// Digits after the decimal point in the currency's minor unit.
    pub fn exponent(self) -> u32 {
        match self {
            Currency::Kwd
            | Currency::Bhd
            | Currency::Omr
            | Currency::Jod
            | Currency::Iqd
            | Currency::Lyd
            | Currency::Tnd => 3,
            Currency::Aed | Currency::Sar | Currency::Qar | Currency::Egp | Currency::Usd | Currency::Eur => 2,
            Currency::Jpy => 0,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Currency::Kwd => "KWD",
            Currency::Bhd => "BHD",
            Currency::Omr => "OMR",
            Currency::Jod => "JOD",
            Currency::Iqd => "IQD",
            Currency::Lyd => "LYD",
            Currency::Tnd => "TND",
            Currency::Aed => "AED",
            Currency::Sar => "SAR",
            Currency::Qar => "QAR",
            Currency::Egp => "EGP",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Jpy => "JPY",
        }
    }
}

impl FromStr for Currency {
    type Err = UnknownCurrency;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::ALL
            .into_iter()
            .find(|c| c.code() == s)
            .ok_or_else(|| UnknownCurrency(s.to_owned()))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        code.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_decimal_gulf_currencies_have_exponent_three() {
        for code in ["KWD", "BHD", "OMR", "JOD"] {
            assert_eq!(code.parse::<Currency>().unwrap().exponent(), 3, "{code}");
        }
    }

    #[test]
    fn two_decimal_currencies_have_exponent_two() {
        for code in ["AED", "SAR", "QAR", "EGP", "USD", "EUR"] {
            assert_eq!(code.parse::<Currency>().unwrap().exponent(), 2, "{code}");
        }
    }

    #[test]
    fn codes_round_trip_and_lowercase_is_rejected() {
        for c in Currency::ALL {
            assert_eq!(c.code().parse::<Currency>(), Ok(c));
        }
        assert!("kwd".parse::<Currency>().is_err());
        assert!("XXX".parse::<Currency>().is_err());
    }
}
