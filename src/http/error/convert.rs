//! From the domain's and the store's errors to outcomes.

use super::{ApiError, Missing, Unavailable};
use crate::domain::order::OrderError;
use crate::domain::stock::StockError;
use crate::store::StoreError;

impl From<OrderError> for ApiError {
    fn from(e: OrderError) -> Self {
        match e {
            OrderError::InvalidTransition(t) | OrderError::AlreadyShipped(t) => ApiError::InvalidTransition(t),
            OrderError::PaymentRequired => ApiError::PaymentRequired,
            OrderError::InvalidLine { index, field, detail } => {
                let pointer = if field == "lines" {
                    "/lines".to_owned()
                } else {
                    format!("/lines/{index}/{field}")
                };
                ApiError::field(pointer, detail)
            }
            OrderError::InvalidEdit { index, field, detail } => {
                let pointer = if field == "operations" {
                    "/operations".to_owned()
                } else {
                    format!("/operations/{index}/{field}")
                };
                ApiError::field(pointer, detail)
            }
            OrderError::VatCountryChange { from, to } => ApiError::VatCountryChange {
                from: from.as_str().to_owned(),
                to: to.as_str().to_owned(),
            },
            OrderError::Pricing(p) => ApiError::Pricing(p),
            OrderError::InvalidAmount(detail) => ApiError::AmountInvalid(detail),
            OrderError::RefundExceedsCaptured { requested, refundable } => {
                ApiError::RefundExceedsCaptured { requested, refundable }
            }
            OrderError::ShipmentNotFound => ApiError::NotFound(Missing::Shipment),
            OrderError::ReturnNotFound => ApiError::NotFound(Missing::Return),
            OrderError::Corrupt(detail) => ApiError::Internal(format!("order event stream inconsistent: {detail}")),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(missing) => ApiError::NotFound(match missing {
                crate::store::Missing::Order => Missing::Order,
                crate::store::Missing::Product => Missing::Product,
            }),
            StoreError::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
            StoreError::RequestInProgress => ApiError::RequestInProgress,
            StoreError::VersionConflict { expected, current } => ApiError::VersionConflict { expected, current },
            StoreError::Pricing(p) => ApiError::Pricing(p),
            StoreError::Stock { sku, source } => match source {
                StockError::Insufficient { available, requested } => ApiError::InsufficientStock {
                    sku,
                    requested,
                    available,
                },
                StockError::BelowReserved { .. } => ApiError::StockBelowReserved {
                    sku,
                    detail: source.to_string(),
                },
                StockError::Overflow { .. } => ApiError::StockOverflow {
                    sku,
                    detail: source.to_string(),
                },
                other => ApiError::Internal(format!("stock invariant violated for SKU {sku}: {other}")),
            },
            StoreError::Order(e) => e.into(),
            StoreError::TooManyOpenOrders { limit } => ApiError::TooManyOpenOrders { limit },
            StoreError::Unavailable(err) => ApiError::Unavailable {
                why: Unavailable::Database,
                cause: Some(err.to_string()),
            },
            StoreError::Busy(err) => ApiError::Unavailable {
                why: Unavailable::Busy,
                cause: Some(err.to_string()),
            },
            StoreError::Internal(err) => ApiError::Internal(format!("storage failure: {err:#}")),
        }
    }
}
