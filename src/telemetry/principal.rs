//! The `principal` field of request log lines: who made a request, without the token or the customer id.
//!
//! It is the first 16 hex characters of HMAC-SHA-256 over the token's `sub`, keyed per deployment, so lines of one
//! caller can be grouped (across replicas and restarts) while a leaked log does not name customers: without the
//! key, nobody can test a guessed customer id against it. The key is `log_principal_salt` when set, else one
//! derived from the HS256 secret `jwt_secret` (never the secret itself), else a fixed key, which makes the field a
//! plain keyed hash anyone can recompute: production with public keys should set `log_principal_salt`.

use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::config::Config;

/// Separates this use of the JWT secret from its use for signatures.
const DERIVATION: &[u8] = b"orderly log principal v1";

#[derive(Clone)]
pub struct PrincipalHasher {
    key: Vec<u8>,
}

impl std::fmt::Debug for PrincipalHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrincipalHasher([REDACTED])")
    }
}

impl PrincipalHasher {
    pub fn new(key: &[u8]) -> Self {
        PrincipalHasher { key: key.to_vec() }
    }

    pub fn from_config(config: &Config) -> Self {
        if let Some(salt) = &config.log_principal_salt {
            return PrincipalHasher::new(salt.expose_secret().as_bytes());
        }
        match &config.jwt_secret {
            Some(secret) => {
                let mut derived = Sha256::new();
                derived.update(DERIVATION);
                derived.update(secret.expose_secret().as_bytes());
                PrincipalHasher::new(&derived.finalize())
            }
            None => PrincipalHasher::new(DERIVATION),
        }
    }

    /// 16 hex characters (64 bits): collisions between the callers of one deployment are negligible.
    pub fn hash(&self, sub: &str) -> String {
        // HMAC accepts a key of any length, so this cannot fail; the fallback only keeps the type honest.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(sub.as_bytes());
        let digest = mac.finalize().into_bytes();
        hex::encode(&digest[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn the_hash_is_stable_keyed_and_never_the_subject() {
        let salted = Config {
            log_principal_salt: Some(SecretString::from("pepper")),
            ..Config::default()
        };
        let h = PrincipalHasher::from_config(&salted);
        let a = h.hash("3f1c5e2a-0000-4000-8000-000000000001");
        assert_eq!(a.len(), 16);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, h.hash("3f1c5e2a-0000-4000-8000-000000000001"));
        assert_ne!(a, h.hash("3f1c5e2a-0000-4000-8000-000000000002"));
        let other = PrincipalHasher::from_config(&Config {
            log_principal_salt: Some(SecretString::from("salt")),
            ..Config::default()
        });
        assert_ne!(a, other.hash("3f1c5e2a-0000-4000-8000-000000000001"));
        let plain = hex::encode(&Sha256::digest(b"3f1c5e2a-0000-4000-8000-000000000001")[..8]);
        assert_ne!(a, plain, "keyed, not a bare SHA-256");
    }

    #[test]
    fn without_a_salt_the_key_comes_from_the_jwt_secret() {
        let with = |secret: &str| {
            PrincipalHasher::from_config(&Config {
                jwt_secret: Some(SecretString::from(secret.to_owned())),
                ..Config::default()
            })
            .hash("ops-1")
        };
        assert_ne!(with(&"a".repeat(32)), with(&"b".repeat(32)));
        assert_ne!(
            with(&"a".repeat(32)),
            PrincipalHasher::from_config(&Config::default()).hash("ops-1")
        );
    }
}
