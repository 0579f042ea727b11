//! The console's keys and CSRF tokens. A form's token is an HMAC of the session (the bearer token) under the
//! console key, so it is valid for that session only and needs no server-side storage; before signing in, the
//! sign-in form is bound the same way to a random pre-session cookie. A cross-site page can neither read the
//! cookie nor compute the HMAC, and `SameSite=Strict` keeps the cookie off its requests in the first place.

use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::config::{Config, Environment};

/// What separates the derived console key from other keys derived from the same secret.
const DERIVATION: &[u8] = b"orderly console session key v1\0";

/// The console's settings, fixed at startup.
pub struct Settings {
    key: Vec<u8>,
    /// In development, the configuration that mints "sign in as staff" tokens (as `orderly token` does); `None` in
    /// production, where tokens come from the identity provider only.
    dev: Option<Box<Config>>,
}

impl Settings {
    /// The key is `console_session_key`; else derived from `jwt_secret`; else random for this process.
    pub fn from_config(config: &Config) -> Self {
        let key = match (&config.console_session_key, &config.jwt_secret) {
            (Some(key), _) => key.expose_secret().as_bytes().to_vec(),
            (None, Some(secret)) => {
                let mut derived = Sha256::new();
                derived.update(DERIVATION);
                derived.update(secret.expose_secret().as_bytes());
                derived.finalize().to_vec()
            }
            (None, None) => {
                if config.env == Environment::Production {
                    tracing::warn!(
                        "no ORDERLY_CONSOLE_SESSION_KEY (and no JWT secret): the console's forms are signed with a \
                         key of this process only, so a form rendered by another replica, or before a restart, is \
                         refused; set the key (docs/deploy.md)"
                    );
                }
                let mut bytes = vec![0u8; 32];
                rand::thread_rng().fill_bytes(&mut bytes);
                bytes
            }
        };
        let dev = (config.env == Environment::Development).then(|| Box::new(config.clone()));
        Settings { key, dev }
    }

    pub fn is_development(&self) -> bool {
        self.dev.is_some()
    }

    /// The configuration to mint development tokens with, in development only.
    pub fn dev_config(&self) -> Option<&Config> {
        self.dev.as_deref()
    }

    fn mac(&self, purpose: &str, value: &str) -> String {
        // HMAC takes a key of any length, so this cannot fail; the fallback keeps the type honest.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The CSRF token of the session whose bearer token is `session`.
    pub fn csrf_token(&self, session: &str) -> String {
        self.mac("csrf", session)
    }

    /// The CSRF token of the sign-in form shown with pre-session cookie `pre`.
    pub fn sign_in_token(&self, pre: &str) -> String {
        self.mac("sign-in", pre)
    }
}

/// A fresh random value: pre-session cookies and Idempotency-Keys of rendered forms.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn settings(secret: &str) -> Settings {
        Settings::from_config(&Config {
            jwt_secret: Some(SecretString::from(secret)),
            ..Config::default()
        })
    }

    #[test]
    fn a_csrf_token_belongs_to_one_session_and_one_key() {
        let s = settings("secret-one-secret-one-secret-one!");
        assert_eq!(s.csrf_token("a"), s.csrf_token("a"));
        assert_ne!(s.csrf_token("a"), s.csrf_token("b"));
        assert_ne!(s.csrf_token("a"), s.sign_in_token("a"));
        assert_ne!(
            s.csrf_token("a"),
            settings("secret-two-secret-two-secret-two!").csrf_token("a")
        );
    }

    #[test]
    fn production_offers_no_development_sign_in() {
        let prod = Settings::from_config(&Config {
            env: Environment::Production,
            ..Config::default()
        });
        assert!(!prod.is_development());
        assert!(settings("x").is_development());
    }
}
