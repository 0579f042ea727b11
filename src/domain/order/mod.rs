//! The order aggregate: what was bought, for whom, at which prices, where each status machine stands, and the
//! progress of payment, shipments, returns and refunds.
//!
//! Commands (`decide`) check the rules and produce `Change`s; `apply` folds a change into the order and is the
//! only code that mutates it, so replaying the stored events from the first rebuilds the order exactly.

mod apply;
mod command;
mod decide;
#[cfg(test)]
mod document_props;
mod dues;
mod edit;
#[cfg(test)]
mod edit_fixtures;
#[cfg(test)]
mod edit_props;
#[cfg(test)]
mod edit_tests;
mod effects;
mod progress;
#[cfg(test)]
mod proptests;
mod rebase;
mod refund;
#[cfg(test)]
mod rules_tests;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

pub use command::Command;
pub use dues::Dues;
pub use edit::{Edit, EditDiff, EditOperation, Edited, QuantityChange};
pub use progress::{Progress, Refund, Return, Shipment};

use super::currency::Currency;
use super::events::{Change, OrderEvent};
use super::legacy::LegacyRef;
use super::money::Money;
use super::pricing::{PricedLine, PricedOrder, PricingError, Totals};
use super::status::{FulfilmentStatus, InvalidTransition, OrderStatus, PaymentStatus, Transition};
use super::tax::BasisPoints;
use super::values::{CountryCode, CustomerId, Invalid, Quantity, Sku, StoreCode};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Card,
    Cod,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Card => "card",
            PaymentMethod::Cod => "cod",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "card" => Some(PaymentMethod::Card),
            "cod" => Some(PaymentMethod::Cod),
            _ => None,
        }
    }

    /// Where the payment machine starts for this method.
    pub fn initial_status(self) -> PaymentStatus {
        match self {
            PaymentMethod::Card => PaymentStatus::Pending,
            PaymentMethod::Cod => PaymentStatus::CodPending,
        }
    }
}

/// Delivery address. Names and lines may be Arabic or English.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipTo {
    pub name: String,
    /// Always present on orders placed in Orderly; an imported legacy order may have none.
    pub line1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    pub country: CountryCode,
    /// Always present on orders placed in Orderly; an imported legacy order may have none.
    pub phone: Option<String>,
}

/// A phone number as couriers dial it: optional `+`, then 6 to 20 digits (spaces and dashes dropped).
pub fn phone(raw: &str) -> Result<String, Invalid> {
    let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    if (6..=20).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(compact)
    } else {
        Err(Invalid("a phone number is an optional + and 6 to 20 digits".into()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statuses {
    pub order: OrderStatus,
    pub payment: PaymentStatus,
    pub fulfilment: FulfilmentStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: Uuid,
    pub number: String,
    pub store: StoreCode,
    pub customer_id: Option<CustomerId>,
    pub currency: Currency,
    pub ship_to: ShipTo,
    pub payment_method: PaymentMethod,
    pub status: Statuses,
    pub lines: Vec<PricedLine>,
    pub shipping_tax: Money,
    pub vat_rate: BasisPoints,
    pub totals: Totals,
    #[serde(default)]
    pub progress: Progress,
    /// Starts at 1 and grows by one with every event; equals the sequence of the latest event.
    pub version: i64,
    /// Set on orders imported from the legacy system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy: Option<LegacyRef>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Everything needed to place an order except what the store assigns (number) and the catalog supplies (prices).
#[derive(Clone, Debug)]
pub struct NewOrder {
    pub customer_id: Option<CustomerId>,
    pub currency: Currency,
    pub ship_to: ShipTo,
    pub lines: Vec<(Sku, Quantity)>,
    pub payment_method: PaymentMethod,
}

/// What happens to stock as a result of a change to an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StockMove {
    /// Units an edit added to the order are held for it (available drops).
    Reserve(Sku, Quantity),
    /// Reserved units go back to available (cancellation).
    Release(Sku, Quantity),
    /// Reserved units leave the warehouse: reserved and on hand both drop.
    Ship(Sku, Quantity),
    /// Returned units go back on the shelf.
    Restock(Sku, Quantity),
}

/// One command's effect: the events to append and the stock to move, in the same transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderChange {
    pub events: Vec<OrderEvent>,
    pub stock: Vec<StockMove>,
    pub transitions: Vec<Transition>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    #[error("an order cannot be cancelled once anything has shipped")]
    AlreadyShipped(InvalidTransition),
    #[error("a card order ships only while its payment is authorised or captured")]
    PaymentRequired,
    #[error("{detail}")]
    InvalidLine {
        index: usize,
        field: &'static str,
        detail: String,
    },
    #[error("{0}")]
    InvalidAmount(String),
    #[error("the refund of {requested} exceeds the {refundable} still refundable")]
    RefundExceedsCaptured { requested: i64, refundable: i64 },
    #[error("no such shipment on this order")]
    ShipmentNotFound,
    #[error("no such return on this order")]
    ReturnNotFound,
    /// An edit operation that cannot apply (`index` of the operation, the field at fault).
    #[error("{detail}")]
    InvalidEdit {
        index: usize,
        field: &'static str,
        detail: String,
    },
    #[error("the VAT rate of {to} differs from that of {from}, the country the order was placed for")]
    VatCountryChange { from: CountryCode, to: CountryCode },
    /// An edit's added line cannot be priced, or its new country has no VAT rate.
    #[error(transparent)]
    Pricing(#[from] PricingError),
    #[error("the event stream is inconsistent: {0}")]
    Corrupt(String),
}

/// Truncates to microseconds, the precision both stores keep, so what is returned equals what is read back.
pub fn now_micros(now: OffsetDateTime) -> OffsetDateTime {
    let micros = now.microsecond();
    now.replace_microsecond(micros).unwrap_or(now)
}

impl Order {
    /// A new open order and its `order.placed` event.
    pub fn place(
        request: NewOrder,
        number: String,
        store: StoreCode,
        priced: PricedOrder,
        actor: &str,
        now: OffsetDateTime,
    ) -> (Order, OrderEvent) {
        let now = now_micros(now);
        let order = Order {
            id: Uuid::now_v7(),
            number,
            store,
            customer_id: request.customer_id,
            currency: request.currency,
            ship_to: request.ship_to,
            payment_method: request.payment_method,
            status: Statuses {
                order: OrderStatus::Open,
                payment: request.payment_method.initial_status(),
                fulfilment: FulfilmentStatus::Unfulfilled,
            },
            progress: Progress::for_lines(priced.lines.len()),
            lines: priced.lines,
            shipping_tax: priced.shipping_tax,
            vat_rate: priced.vat_rate,
            totals: priced.totals,
            version: 1,
            legacy: None,
            created_at: now,
            updated_at: now,
        };
        let event = OrderEvent {
            id: Uuid::now_v7(),
            order_id: order.id,
            sequence: 1,
            change: Change::Placed(Box::new(order.clone())),
            actor: actor.to_owned(),
            occurred_at: now,
        };
        (order, event)
    }

    /// Rebuilds an order from its events, the first being `order.placed` (or `order.imported`).
    pub fn replay(events: &[OrderEvent]) -> Result<Order, OrderError> {
        let (first, rest) = events
            .split_first()
            .ok_or_else(|| OrderError::Corrupt("no events".into()))?;
        let mut order = match &first.change {
            Change::Placed(placed) => (**placed).clone(),
            Change::Imported(imported) => imported.order.with_cancelled_cod_settled(),
            _ => {
                return Err(OrderError::Corrupt(
                    "the first event is neither order.placed nor order.imported".into(),
                ));
            }
        };
        for event in rest {
            order.apply(event)?;
        }
        Ok(order)
    }

    /// A snapshot taken before `cod_cancelled` existed (a legacy import or sync) may hold a cancelled COD order at
    /// `cod_pending`; migration 0008 moved such rows to `cod_cancelled`, and so does a replay.
    pub(crate) fn with_cancelled_cod_settled(&self) -> Order {
        let mut order = self.clone();
        if order.status.order == OrderStatus::Cancelled && order.status.payment == PaymentStatus::CodPending {
            order.status.payment = PaymentStatus::CodCancelled;
        }
        order
    }

    pub fn belongs_to(&self, customer: &CustomerId) -> bool {
        self.customer_id.as_ref() == Some(customer)
    }

    /// What the customer pays per part: each line's total, then shipping with its VAT.
    pub fn part_totals(&self) -> Vec<i64> {
        let mut parts: Vec<i64> = self.lines.iter().map(|l| l.total.amount_minor()).collect();
        parts.push(self.totals.shipping.amount_minor() + self.shipping_tax.amount_minor());
        parts
    }

    fn line_index(&self, sku: &Sku) -> Option<usize> {
        self.lines.iter().position(|l| &l.sku == sku)
    }

    /// Units ordered, shipped, returned per line, for stock accounting.
    pub fn unshipped(&self) -> Vec<(Sku, i64)> {
        self.lines
            .iter()
            .zip(&self.progress.lines)
            .map(|(l, p)| (l.sku.clone(), l.quantity.as_i64() - i64::from(p.shipped)))
            .collect()
    }
}
