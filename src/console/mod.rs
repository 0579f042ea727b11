//! The operations console: server-rendered pages under `/console/` for the staff who cancel, ship, collect, take
//! returns and refund all day, in English and Arabic. It is part of the public router, so every page passes through
//! the API's request pipeline (request id, metrics by route template, one JSON log line, timeout, load shedding).
//!
//! It holds no business rule: sign-in uses the API's verifier and scopes (`session`), actions run through the API's
//! command path (`forms`), which commands are offered is asked of the domain (`actions`), and the catalog pages use
//! the API's parsing and the store's audited writes (`products`). No JavaScript: every action is a plain form with a
//! CSRF token (`csrf`), and the Content-Security-Policy allows no script at all.

mod actions;
pub mod csrf;
mod forms;
pub mod i18n;
mod pages;
mod products;
pub mod session;
mod signin;
mod templates;
mod views;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};

pub use csrf::Settings;

use crate::http::AppState;
use crate::http::error::{ApiError, ErrorLog};
use i18n::Lang;

/// The only style sheet, served by the binary; nothing is fetched from elsewhere.
const CSS: &str = include_str!("../../assets/console/console.css");

/// No script at all, nothing from another origin, never in a frame.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/orders") }))
        .route("/console/", get(|| async { Redirect::to("/console/orders") }))
        .route("/console/assets/console.css", get(css))
        .route("/console/sign-in", get(signin::page).post(signin::sign_in))
        .route("/console/sign-in/dev", post(signin::sign_in_dev))
        .route("/console/sign-out", post(signin::sign_out))
        .route("/console/orders", get(pages::orders))
        .route("/console/orders/{id}", get(pages::order))
        .route("/console/orders/{id}/{action}", post(forms::act))
        .route("/console/products", get(products::list))
        .route("/console/products/{sku}", get(products::edit).post(products::save))
        .route("/console/products/{sku}/stock", post(products::set_stock))
        .route("/console/{*rest}", any(not_found))
        .layer(middleware::from_fn(secure))
}

/// Any other path under `/console/`: a console page (with the console's headers), not the API's JSON 404.
async fn not_found(lang: Lang) -> Response {
    templates::message(lang, StatusCode::NOT_FOUND, "not_found", Some("/console/orders"))
}

tokio::task_local! {
    /// The page the language switch reloads in the other language, for the request being answered.
    static SWITCH_TO: String;
}

/// The GET page a request shows again in another language: itself for a page, and for a form's answer the page
/// the form was on (a form's own URL takes only POST). The `lang` parameter is dropped; the switch adds its own.
fn page_of(method: &axum::http::Method, uri: &axum::http::Uri) -> String {
    let path = uri.path();
    if method == axum::http::Method::GET {
        let kept: Vec<&str> = uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.starts_with("lang="))
            .collect();
        return if kept.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", kept.join("&"))
        };
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["console", "orders", id, _action] => format!("/console/orders/{id}"),
        ["console", "products", sku, "stock"] => format!("/console/products/{sku}"),
        ["console", "products", _] | ["console", "sign-in"] => path.to_owned(),
        _ => "/console/orders".to_owned(),
    }
}

/// The language switch's link for the request being answered (the orders page outside a request).
pub fn switch_link(to: Lang) -> String {
    let page = SWITCH_TO
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "/console/orders".to_owned());
    let sep = if page.contains('?') { '&' } else { '?' };
    format!("{page}{sep}lang={}", to.code())
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

/// The headers a back office needs on every answer, and the language cookie when the switch was used.
async fn secure(req: Request, next: Next) -> Response {
    let chosen = i18n::from_query(req.uri().query());
    let page = page_of(req.method(), req.uri());
    let mut response = SWITCH_TO.scope(page, next.run(req)).await;
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        // Pages show customers' names and addresses: no shared cache may keep them.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(lang) = chosen
        && let Ok(v) = HeaderValue::from_str(&i18n::lang_cookie(lang))
    {
        headers.append(header::SET_COOKIE, v);
    }
    response
}

/// A submitted form's fields, in order (`application/x-www-form-urlencoded`).
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The fields by name (the last of a repeated name wins), to show a form again as submitted.
    pub fn map(&self) -> std::collections::BTreeMap<String, String> {
        self.0.iter().cloned().collect()
    }
}

impl FromRequest<AppState> for Fields {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = i18n::from_query(req.uri().query())
            .or_else(|| i18n::from_cookie(req.headers()))
            .unwrap_or(Lang::En);
        let form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            failure(
                lang,
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge {
                        limit: state.limits.max_body_bytes,
                    }
                } else {
                    ApiError::UnreadableBody
                },
            )
        })?;
        if !form {
            return Err(failure(lang, ApiError::UnsupportedMediaType));
        }
        let pairs = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .map_err(|_| templates::message(lang, StatusCode::BAD_REQUEST, "bad_form", None))?;
        Ok(Fields(pairs))
    }
}

/// A failure as a page: the words for it, the API's status, and the API's `ErrorLog`, so the request's log line
/// names the problem code (and, for a failure on our side, its cause) exactly as it would for the API.
pub fn failure(lang: Lang, error: ApiError) -> Response {
    let status = error.code().status();
    let key = match status {
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        s if s.is_server_error() => "error",
        _ => "not_accepted",
    };
    let log = error.into_response().extensions_mut().remove::<ErrorLog>();
    let mut page = templates::message(lang, status, key, None);
    if let Some(log) = log {
        page.extensions_mut().insert(log);
    }
    page
}
