//! How far an order has got: money captured and refunded per part, units shipped and returned per line, and the
//! shipments, returns and refunds themselves. Changed only by `Order::apply`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::events::SkuQuantity;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineProgress {
    pub shipped: u32,
    /// Units asked back (customer returns and parcels refused at the door).
    pub returned: u32,
    /// Units refunded by quantity.
    pub refunded_units: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub id: Uuid,
    pub lines: Vec<SkuQuantity>,
    pub carrier: String,
    pub tracking_number: String,
    #[serde(with = "time::serde::rfc3339")]
    pub shipped_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub delivered_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Return {
    pub id: Uuid,
    pub lines: Vec<SkuQuantity>,
    pub reason: Option<String>,
    /// A COD parcel refused at the door and sent back to the warehouse.
    pub to_origin: bool,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub received_at: Option<OffsetDateTime>,
    pub restocked: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    pub id: Uuid,
    pub amount_minor: i64,
    pub reason: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub refunded_at: OffsetDateTime,
}

/// Money held beyond the order's parts: an edit that lowered the total leaves captured money no line or shipping
/// accounts for (the surplus, `paid - refunded` here, refunded first). It also carries, once an edit has restarted
/// the per-part figures, what was captured and refunded before, so the totals stay whole.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    pub paid: i64,
    pub refunded: i64,
}

impl Adjustment {
    fn is_zero(&self) -> bool {
        self.paid == 0 && self.refunded == 0
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub lines: Vec<LineProgress>,
    /// Money captured or collected per part: one entry per line, then shipping.
    pub paid: Vec<i64>,
    /// Money refunded per part, same layout as `paid`.
    pub refunded: Vec<i64>,
    pub authorized_minor: i64,
    pub provider_ref: Option<String>,
    pub courier_ref: Option<String>,
    pub shipments: Vec<Shipment>,
    pub returns: Vec<Return>,
    pub refunds: Vec<Refund>,
    #[serde(default, skip_serializing_if = "Adjustment::is_zero")]
    pub adjustment: Adjustment,
}

impl Progress {
    pub fn for_lines(n: usize) -> Self {
        Progress {
            lines: vec![LineProgress::default(); n],
            paid: vec![0; n + 1],
            refunded: vec![0; n + 1],
            ..Progress::default()
        }
    }

    /// Everything captured or collected.
    pub fn captured(&self) -> i64 {
        self.paid.iter().sum::<i64>() + self.adjustment.paid
    }

    /// Everything refunded.
    pub fn refunded_total(&self) -> i64 {
        self.refunded.iter().sum::<i64>() + self.adjustment.refunded
    }

    /// Captured money no part of the order accounts for since an edit lowered its total (see `Adjustment`).
    pub fn surplus(&self) -> i64 {
        (self.adjustment.paid - self.adjustment.refunded).max(0)
    }

    /// Captured (or collected) and not yet refunded, per part.
    pub fn refundable_parts(&self) -> Vec<i64> {
        self.paid.iter().zip(&self.refunded).map(|(p, r)| p - r).collect()
    }

    pub fn all_delivered(&self) -> bool {
        self.shipments.iter().all(|s| s.delivered_at.is_some())
    }

    pub fn open_returns(&self) -> usize {
        self.returns.iter().filter(|r| r.received_at.is_none()).count()
    }

    pub fn shipped_units(&self) -> i64 {
        self.lines.iter().map(|l| i64::from(l.shipped)).sum()
    }

    pub fn returned_units(&self) -> i64 {
        self.lines.iter().map(|l| i64::from(l.returned)).sum()
    }
}
