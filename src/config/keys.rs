//! The token-key rules of `Config::validate`.
//!
//! Production needs a key an attacker cannot guess: a JWKS (`jwt_jwks_url` or `jwt_jwks_file`, the intended
//! shape), one PEM public key, or an HS256 secret that is strong. A secret is refused when it is
//! - shorter than 32 bytes;
//! - a known development key: the contents of `dev_key_file` when that file exists, or a key this repository ships
//!   for development, tests and examples (`DEVELOPMENT_KEYS`);
//! - of too little entropy: the Shannon entropy of its byte histogram is under `MIN_BITS_PER_BYTE` (2.5 bits; 32
//!   `a`s score 0, `abab...` 1, `openssl rand -hex 32` about 3.9, `openssl rand -base64 32` about 5; 32 random hex
//!   digits stay above 2.8),
//!   or fewer than `MIN_DISTINCT_WINDOWS` of its 4-byte windows are distinct (a repeated word or digit run such as
//!   `secret-secret-secret-...` or `1234567890123...` has few; random text has nearly all distinct).

use secrecy::ExposeSecret;

use super::{Config, ConfigError, Environment, invalid};

pub const MIN_SECRET_BYTES: usize = 32;
pub const MIN_BITS_PER_BYTE: f64 = 2.5;
/// The share of distinct 4-byte windows a secret needs.
pub const MIN_DISTINCT_WINDOWS: f64 = 0.75;

/// Keys that appear in this repository (compose.yaml, test suites, benchmarks, scripts): public, so never a
/// production secret.
pub const DEVELOPMENT_KEYS: &[&str] = &[
    "compose-only-secret-replace-me-0123456789",
    "test-secret-test-secret-test-secret!",
    "container-test-secret-container-test-secret",
    "schemathesis-hs256-secret-0123456789abcdef",
    "bench-secret-0123456789abcdef0123456789abcdef",
    "not-the-secret-not-the-secret-!!",
    "0123456789abcdef0123456789abcdef",
    "another-secret-another-secret-32",
];

const HOW_TO: &str = "generate one with `openssl rand -hex 32`, or better, configure ORDERLY_JWT_JWKS_URL";

pub(super) fn validate(c: &Config) -> Result<(), ConfigError> {
    if c.jwt_jwks_file.is_some() && c.jwt_jwks_url.is_some() {
        return Err(invalid("set jwt_jwks_file or jwt_jwks_url, not both"));
    }
    if c.jwt_max_lifetime_secs == 0 || c.jwt_jwks_refresh_secs == 0 {
        return Err(invalid(
            "jwt_max_lifetime_secs and jwt_jwks_refresh_secs must be positive",
        ));
    }
    let production = c.env == Environment::Production;
    if production && let Some(key) = &c.console_session_key {
        let dev_file = std::fs::read(&c.dev_key_file).ok();
        if let Some(why) = weak_secret(key.expose_secret().as_bytes(), dev_file.as_deref()) {
            return Err(invalid(format!(
                "ORDERLY_CONSOLE_SESSION_KEY {why}; generate one with `openssl rand -hex 32`"
            )));
        }
    }
    if let Some(url) = &c.jwt_jwks_url {
        let https = url.starts_with("https://");
        if !(https || (!production && url.starts_with("http://"))) {
            return Err(invalid(format!(
                "jwt_jwks_url must be an https:// URL{} (got {})",
                if production { " in production" } else { " or http://" },
                super::redact_url(url)
            )));
        }
    }
    if !production || c.jwt_jwks_file.is_some() || c.jwt_jwks_url.is_some() {
        return Ok(());
    }
    if c.jwt_algorithm != "HS256" {
        return match c.jwt_public_key_file {
            Some(_) => Ok(()),
            None => Err(invalid(format!(
                "production with jwt_algorithm {} needs ORDERLY_JWT_JWKS_URL, ORDERLY_JWT_JWKS_FILE or \
                 ORDERLY_JWT_PUBLIC_KEY_FILE",
                c.jwt_algorithm
            ))),
        };
    }
    let Some(secret) = &c.jwt_secret else {
        return Err(invalid(
            "production needs a token key: ORDERLY_JWT_JWKS_URL (or ORDERLY_JWT_JWKS_FILE, \
             ORDERLY_JWT_PUBLIC_KEY_FILE), or ORDERLY_JWT_SECRET (HS256, 32+ bytes); the development key is refused",
        ));
    };
    let secret = secret.expose_secret().as_bytes();
    let dev_file = std::fs::read(&c.dev_key_file).ok();
    weak_secret(secret, dev_file.as_deref()).map_or(Ok(()), |why| {
        Err(invalid(format!("ORDERLY_JWT_SECRET {why}; {HOW_TO}")))
    })
}

/// Why `secret` is not good enough for production, if it is not.
pub fn weak_secret(secret: &[u8], dev_key_file: Option<&[u8]>) -> Option<String> {
    if secret.len() < MIN_SECRET_BYTES {
        return Some(format!(
            "is {} bytes; production needs at least {MIN_SECRET_BYTES}",
            secret.len()
        ));
    }
    let trimmed = secret.trim_ascii();
    if dev_key_file.is_some_and(|dev| dev.trim_ascii() == trimmed) {
        return Some("is the development key (the contents of dev_key_file)".into());
    }
    if DEVELOPMENT_KEYS.iter().any(|k| k.as_bytes() == trimmed) {
        return Some("is a development key published in this repository".into());
    }
    let bits = bits_per_byte(secret);
    if bits < MIN_BITS_PER_BYTE {
        return Some(format!(
            "has too little entropy ({bits:.1} bits per byte, at least {MIN_BITS_PER_BYTE} needed)"
        ));
    }
    let windows = distinct_windows(secret);
    if windows < MIN_DISTINCT_WINDOWS {
        return Some(format!(
            "repeats itself (only {:.0}% of its 4-byte runs are distinct, at least {:.0}% needed)",
            windows * 100.0,
            MIN_DISTINCT_WINDOWS * 100.0
        ));
    }
    None
}

/// The Shannon entropy of the byte histogram, in bits per byte (0 to 8).
pub fn bits_per_byte(bytes: &[u8]) -> f64 {
    let mut counts = [0usize; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// The share of distinct 4-byte windows among all of them (1.0 for text that never repeats a run of 4).
pub fn distinct_windows(bytes: &[u8]) -> f64 {
    let windows: Vec<&[u8]> = bytes.windows(4).collect();
    if windows.is_empty() {
        return 0.0;
    }
    let distinct: std::collections::HashSet<&[u8]> = windows.iter().copied().collect();
    distinct.len() as f64 / windows.len() as f64
}
