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

/// A production configuration with the seller of its invoices set.
fn production() -> Config {
    Config {
        env: Environment::Production,
        seller_name: Some("Gulf Trading Co.".into()),
        seller_vat_number: Some("310122393500003".into()),
        ..Config::default()
    }
}

#[test]
fn production_refuses_to_start_without_the_seller_and_development_has_defaults() {
    let key = Some(SecretString::from(
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    ));
    let good = Config {
        jwt_secret: key.clone(),
        ..production()
    };
    assert!(good.validate().is_ok());
    assert_eq!(good.seller().unwrap().name, "Gulf Trading Co.");
    for (name, vat) in [
        (None, Some("310122393500003")),
        (Some("Gulf Trading Co."), None),
        (Some("  "), Some("1")),
    ] {
        let missing = Config {
            seller_name: name.map(Into::into),
            seller_vat_number: vat.map(Into::into),
            ..good.clone()
        };
        let refused = missing.validate().unwrap_err().to_string();
        assert!(refused.contains("required in production"), "{refused}");
    }
    let development = Config::default().seller().unwrap();
    assert_eq!(development.name, "Orderly Development Store");
    assert_eq!(development.vat_number, "300000000000003");
    // A ZATCA QR record holds at most 255 bytes: 128 Arabic letters are 256.
    let long = Config {
        seller_name: Some("ع".repeat(128)),
        ..good.clone()
    };
    assert!(long.validate().unwrap_err().to_string().contains("at most 255"));
    let fits = Config {
        seller_name: Some("ع".repeat(127)),
        ..good
    };
    assert!(fits.validate().is_ok());
}

#[test]
fn production_refuses_to_start_without_a_real_key() {
    let config = production();
    assert!(config.validate().is_err());
    let short = Config {
        jwt_secret: Some(SecretString::from("short")),
        ..config.clone()
    };
    assert!(short.validate().is_err());
    let good = Config {
        jwt_secret: Some(SecretString::from(
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        )),
        ..config
    };
    assert!(good.validate().is_ok());
}

fn production_with_secret(secret: &str, dev_key_file: PathBuf) -> Config {
    Config {
        jwt_secret: Some(SecretString::from(secret)),
        dev_key_file,
        ..production()
    }
}

fn refusal(config: &Config) -> String {
    match config.validate() {
        Err(e) => e.to_string(),
        Ok(()) => panic!("accepted a weak secret: {:?}", config.jwt_secret),
    }
}

#[test]
fn production_refuses_weak_secrets_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let none = dir.path().join("no-dev.key");
    let refused = |s: &str| refusal(&production_with_secret(s, none.clone()));
    assert!(refused("short-but-random-7f3a").contains("at least 32"));
    assert!(
        refused(&"a".repeat(32)).contains("too little entropy"),
        "{}",
        refused(&"a".repeat(32))
    );
    assert!(refused(&"ab".repeat(16)).contains("too little entropy"));
    assert!(refused(&"1234567890".repeat(4)).contains("repeats itself"));
    assert!(refused("passwordpasswordpasswordpassword!").contains("repeats itself"));
    // Keys this repository publishes (compose.yaml, the test suites) are refused whatever their entropy.
    assert!(refused("compose-only-secret-replace-me-0123456789").contains("development key"));
    assert!(refused("test-secret-test-secret-test-secret!").contains("development key"));
    for message in [
        refused(&"a".repeat(32)),
        refused("compose-only-secret-replace-me-0123456789"),
    ] {
        assert!(
            message.contains("ORDERLY_JWT_SECRET") && message.contains("openssl rand -hex 32"),
            "{message}"
        );
    }
}

#[test]
fn production_refuses_the_contents_of_the_development_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("orderly-dev.key");
    let key = "5be8b0a4c2d1e3f49a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f";
    std::fs::write(&dev, format!("{key}\n")).unwrap();
    assert!(
        refusal(&production_with_secret(key, dev.clone())).contains("development key (the contents of dev_key_file)")
    );
    let other = "0e2b1a9c8d7f6e5d4c3b2a19f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c";
    assert!(production_with_secret(other, dev).validate().is_ok());
}

#[test]
fn random_secrets_pass_the_strength_rules() {
    use rand::RngCore;
    // 16 random bytes as 32 hex digits is the weakest shape accepted; it must never be refused by chance.
    for _ in 0..2000 {
        let mut bytes = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut bytes);
        let secret = hex::encode(bytes);
        assert_eq!(keys::weak_secret(secret.as_bytes(), None), None, "{secret}");
    }
}

#[test]
fn production_accepts_a_jwks_instead_of_a_secret_and_wants_it_over_https() {
    let jwks = Config {
        jwt_jwks_url: Some("https://idp.example.com/.well-known/jwks.json".into()),
        ..production()
    };
    assert!(jwks.validate().is_ok());
    let plain = Config {
        jwt_jwks_url: Some("http://idp.example.com/jwks.json".into()),
        ..jwks.clone()
    };
    assert!(refusal(&plain).contains("https://"));
    let development = Config {
        env: Environment::Development,
        ..plain
    };
    assert!(development.validate().is_ok());
    let both = Config {
        jwt_jwks_file: Some("/etc/orderly/jwks.json".into()),
        ..jwks
    };
    assert!(refusal(&both).contains("not both"));
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

#[test]
fn a_vat_number_of_digits_is_read_as_text() {
    let figment = figment::Figment::from(Serialized::defaults(DefaultsOnly::default()))
        .merge(Serialized::default("seller_vat_number", 300000000000003u64))
        .merge(Serialized::default("seller_name", 7));
    let config: Config = figment.extract().unwrap();
    assert_eq!(config.seller_vat_number.as_deref(), Some("300000000000003"));
    assert_eq!(config.seller_name.as_deref(), Some("7"));
}
