//! The seller on tax invoices and credit notes (docs/invoices.md): the business's legal name and VAT registration
//! number. Development has defaults; production refuses to start without both, since an invoice with a made-up
//! seller is worse than none. Each must fit a ZATCA QR record (at most 255 bytes of UTF-8).

use serde::{Deserialize, Deserializer};

use super::{Config, ConfigError, Environment, invalid};
use crate::domain::invoice::Seller;
use crate::domain::invoice::zatca::MAX_VALUE_BYTES;

pub const DEVELOPMENT_SELLER_NAME: &str = "Orderly Development Store";
pub const DEVELOPMENT_SELLER_VAT_NUMBER: &str = "300000000000003";

fn setting(name: &str, value: Option<&str>, default: &str, env: Environment) -> Result<String, ConfigError> {
    let value = match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => v.to_owned(),
        None if env == Environment::Production => {
            return Err(invalid(format!(
                "{name} is required in production (ORDERLY_{}): it is printed on every tax invoice",
                name.to_uppercase()
            )));
        }
        None => default.to_owned(),
    };
    if value.len() > MAX_VALUE_BYTES {
        return Err(invalid(format!(
            "{name} is {} bytes of UTF-8, at most {MAX_VALUE_BYTES}",
            value.len()
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!("{name} must not hold control characters")));
    }
    Ok(value)
}

/// A setting that is text even when it looks like a number: the environment provider reads
/// `ORDERLY_SELLER_VAT_NUMBER=300000000000003` as an integer.
pub(super) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

/// The environment's text exactly as set (a number read back would lose leading zeros and a `+`).
pub(super) fn exact_from_env(config: &mut Config) {
    if let Ok(v) = std::env::var("ORDERLY_SELLER_NAME") {
        config.seller_name = Some(v);
    }
    if let Ok(v) = std::env::var("ORDERLY_SELLER_VAT_NUMBER") {
        config.seller_vat_number = Some(v);
    }
}

impl Config {
    /// The seller of the documents: configured, or the development defaults outside production.
    pub fn seller(&self) -> Result<Seller, ConfigError> {
        Ok(Seller {
            name: setting(
                "seller_name",
                self.seller_name.as_deref(),
                DEVELOPMENT_SELLER_NAME,
                self.env,
            )?,
            vat_number: setting(
                "seller_vat_number",
                self.seller_vat_number.as_deref(),
                DEVELOPMENT_SELLER_VAT_NUMBER,
                self.env,
            )?,
        })
    }
}
