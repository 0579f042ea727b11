//! The order aggregate: what was bought, for whom, at which prices, and where each status machine stands.
//!
//! Every change goes through a method here that checks the transition tables and returns the event to append.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::currency::Currency;
use super::events::{EventKind, OrderEvent};
use super::money::Money;
use super::pricing::{PricedLine, PricedOrder, Totals};
use super::status::{FulfilmentStatus, InvalidTransition, OrderStatus, PaymentStatus, StatusMachine, Transition};
use super::tax::BasisPoints;
use super::values::{CountryCode, CustomerId, Invalid, Quantity, Sku, StoreCode, text};

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
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    pub country: CountryCode,
    pub phone: String,
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

impl ShipTo {
    pub fn parse(
        name: &str,
        line1: &str,
        line2: Option<&str>,
        city: &str,
        country: &str,
    ) -> Vec<(&'static str, Invalid)> {
        // Collects field errors; the caller builds the value once the list is empty.
        let mut errors = Vec::new();
        for (field, value, max) in [("name", name, 200), ("line1", line1, 300), ("city", city, 100)] {
            if let Err(e) = text(value, max) {
                errors.push((field, e));
            }
        }
        if let Some(Err(e)) = line2.map(|l| text(l, 300)) {
            errors.push(("line2", e));
        }
        if let Err(e) = CountryCode::parse(country) {
            errors.push(("country", e));
        }
        errors
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
    /// Starts at 1 and grows by one with every change; equals the sequence of the latest event.
    pub version: i64,
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
    /// Reserved units go back to available (cancellation).
    Release(Sku, Quantity),
}

/// One change to an order: the event to append and the stock to move, applied in the same transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderChange {
    pub event: OrderEvent,
    pub stock: Vec<StockMove>,
    pub transitions: Vec<Transition>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error(transparent)]
    InvalidTransition(#[from] InvalidTransition),
    #[error("an order cannot be cancelled once anything has shipped")]
    AlreadyShipped(InvalidTransition),
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
            lines: priced.lines,
            shipping_tax: priced.shipping_tax,
            vat_rate: priced.vat_rate,
            totals: priced.totals,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let event = order.event(
            EventKind::OrderPlaced,
            serde_json::json!({
                "number": order.number,
                "currency": order.currency,
                "grand_total": order.totals.grand_total,
                "payment_method": order.payment_method,
                "lines": order.lines.iter().map(|l| serde_json::json!({"sku": l.sku, "quantity": l.quantity})).collect::<Vec<_>>(),
            }),
            actor,
            now,
        );
        (order, event)
    }

    /// Cancels the order before anything has shipped, releasing every reserved unit.
    pub fn cancel(
        &mut self,
        reason: Option<String>,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<OrderChange, OrderError> {
        if self.status.fulfilment.has_shipped_anything() {
            return Err(OrderError::AlreadyShipped(InvalidTransition {
                kind: FulfilmentStatus::KIND,
                from: self.status.fulfilment.as_str(),
                to: "cancelled",
            }));
        }
        let moved = self.status.order.advance(OrderStatus::Cancelled)?;
        let stock = self
            .lines
            .iter()
            .map(|l| StockMove::Release(l.sku.clone(), l.quantity))
            .collect();
        let event = self.change(
            EventKind::OrderCancelled,
            serde_json::json!({ "reason": reason }),
            actor,
            now,
        );
        Ok(OrderChange {
            event,
            stock,
            transitions: vec![moved],
        })
    }

    fn change(&mut self, kind: EventKind, data: serde_json::Value, actor: &str, now: OffsetDateTime) -> OrderEvent {
        let now = now_micros(now);
        self.version += 1;
        self.updated_at = now;
        self.event(kind, data, actor, now)
    }

    fn event(&self, kind: EventKind, data: serde_json::Value, actor: &str, now: OffsetDateTime) -> OrderEvent {
        OrderEvent {
            id: Uuid::now_v7(),
            order_id: self.id,
            sequence: self.version,
            kind,
            data,
            actor: actor.to_owned(),
            occurred_at: now,
        }
    }

    pub fn belongs_to(&self, customer: &CustomerId) -> bool {
        self.customer_id.as_ref() == Some(customer)
    }
}
