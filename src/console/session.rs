//! Who is using the console. The session is the staff member's bearer token itself: taken from the `Authorization`
//! header a single-sign-on proxy sets, or from the `orderly_console` cookie that signing in sets (`HttpOnly`,
//! `SameSite=Strict`, `Secure` unless on plain loopback in development). Every request verifies it again with the
//! API's verifier, so an expired or revoked-by-rotation token ends the session, and the scopes are the API's.
//! Customers' tokens are refused (403): the console needs `orders:read`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::csrf::Settings;
use super::i18n::Lang;
use super::templates;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::accounting::RequestNotes;
use crate::http::extract::Auth;

/// The session cookie: the staff member's token.
pub const SESSION_COOKIE: &str = "orderly_console";
/// What the console needs to open at all.
pub const READ: &str = "orders:read";

/// A named cookie of the request, if present.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The bearer token of the `Authorization` header, as a single-sign-on proxy sends it.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim().to_owned())
}

/// Whether the request came to a loopback host name (`localhost`, `127.0.0.1`, `[::1]`), where a development
/// console is served over plain HTTP and a `Secure` cookie would never come back.
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    matches!(name, "localhost" | "127.0.0.1" | "::1")
}

/// A `Set-Cookie` value for a console cookie; an empty value with `Max-Age=0` removes it.
pub fn set_cookie(settings: &Settings, headers: &HeaderMap, name: &str, value: &str) -> String {
    let secure = if settings.is_development() && loopback_host(headers) {
        ""
    } else {
        "; Secure"
    };
    let expiry = if value.is_empty() { "; Max-Age=0" } else { "" };
    format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict{secure}{expiry}")
}

/// A signed-in staff member, for one request.
pub struct Staff {
    pub principal: Principal,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    pub lang: Lang,
}

impl Staff {
    pub fn can(&self, scope: &str) -> bool {
        self.principal.has(scope)
    }

    /// The caller as the API's handlers take it.
    pub fn auth(&self) -> Auth {
        Auth(self.principal.clone())
    }

    /// The refusal of a form whose CSRF token is missing or is not this session's; `None` when it is.
    pub fn forged(&self, given: Option<&str>) -> Option<Response> {
        if given.is_some_and(|g| constant_time_eq(g.as_bytes(), self.csrf.as_bytes())) {
            None
        } else {
            Some(templates::message(self.lang, StatusCode::FORBIDDEN, "bad_form", None))
        }
    }
}

/// Compares without stopping at the first difference, so timing says nothing about a guessed token.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = Lang::from_request_parts(parts, state).await.unwrap_or(Lang::En);
        let from_proxy = bearer(&parts.headers);
        let Some(token) = from_proxy.clone().or_else(|| cookie(&parts.headers, SESSION_COOKIE)) else {
            return Err(Redirect::to("/console/sign-in").into_response());
        };
        let principal = match state.verifier.verify(&token).await {
            Ok(p) => p,
            Err(_) if from_proxy.is_some() => {
                return Err(templates::message(lang, StatusCode::UNAUTHORIZED, "staff_only", None));
            }
            Err(_) => {
                // An expired or foreign token in the cookie: forget it and sign in again.
                let clear = set_cookie(&state.console, &parts.headers, SESSION_COOKIE, "");
                return Err(([(header::SET_COOKIE, clear)], Redirect::to("/console/sign-in")).into_response());
            }
        };
        if let Some(notes) = parts.extensions.get::<RequestNotes>() {
            notes.record_principal(&principal.sub);
        }
        if !principal.has(READ) {
            return Err(templates::message(lang, StatusCode::FORBIDDEN, "staff_only", None));
        }
        // A signed-in session's forms are bound to its token. Behind a single-sign-on proxy the token is refreshed
        // every few minutes, which would expire every form left open that long: there they are bound to the
        // staff member (a value only this server's key can make, so a forger still needs the key).
        let bound = if from_proxy.is_some() {
            format!("sub:{}", principal.sub)
        } else {
            token
        };
        Ok(Staff {
            csrf: state.console.csrf_token(&bound),
            principal,
            lang,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookies_are_found_by_name_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; orderly_console=tok; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn only_loopback_hosts_count_as_loopback() {
        for (host, loopback) in [
            ("127.0.0.1:8080", true),
            ("localhost", true),
            ("[::1]:80", true),
            ("console.example.com", false),
            ("127.0.0.1.example.com", false),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static(host));
            assert_eq!(loopback_host(&headers), loopback, "{host}");
        }
    }

    #[test]
    fn equal_strings_compare_equal_and_others_do_not() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
