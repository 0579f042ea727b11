//! The console's templates (minijinja, HTML auto-escaped), embedded in the binary and parsed once. Every page gets
//! `base` (language, direction, the words of the interface, who is signed in and the session's CSRF token) and
//! `page` (what the handler rendered).

use std::sync::LazyLock;

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value, context};

use super::i18n::Lang;
use super::session::Staff;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/console/base.html")),
    ("signin.html", include_str!("../../templates/console/signin.html")),
    ("message.html", include_str!("../../templates/console/message.html")),
    ("orders.html", include_str!("../../templates/console/orders.html")),
    ("order.html", include_str!("../../templates/console/order.html")),
    ("actions.html", include_str!("../../templates/console/actions.html")),
    ("products.html", include_str!("../../templates/console/products.html")),
    ("product.html", include_str!("../../templates/console/product.html")),
];

/// The template sources by name (for the vocabulary test).
#[cfg(test)]
pub fn sources() -> &'static [(&'static str, &'static str)] {
    TEMPLATES
}

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in TEMPLATES {
        if let Err(e) = env.add_template(name, source) {
            // The unit test below parses every template, so this is never reached by a build that passed.
            tracing::error!(template = name, error = %e, "console template does not parse");
        }
    }
    env
});

/// Renders `name` with `page`; a template failure is logged and answered with a plain 500.
pub fn render(lang: Lang, status: StatusCode, name: &str, staff: Option<&Staff>, page: Value) -> Response {
    let base = context! {
        lang => lang.code(),
        dir => lang.dir(),
        t => lang.words(),
        other => lang.other().code(),
        switch => super::switch_link(lang.other()),
        other_label => lang.other().word("language"),
        user => staff.map(|s| s.principal.sub.clone()),
        csrf => staff.map(|s| s.csrf.clone()),
    };
    let rendered = ENV
        .get_template(name)
        .and_then(|t| t.render(context! { base => base, page => page }));
    match rendered {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(template = name, error = %e, "console page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "internal error",
            )
                .into_response()
        }
    }
}

/// A page with one sentence (by word key) and an optional link back.
pub fn message(lang: Lang, status: StatusCode, key: &str, back: Option<&str>) -> Response {
    let page = context! { text => lang.word(key), back => back, status => status.as_u16() };
    render(lang, status, "message.html", None, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn a_message_page_is_html_in_the_language_asked() {
        let response = message(Lang::Ar, StatusCode::FORBIDDEN, "forbidden", None);
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
}
