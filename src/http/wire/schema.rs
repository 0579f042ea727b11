//! The constraints the server enforces, stated in the OpenAPI schemas (`#[schema(schema_with = ...)]`), so that a
//! request the document calls valid is one the server accepts and the other way round. Each function mirrors one
//! parser in `crate::domain::values` or `crate::domain::order`; `tests/openapi.rs` holds them to each other.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// What free text may not contain (`domain::text`): control characters, line and paragraph separators, bidi
/// controls and the other format characters of the Basic Multilingual Plane except ZWNJ/ZWJ. (The few astral
/// format characters, such as the tag characters, are refused too, but a pattern portable between ECMA-262 and
/// Python cannot name them.)
macro_rules! refused_class {
    () => {
        r"\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    };
}

/// Free text (`domain::text`): at least one character that is not white space, none of the refused ones.
pub const TEXT_PATTERN: &str = concat!(
    r"^[^",
    refused_class!(),
    r"]*[^\s",
    refused_class!(),
    r"][^",
    refused_class!(),
    r"]*$"
);
/// A SKU (`values::Sku`).
pub const SKU_PATTERN: &str = r"^[A-Za-z0-9._-]{1,64}$";
/// A customer id (`values::CustomerId`): 1 to 128 characters, none of the ones free text refuses.
pub const CUSTOMER_ID_PATTERN: &str = concat!(r"^[^", refused_class!(), r"]{1,128}$");
/// A country (`values::CountryCode`): ISO 3166-1 alpha-2.
pub const COUNTRY_PATTERN: &str = r"^[A-Z]{2}$";
/// A phone number (`order::phone`): an optional `+`, then 6 to 20 digits; spaces and dashes are ignored.
pub const PHONE_PATTERN: &str = r"^[ -]*\+?(?:[ -]*[0-9]){6,20}[ -]*$";
/// The most units of one SKU on one line, by default (`limits.max_quantity`).
pub const MAX_QUANTITY: f64 = 1_000.0;
/// The most lines in one request, by default (`limits.max_lines`).
pub const MAX_LINES: usize = 100;

fn string(nullable: bool) -> ObjectBuilder {
    let kind = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::new(Type::String)
    };
    ObjectBuilder::new().schema_type(kind)
}

fn text_of(max: usize, nullable: bool) -> Object {
    string(nullable)
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(TEXT_PATTERN))
        .build()
}

pub fn text_100() -> Object {
    text_of(100, false)
}

pub fn text_200() -> Object {
    text_of(200, false)
}

pub fn text_300() -> Object {
    text_of(300, false)
}

pub fn optional_text_300() -> Object {
    text_of(300, true)
}

/// A free-text reason, which may be left out or null.
pub fn reason() -> Object {
    text_of(500, true)
}

pub fn sku() -> Object {
    string(false)
        .pattern(Some(SKU_PATTERN))
        .examples(["OUD-ROYAL-50"])
        .build()
}

pub fn customer_id() -> Object {
    string(true).pattern(Some(CUSTOMER_ID_PATTERN)).build()
}

pub fn country() -> Object {
    string(false).pattern(Some(COUNTRY_PATTERN)).examples(["KW"]).build()
}

pub fn phone() -> Object {
    string(false)
        .pattern(Some(PHONE_PATTERN))
        .examples(["+965 5000 0000"])
        .build()
}

/// An int64 between `min` and `max`, which may be null when `nullable`.
fn integer(min: f64, max: f64, nullable: bool) -> Object {
    let kind = if nullable {
        SchemaType::from_iter([Type::Integer, Type::Null])
    } else {
        SchemaType::new(Type::Integer)
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Int64,
        )))
        .minimum(Some(min))
        .maximum(Some(max))
        .build()
}

pub fn quantity() -> Object {
    integer(1.0, MAX_QUANTITY, false)
}

/// An amount in minor units that must be at least 1 (captures, refunds, authorisations, collections).
pub fn amount() -> Object {
    integer(1.0, i64::MAX as f64, false)
}

pub fn optional_amount() -> Object {
    integer(1.0, i64::MAX as f64, true)
}

pub fn currency() -> Object {
    let codes: Vec<&str> = crate::domain::currency::Currency::ALL
        .iter()
        .map(|c| c.code())
        .collect();
    string(false).enum_values(Some(codes)).examples(["KWD"]).build()
}

pub fn payment_method() -> Object {
    string(false).enum_values(Some(["card", "cod"])).build()
}

/// A non-negative amount or count in minor units or units (prices, stock on hand).
pub fn non_negative() -> Object {
    integer(0.0, i64::MAX as f64, false)
}

pub fn tax_class() -> Object {
    string(false).enum_values(Some(["standard", "zero", "exempt"])).build()
}

/// Deserializers for integers that accept what JSON Schema calls an integer: `3` and also `3.0`.
pub mod integral {
    use serde::de::{Deserialize, Deserializer, Error};

    fn exact(n: serde_json::Number) -> Option<i64> {
        n.as_i64().or_else(|| {
            let f = n.as_f64()?;
            // Within the range where every integral f64 is an exact i64.
            (f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0).then_some(f as i64)
        })
    }

    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        exact(n).ok_or_else(|| D::Error::custom("expected an integer"))
    }

    pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<serde_json::Number>::deserialize(d)? {
            Some(n) => exact(n)
                .map(Some)
                .ok_or_else(|| D::Error::custom("expected an integer")),
            None => Ok(None),
        }
    }
}

/// A remittance line's or deduction's amount (`domain::cod::MAX_AMOUNT_MINOR`).
pub fn cod_amount() -> Object {
    integer(1.0, crate::domain::cod::MAX_AMOUNT_MINOR as f64, false)
}

pub fn optional_text_100() -> Object {
    text_of(100, true)
}

pub fn deduction_kind() -> Object {
    string(false).enum_values(Some(["fee", "return_fee", "other"])).build()
}
