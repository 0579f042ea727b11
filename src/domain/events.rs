//! Order events: one per change, numbered 1, 2, 3 ... per order. The table that holds them is both the audit
//! trail and the outbox.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "order.placed")]
    OrderPlaced,
    #[serde(rename = "order.cancelled")]
    OrderCancelled,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::OrderPlaced => "order.placed",
            EventKind::OrderCancelled => "order.cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [EventKind::OrderPlaced, EventKind::OrderCancelled]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEvent {
    pub id: Uuid,
    pub order_id: Uuid,
    pub sequence: i64,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub data: serde_json::Value,
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
}
