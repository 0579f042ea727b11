//! Extractors that turn HTTP into checked values, answering with the app's own problem+json when they cannot:
//! JSON bodies (with JSON pointers to bad fields), query strings, the caller's token, Idempotency-Key, If-Match.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::AppState;
use super::accounting::{RequestNotes, is_client_gone};
use super::error::{ApiError, FieldError, TokenFault};
use crate::auth::Principal;

mod unique;

/// A JSON body parsed into `T`, plus its canonical form (keys sorted) for idempotency fingerprints.
pub struct JsonBody<T> {
    pub value: T,
    pub canonical: Vec<u8>,
}

fn pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Enum { variant } => out.push_str(variant),
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// The field serde names in an `unknown field` message (query strings carry no path of their own).
fn unknown_field(message: &str) -> Option<&str> {
    message.strip_prefix("unknown field `")?.split('`').next()
}

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false)
}

async fn read_body(req: Request, state: &AppState) -> Result<(bool, Bytes), ApiError> {
    let json = is_json(req.headers());
    let notes = req.extensions().get::<RequestNotes>().cloned();
    let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge {
                limit: state.limits.max_body_bytes,
            }
        } else {
            if let Some(notes) = notes.filter(|_| is_client_gone(&rejection)) {
                notes.record_client_gone();
            }
            ApiError::UnreadableBody
        }
    })?;
    Ok((json, bytes))
}

fn parse_json<T: DeserializeOwned>(json: bool, bytes: &[u8]) -> Result<JsonBody<T>, ApiError> {
    if !json {
        return Err(ApiError::UnsupportedMediaType);
    }
    let raw = unique::parse(bytes).map_err(|e| match e {
        unique::Refused::Syntax(why) => ApiError::MalformedJson(why),
        unique::Refused::DuplicateKey(pointer) => ApiError::DuplicateKey(pointer),
    })?;
    let canonical = serde_json::to_vec(&raw).map_err(ApiError::internal)?;
    let value = serde_path_to_error::deserialize(raw).map_err(|e| {
        let at = pointer(e.path());
        ApiError::field(if at.is_empty() { "/".to_owned() } else { at }, e.inner().to_string())
    })?;
    Ok(JsonBody { value, canonical })
}

/// A body read but not yet parsed, so a handler can check the caller's scope before looking inside it. Only its
/// size is checked on extraction (413).
pub struct RawBody {
    json: bool,
    bytes: Bytes,
}

impl FromRequest<AppState> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (json, bytes) = read_body(req, state).await?;
        Ok(RawBody { json, bytes })
    }
}

impl RawBody {
    /// Parses the body as JSON into `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<JsonBody<T>, ApiError> {
        parse_json(self.json, &self.bytes)
    }

    /// Parses the body; where the body is `optional`, an empty one or `null` is read as `{}` (and fingerprinted so).
    pub fn json_or_empty<T: DeserializeOwned>(&self, optional: bool) -> Result<JsonBody<T>, ApiError> {
        // Some clients send `null` for a body they leave out.
        let absent = self.bytes.is_empty() || self.bytes.trim_ascii() == b"null";
        if optional && absent {
            return parse_json(true, b"{}");
        }
        self.json()
    }
}

/// A query string parsed into `T`; unknown or malformed parameters are a 422.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded_from(query).map(QueryParams)
    }
}

fn serde_urlencoded_from<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| ApiError::field("/", "invalid query string"))?,
    )
    .map(|q| q.0)
    .map_err(|e| {
        let text = e.body_text();
        let detail = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text)
            .to_owned();
        let param = unknown_field(&detail)
            .map(|f| format!("/{f}"))
            .unwrap_or_else(|| "/".to_owned());
        ApiError::Validation(vec![FieldError { pointer: param, detail }])
    })
}

/// The authenticated caller.
pub struct Auth(pub Principal);

/// The bearer token of the `Authorization` header.
fn bearer_token(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or(ApiError::NoCredentials)?;
    value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::NoCredentials)
}

/// Why a token was refused, as the client is told.
fn token_fault(e: &crate::auth::AuthError) -> ApiError {
    use crate::auth::{AuthError, Rejection};
    use jsonwebtoken::errors::ErrorKind;
    ApiError::InvalidToken(match e {
        AuthError::Token(t) => match t.kind() {
            ErrorKind::ExpiredSignature => TokenFault::Expired,
            ErrorKind::ImmatureSignature => TokenFault::NotYetValid,
            ErrorKind::InvalidSignature => TokenFault::BadSignature,
            ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => TokenFault::ForSomeoneElse,
            _ => TokenFault::Malformed,
        },
        AuthError::Rejected(Rejection::NotYetValid) => TokenFault::NotYetValid,
        AuthError::Rejected(Rejection::TooLongLived) => TokenFault::TooLongLived,
        AuthError::Rejected(Rejection::NotAnAccessToken) => TokenFault::NotAnAccessToken,
        AuthError::Rejected(Rejection::UnknownKey) => TokenFault::UnknownKey,
        AuthError::Key(_) => TokenFault::Uncheckable,
    })
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // The rate limiter verified this request's token already (good or bad): use its outcome.
        let principal = match parts.extensions.remove::<super::ratelimit::Verified>() {
            Some(super::ratelimit::Verified(outcome)) => match outcome.as_ref() {
                Ok(principal) => principal.clone(),
                Err(e) => return Err(token_fault(e)),
            },
            None => {
                let token = bearer_token(parts)?;
                state.verifier.verify(token).await.map_err(|e| token_fault(&e))?
            }
        };
        if let Some(notes) = parts.extensions.get::<RequestNotes>() {
            notes.record_principal(&principal.sub);
        }
        Ok(Auth(principal))
    }
}

/// The request id the `observe` middleware assigned (and answers as `x-request-id`), which audit rows record so a
/// write can be found in the request log. `None` only outside that middleware (handlers called directly).
#[derive(Clone, Debug, Default)]
pub struct RequestId(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<RequestId>().cloned().unwrap_or_default())
    }
}

impl Auth {
    /// Who the audit log records for a write by this caller: the token's `sub` and the request id.
    pub fn actor(&self, request: RequestId) -> crate::store::Actor {
        crate::store::Actor::new(self.0.sub.clone(), request.0)
    }

    /// Requires one of `scopes`; returns the one held.
    pub fn require(&self, scopes: &[&'static str]) -> Result<&'static str, ApiError> {
        scopes
            .iter()
            .copied()
            .find(|s| self.0.has(s))
            .ok_or(ApiError::Forbidden(scopes.first().copied().unwrap_or("")))
    }
}

/// The `Idempotency-Key` header: an opaque string of 1 to 255 visible ASCII characters. The draft standard sends
/// it as a quoted structured-field string; the quotes are optional here.
pub struct IdempotencyKeyHeader(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts
            .headers
            .get("idempotency-key")
            .ok_or(ApiError::IdempotencyKeyMissing)?;
        IdempotencyKeyHeader::parse(raw.to_str().map_err(|_| ApiError::IdempotencyKeyInvalid)?)
    }
}

impl IdempotencyKeyHeader {
    /// Checks a key as the header carries it (or as a console form does).
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let text = raw.trim();
        // Quotes are taken off only around a non-empty key: `""` is a two-character key, as the pattern in the
        // OpenAPI document says.
        let text = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .filter(|t| !t.is_empty())
            .unwrap_or(text);
        if text.is_empty() || text.len() > 255 || !text.chars().all(|c| c.is_ascii_graphic()) {
            return Err(ApiError::IdempotencyKeyInvalid);
        }
        Ok(IdempotencyKeyHeader(text.to_owned()))
    }
}

/// The `If-Match` header holding the order version the caller last saw, as the strong ETag `"<version>"`.
pub struct IfMatch(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let raw = parts.headers.get(header::IF_MATCH).ok_or(ApiError::IfMatchRequired)?;
        let text = raw.to_str().unwrap_or("").trim();
        let inner = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(text);
        // 1 to 18 digits: always an i64, and exactly what the OpenAPI document's pattern allows.
        if inner.is_empty() || inner.len() > 18 || !inner.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::IfMatchInvalid);
        }
        inner.parse::<i64>().map(IfMatch).map_err(|_| ApiError::IfMatchInvalid)
    }
}

/// The request fingerprint stored with an Idempotency-Key: method, path, If-Match and the canonical body.
pub fn fingerprint(method: &str, path: &str, if_match: Option<i64>, canonical_body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b" ");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(if_match.map(|v| v.to_string()).unwrap_or_default().as_bytes());
    h.update(b"\n");
    h.update(canonical_body);
    hex::encode(h.finalize())
}
