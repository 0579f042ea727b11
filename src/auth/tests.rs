//! Verifying and minting: keys, claims and the development key file. The test keys are in tests/keys/.
use super::*;
use secrecy::SecretString;
use serde_json::{Value, json};

const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn config() -> Config {
    Config {
        jwt_secret: Some(SecretString::from(SECRET)),
        ..Config::default()
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn claims(extra: Value) -> Value {
    let mut c = json!({"sub": "cust-1", "scope": "orders:read", "iss": "orderly", "aud": "orderly-api",
        "iat": now(), "exp": now() + 600});
    for (k, v) in extra.as_object().into_iter().flatten() {
        if v.is_null() {
            c.as_object_mut().map(|m| m.remove(k));
        } else {
            c[k] = v.clone();
        }
    }
    c
}

fn hs256(claims: &Value, typ: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = typ.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap()
}

fn key_file(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name)
}

/// A token signed with the test key `name` (tests/keys/<name>.pem), its `kid` the key's name.
fn signed(name: &str, alg: Algorithm) -> String {
    let pem = std::fs::read(key_file(&format!("{name}.pem"))).unwrap();
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem),
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem),
        _ => EncodingKey::from_ed_pem(&pem),
    }
    .unwrap();
    let mut header = Header::new(alg);
    header.kid = Some(name.to_owned());
    jsonwebtoken::encode(&header, &claims(json!({})), &key).unwrap()
}

fn jwks(names: &[&str]) -> String {
    let keys: Vec<Value> = names
        .iter()
        .map(|n| serde_json::from_slice(&std::fs::read(key_file(&format!("{n}.jwk.json"))).unwrap()).unwrap())
        .collect();
    json!({ "keys": keys }).to_string()
}

async fn verifier(c: &Config) -> Verifier {
    Verifier::from_config(c).await.unwrap()
}

fn rejected(r: Result<Principal, AuthError>) -> Rejection {
    match r {
        Err(AuthError::Rejected(why)) => why,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn a_minted_token_verifies_with_its_scopes() {
    let c = config();
    let token = mint(&c, "cust-1", "orders:read:own orders:write:own", 60).unwrap();
    let p = verifier(&c).await.verify(&token).await.unwrap();
    assert_eq!(p.sub, "cust-1");
    assert!(p.has("orders:read:own"));
    assert!(!p.has("orders:read"));
}

#[tokio::test]
async fn expired_and_foreign_tokens_are_rejected() {
    let c = config();
    let expired = mint(&c, "x", "", -120).unwrap();
    assert!(verifier(&c).await.verify(&expired).await.is_err());
    let other = Config {
        jwt_secret: Some(SecretString::from("another-secret-another-secret-32")),
        ..config()
    };
    let foreign = mint(&other, "x", "", 60).unwrap();
    assert!(verifier(&c).await.verify(&foreign).await.is_err());
}

#[tokio::test]
async fn the_development_key_is_shared_through_its_file_readable_by_its_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let c = Config {
        dev_key_file: dir.path().join("dev.key"),
        ..Config::default()
    };
    let token = mint(&c, "ops", "orders:read", 60).unwrap();
    assert!(verifier(&c).await.verify(&token).await.is_ok());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&c.dev_key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "dev key file mode {:o}", mode & 0o777);
}

#[tokio::test]
async fn time_claims_are_checked_nbf_future_iat_and_the_lifetime_cap() {
    let v = verifier(&config()).await;
    let day = 86_400;
    let nbf = v.verify(&hs256(&claims(json!({"nbf": now() + day})), None)).await;
    assert!(
        matches!(nbf, Err(AuthError::Token(ref e)) if *e.kind() == jsonwebtoken::errors::ErrorKind::ImmatureSignature)
    );
    let iat = v.verify(&hs256(&claims(json!({"iat": now() + 365 * day})), None)).await;
    assert_eq!(rejected(iat), Rejection::NotYetValid);
    let forever = claims(json!({"exp": 4_102_444_800_i64}));
    assert_eq!(
        rejected(v.verify(&hs256(&forever, None)).await),
        Rejection::TooLongLived
    );
    let no_iat = claims(json!({"iat": null, "exp": now() + 2 * 3600}));
    assert_eq!(rejected(v.verify(&hs256(&no_iat, None)).await), Rejection::TooLongLived);
    // Within the leeway and the cap: fine.
    let ok = claims(json!({"iat": now() + 10, "nbf": now() + 10, "exp": now() + 3600}));
    assert!(v.verify(&hs256(&ok, None)).await.is_ok());
    let no_iat_ok = claims(json!({"iat": null}));
    assert!(v.verify(&hs256(&no_iat_ok, None)).await.is_ok());
}

#[tokio::test]
async fn the_audience_may_be_an_array() {
    let v = verifier(&config()).await;
    let many = claims(json!({"aud": ["billing", "orderly-api"]}));
    assert!(v.verify(&hs256(&many, None)).await.is_ok());
    let others = claims(json!({"aud": ["billing", "crm"]}));
    assert!(v.verify(&hs256(&others, None)).await.is_err());
}

#[tokio::test]
async fn typ_at_jwt_is_required_when_configured() {
    let strict = verifier(&Config {
        jwt_require_typ: true,
        ..config()
    })
    .await;
    let c = claims(json!({}));
    assert_eq!(
        rejected(strict.verify(&hs256(&c, Some("JWT"))).await),
        Rejection::NotAnAccessToken
    );
    assert_eq!(
        rejected(strict.verify(&hs256(&c, None)).await),
        Rejection::NotAnAccessToken
    );
    assert!(strict.verify(&hs256(&c, Some("at+jwt"))).await.is_ok());
    assert!(strict.verify(&hs256(&c, Some("application/AT+JWT"))).await.is_ok());
    // Minted tokens are access tokens; without the setting any typ passes.
    assert!(strict.verify(&mint(&config(), "x", "", 60).unwrap()).await.is_ok());
    assert!(verifier(&config()).await.verify(&hs256(&c, Some("JWT"))).await.is_ok());
}

#[tokio::test]
async fn a_jwks_file_verifies_rs256_es256_and_eddsa_by_kid_and_follows_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, jwks(&["rsa-old", "ec", "ed"])).unwrap();
    let c = Config {
        jwt_jwks_file: Some(file.clone()),
        jwt_jwks_min_refresh_secs: 0,
        ..Config::default()
    };
    let v = verifier(&c).await;
    for (name, alg) in [
        ("rsa-old", Algorithm::RS256),
        ("ec", Algorithm::ES256),
        ("ed", Algorithm::EdDSA),
    ] {
        let p = v
            .verify(&signed(name, alg))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(p.sub, "cust-1");
    }
    // Not yet published: unknown.
    assert_eq!(
        rejected(v.verify(&signed("rsa-new", Algorithm::RS256)).await),
        Rejection::UnknownKey
    );
    // Overlap: both published; the new kid makes the verifier read the file again.
    std::fs::write(&file, jwks(&["rsa-old", "rsa-new"])).unwrap();
    assert!(v.verify(&signed("rsa-new", Algorithm::RS256)).await.is_ok());
    assert!(v.verify(&signed("rsa-old", Algorithm::RS256)).await.is_ok());
    // Only the new key: after the next reload, the old one is refused.
    std::fs::write(&file, jwks(&["rsa-new"])).unwrap();
    v.jwks().unwrap().refresh().await;
    assert_eq!(
        rejected(v.verify(&signed("rsa-old", Algorithm::RS256)).await),
        Rejection::UnknownKey
    );
    assert!(v.verify(&signed("rsa-new", Algorithm::RS256)).await.is_ok());
}

#[tokio::test]
async fn unknown_kids_reload_the_jwks_at_most_once_per_interval() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, jwks(&["rsa-old"])).unwrap();
    let c = Config {
        jwt_jwks_file: Some(file.clone()),
        jwt_jwks_min_refresh_secs: 3600,
        ..Config::default()
    };
    let v = verifier(&c).await;
    std::fs::write(&file, jwks(&["rsa-old", "rsa-new"])).unwrap();
    // Loaded at startup, so not reloaded for an hour however many unknown kids arrive.
    assert_eq!(
        rejected(v.verify(&signed("rsa-new", Algorithm::RS256)).await),
        Rejection::UnknownKey
    );
    assert_eq!(v.jwks().unwrap().len(), 1);
}

#[tokio::test]
async fn a_jwks_never_enables_hs256_or_a_key_for_another_algorithm() {
    // A symmetric key, an encryption key, a key without kid and an RSA key labelled ES256: none is usable.
    let rsa: Value = serde_json::from_str(&jwks(&["rsa-old"])).unwrap();
    let rsa = rsa["keys"][0].clone();
    let mut enc = rsa.clone();
    enc["kid"] = json!("enc");
    enc["use"] = json!("enc");
    let mut no_kid = rsa.clone();
    no_kid.as_object_mut().unwrap().remove("kid");
    let mut mislabelled = rsa.clone();
    mislabelled["kid"] = json!("mislabelled");
    mislabelled["alg"] = json!("ES256");
    let oct = json!({"kty": "oct", "kid": "hs", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"});
    let doc = json!({"keys": [oct, enc, no_kid, mislabelled]}).to_string();
    assert!(jwks::parse(doc.as_bytes()).is_err());
    let with_one = json!({"keys": [json!({"kty": "oct", "kid": "hs", "k": "c2VjcmV0"}), rsa]}).to_string();
    let keys = jwks::parse(with_one.as_bytes()).unwrap();
    assert_eq!(keys.keys().collect::<Vec<_>>(), vec!["rsa-old"]);

    // An HS256 token naming a JWKS kid, signed with the RSA key's public parts as the secret, is refused.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, jwks(&["rsa-old"])).unwrap();
    let v = verifier(&Config {
        jwt_jwks_file: Some(file),
        ..Config::default()
    })
    .await;
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa-old".into());
    let forged = jsonwebtoken::encode(&header, &claims(json!({})), &EncodingKey::from_secret(b"anything")).unwrap();
    assert!(matches!(v.verify(&forged).await, Err(AuthError::Token(_))));
}
