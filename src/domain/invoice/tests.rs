use base64::Engine;
use time::macros::datetime;

use super::*;
use crate::domain::Currency;

#[test]
fn numbers_are_kind_store_year_and_six_digits() {
    let store = StoreCode::parse("KW").unwrap();
    assert_eq!(DocumentKind::Invoice.number(&store, 2026, 1), "INV-KW-2026-000001");
    assert_eq!(DocumentKind::CreditNote.number(&store, 2027, 123), "CN-KW-2027-000123");
}

#[test]
fn the_qr_payload_is_tlv_in_base64() {
    let seller = Seller {
        name: "متجر".into(),
        vat_number: "300000000000003".into(),
    };
    let at = datetime!(2026-12-01 10:15:00.123 UTC);
    let qr = zatca::payload(
        &seller,
        at,
        Money::new(23000, Currency::Sar),
        Money::new(3000, Currency::Sar),
    )
    .unwrap();
    let bytes = base64::engine::general_purpose::STANDARD.decode(qr).unwrap();
    assert_eq!(&bytes[..2], &[1, "متجر".len() as u8]);
    let tail = String::from_utf8_lossy(&bytes);
    assert!(tail.contains("2026-12-01T10:15:00Z"));
    assert!(tail.contains("230.00"));
    assert!(tail.contains("30.00"));
}

#[test]
fn a_value_over_255_bytes_is_refused() {
    let long = "x".repeat(256);
    assert_eq!(zatca::encode(&[(1, &long)]), Err(zatca::TooLong { tag: 1, len: 256 }));
    assert!(zatca::encode(&[(1, &"x".repeat(255))]).is_ok());
}
