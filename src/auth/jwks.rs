//! Public keys from a JWKS (RFC 7517), so the identity provider can rotate its signing keys with overlap and no pod
//! holds signing material.
//!
//! The set comes from a file (`jwt_jwks_file`, e.g. a mounted ConfigMap) or a URL (`jwt_jwks_url`). It is loaded at
//! startup, reloaded every `jwt_jwks_refresh_secs`, and reloaded early when a token names a `kid` the set does not
//! hold: that is how a new key is picked up the moment the IdP starts signing with it. Early reloads are at least
//! `jwt_jwks_min_refresh_secs` apart, so tokens with made-up `kid`s cannot make every request fetch the JWKS. A
//! failed reload keeps the keys already held. Only RS256, ES256 (P-256) and EdDSA (Ed25519) signing keys with a
//! `kid` are taken; symmetric (`oct`) and encryption keys are ignored, so a JWKS can never enable HS256.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

use super::{AuthError, Rejection, key_err};

/// A JWKS larger than this is not a key set (and is not held in memory).
const MAX_JWKS_BYTES: usize = 1024 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// One verification key and the one algorithm it may be used with.
pub struct VerifyKey {
    pub key: DecodingKey,
    pub alg: Algorithm,
}

type KeyMap = HashMap<String, Arc<VerifyKey>>;

enum Source {
    File(PathBuf),
    Url { url: String, client: reqwest::Client },
}

impl Source {
    fn describe(&self) -> String {
        match self {
            Source::File(path) => path.display().to_string(),
            Source::Url { url, .. } => url.clone(),
        }
    }

    async fn read(&self) -> Result<Vec<u8>, String> {
        match self {
            Source::File(path) => tokio::fs::read(path).await.map_err(|e| e.to_string()),
            Source::Url { url, client } => {
                let mut response = client
                    .get(url)
                    .header(reqwest::header::ACCEPT, "application/jwk-set+json, application/json")
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|e| e.to_string())?;
                if response.content_length().is_some_and(|n| n > MAX_JWKS_BYTES as u64) {
                    return Err(format!("larger than {MAX_JWKS_BYTES} bytes"));
                }
                // Read in chunks, so a body without a length cannot grow past the cap either.
                let mut body = Vec::new();
                while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
                    if body.len() + chunk.len() > MAX_JWKS_BYTES {
                        return Err(format!("larger than {MAX_JWKS_BYTES} bytes"));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(body)
            }
        }
    }
}

pub struct Jwks {
    source: Source,
    keys: RwLock<Arc<KeyMap>>,
    /// When the set was last (re)loaded or tried; held while loading, so one load runs at a time.
    last_load: tokio::sync::Mutex<Instant>,
    min_interval: Duration,
}

impl Jwks {
    /// Loads the set once; an unreadable or empty set fails startup rather than every request.
    pub async fn open(
        file: Option<PathBuf>,
        url: Option<String>,
        min_interval: Duration,
    ) -> Result<Arc<Self>, AuthError> {
        let source = match (file, url) {
            (Some(path), None) => Source::File(path),
            (None, Some(url)) => {
                let client = reqwest::Client::builder()
                    .timeout(FETCH_TIMEOUT)
                    .connect_timeout(FETCH_TIMEOUT)
                    .build()
                    .map_err(|e| key_err(format!("JWKS HTTP client: {e}")))?;
                Source::Url { url, client }
            }
            _ => return Err(key_err("set one of jwt_jwks_file and jwt_jwks_url")),
        };
        let keys = load(&source).await.map_err(key_err)?;
        Ok(Arc::new(Jwks {
            source,
            keys: RwLock::new(Arc::new(keys)),
            last_load: tokio::sync::Mutex::new(Instant::now()),
            min_interval,
        }))
    }

    fn lookup(&self, kid: &str) -> Option<Arc<VerifyKey>> {
        let keys = self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.get(kid).cloned()
    }

    /// How many keys the set holds now.
    pub fn len(&self) -> usize {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key named `kid`, reloading the set first when it is unknown and the last load is old enough.
    pub async fn key_for(&self, kid: &str) -> Result<Arc<VerifyKey>, AuthError> {
        if let Some(key) = self.lookup(kid) {
            return Ok(key);
        }
        let mut last = self.last_load.lock().await;
        // Another request may have reloaded the set while this one waited for the lock.
        if let Some(key) = self.lookup(kid) {
            return Ok(key);
        }
        if last.elapsed() < self.min_interval {
            return Err(AuthError::Rejected(Rejection::UnknownKey));
        }
        self.reload(&mut last).await;
        self.lookup(kid).ok_or(AuthError::Rejected(Rejection::UnknownKey))
    }

    /// Reloads now (the periodic refresh), whatever the minimum interval.
    pub async fn refresh(&self) {
        let mut last = self.last_load.lock().await;
        self.reload(&mut last).await;
    }

    async fn reload(&self, last: &mut Instant) {
        *last = Instant::now();
        match load(&self.source).await {
            Ok(keys) => {
                tracing::debug!(source = %self.source.describe(), keys = keys.len(), "JWKS loaded");
                *self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(keys);
            }
            Err(e) => {
                tracing::warn!(source = %self.source.describe(), error = %e, "JWKS reload failed; keeping the keys held")
            }
        }
    }
}

/// Reloads `jwks` every `every` until the verifier holding it is dropped.
pub async fn refresh_periodically(jwks: Weak<Jwks>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(jwks) = jwks.upgrade() else { return };
        jwks.refresh().await;
    }
}

async fn load(source: &Source) -> Result<KeyMap, String> {
    let bytes = source
        .read()
        .await
        .map_err(|e| format!("cannot read the JWKS {}: {e}", source.describe()))?;
    parse(&bytes).map_err(|e| format!("the JWKS {}: {e}", source.describe()))
}

/// The usable signing keys of a JWKS document, by `kid`. Keys this service cannot use are skipped one by one, so a
/// set that also holds, say, an encryption key or a post-quantum key still works.
pub fn parse(bytes: &[u8]) -> Result<KeyMap, String> {
    if bytes.len() > MAX_JWKS_BYTES {
        return Err(format!("larger than {MAX_JWKS_BYTES} bytes"));
    }
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let doc: Document = serde_json::from_slice(bytes).map_err(|e| format!("not a JWKS ({e})"))?;
    let mut keys = KeyMap::new();
    for value in doc.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value) else {
            continue;
        };
        let Some(kid) = jwk.common.key_id.clone() else { continue };
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        let Some(alg) = algorithm_of(&jwk) else { continue };
        let Ok(key) = DecodingKey::from_jwk(&jwk) else { continue };
        keys.insert(kid, Arc::new(VerifyKey { key, alg }));
    }
    if keys.is_empty() {
        return Err("holds no usable signing key (RS256, ES256 or EdDSA, each with a kid)".into());
    }
    Ok(keys)
}

/// The one algorithm a key may verify: the key's own `alg` when it names one, else what its type implies; `None`
/// for keys of other kinds (symmetric keys in particular).
fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    let implied = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => Algorithm::ES256,
        AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => Algorithm::EdDSA,
        _ => return None,
    };
    let named = match jwk.common.key_algorithm {
        None => return Some(implied),
        Some(KeyAlgorithm::RS256) => Algorithm::RS256,
        Some(KeyAlgorithm::ES256) => Algorithm::ES256,
        Some(KeyAlgorithm::EdDSA) => Algorithm::EdDSA,
        Some(_) => return None,
    };
    (named == implied).then_some(named)
}
