//! ZATCA phase 1 (Saudi simplified tax invoices): the QR code's payload is base64 of TLV records, each a one-byte
//! tag, a one-byte length and that many bytes of UTF-8: 1 seller name, 2 VAT registration number, 3 time of issue
//! (UTC, `2026-12-01T10:15:00Z`), 4 total with VAT, 5 VAT total (decimal text with the currency's digits).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use time::OffsetDateTime;
use time::macros::format_description;

use super::Seller;
use crate::domain::money::Money;

/// A TLV value is at most 255 bytes.
pub const MAX_VALUE_BYTES: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ZATCA QR tag {tag} is {len} bytes long, more than 255")]
pub struct TooLong {
    pub tag: u8,
    pub len: usize,
}

/// `2026-12-01T10:15:00Z`: whole seconds, UTC.
pub fn timestamp(at: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.to_offset(time::UtcOffset::UTC).format(fmt).unwrap_or_default()
}

/// TLV records, base64.
pub fn encode(records: &[(u8, &str)]) -> Result<String, TooLong> {
    let mut bytes = Vec::new();
    for &(tag, value) in records {
        let len = u8::try_from(value.len()).map_err(|_| TooLong { tag, len: value.len() })?;
        bytes.push(tag);
        bytes.push(len);
        bytes.extend_from_slice(value.as_bytes());
    }
    Ok(STANDARD.encode(bytes))
}

/// The phase-1 payload of a document.
pub fn payload(seller: &Seller, issued_at: OffsetDateTime, total: Money, vat: Money) -> Result<String, TooLong> {
    encode(&[
        (1, &seller.name),
        (2, &seller.vat_number),
        (3, &timestamp(issued_at)),
        (4, &total.decimal()),
        (5, &vat.decimal()),
    ])
}
