//! The claims of an access token and the time rules jsonwebtoken does not check itself.
//!
//! jsonwebtoken checks the signature, `exp`, `nbf` (with `validate_nbf`), `iss` and `aud`. Left here: an `iat` in
//! the future (a token "issued" a year from now is a forgery or a broken clock, either way not to be trusted) and
//! the lifetime cap, so that a leaked token cannot be good until 2100 however it was minted.

use serde::{Deserialize, Serialize};

use super::{ACCESS_TOKEN_TYP, Rejection};

/// `aud` may be one string or an array of them (RFC 7519, section 4.1.3); identity providers send both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    /// Space-separated scopes, as in OAuth 2.0.
    #[serde(default)]
    pub scope: String,
    pub iss: String,
    pub aud: Audience,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    pub exp: i64,
}

/// `at+jwt`, or its long form `application/at+jwt`; media types compare case-insensitively.
pub fn is_access_token_typ(typ: Option<&str>) -> bool {
    typ.map(|t| t.strip_prefix("application/").unwrap_or(t))
        .is_some_and(|t| t.eq_ignore_ascii_case(ACCESS_TOKEN_TYP))
}

/// `iat` no later than `now + leeway`; `exp - iat` (without `iat`: `exp - now`) at most `max_lifetime`.
pub fn check_times(claims: &Claims, now: i64, leeway: i64, max_lifetime: i64) -> Result<(), Rejection> {
    if claims.iat.is_some_and(|iat| iat > now.saturating_add(leeway)) {
        return Err(Rejection::NotYetValid);
    }
    let start = claims.iat.unwrap_or(now);
    if claims.exp.saturating_sub(start) > max_lifetime {
        return Err(Rejection::TooLongLived);
    }
    Ok(())
}
