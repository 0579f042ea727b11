//! Settings: redaction, production key rules, VAT and shipping overrides.
use super::*;

#[test]
fn database_passwords_never_print() {
    assert_eq!(
        redact_url("postgres://app:hunter2@db:5432/orders"),
        "postgres://app:[REDACTED]@db:5432/orders"
    );
    assert_eq!(
        redact_url("postgres://db/orders?password=hunter2"),
        "postgres://db/orders?[REDACTED]"
    );
    let config = Config {
        database_url: Some(SecretString::from("postgres://app:hunter2@db/orders")),
        jwt_secret: Some(SecretString::from("s".repeat(40))),
        ..Config::default()
    };
    let shown = format!("{} {:?}", config.redacted(), config);
    assert!(!shown.contains("hunter2"));
    assert!(!shown.contains(&"s".repeat(40)));
}

#[test]
fn production_refuses_to_start_without_a_real_key() {
    let config = Config {
        env: Environment::Production,
        ..Config::default()
    };
    assert!(config.validate().is_err());
    let short = Config {
        jwt_secret: Some(SecretString::from("short")),
        ..config.clone()
    };
    assert!(short.validate().is_err());
    let good = Config {
        jwt_secret: Some(SecretString::from("k".repeat(32))),
        ..config
    };
    assert!(good.validate().is_ok());
}

#[test]
fn vat_and_shipping_overrides_parse() {
    let config = Config {
        vat_rates: "KW=500".into(),
        shipping_fees: "KWD=750".into(),
        ..Config::default()
    };
    let policy = config.pricing_policy().unwrap();
    let kw = CountryCode::parse("KW").unwrap();
    assert_eq!(policy.vat.rate_for(&kw).map(BasisPoints::get), Some(500));
    assert_eq!(policy.shipping.fee_for(Currency::Kwd).amount_minor(), 750);
    assert!(
        Config {
            vat_rates: "KW=abc".into(),
            ..Config::default()
        }
        .validate()
        .is_err()
    );
}

#[test]
fn every_setting_is_both_read_from_the_environment_and_shown() {
    let shown = Config::default().redacted();
    let shown: std::collections::BTreeSet<&str> = shown.as_object().unwrap().keys().map(String::as_str).collect();
    let read: std::collections::BTreeSet<&str> = FIELDS.iter().copied().collect();
    assert_eq!(shown, read);
    assert!(read.contains("rate_limit_customer_per_sec") && read.contains("unpaid_order_ttl_secs"));
}
