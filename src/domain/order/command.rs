//! The commands an order takes after it is placed, as the domain sees them; `decide` says what each one does.

use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::events::SkuQuantity;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Cancel {
        reason: Option<String>,
    },
    Authorize {
        amount_minor: i64,
        provider_ref: String,
    },
    Capture {
        amount_minor: i64,
    },
    Void,
    Fail {
        reason: Option<String>,
    },
    CollectCod {
        amount_minor: i64,
        courier_ref: String,
    },
    RefuseCod {
        reason: Option<String>,
    },
    Ship {
        lines: Vec<SkuQuantity>,
        carrier: String,
        tracking_number: String,
    },
    Deliver {
        shipment_id: Uuid,
    },
    RequestReturn {
        lines: Vec<SkuQuantity>,
        reason: Option<String>,
    },
    ReceiveReturn {
        return_id: Uuid,
        restock: bool,
    },
    /// The expiry sweeper's: cancels a card order placed before `placed_before` that is still unpaid (payment
    /// `pending`, or `failed` with nothing authorised). Not an HTTP command.
    Expire {
        placed_before: OffsetDateTime,
    },
    /// Lines added, removed or re-counted and the address changed, together (`edit`).
    Edit(Box<super::Edit>),
    /// Without `amount_minor` and `lines`: everything still refundable.
    Refund {
        amount_minor: Option<i64>,
        lines: Vec<SkuQuantity>,
        reason: Option<String>,
    },
}

impl Command {
    /// The command's name: the HTTP layer's command table and the OpenAPI operationIds use the same.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Cancel { .. } => "cancel",
            Command::Authorize { .. } => "authorize",
            Command::Capture { .. } => "capture",
            Command::Void => "void",
            Command::Fail { .. } => "fail",
            Command::CollectCod { .. } => "collect_cod",
            Command::RefuseCod { .. } => "refuse_cod",
            Command::Ship { .. } => "ship",
            Command::Deliver { .. } => "deliver",
            Command::RequestReturn { .. } => "request_return",
            Command::ReceiveReturn { .. } => "receive_return",
            Command::Refund { .. } => "refund",
            Command::Expire { .. } => "expire",
            Command::Edit(_) => "edit",
        }
    }
}
