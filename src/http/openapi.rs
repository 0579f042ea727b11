//! The OpenAPI 3.1 document, generated from the handlers and wire types; `docs/openapi.json` is a checked-in
//! copy that a test keeps equal to this.

use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::AppState;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Orderly", description = "Orders API: exact Gulf money, stock reservation, idempotent commands."),
    paths(
        super::orders::create_order,
        super::orders::get_order,
        super::orders::list_orders,
        super::orders::cancel_order,
        super::lifecycle::authorize_doc,
        super::lifecycle::capture_doc,
        super::lifecycle::void_doc,
        super::lifecycle::fail_doc,
        super::lifecycle::collect_doc,
        super::lifecycle::refuse_doc,
        super::lifecycle::ship_doc,
        super::lifecycle::deliver_doc,
        super::lifecycle::return_doc,
        super::lifecycle::receive_doc,
        super::lifecycle::refund_doc,
        super::lifecycle::events::events,
        super::catalog::put_product,
        super::catalog::get_product,
        super::catalog::put_stock,
        super::catalog::get_stock,
    ),
    modifiers(&BearerAuth),
    tags((name = "orders"), (name = "lifecycle"), (name = "catalog"))
)]
pub struct ApiDoc;

/// The document as pretty JSON, exactly as served and checked in.
pub fn document() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/openapi.json",
        get(|| async { ([("content-type", "application/json")], document()) }),
    )
}
