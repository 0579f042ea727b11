//! Commands on an order: each checks the rules against the current state and yields the changes to apply.
//! `execute` applies them to a copy, adds `order.completed` when the order is done, and only then commits the
//! copy, so a refused command leaves the order untouched.

use std::collections::HashSet;

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Command, Order, OrderChange, OrderError, PaymentMethod, now_micros};
use crate::domain::allocation::allocate;
use crate::domain::events::{Change, OrderEvent, SkuQuantity};
use crate::domain::status::{FulfilmentStatus, InvalidTransition, OrderStatus, PaymentStatus, StatusMachine};

pub(super) fn blocked(kind: &'static str, from: &'static str, to: &'static str) -> OrderError {
    OrderError::InvalidTransition(InvalidTransition { kind, from, to })
}

impl Order {
    /// Runs `command`; on success the order has moved on and the events and stock moves are returned.
    pub fn execute(&mut self, command: Command, actor: &str, now: OffsetDateTime) -> Result<OrderChange, OrderError> {
        let now = now_micros(now);
        let changes = self.decide(command)?;
        let mut work = self.clone();
        let mut out = OrderChange {
            events: Vec::new(),
            stock: Vec::new(),
            transitions: Vec::new(),
        };
        for change in changes {
            work.record(change, actor, now, &mut out)?;
        }
        if work.is_completable() {
            work.record(Change::Completed {}, actor, now, &mut out)?;
        }
        *self = work;
        Ok(out)
    }

    fn record(
        &mut self,
        change: Change,
        actor: &str,
        now: OffsetDateTime,
        out: &mut OrderChange,
    ) -> Result<(), OrderError> {
        out.stock.extend(self.stock_moves(&change));
        let event = OrderEvent {
            id: Uuid::now_v7(),
            order_id: self.id,
            sequence: self.version + 1,
            change,
            actor: actor.to_owned(),
            occurred_at: now,
        };
        out.transitions.extend(self.apply(&event)?);
        out.events.push(event);
        Ok(())
    }

    fn decide(&self, command: Command) -> Result<Vec<Change>, OrderError> {
        let grand_total = self.totals.grand_total.amount_minor();
        match command {
            Command::Cancel { reason } => {
                if self.status.fulfilment.has_shipped_anything() {
                    return Err(OrderError::AlreadyShipped(InvalidTransition {
                        kind: FulfilmentStatus::KIND,
                        from: self.status.fulfilment.as_str(),
                        to: "cancelled",
                    }));
                }
                self.status.order.move_to(OrderStatus::Cancelled)?;
                let mut changes = Vec::new();
                match self.status.payment {
                    PaymentStatus::Authorized => changes.push(Change::PaymentVoided {}),
                    PaymentStatus::Captured | PaymentStatus::PartiallyRefunded => {
                        let parts = self.progress.refundable_parts();
                        changes.push(Change::Refunded {
                            refund_id: Uuid::now_v7(),
                            amount_minor: parts.iter().sum::<i64>() + self.progress.surplus(),
                            parts,
                            units: Vec::new(),
                            reason: Some("order cancelled".into()),
                        });
                    }
                    _ => {}
                }
                changes.push(Change::Cancelled { reason });
                Ok(changes)
            }
            Command::Authorize {
                amount_minor,
                provider_ref,
            } => {
                self.require_open_or_confirmed("authorized")?;
                if self.status.payment.holds_payment() {
                    // A further authorisation: of the balance an edit that raised the total left due.
                    let due = self.dues().balance_due;
                    if due == 0 {
                        return Err(blocked(PaymentStatus::KIND, self.status.payment.as_str(), "authorized"));
                    }
                    if amount_minor != due {
                        return Err(OrderError::InvalidAmount(format!(
                            "authorise the balance due, {due} minor units"
                        )));
                    }
                    return Ok(vec![Change::PaymentAuthorized {
                        amount_minor,
                        provider_ref,
                    }]);
                }
                self.status.payment.move_to(PaymentStatus::Authorized)?;
                if amount_minor != grand_total {
                    return Err(OrderError::InvalidAmount(format!(
                        "authorise the grand total, {grand_total} minor units"
                    )));
                }
                let mut changes = vec![Change::PaymentAuthorized {
                    amount_minor,
                    provider_ref,
                }];
                if self.status.order == OrderStatus::Open {
                    changes.push(Change::Confirmed {});
                }
                Ok(changes)
            }
            Command::Capture { amount_minor } => {
                self.require_open_or_confirmed("captured")?;
                // After a partial refund only the balance an edit added (and then authorised) is capturable.
                if !(self.status.payment == PaymentStatus::PartiallyRefunded && self.capturable() > 0) {
                    self.status.payment.move_to(PaymentStatus::Captured)?;
                }
                let left = self.capturable();
                if amount_minor <= 0 || amount_minor > left {
                    return Err(OrderError::InvalidAmount(format!(
                        "capture between 1 and the {left} still authorised and owed"
                    )));
                }
                Ok(vec![Change::PaymentCaptured {
                    amount_minor,
                    parts: self.spread_payment(amount_minor),
                }])
            }
            Command::Void => {
                self.require_open_or_confirmed("voided")?;
                self.status.payment.move_to(PaymentStatus::Voided)?;
                Ok(vec![Change::PaymentVoided {}])
            }
            Command::Fail { reason } => {
                self.status.payment.move_to(PaymentStatus::Failed)?;
                Ok(vec![Change::PaymentFailed { reason }])
            }
            Command::CollectCod {
                amount_minor,
                courier_ref,
            } => {
                self.require_open_or_confirmed("cod_collected")?;
                self.status.payment.move_to(PaymentStatus::CodCollected)?;
                if !self.progress.shipments.iter().any(|s| s.delivered_at.is_some()) {
                    return Err(blocked(
                        FulfilmentStatus::KIND,
                        self.status.fulfilment.as_str(),
                        "delivered",
                    ));
                }
                if amount_minor != grand_total {
                    return Err(OrderError::InvalidAmount(format!(
                        "collect the grand total, {grand_total} minor units"
                    )));
                }
                Ok(vec![Change::CodCollected {
                    amount_minor,
                    courier_ref,
                    parts: self.spread_payment(amount_minor),
                }])
            }
            Command::RefuseCod { reason } => {
                self.status.payment.move_to(PaymentStatus::CodRefused)?;
                self.status.fulfilment.move_to(FulfilmentStatus::Returned)?;
                let lines = self.outstanding(|p| i64::from(p.shipped) - i64::from(p.returned));
                Ok(vec![Change::CodRefused {
                    reason,
                    return_id: Uuid::now_v7(),
                    lines,
                }])
            }
            Command::Ship {
                lines,
                carrier,
                tracking_number,
            } => {
                self.require_open_or_confirmed("shipped")?;
                let mut changes = Vec::new();
                let paid_for = matches!(
                    self.status.payment,
                    PaymentStatus::Authorized | PaymentStatus::Captured | PaymentStatus::PartiallyRefunded
                );
                if self.payment_method == PaymentMethod::Card && !paid_for {
                    return Err(OrderError::PaymentRequired);
                }
                if self.status.order == OrderStatus::Open {
                    changes.push(Change::Confirmed {});
                }
                self.check_lines(
                    &lines,
                    |o, i| o.lines[i].quantity.get() - o.progress.lines[i].shipped,
                    "to ship",
                )?;
                let shipped_after: u32 = lines.iter().map(|l| l.quantity.get()).sum::<u32>()
                    + self.progress.lines.iter().map(|p| p.shipped).sum::<u32>();
                let ordered: u32 = self.lines.iter().map(|l| l.quantity.get()).sum();
                let target = if shipped_after == ordered {
                    FulfilmentStatus::Shipped
                } else {
                    FulfilmentStatus::PartiallyShipped
                };
                self.status.fulfilment.move_to(target)?;
                changes.push(Change::Shipped {
                    shipment_id: Uuid::now_v7(),
                    lines,
                    carrier,
                    tracking_number,
                });
                Ok(changes)
            }
            Command::Deliver { shipment_id } => {
                let shipment = self
                    .progress
                    .shipments
                    .iter()
                    .find(|s| s.id == shipment_id)
                    .ok_or(OrderError::ShipmentNotFound)?;
                if shipment.delivered_at.is_some() {
                    return Err(blocked("shipment", "delivered", "delivered"));
                }
                Ok(vec![Change::Delivered { shipment_id }])
            }
            Command::RequestReturn { lines, reason } => {
                self.check_lines(
                    &lines,
                    |o, i| o.progress.lines[i].shipped - o.progress.lines[i].returned,
                    "to return",
                )?;
                let asked: i64 = lines.iter().map(|l| l.quantity.as_i64()).sum();
                let target = if self.progress.returned_units() + asked >= self.progress.shipped_units() {
                    FulfilmentStatus::Returned
                } else {
                    FulfilmentStatus::PartiallyReturned
                };
                self.status.fulfilment.move_to(target)?;
                Ok(vec![Change::ReturnRequested {
                    return_id: Uuid::now_v7(),
                    lines,
                    reason,
                }])
            }
            Command::ReceiveReturn { return_id, restock } => {
                let r = self
                    .progress
                    .returns
                    .iter()
                    .find(|r| r.id == return_id)
                    .ok_or(OrderError::ReturnNotFound)?;
                if r.received_at.is_some() {
                    return Err(blocked("return", "received", "received"));
                }
                let mut changes = vec![Change::ReturnReceived { return_id, restock }];
                if r.to_origin && self.status.order.can_move_to(OrderStatus::Cancelled) {
                    changes.push(Change::Cancelled {
                        reason: Some("refused on delivery and returned to origin".into()),
                    });
                }
                Ok(changes)
            }
            Command::Edit(edit) => self.decide_edit(&edit),
            Command::Refund {
                amount_minor,
                lines,
                reason,
            } => self.decide_refund(amount_minor, lines, reason),
            Command::Expire { placed_before } => {
                if !self.is_unpaid_card_order() {
                    return Err(blocked(PaymentStatus::KIND, self.status.payment.as_str(), "expired"));
                }
                if self.created_at > placed_before {
                    return Err(blocked(OrderStatus::KIND, self.status.order.as_str(), "expired"));
                }
                self.status.order.move_to(OrderStatus::Cancelled)?;
                Ok(vec![Change::Expired {}])
            }
        }
    }

    /// A card order placed in Orderly (not imported), still open with nothing authorised: payment `pending`, or
    /// `failed` (terminal, so the order can never ship, yet it holds its stock). What the expiry sweeper cancels.
    pub fn is_unpaid_card_order(&self) -> bool {
        self.legacy.is_none()
            && self.payment_method == PaymentMethod::Card
            && self.status.order == OrderStatus::Open
            && matches!(self.status.payment, PaymentStatus::Pending | PaymentStatus::Failed)
    }

    pub(super) fn require_open_or_confirmed(&self, to: &'static str) -> Result<(), OrderError> {
        match self.status.order {
            OrderStatus::Open | OrderStatus::Confirmed => Ok(()),
            other => Err(blocked(OrderStatus::KIND, other.as_str(), to)),
        }
    }

    /// Spreads a payment over the parts still unpaid, so per-part paid never exceeds what the part costs.
    fn spread_payment(&self, amount: i64) -> Vec<i64> {
        let unpaid: Vec<i64> = self
            .part_totals()
            .iter()
            .zip(&self.progress.paid)
            .map(|(t, p)| (t - p).max(0))
            .collect();
        allocate(amount, &unpaid)
    }

    /// Lines with `left(progress) > 0`, as SKU quantities.
    fn outstanding(&self, left: impl Fn(&super::progress::LineProgress) -> i64) -> Vec<SkuQuantity> {
        self.lines
            .iter()
            .zip(&self.progress.lines)
            .filter_map(|(l, p)| {
                let q = crate::domain::values::Quantity::parse(left(p), u32::MAX).ok()?;
                Some(SkuQuantity {
                    sku: l.sku.clone(),
                    quantity: q,
                })
            })
            .collect()
    }

    /// Each requested line names a SKU of this order once, for at most `limit(order, line index)` units.
    pub(super) fn check_lines(
        &self,
        lines: &[SkuQuantity],
        limit: impl Fn(&Order, usize) -> u32,
        what: &str,
    ) -> Result<(), OrderError> {
        if lines.is_empty() {
            return Err(OrderError::InvalidLine {
                index: 0,
                field: "lines",
                detail: "name at least one line".into(),
            });
        }
        let mut seen = HashSet::new();
        for (index, l) in lines.iter().enumerate() {
            let i = self.line_index(&l.sku).ok_or_else(|| OrderError::InvalidLine {
                index,
                field: "sku",
                detail: format!("SKU {} is not on this order", l.sku),
            })?;
            if !seen.insert(i) {
                return Err(OrderError::InvalidLine {
                    index,
                    field: "sku",
                    detail: "each SKU may appear once".into(),
                });
            }
            let max = limit(self, i);
            if l.quantity.get() > max {
                return Err(OrderError::InvalidLine {
                    index,
                    field: "quantity",
                    detail: format!("only {max} units of {} are left {what}", l.sku),
                });
            }
        }
        Ok(())
    }
}
