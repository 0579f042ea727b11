//! Every operation of the public API with what the contract says of it: scopes, success statuses, problem codes,
//! the headers it takes. The command table supplies its rows; the other operations are listed here.

use axum::http::StatusCode;

use crate::http::commands::{COMMANDS, Entry};
use crate::http::error::Code;
use crate::http::orders::{READ_ANY, READ_OWN, WRITE_ANY, WRITE_OWN};

/// The problems every authenticated operation can answer with.
const AUTHENTICATED: [Code; 8] = [
    Code::Unauthenticated,
    Code::RateLimited,
    Code::InvalidToken,
    Code::InsufficientScope,
    Code::InternalError,
    Code::DatabaseUnavailable,
    Code::Busy,
    Code::RequestTimeout,
];

/// What a body-carrying request can fail with before its fields are looked at.
const BODY: [Code; 6] = [
    Code::MalformedJson,
    Code::DuplicateKey,
    Code::UnreadableBody,
    Code::PayloadTooLarge,
    Code::UnsupportedMediaType,
    Code::ValidationFailed,
];

/// One documented operation, as the contract test and the document both see it.
#[derive(Clone)]
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub operation_id: &'static str,
    /// Any one of them is enough.
    pub scopes: &'static [&'static str],
    /// The success statuses (PUT of a product answers 201 or 200).
    pub success: Vec<StatusCode>,
    pub problems: Vec<Code>,
    /// Takes `Idempotency-Key` (and then replays).
    pub idempotent: bool,
    /// Takes `If-Match` and answers with the order's `ETag`.
    pub if_match: bool,
    /// A command from the table (its path, parameters and body come from it).
    pub command: Option<Entry>,
}

/// `codes` and `more` with the problems of every authenticated operation, sorted, each once.
pub(crate) fn authenticated(mut codes: Vec<Code>, more: &[Code]) -> Vec<Code> {
    codes.extend(AUTHENTICATED);
    codes.extend_from_slice(more);
    codes.sort();
    codes.dedup();
    codes
}

/// Every operation of the public API.
pub fn operations() -> Vec<Operation> {
    let ok = || vec![StatusCode::OK];
    let mut ops = vec![
        Operation {
            method: "post",
            path: "/v1/orders",
            operation_id: "create_order",
            scopes: &[WRITE_ANY, WRITE_OWN],
            success: vec![StatusCode::CREATED],
            problems: authenticated(
                BODY.to_vec(),
                &[
                    Code::IdempotencyKeyMissing,
                    Code::IdempotencyKeyInvalid,
                    Code::IdempotencyKeyReused,
                    Code::RequestInProgress,
                    Code::UnknownSku,
                    Code::SkuInactive,
                    Code::PriceUnavailable,
                    Code::UnsupportedCountry,
                    Code::AmountOutOfRange,
                    Code::InsufficientStock,
                    Code::TooManyOpenOrders,
                ],
            ),
            idempotent: true,
            if_match: false,
            command: None,
        },
        Operation {
            method: "get",
            path: "/v1/orders",
            operation_id: "list_orders",
            scopes: &[READ_ANY, READ_OWN],
            success: ok(),
            problems: authenticated(vec![Code::ValidationFailed], &[]),
            idempotent: false,
            if_match: false,
            command: None,
        },
        Operation {
            method: "get",
            path: "/v1/orders/export.csv",
            operation_id: "export_orders",
            scopes: &[READ_ANY],
            success: ok(),
            problems: authenticated(vec![Code::ValidationFailed], &[]),
            idempotent: false,
            if_match: false,
            command: None,
        },
        Operation {
            method: "get",
            path: "/v1/orders/{id}",
            operation_id: "get_order",
            scopes: &[READ_ANY, READ_OWN],
            success: ok(),
            problems: authenticated(vec![Code::OrderNotFound], &[]),
            idempotent: false,
            if_match: false,
            command: None,
        },
        Operation {
            method: "get",
            path: "/v1/orders/{id}/invoices",
            operation_id: "order_invoices",
            scopes: &[READ_ANY, READ_OWN],
            success: ok(),
            problems: authenticated(vec![Code::OrderNotFound], &[]),
            idempotent: false,
            if_match: false,
            command: None,
        },
        Operation {
            method: "get",
            path: "/v1/invoices/{number}",
            operation_id: "get_invoice",
            scopes: &[READ_ANY, READ_OWN],
            success: ok(),
            problems: authenticated(vec![Code::InvoiceNotFound], &[]),
            idempotent: false,
            if_match: false,
            command: None,
        },
        Operation {
            method: "get",
            path: "/v1/orders/{id}/events",
            operation_id: "order_events",
            scopes: &[READ_ANY, READ_OWN],
            success: ok(),
            problems: authenticated(vec![Code::OrderNotFound], &[]),
            idempotent: false,
            if_match: false,
            command: None,
        },
        Operation {
            method: "put",
            path: "/v1/products/{sku}",
            operation_id: "put_product",
            scopes: &["catalog:write"],
            success: vec![StatusCode::OK, StatusCode::CREATED],
            problems: authenticated(BODY.to_vec(), &[]),
            idempotent: false,
            if_match: false,
            command: None,
        },
        Operation {
            method: "get",
            path: "/v1/products/{sku}",
            operation_id: "get_product",
            scopes: &[],
            success: ok(),
            problems: authenticated(vec![Code::ValidationFailed, Code::ProductNotFound], &[]),
            idempotent: false,
            if_match: false,
            command: None,
        },
        Operation {
            method: "put",
            path: "/v1/stock/{sku}",
            operation_id: "put_stock",
            scopes: &["stock:write"],
            success: ok(),
            problems: authenticated(BODY.to_vec(), &[Code::ProductNotFound, Code::StockBelowReserved]),
            idempotent: false,
            if_match: false,
            command: None,
        },
        Operation {
            method: "get",
            path: "/v1/stock/{sku}",
            operation_id: "get_stock",
            scopes: &["stock:read", "stock:write", "orders:read"],
            success: ok(),
            problems: authenticated(vec![Code::ValidationFailed, Code::StockNotFound], &[]),
            idempotent: false,
            if_match: false,
            command: None,
        },
        Operation {
            method: "get",
            path: "/v1/audit",
            operation_id: "audit_log",
            scopes: &[crate::http::audit::AUDIT_READ],
            success: ok(),
            problems: authenticated(vec![Code::ValidationFailed], &[]),
            idempotent: false,
            if_match: false,
            command: None,
        },
    ];
    ops.extend(cod_operations());
    ops.extend(COMMANDS.iter().map(|e| Operation {
        method: "post",
        path: e.spec.path,
        operation_id: e.spec.name,
        scopes: e.spec.scopes(),
        success: vec![e.spec.success],
        problems: e.spec.problems(),
        idempotent: true,
        if_match: true,
        command: Some(*e),
    }));
    ops
}

/// COD settlement (`http::cod`), for finance.
fn cod_operations() -> Vec<Operation> {
    use crate::http::cod::{FINANCE_READ, FINANCE_WRITE};
    let read = |path, operation_id, problems: Vec<Code>| Operation {
        method: "get",
        path,
        operation_id,
        scopes: &[FINANCE_READ],
        success: vec![StatusCode::OK],
        problems: authenticated(problems, &[]),
        idempotent: false,
        if_match: false,
        command: None,
    };
    vec![
        Operation {
            method: "post",
            path: "/v1/cod/remittances",
            operation_id: "post_remittance",
            scopes: &[FINANCE_WRITE],
            success: vec![StatusCode::CREATED, StatusCode::OK],
            problems: authenticated(BODY.to_vec(), &[Code::RemittanceConflict]),
            idempotent: false,
            if_match: false,
            command: None,
        },
        read(
            "/v1/cod/remittances/{id}",
            "get_remittance",
            vec![Code::RemittanceNotFound],
        ),
        read("/v1/cod/outstanding", "cod_outstanding", vec![Code::ValidationFailed]),
        read("/v1/cod/returns", "cod_returns", vec![Code::ValidationFailed]),
    ]
}
