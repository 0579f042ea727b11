//! Signing in and out. The sign-in page takes a pasted token, and in development offers "sign in as staff", which
//! mints a token with the staff scopes as `orderly token` does, to a browser on the same machine only (a development
//! server reachable over a network, with a real secret, must not hand staff tokens to whoever asks). Behind a single-sign-on proxy nobody sees this page:
//! the proxy's `Authorization` header is the session (see `session`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;

use super::Fields;
use super::csrf::random_token;
use super::i18n::Lang;
use super::session::{READ, SESSION_COOKIE, Staff, cookie, set_cookie};
use super::templates;
use crate::http::AppState;

/// The pre-session cookie the sign-in form's CSRF token is bound to.
const PRE_COOKIE: &str = "orderly_console_pre";
/// What "sign in as staff" grants: the walkthrough's staff scopes.
pub const DEV_SCOPES: &str = "orders:read orders:write catalog:write stock:write";
/// The `sub` of development sign-ins.
pub const DEV_SUB: &str = "console-dev";

/// The configuration to mint a development token with: in development, for a client on this machine only.
fn dev_config(state: &AppState, peer: SocketAddr) -> Option<&crate::config::Config> {
    state.console.dev_config().filter(|_| peer.ip().is_loopback())
}

pub async fn page(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    lang: Lang,
    headers: HeaderMap,
) -> Response {
    let dev = dev_config(&state, peer).is_some();
    render(&state, lang, &headers, StatusCode::OK, None, dev)
}

fn render(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<&str>,
    dev: bool,
) -> Response {
    let (pre, fresh) = match cookie(headers, PRE_COOKIE).filter(|p| p.len() == 32) {
        Some(pre) => (pre, false),
        None => (random_token(), true),
    };
    let page = context! {
        csrf => state.console.sign_in_token(&pre),
        dev => dev,
        error => error.map(|e| lang.word(e)),
    };
    let mut response = templates::render(lang, status, "signin.html", None, page);
    if fresh && let Ok(v) = set_cookie(&state.console, headers, PRE_COOKIE, &pre).parse() {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// The sign-in form's CSRF token matches its pre-session cookie.
fn sign_in_form_ok(state: &AppState, headers: &HeaderMap, fields: &Fields) -> bool {
    match (cookie(headers, PRE_COOKIE), fields.get("csrf")) {
        (Some(pre), Some(given)) => {
            super::session::constant_time_eq(given.as_bytes(), state.console.sign_in_token(&pre).as_bytes())
        }
        _ => false,
    }
}

/// Starts a session with `token`, once the API's verifier accepts it and it holds `orders:read`.
async fn start(state: &AppState, lang: Lang, headers: &HeaderMap, token: &str) -> Response {
    let principal = match state.verifier.verify(token).await {
        Ok(p) => p,
        Err(_) => {
            return render(
                state,
                lang,
                headers,
                StatusCode::UNAUTHORIZED,
                Some("token_help"),
                false,
            );
        }
    };
    if !principal.has(READ) {
        return templates::message(lang, StatusCode::FORBIDDEN, "staff_only", None);
    }
    let session = set_cookie(&state.console, headers, SESSION_COOKIE, token);
    let clear_pre = set_cookie(&state.console, headers, PRE_COOKIE, "");
    let mut response = Redirect::to("/console/orders").into_response();
    for v in [session, clear_pre] {
        if let Ok(v) = v.parse() {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

pub async fn sign_in(State(state): State<AppState>, lang: Lang, headers: HeaderMap, fields: Fields) -> Response {
    if !sign_in_form_ok(&state, &headers, &fields) {
        return templates::message(lang, StatusCode::FORBIDDEN, "bad_form", None);
    }
    let token = fields.get("token").unwrap_or("").trim().to_owned();
    start(&state, lang, &headers, &token).await
}

pub async fn sign_in_dev(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    lang: Lang,
    headers: HeaderMap,
    fields: Fields,
) -> Response {
    let Some(config) = dev_config(&state, peer) else {
        return templates::message(lang, StatusCode::NOT_FOUND, "not_found", None);
    };
    if !sign_in_form_ok(&state, &headers, &fields) {
        return templates::message(lang, StatusCode::FORBIDDEN, "bad_form", None);
    }
    match crate::auth::mint(config, DEV_SUB, DEV_SCOPES, crate::auth::default_ttl(config)) {
        Ok(token) => start(&state, lang, &headers, &token).await,
        Err(e) => {
            tracing::warn!(error = %e, "console: minting a development token failed");
            templates::message(lang, StatusCode::INTERNAL_SERVER_ERROR, "error", None)
        }
    }
}

pub async fn sign_out(State(state): State<AppState>, staff: Staff, headers: HeaderMap, fields: Fields) -> Response {
    if let Some(refused) = staff.forged(fields.get("csrf")) {
        return refused;
    }
    let clear = set_cookie(&state.console, &headers, SESSION_COOKIE, "");
    ([(header::SET_COOKIE, clear)], Redirect::to("/console/sign-in")).into_response()
}
