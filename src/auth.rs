//! Bearer JWTs: verifying them for the API and minting them for development (`orderly token`).
//!
//! HS256 with a shared secret, or RS256/ES256 with a PEM public key (and a private key for minting). In
//! development, with no key configured, a random HS256 key is generated once into `dev_key_file`, so a server and
//! a `token` command run from the same directory agree. Production refuses that file (see `Config::validate`).

use std::collections::HashSet;
use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::config::{Config, Environment};

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// Space-separated scopes, as in OAuth 2.0.
    #[serde(default)]
    pub scope: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// Who is calling and what they may do.
#[derive(Clone, Debug)]
pub struct Principal {
    pub sub: String,
    scopes: HashSet<String>,
}

impl Principal {
    pub fn new(sub: impl Into<String>, scope: &str) -> Self {
        Principal {
            sub: sub.into(),
            scopes: scope.split_whitespace().map(str::to_owned).collect(),
        }
    }

    pub fn has(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }

    /// A customer's token: every scope it holds is an `:own` one (the rate limiter's class).
    pub fn only_own_scopes(&self) -> bool {
        self.scopes.iter().all(|s| s.ends_with(":own"))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Key(String),
    #[error("token rejected: {0}")]
    Token(#[from] jsonwebtoken::errors::Error),
}

fn key_err(msg: impl Into<String>) -> AuthError {
    AuthError::Key(msg.into())
}

fn algorithm(config: &Config) -> Result<Algorithm, AuthError> {
    match config.jwt_algorithm.as_str() {
        "HS256" => Ok(Algorithm::HS256),
        "RS256" => Ok(Algorithm::RS256),
        "ES256" => Ok(Algorithm::ES256),
        other => Err(key_err(format!(
            "unsupported jwt_algorithm {other}; use HS256, RS256 or ES256"
        ))),
    }
}

/// The HS256 secret: configured, or in development the generated key file (created on first use).
fn shared_secret(config: &Config) -> Result<Vec<u8>, AuthError> {
    if let Some(secret) = &config.jwt_secret {
        return Ok(secret.expose_secret().as_bytes().to_vec());
    }
    if config.env == Environment::Production {
        return Err(key_err(
            "production needs ORDERLY_JWT_SECRET; the development key is refused",
        ));
    }
    dev_key(&config.dev_key_file)
}

fn dev_key(path: &Path) -> Result<Vec<u8>, AuthError> {
    match std::fs::read_to_string(path) {
        Ok(existing) if existing.trim().len() >= 32 => return Ok(existing.trim().as_bytes().to_vec()),
        Ok(_) => {
            return Err(key_err(format!(
                "{} holds no usable key; delete it to regenerate",
                path.display()
            )));
        }
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(key_err(format!("cannot read {}: {e}", path.display())));
        }
        Err(_) => {}
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let key = hex::encode(bytes);
    // create_new: two processes starting at once never overwrite each other's key.
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, key.as_bytes()));
    match written {
        Ok(()) => Ok(key.into_bytes()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => dev_key(path),
        Err(e) => Err(key_err(format!("cannot write {}: {e}", path.display()))),
    }
}

fn read_pem(path: &Path) -> Result<Vec<u8>, AuthError> {
    std::fs::read(path).map_err(|e| key_err(format!("cannot read {}: {e}", path.display())))
}

/// Checks tokens on every request.
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl Verifier {
    pub fn from_config(config: &Config) -> Result<Self, AuthError> {
        let alg = algorithm(config)?;
        let key = match alg {
            Algorithm::HS256 => DecodingKey::from_secret(&shared_secret(config)?),
            Algorithm::RS256 | Algorithm::ES256 => {
                let path = config
                    .jwt_public_key_file
                    .as_deref()
                    .ok_or_else(|| key_err("RS256/ES256 need ORDERLY_JWT_PUBLIC_KEY_FILE"))?;
                let pem = read_pem(path)?;
                if alg == Algorithm::RS256 {
                    DecodingKey::from_rsa_pem(&pem)?
                } else {
                    DecodingKey::from_ec_pem(&pem)?
                }
            }
            _ => return Err(key_err("unsupported algorithm")),
        };
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.leeway = 30;
        Ok(Verifier { key, validation })
    }

    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)?;
        Ok(Principal::new(data.claims.sub, &data.claims.scope))
    }
}

/// Mints tokens with the configured key (development and tests).
pub fn mint(config: &Config, sub: &str, scope: &str, ttl_secs: i64) -> Result<String, AuthError> {
    let alg = algorithm(config)?;
    let key = match alg {
        Algorithm::HS256 => EncodingKey::from_secret(&shared_secret(config)?),
        _ => {
            let path = config
                .jwt_private_key_file
                .as_deref()
                .ok_or_else(|| key_err("minting RS256/ES256 tokens needs ORDERLY_JWT_PRIVATE_KEY_FILE"))?;
            let pem = read_pem(path)?;
            if alg == Algorithm::RS256 {
                EncodingKey::from_rsa_pem(&pem)?
            } else {
                EncodingKey::from_ec_pem(&pem)?
            }
        }
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = Claims {
        sub: sub.to_owned(),
        scope: scope.to_owned(),
        iss: config.jwt_issuer.clone(),
        aud: config.jwt_audience.clone(),
        iat: now,
        exp: now + ttl_secs,
    };
    Ok(jsonwebtoken::encode(&Header::new(alg), &claims, &key)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn config() -> Config {
        Config {
            jwt_secret: Some(SecretString::from("0123456789abcdef0123456789abcdef")),
            ..Config::default()
        }
    }

    #[test]
    fn a_minted_token_verifies_with_its_scopes() {
        let c = config();
        let token = mint(&c, "cust-1", "orders:read:own orders:write:own", 60).unwrap();
        let p = Verifier::from_config(&c).unwrap().verify(&token).unwrap();
        assert_eq!(p.sub, "cust-1");
        assert!(p.has("orders:read:own"));
        assert!(!p.has("orders:read"));
    }

    #[test]
    fn expired_and_foreign_tokens_are_rejected() {
        let c = config();
        let expired = mint(&c, "x", "", -120).unwrap();
        assert!(Verifier::from_config(&c).unwrap().verify(&expired).is_err());
        let other = Config {
            jwt_secret: Some(SecretString::from("another-secret-another-secret-32")),
            ..config()
        };
        let foreign = mint(&other, "x", "", 60).unwrap();
        assert!(Verifier::from_config(&c).unwrap().verify(&foreign).is_err());
    }

    #[test]
    fn the_development_key_is_shared_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config {
            dev_key_file: dir.path().join("dev.key"),
            ..Config::default()
        };
        let token = mint(&c, "ops", "orders:read", 60).unwrap();
        assert!(Verifier::from_config(&c).unwrap().verify(&token).is_ok());
    }
}
