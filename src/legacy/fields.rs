//! Reading one legacy field: amounts, store-local times, phones, countries and codes, each to an Orderly value or
//! the contract's reason code. No floating point: amounts go from decimal text straight to minor units.

use std::fmt;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use time::OffsetDateTime;

use crate::domain::currency::Currency;

/// Why a legacy order (or row) was rejected: the reason codes of the export contract, plus `bad_value` for a
/// value Orderly cannot hold that the contract does not name (an id that is not an integer, a SKU with spaces, a
/// phone with letters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    DuplicateConflict,
    OrphanItem,
    OrphanPayment,
    NoItems,
    TotalsMismatch,
    BadQuantity,
    UnknownCurrency,
    BadAmount,
    BadDate,
    RefundExceedsPaid,
    BadCode,
    MissingField,
    BadCountry,
    BadValue,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::DuplicateConflict => "duplicate_conflict",
            Reason::OrphanItem => "orphan_item",
            Reason::OrphanPayment => "orphan_payment",
            Reason::NoItems => "no_items",
            Reason::TotalsMismatch => "totals_mismatch",
            Reason::BadQuantity => "bad_quantity",
            Reason::UnknownCurrency => "unknown_currency",
            Reason::BadAmount => "bad_amount",
            Reason::BadDate => "bad_date",
            Reason::RefundExceedsPaid => "refund_exceeds_paid",
            Reason::BadCode => "bad_code",
            Reason::MissingField => "missing_field",
            Reason::BadCountry => "bad_country",
            Reason::BadValue => "bad_value",
        }
    }
}

/// A field that could not be read: the reason and what was wrong, for `rejected.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub reason: Reason,
    pub detail: String,
}

impl Fault {
    pub fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Fault {
            reason,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason.code(), self.detail)
    }
}

/// `NULL` (however quoted) and an empty field both mean null.
pub fn nullable(raw: &str) -> Option<&str> {
    if raw.is_empty() || raw == "NULL" {
        None
    } else {
        Some(raw)
    }
}

pub fn required<'a>(column: &str, raw: &'a str) -> Result<&'a str, Fault> {
    nullable(raw).ok_or_else(|| Fault::new(Reason::MissingField, format!("{column} is null")))
}

pub fn integer(column: &str, raw: &str) -> Result<i64, Fault> {
    let value = required(column, raw)?;
    value
        .trim()
        .parse()
        .map_err(|_| Fault::new(Reason::BadValue, format!("{column} `{value}` is not an integer")))
}

pub fn currency(raw: &str) -> Result<Currency, Fault> {
    let value = required("CURRENCY", raw)?;
    value
        .trim()
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| Fault::new(Reason::UnknownCurrency, format!("currency `{value}`")))
}

/// Decimal text (`1,234.500`, `12.5`) in minor units of `currency`: at most as many decimals as the currency
/// has, thousands commas only in groups of three, no sign.
pub fn amount(column: &str, raw: &str, currency: Currency) -> Result<i64, Fault> {
    let value = required(column, raw)?;
    let bad = || Fault::new(Reason::BadAmount, format!("{column} `{value}`"));
    let text = value.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let groups: Vec<&str> = whole.split(',').collect();
    let grouped_ok = groups.len() == 1
        || (!groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3));
    let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !grouped_ok || !groups.iter().all(|g| digits_ok(g)) || !digits_ok(fraction) {
        return Err(bad());
    }
    if text.contains('.') && fraction.is_empty() {
        return Err(bad());
    }
    let exponent = currency.exponent() as usize;
    if fraction.len() > exponent {
        return Err(Fault::new(
            Reason::BadAmount,
            format!(
                "{column} `{value}` has more than {exponent} decimals for {}",
                currency.code()
            ),
        ));
    }
    let mut minor_text: String = groups.concat();
    minor_text.push_str(fraction);
    minor_text.extend(std::iter::repeat_n('0', exponent - fraction.len()));
    minor_text.parse::<i64>().map_err(|_| bad())
}

/// A legacy store: its code and the IANA zone its wall-clock times are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    Dxb,
    Ruh,
    Jed,
    Kwi,
}

impl Store {
    pub fn parse(raw: &str) -> Result<Self, Fault> {
        let value = required("STORE", raw)?;
        match value.trim().to_ascii_uppercase().as_str() {
            "DXB" => Ok(Store::Dxb),
            "RUH" => Ok(Store::Ruh),
            "JED" => Ok(Store::Jed),
            "KWI" => Ok(Store::Kwi),
            _ => Err(Fault::new(Reason::BadCode, format!("store `{value}`"))),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Store::Dxb => "DXB",
            Store::Ruh => "RUH",
            Store::Jed => "JED",
            Store::Kwi => "KWI",
        }
    }

    pub fn zone(self) -> &'static str {
        match self {
            Store::Dxb => "Asia/Dubai",
            Store::Ruh | Store::Jed => "Asia/Riyadh",
            Store::Kwi => "Asia/Kuwait",
        }
    }
}

/// The time zones of the stores, looked up once in the bundled tz database.
pub struct Zones {
    zones: [TimeZone; 4],
}

impl Zones {
    pub fn load() -> anyhow::Result<Self> {
        let get = |s: Store| TimeZone::get(s.zone()).map_err(|e| anyhow::anyhow!("time zone {}: {e}", s.zone()));
        Ok(Zones {
            zones: [get(Store::Dxb)?, get(Store::Ruh)?, get(Store::Jed)?, get(Store::Kwi)?],
        })
    }

    fn of(&self, store: Store) -> &TimeZone {
        &self.zones[store as usize]
    }

    /// `dd/MM/yyyy HH:mm:ss` in the store's zone, as UTC. An impossible date or time is `bad_date`.
    pub fn time(&self, column: &str, raw: &str, store: Store) -> Result<OffsetDateTime, Fault> {
        let value = required(column, raw)?;
        let bad = || Fault::new(Reason::BadDate, format!("{column} `{value}`"));
        let wall = DateTime::strptime("%d/%m/%Y %H:%M:%S", value.trim()).map_err(|_| bad())?;
        let instant = self
            .of(store)
            .to_ambiguous_timestamp(wall)
            .compatible()
            .map_err(|_| bad())?;
        let micros = instant.as_microsecond();
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).map_err(|_| bad())
    }
}

/// Ship countries as the legacy system spells them, to ISO 3166-1 alpha-2.
pub fn country(raw: &str) -> Result<&'static str, Fault> {
    let value = required("SHIP_COUNTRY", raw)?;
    let key: String = value.trim().to_lowercase();
    let code = match key.as_str() {
        "ae" | "u.a.e" | "u.a.e." | "uae" | "united arab emirates" => "AE",
        "sa" | "ksa" | "saudi arabia" | "k.s.a" => "SA",
        "kw" | "kuwait" => "KW",
        "bh" | "bahrain" => "BH",
        "om" | "oman" => "OM",
        "qa" | "qatar" => "QA",
        "eg" | "egypt" => "EG",
        _ => return Err(Fault::new(Reason::BadCountry, format!("country `{value}`"))),
    };
    Ok(code)
}

fn calling_code(country: &str) -> &'static str {
    match country {
        "AE" => "971",
        "SA" => "966",
        "KW" => "965",
        "BH" => "973",
        "OM" => "968",
        "QA" => "974",
        _ => "20",
    }
}

/// Any Unicode decimal digit the exports carry (ASCII, Arabic-Indic, Persian) as its value.
fn digit(c: char) -> Option<char> {
    let value = match c {
        '0'..='9' => c as u32 - '0' as u32,
        '\u{0660}'..='\u{0669}' => c as u32 - 0x0660,
        '\u{06F0}'..='\u{06F9}' => c as u32 - 0x06F0,
        _ => return None,
    };
    char::from_digit(value, 10)
}

/// A phone as E.164: `+` or `00` starts an international number; otherwise a leading trunk `0` is dropped and
/// the ship country's calling code goes in front. Spaces, dashes, dots and brackets are ignored.
pub fn phone(raw: &str, country: &str) -> Result<Option<String>, Fault> {
    let Some(value) = nullable(raw) else {
        return Ok(None);
    };
    let bad = || Fault::new(Reason::BadValue, format!("phone `{value}`"));
    let text = value.trim();
    let (international, rest) = match text.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match digit(c) {
            Some(d) => digits.push(d),
            None if matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{00A0}') => {}
            None => return Err(bad()),
        }
    }
    let e164 = if international {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else {
        let national = digits.strip_prefix('0').unwrap_or(&digits);
        format!("{}{national}", calling_code(country))
    };
    if !(8..=15).contains(&e164.len()) || e164.starts_with('0') {
        return Err(bad());
    }
    Ok(Some(format!("+{e164}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_minor_units() {
        assert_eq!(amount("T", "1,234.500", Currency::Kwd), Ok(1_234_500));
        assert_eq!(amount("T", "12.5", Currency::Kwd), Ok(12_500));
        assert_eq!(amount("T", "12", Currency::Aed), Ok(1_200));
        assert_eq!(amount("T", "0.05", Currency::Aed), Ok(5));
        for bad in ["12.345", "1,23.00", "abc", "1.2.3", "-5", "12.", ",123", "1e3"] {
            assert_eq!(
                amount("T", bad, Currency::Aed).map_err(|f| f.reason),
                Err(Reason::BadAmount),
                "{bad}"
            );
        }
        assert_eq!(
            amount("T", "NULL", Currency::Aed).map_err(|f| f.reason),
            Err(Reason::MissingField)
        );
    }

    #[test]
    fn store_times_become_utc() {
        let zones = Zones::load().unwrap();
        let t = zones.time("D", "02/01/2019 01:30:00", Store::Dxb).unwrap();
        assert_eq!(t.to_string(), "2019-01-01 21:30:00.0 +00:00:00");
        let t = zones.time("D", "15/06/2020 12:00:00", Store::Kwi).unwrap();
        assert_eq!(t.hour(), 9);
        for bad in [
            "31/02/2019 10:00:00",
            "01/01/2019 25:10:00",
            "01/01/2019 10:61:00",
            "2019-01-01",
        ] {
            assert_eq!(
                zones.time("D", bad, Store::Ruh).map_err(|f| f.reason),
                Err(Reason::BadDate),
                "{bad}"
            );
        }
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(
            phone("+971 50 123 4567", "AE").unwrap().as_deref(),
            Some("+971501234567")
        );
        assert_eq!(phone("0501234567", "AE").unwrap().as_deref(), Some("+971501234567"));
        assert_eq!(phone("00971501234567", "SA").unwrap().as_deref(), Some("+971501234567"));
        assert_eq!(phone("٠٥٠١٢٣٤٥٦٧", "SA").unwrap().as_deref(), Some("+966501234567"));
        assert_eq!(phone("NULL", "SA").unwrap(), None);
        assert!(phone("call me", "KW").is_err());
    }

    #[test]
    fn countries_by_any_spelling() {
        for (raw, code) in [
            ("U.A.E", "AE"),
            ("united arab emirates", "AE"),
            ("KSA", "SA"),
            ("kuwait", "KW"),
        ] {
            assert_eq!(country(raw), Ok(code));
        }
        assert_eq!(country("Narnia").map_err(|f| f.reason), Err(Reason::BadCountry));
    }
}
