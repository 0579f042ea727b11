//! `POST /v1/orders/{id}/edits`: lines added, removed or re-counted and the address changed, together or not at
//! all, while nothing has shipped.

use serde::Deserialize;
use utoipa::ToSchema;

use super::{Context, OrderCommand, Spec};
use crate::domain::order::{Command, Edit, EditOperation};
use crate::domain::pricing::PricingPolicy;
use crate::domain::values::{Invalid, Quantity, Sku};
use crate::http::error::{ApiError, Code, FieldError};
use crate::http::wire::ShipToRequest;

/// One operation; `op` says which.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum EditOperationRequest {
    /// A SKU not on the order, priced from the catalog now.
    AddLine {
        #[schema(schema_with = crate::http::wire::schema::sku)]
        sku: String,
        #[serde(deserialize_with = "crate::http::wire::schema::integral::required")]
        #[schema(schema_with = crate::http::wire::schema::quantity)]
        quantity: i64,
    },
    /// A line of the order, taken off.
    RemoveLine {
        #[schema(schema_with = crate::http::wire::schema::sku)]
        sku: String,
    },
    /// A line of the order, re-counted; it keeps its price.
    SetQuantity {
        #[schema(schema_with = crate::http::wire::schema::sku)]
        sku: String,
        #[serde(deserialize_with = "crate::http::wire::schema::integral::required")]
        #[schema(schema_with = crate::http::wire::schema::quantity)]
        quantity: i64,
    },
    /// A new delivery address, the same shape as on create; another country only at the same VAT rate.
    SetShipTo { ship_to: ShipToRequest },
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditRequest {
    /// Applied in order, all or none.
    #[schema(min_items = 1, max_items = 100)]
    pub operations: Vec<EditOperationRequest>,
}

impl OrderCommand for EditRequest {
    const SPEC: Spec = Spec {
        name: "edit",
        path: "/v1/orders/{id}/edits",
        sub_id: None,
        customers_may: false,
        success: axum::http::StatusCode::OK,
        body_optional: false,
        problems: &[
            Code::InvalidTransition,
            Code::InsufficientStock,
            Code::VatCountryChange,
            Code::UnknownSku,
            Code::SkuInactive,
            Code::PriceUnavailable,
            Code::UnsupportedCountry,
            Code::AmountOutOfRange,
        ],
        summary: "Edit an order",
        description: "Adds, removes and re-counts lines and changes the address, all together or not at all, while \
                      nothing has shipped (the address too). Existing lines keep their prices; added lines are \
                      priced from the catalog now; VAT and totals are computed again as on placing; stock is \
                      reserved or released by the difference. Money already paid is kept: `payment.balance_due` \
                      or `payment.refund_due` (and for COD `payment.to_collect`) say what the change leaves owed.",
    };

    fn into_command(self, ctx: Context) -> Result<Command, ApiError> {
        let max = ctx.limits.max_lines;
        let mut errors = Vec::new();
        if self.operations.is_empty() || self.operations.len() > max {
            errors.push(FieldError {
                pointer: "/operations".into(),
                detail: format!("send 1 to {max} operations"),
            });
        }
        let mut operations = Vec::with_capacity(self.operations.len());
        for (i, op) in self.operations.iter().enumerate() {
            let at = format!("/operations/{i}");
            let mut sku = |raw: &str| field(&mut errors, format!("{at}/sku"), Sku::parse(raw));
            let parsed = match op {
                EditOperationRequest::AddLine { sku: s, quantity } => {
                    let sku = sku(s);
                    let q = Quantity::parse(*quantity, ctx.limits.max_quantity);
                    let quantity = field(&mut errors, format!("{at}/quantity"), q);
                    sku.zip(quantity)
                        .map(|(sku, quantity)| EditOperation::AddLine { sku, quantity })
                }
                EditOperationRequest::RemoveLine { sku: s } => sku(s).map(|sku| EditOperation::RemoveLine { sku }),
                EditOperationRequest::SetQuantity { sku: s, quantity } => {
                    let sku = sku(s);
                    let q = Quantity::parse(*quantity, ctx.limits.max_quantity);
                    let quantity = field(&mut errors, format!("{at}/quantity"), q);
                    sku.zip(quantity)
                        .map(|(sku, quantity)| EditOperation::SetQuantity { sku, quantity })
                }
                EditOperationRequest::SetShipTo { ship_to } => ship_to
                    .parse_into(&format!("{at}/ship_to"), &mut errors)
                    .map(|ship_to| EditOperation::SetShipTo { ship_to }),
            };
            operations.extend(parsed);
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(Command::Edit(Box::new(Edit {
            operations,
            // Filled in inside the order's transaction (`commands::execute`).
            catalog: Vec::new(),
            policy: PricingPolicy::default(),
            max_lines: max,
        })))
    }
}

/// `r`'s value, or `None` with its error recorded at `pointer`.
fn field<T>(errors: &mut Vec<FieldError>, pointer: String, r: Result<T, Invalid>) -> Option<T> {
    r.map_err(|e| errors.push(FieldError { pointer, detail: e.0 })).ok()
}
