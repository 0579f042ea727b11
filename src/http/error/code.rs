//! The catalogue of problem codes: each declared once with its status and title.

use std::fmt;

use axum::http::StatusCode;

/// Declares the problem codes once: each with its status and title, plus the list of all of them.
macro_rules! codes {
    ($($variant:ident = $code:literal, $status:ident, $title:literal;)*) => {
        /// A stable, machine-readable reason for a failed request. Clients branch on it; docs/api.md lists each.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            pub const ALL: &[Code] = &[$(Code::$variant),*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            pub const fn status(self) -> StatusCode {
                match self {
                    $(Code::$variant => StatusCode::$status,)*
                }
            }

            pub const fn title(self) -> &'static str {
                match self {
                    $(Code::$variant => $title,)*
                }
            }
        }
    };
}

codes! {
    MalformedJson = "malformed_json", BAD_REQUEST, "Malformed JSON";
    DuplicateKey = "duplicate_key", BAD_REQUEST, "Duplicate JSON key";
    UnreadableBody = "unreadable_body", BAD_REQUEST, "Unreadable body";
    IdempotencyKeyMissing = "idempotency_key_missing", BAD_REQUEST, "Idempotency-Key missing";
    IdempotencyKeyInvalid = "idempotency_key_invalid", BAD_REQUEST, "Idempotency-Key invalid";
    IfMatchInvalid = "if_match_invalid", BAD_REQUEST, "If-Match invalid";
    Unauthenticated = "unauthenticated", UNAUTHORIZED, "Unauthenticated";
    InvalidToken = "invalid_token", UNAUTHORIZED, "Unauthenticated";
    InsufficientScope = "insufficient_scope", FORBIDDEN, "Insufficient scope";
    OrderNotFound = "order_not_found", NOT_FOUND, "Not found";
    ShipmentNotFound = "shipment_not_found", NOT_FOUND, "Not found";
    ReturnNotFound = "return_not_found", NOT_FOUND, "Not found";
    ProductNotFound = "product_not_found", NOT_FOUND, "Not found";
    StockNotFound = "stock_not_found", NOT_FOUND, "Not found";
    RemittanceNotFound = "remittance_not_found", NOT_FOUND, "Not found";
    InvoiceNotFound = "invoice_not_found", NOT_FOUND, "Not found";
    RouteNotFound = "route_not_found", NOT_FOUND, "Not found";
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED, "Method not allowed";
    RequestInProgress = "request_in_progress", CONFLICT, "Request in progress";
    InsufficientStock = "insufficient_stock", CONFLICT, "Insufficient stock";
    StockBelowReserved = "stock_below_reserved", CONFLICT, "Stock below reserved";
    InvalidTransition = "invalid_transition", CONFLICT, "Invalid transition";
    TooManyOpenOrders = "too_many_open_orders", CONFLICT, "Too many open orders";
    PaymentRequired = "payment_required", CONFLICT, "Payment required";
    RemittanceConflict = "remittance_conflict", CONFLICT, "Remittance conflict";
    VersionConflict = "version_conflict", PRECONDITION_FAILED, "Version conflict";
    PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE, "Payload too large";
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "Unsupported media type";
    ValidationFailed = "validation_failed", UNPROCESSABLE_ENTITY, "Validation failed";
    IdempotencyKeyReused = "idempotency_key_reused", UNPROCESSABLE_ENTITY, "Idempotency-Key reused";
    UnknownSku = "unknown_sku", UNPROCESSABLE_ENTITY, "Unknown SKU";
    SkuInactive = "sku_inactive", UNPROCESSABLE_ENTITY, "SKU not for sale";
    PriceUnavailable = "price_unavailable", UNPROCESSABLE_ENTITY, "No price in this currency";
    UnsupportedCountry = "unsupported_country", UNPROCESSABLE_ENTITY, "Country not served";
    VatCountryChange = "vat_country_change", UNPROCESSABLE_ENTITY, "Country change alters VAT";
    AmountOutOfRange = "amount_out_of_range", UNPROCESSABLE_ENTITY, "Amount out of range";
    AmountInvalid = "amount_invalid", UNPROCESSABLE_ENTITY, "Invalid amount";
    RefundExceedsCaptured = "refund_exceeds_captured", UNPROCESSABLE_ENTITY, "Refund exceeds what was paid";
    StockOverflow = "stock_overflow", UNPROCESSABLE_ENTITY, "Stock count out of range";
    IfMatchRequired = "if_match_required", PRECONDITION_REQUIRED, "If-Match required";
    RateLimited = "rate_limited", TOO_MANY_REQUESTS, "Too many requests";
    InternalError = "internal_error", INTERNAL_SERVER_ERROR, "Internal error";
    DatabaseUnavailable = "database_unavailable", SERVICE_UNAVAILABLE, "Service unavailable";
    Busy = "busy", SERVICE_UNAVAILABLE, "Service unavailable";
    RequestTimeout = "request_timeout", SERVICE_UNAVAILABLE, "Service unavailable";
    Overloaded = "overloaded", SERVICE_UNAVAILABLE, "Service unavailable";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
