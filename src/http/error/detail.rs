//! The human text of each problem (`detail`); the code, status and title are decided in `code`.

use super::*;

impl ApiError {
    /// The problem's `detail`: what went wrong, in words a client's developer can act on.
    pub(super) fn detail(&self) -> String {
        match self {
            ApiError::Validation(errors) => match errors.as_slice() {
                [one] => format!("{}: {}", one.pointer, one.detail),
                _ if errors.len() > MAX_LISTED_ERRORS => {
                    format!(
                        "{} fields are invalid; the first {MAX_LISTED_ERRORS} are listed",
                        errors.len()
                    )
                }
                _ => format!("{} fields are invalid", errors.len()),
            },
            ApiError::MalformedJson(why) => format!("the body is not valid JSON: {why}"),
            ApiError::DuplicateKey(at) => format!("{at}: the key appears more than once in its object"),
            ApiError::UnreadableBody => "the body could not be read".into(),
            ApiError::PayloadTooLarge { limit } => format!("the body may be at most {limit} bytes"),
            ApiError::UnsupportedMediaType => "send the body as application/json".into(),
            ApiError::NoCredentials => "send Authorization: Bearer <token>".into(),
            ApiError::InvalidToken(fault) => match fault {
                TokenFault::Expired => "the token has expired",
                TokenFault::BadSignature => "the token signature is not valid",
                TokenFault::ForSomeoneElse => "the token was issued for someone else",
                TokenFault::Malformed => "the token is malformed",
                TokenFault::Uncheckable => "the token cannot be checked",
                TokenFault::NotYetValid => "the token is not valid yet (nbf or iat is in the future)",
                TokenFault::TooLongLived => "the token is valid for longer than this service accepts",
                TokenFault::NotAnAccessToken => "the token is not an access token (header typ must be at+jwt)",
                TokenFault::UnknownKey => "the token is signed with an unknown key (kid)",
                TokenFault::SubjectNotACustomer => "the token subject is not a valid customer id",
            }
            .into(),
            ApiError::Forbidden(scope) => format!("this operation needs the `{scope}` scope"),
            ApiError::NotFound(what) => match what {
                Missing::Order => "the order does not exist",
                Missing::Shipment => "no such shipment on this order",
                Missing::Return => "no such return on this order",
                Missing::Product => "the product does not exist",
                Missing::Stock => "stock for this SKU does not exist",
                Missing::Remittance => "no such remittance",
                Missing::Invoice => "no such invoice or credit note",
                Missing::Route => "no such endpoint; see /openapi.json",
            }
            .into(),
            ApiError::MethodNotAllowed => "this endpoint does not accept that method".into(),
            ApiError::IdempotencyKeyMissing => {
                "this request changes state: send an Idempotency-Key header (a UUID is a good choice)".into()
            }
            ApiError::IdempotencyKeyInvalid => "an Idempotency-Key is 1 to 255 visible ASCII characters".into(),
            ApiError::IdempotencyKeyReused => "this Idempotency-Key was already used with a different request".into(),
            ApiError::RequestInProgress => {
                "a request with this Idempotency-Key is still being processed; retry shortly".into()
            }
            ApiError::IfMatchRequired => "send If-Match with the ETag of the order you last read".into(),
            ApiError::IfMatchInvalid => "If-Match must be one strong ETag such as \"3\"".into(),
            ApiError::VersionConflict { expected, current } => {
                format!("If-Match was \"{expected}\" but the order is at \"{current}\"; reload and retry")
            }
            ApiError::Pricing(p) => match p {
                PricingError::UnknownSku(sku) => format!("SKU {sku} is not in the catalog"),
                PricingError::InactiveSku(sku) => format!("SKU {sku} is not for sale"),
                PricingError::NoPriceInCurrency(sku, c) => format!("SKU {sku} has no price in {c}"),
                PricingError::NoVatRate(country) => {
                    format!("orders cannot ship to {country}: no VAT rate is configured for it")
                }
                PricingError::Money(_) => "the order total is too large".into(),
            },
            ApiError::InsufficientStock {
                sku,
                requested,
                available,
            } => format!("SKU {sku}: {requested} requested, {available} available"),
            ApiError::StockBelowReserved { sku, detail } | ApiError::StockOverflow { sku, detail } => {
                format!("SKU {sku}: {detail}")
            }
            ApiError::InvalidTransition(t) => {
                format!("the {} status is `{}` and cannot move to `{}`", t.kind, t.from, t.to)
            }
            ApiError::PaymentRequired => "a card order ships only while its payment is authorised or captured".into(),
            ApiError::RemittanceConflict { courier, reference } => format!(
                "courier {courier}'s remittance {reference} is already stored with a different body; a correction \
                 is a new remittance with its own reference"
            ),
            ApiError::AmountInvalid(detail) => detail.clone(),
            ApiError::VatCountryChange { from, to } => format!(
                "the order was placed for {from}; {to} is taxed at another VAT rate, so the address may not move \
                 there (cancel and place a new order instead)"
            ),
            ApiError::RefundExceedsCaptured { requested, refundable } => {
                format!("a refund of {requested} exceeds the {refundable} still refundable")
            }
            ApiError::TooManyOpenOrders { limit } => format!(
                "the customer already has {limit} unpaid orders open; pay for or cancel one first (unpaid card \
                 orders also expire)"
            ),
            ApiError::RateLimited { retry_after_secs } => {
                format!("too many requests; retry in {retry_after_secs} s")
            }
            ApiError::Unavailable { why, .. } => match why {
                Unavailable::Database => "the database cannot be reached; retry shortly",
                Unavailable::Busy => "the system is busy; retry shortly",
                Unavailable::Timeout => "the request took too long and was abandoned; it may be retried",
                Unavailable::Overloaded => "the server is handling as many requests as it can; retry shortly",
            }
            .into(),
            ApiError::Internal(_) => "the request failed on our side; it has been logged".into(),
        }
    }
}
