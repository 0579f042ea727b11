//! Bearer JWTs: verifying them for the API and minting them for development (`orderly token`).
//!
//! Keys, in the order they are looked for:
//! - a JWKS (`jwt_jwks_file` or `jwt_jwks_url`, see `jwks`): RS256, ES256 and EdDSA keys chosen by the token's
//!   `kid`, so the identity provider rotates keys with overlap and the pods hold no signing material (ADR 0009);
//! - one PEM public key (`jwt_public_key_file`, RS256/ES256/EdDSA), with a private key for minting;
//! - an HS256 shared secret (`jwt_secret`). In development, with no key configured, a random HS256 key is generated
//!   once into `dev_key_file` (mode 0600), so a server and a `token` command run from the same directory agree.
//!   Production refuses that file and weak secrets (see `Config::validate`).
//!
//! Beyond the signature, issuer and audience (a string or an array), the claims are checked as RFC 9068 asks of
//! access tokens (see `claims`): `exp` and `nbf` with a 30 s leeway, no `iat` in the future, a lifetime of at most
//! `jwt_max_lifetime_secs`, and, with `jwt_require_typ`, the header `typ: at+jwt`.

mod claims;
pub mod jwks;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::ExposeSecret;

pub use claims::{Audience, Claims};

use crate::config::{Config, Environment};

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: u64 = 30;
/// The header `typ` of an access token (RFC 9068, section 2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

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

/// Why a well-formed, correctly signed token is still refused (each a 401 `invalid_token`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// `nbf` or `iat` is later than now plus the leeway.
    NotYetValid,
    /// `exp - iat` (or `exp - now` without `iat`) is over `jwt_max_lifetime_secs`.
    TooLongLived,
    /// `jwt_require_typ` is on and the header `typ` is not `at+jwt`.
    NotAnAccessToken,
    /// No key in the JWKS has the token's `kid` (or the token names none).
    UnknownKey,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Key(String),
    #[error("token rejected: {0}")]
    Token(#[from] jsonwebtoken::errors::Error),
    #[error("token rejected: {0:?}")]
    Rejected(Rejection),
}

fn key_err(msg: impl Into<String>) -> AuthError {
    AuthError::Key(msg.into())
}

fn algorithm(config: &Config) -> Result<Algorithm, AuthError> {
    match config.jwt_algorithm.as_str() {
        "HS256" => Ok(Algorithm::HS256),
        "RS256" => Ok(Algorithm::RS256),
        "ES256" => Ok(Algorithm::ES256),
        "EdDSA" => Ok(Algorithm::EdDSA),
        other => Err(key_err(format!(
            "unsupported jwt_algorithm {other}; use HS256, RS256, ES256 or EdDSA"
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
    // create_new: two processes starting at once never overwrite each other's key. Mode 0600: the key signs
    // tokens with every scope, so no other user of the machine may read it.
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options
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

enum Keys {
    /// One key for every token (HS256 secret or one PEM public key).
    Single { key: DecodingKey, alg: Algorithm },
    /// The key is chosen by the token's `kid`.
    Jwks(Arc<jwks::Jwks>),
}

/// Checks tokens on every request.
pub struct Verifier {
    keys: Keys,
    issuer: String,
    audience: String,
    max_lifetime: i64,
    require_typ: bool,
}

impl Verifier {
    /// Loads the configured keys (fetching the JWKS when it is a URL) and, for a JWKS, starts its periodic refresh,
    /// which ends when the verifier is dropped. Needs a Tokio runtime.
    pub async fn from_config(config: &Config) -> Result<Self, AuthError> {
        let keys = if config.jwt_jwks_file.is_some() || config.jwt_jwks_url.is_some() {
            let set = jwks::Jwks::open(
                config.jwt_jwks_file.clone(),
                config.jwt_jwks_url.clone(),
                Duration::from_secs(config.jwt_jwks_min_refresh_secs),
            )
            .await?;
            tokio::spawn(jwks::refresh_periodically(
                Arc::downgrade(&set),
                Duration::from_secs(config.jwt_jwks_refresh_secs.max(1)),
            ));
            Keys::Jwks(set)
        } else {
            let alg = algorithm(config)?;
            let key = match alg {
                Algorithm::HS256 => DecodingKey::from_secret(&shared_secret(config)?),
                _ => {
                    let path = config
                        .jwt_public_key_file
                        .as_deref()
                        .ok_or_else(|| key_err("RS256/ES256/EdDSA need ORDERLY_JWT_PUBLIC_KEY_FILE or a JWKS"))?;
                    let pem = read_pem(path)?;
                    match alg {
                        Algorithm::RS256 => DecodingKey::from_rsa_pem(&pem)?,
                        Algorithm::ES256 => DecodingKey::from_ec_pem(&pem)?,
                        _ => DecodingKey::from_ed_pem(&pem)?,
                    }
                }
            };
            Keys::Single { key, alg }
        };
        Ok(Verifier {
            keys,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            max_lifetime: i64::try_from(config.jwt_max_lifetime_secs).unwrap_or(i64::MAX),
            require_typ: config.jwt_require_typ,
        })
    }

    /// The JWKS in use, if keys come from one.
    pub fn jwks(&self) -> Option<&Arc<jwks::Jwks>> {
        match &self.keys {
            Keys::Jwks(set) => Some(set),
            Keys::Single { .. } => None,
        }
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        validation
    }

    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token)?;
        if self.require_typ && !claims::is_access_token_typ(header.typ.as_deref()) {
            return Err(AuthError::Rejected(Rejection::NotAnAccessToken));
        }
        let held;
        let (key, alg) = match &self.keys {
            Keys::Single { key, alg } => (key, *alg),
            Keys::Jwks(set) => {
                let kid = header
                    .kid
                    .as_deref()
                    .ok_or(AuthError::Rejected(Rejection::UnknownKey))?;
                held = set.key_for(kid).await?;
                (&held.key, held.alg)
            }
        };
        // The key fixes the algorithm: a token naming another one (`none`, HS256 with a public key as the secret)
        // fails here.
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation(alg))?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        claims::check_times(&data.claims, now, LEEWAY_SECS as i64, self.max_lifetime).map_err(AuthError::Rejected)?;
        Ok(Principal::new(data.claims.sub, &data.claims.scope))
    }
}

/// Mints tokens with the configured key (development and tests), typed `at+jwt` as RFC 9068 asks.
pub fn mint(config: &Config, sub: &str, scope: &str, ttl_secs: i64) -> Result<String, AuthError> {
    let alg = algorithm(config)?;
    let key = match alg {
        Algorithm::HS256 => EncodingKey::from_secret(&shared_secret(config)?),
        _ => {
            let path = config
                .jwt_private_key_file
                .as_deref()
                .ok_or_else(|| key_err("minting RS256/ES256/EdDSA tokens needs ORDERLY_JWT_PRIVATE_KEY_FILE"))?;
            let pem = read_pem(path)?;
            match alg {
                Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem)?,
                Algorithm::ES256 => EncodingKey::from_ec_pem(&pem)?,
                _ => EncodingKey::from_ed_pem(&pem)?,
            }
        }
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = Claims {
        sub: sub.to_owned(),
        scope: scope.to_owned(),
        iss: config.jwt_issuer.clone(),
        aud: Audience::One(config.jwt_audience.clone()),
        iat: Some(now),
        nbf: None,
        exp: now + ttl_secs,
    };
    let mut header = Header::new(alg);
    header.typ = Some(ACCESS_TOKEN_TYP.to_owned());
    header.kid = config.jwt_key_id.clone();
    Ok(jsonwebtoken::encode(&header, &claims, &key)?)
}

/// The default lifetime of `orderly token`: an hour, or less when the cap is lower.
pub fn default_ttl(config: &Config) -> i64 {
    i64::try_from(config.jwt_max_lifetime_secs.min(3600)).unwrap_or(3600)
}
