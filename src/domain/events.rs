//! Order events: one per change, numbered 1, 2, 3 ... per order. The table that holds them is both the audit
//! trail and the outbox; folding them with `Order::apply` from the first rebuilds the order exactly.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::legacy::{Imported, Synced};
use super::order::{Edited, Order};
use super::values::{Quantity, Sku};

/// A quantity of one SKU, as shipped, returned or refunded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkuQuantity {
    pub sku: Sku,
    pub quantity: Quantity,
}

/// Declares `Change` with each event type named once: the serde tag and `kind()` both come from it.
macro_rules! changes {
    ($($(#[doc = $doc:literal])* $tag:literal => $variant:ident $fields:tt,)*) => {
        /// What happened to an order. The tag is the event type on the wire and on NATS subjects.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "type", content = "data")]
        pub enum Change {
            $($(#[doc = $doc])* #[serde(rename = $tag)] $variant $fields,)*
        }

        impl Change {
            /// Every event type, in declaration order.
            pub const KINDS: &[&str] = &[$($tag),*];

            pub fn kind(&self) -> &'static str {
                match self {
                    $(Change::$variant { .. } => $tag,)*
                }
            }
        }
    };
}

changes! {
    /// The order as placed, in full: the starting point of a replay.
    "order.placed" => Placed(Box<Order>),
    /// The order as brought across from the legacy system: the starting point of its replay.
    "order.imported" => Imported(Box<Imported>),
    /// A later legacy export moved an imported order on (only while Orderly has not changed it itself).
    "order.legacy_synced" => LegacySynced(Box<Synced>),
    "order.confirmed" => Confirmed {},
    "order.cancelled" => Cancelled { reason: Option<String> },
    /// A card order nobody paid for in time: cancelled by the expiry sweeper, its reserved stock released.
    "order.expired" => Expired {},
    "order.completed" => Completed {},
    /// Lines or the address changed before anything shipped: the diff, and the new lines and totals.
    "order.edited" => Edited(Box<Edited>),
    "payment.authorized" => PaymentAuthorized { amount_minor: i64, provider_ref: String },
    /// `parts`: how the captured amount is spread over the lines, shipping last.
    "payment.captured" => PaymentCaptured { amount_minor: i64, parts: Vec<i64> },
    "payment.voided" => PaymentVoided {},
    "payment.failed" => PaymentFailed { reason: Option<String> },
    /// `parts`: how the refund is spread over the lines, shipping last; `units`: line units refunded by quantity.
    "payment.refunded" => Refunded {
        refund_id: Uuid,
        amount_minor: i64,
        parts: Vec<i64>,
        units: Vec<SkuQuantity>,
        reason: Option<String>,
    },
    "cod.collected" => CodCollected {
        amount_minor: i64,
        courier_ref: String,
        parts: Vec<i64>,
    },
    /// Refused at the door: the parcels go back to origin as return `return_id`.
    "cod.refused" => CodRefused {
        reason: Option<String>,
        return_id: Uuid,
        lines: Vec<SkuQuantity>,
    },
    "shipment.created" => Shipped {
        shipment_id: Uuid,
        lines: Vec<SkuQuantity>,
        carrier: String,
        tracking_number: String,
    },
    "shipment.delivered" => Delivered { shipment_id: Uuid },
    "return.requested" => ReturnRequested {
        return_id: Uuid,
        lines: Vec<SkuQuantity>,
        reason: Option<String>,
    },
    "return.received" => ReturnReceived { return_id: Uuid, restock: bool },
}

impl Change {
    /// The event's data alone (without the type tag), as stored and published.
    pub fn data(&self) -> serde_json::Value {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(mut map)) => map.remove("data").unwrap_or(serde_json::Value::Null),
            _ => serde_json::Value::Null,
        }
    }

    /// Rebuilds a change from its stored type and data.
    pub fn from_parts(kind: &str, data: serde_json::Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(serde_json::json!({ "type": kind, "data": data }))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderEvent {
    pub id: Uuid,
    pub order_id: Uuid,
    pub sequence: i64,
    pub change: Change,
    pub actor: String,
    pub occurred_at: OffsetDateTime,
}

impl OrderEvent {
    pub fn kind(&self) -> &'static str {
        self.change.kind()
    }
}
