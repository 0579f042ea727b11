//! Field checks shared by the command bodies, reporting JSON pointers.

use crate::domain::events::SkuQuantity;
use crate::domain::text::text;
use crate::domain::values::{Quantity, Sku};
use crate::http::error::{ApiError, FieldError};
use crate::http::wire::{LineRequest, OrderLimits};

pub fn free_text(pointer: &str, raw: &str, max: usize) -> Result<String, ApiError> {
    text(raw, max).map_err(|e| ApiError::field(pointer, e.0))
}

/// The optional free-text reason most commands take.
pub fn reason(raw: Option<String>) -> Result<Option<String>, ApiError> {
    raw.map(|r| free_text("/reason", &r, 500)).transpose()
}

/// Lines naming SKUs and quantities of the order: at least one, at most `max_lines`, each well formed. Whether
/// they are on the order, and not more than is left, is the domain's to say.
pub fn sku_lines(lines: &[LineRequest], limits: OrderLimits) -> Result<Vec<SkuQuantity>, ApiError> {
    let mut errors = Vec::new();
    if lines.is_empty() || lines.len() > limits.max_lines {
        errors.push(FieldError {
            pointer: "/lines".into(),
            detail: format!("name 1 to {} lines", limits.max_lines),
        });
    }
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let sku = Sku::parse(&l.sku).map_err(|e| {
            errors.push(FieldError {
                pointer: format!("/lines/{i}/sku"),
                detail: e.0,
            })
        });
        let quantity = Quantity::parse(l.quantity, limits.max_quantity).map_err(|e| {
            errors.push(FieldError {
                pointer: format!("/lines/{i}/quantity"),
                detail: e.0,
            })
        });
        if let (Ok(sku), Ok(quantity)) = (sku, quantity) {
            out.push(SkuQuantity { sku, quantity });
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::Validation(errors))
    }
}
