//! `Order::apply`: folds one event into the order. No rule is checked here beyond the status tables (the
//! commands in `decide` already checked them); a stream that breaks even those is corrupt.

use uuid::Uuid;

use super::progress::{Refund, Return, Shipment};
use super::{Order, OrderError};
use crate::domain::events::{Change, OrderEvent, SkuQuantity};
use crate::domain::status::{FulfilmentStatus, OrderStatus, PaymentStatus, StatusMachine, Transition};

fn add(target: &mut [i64], parts: &[i64]) -> Result<(), OrderError> {
    if target.len() != parts.len() {
        return Err(OrderError::Corrupt("parts do not match the order's lines".into()));
    }
    for (t, p) in target.iter_mut().zip(parts) {
        *t += p;
    }
    Ok(())
}

impl Order {
    fn units<'a>(&self, lines: &'a [SkuQuantity]) -> Result<Vec<(usize, u32, &'a SkuQuantity)>, OrderError> {
        lines
            .iter()
            .map(|l| {
                let i = self
                    .line_index(&l.sku)
                    .ok_or_else(|| OrderError::Corrupt(format!("no line for {}", l.sku)))?;
                Ok((i, l.quantity.get(), l))
            })
            .collect()
    }

    /// Counts `lines` as returned and opens the return that will receive them.
    fn open_return(
        &mut self,
        id: Uuid,
        lines: &[SkuQuantity],
        reason: &Option<String>,
        to_origin: bool,
    ) -> Result<(), OrderError> {
        for (i, q, _) in self.units(lines)? {
            self.progress.lines[i].returned += q;
        }
        self.progress.returns.push(Return {
            id,
            lines: lines.to_vec(),
            reason: reason.clone(),
            to_origin,
            received_at: None,
            restocked: false,
        });
        Ok(())
    }

    /// Applies `event`, which must be the next in sequence. Returns the status moves it made.
    pub fn apply(&mut self, event: &OrderEvent) -> Result<Vec<Transition>, OrderError> {
        if event.sequence != self.version + 1 || event.order_id != self.id {
            return Err(OrderError::Corrupt(format!(
                "event {} does not follow version {}",
                event.sequence, self.version
            )));
        }
        let at = event.occurred_at;
        let mut moves = Vec::new();
        match &event.change {
            Change::Placed(_) | Change::Imported(_) => {
                return Err(OrderError::Corrupt(format!("{} after the start", event.kind())));
            }
            Change::LegacySynced(synced) => {
                let version = self.version;
                *self = synced.order.with_cancelled_cod_settled();
                self.version = version;
            }
            Change::Confirmed {} => moves.push(self.status.order.advance(OrderStatus::Confirmed)?),
            Change::Cancelled { .. } | Change::Expired {} => {
                moves.push(self.status.order.advance(OrderStatus::Cancelled)?);
                // A cancelled COD order owes no cash: a cash report must not count it as money to come.
                if self.status.payment == PaymentStatus::CodPending {
                    moves.push(self.status.payment.advance(PaymentStatus::CodCancelled)?);
                }
            }
            Change::Edited(edited) => self.apply_edit(edited)?,
            Change::Completed {} => moves.push(self.status.order.advance(OrderStatus::Completed)?),
            Change::PaymentAuthorized {
                amount_minor,
                provider_ref,
            } => {
                if self.status.payment == PaymentStatus::Pending {
                    moves.push(self.status.payment.advance(PaymentStatus::Authorized)?);
                    self.progress.authorized_minor = *amount_minor;
                } else if self.status.payment.holds_payment() {
                    // A further authorisation, of the balance due after an edit.
                    self.progress.authorized_minor += amount_minor;
                } else {
                    moves.push(self.status.payment.advance(PaymentStatus::Authorized)?);
                }
                self.progress.provider_ref = Some(provider_ref.clone());
            }
            Change::PaymentCaptured { parts, .. } => {
                // A capture of an edit's balance after a partial refund leaves the status as it is.
                if self.status.payment != PaymentStatus::PartiallyRefunded {
                    moves.push(self.status.payment.advance(PaymentStatus::Captured)?);
                }
                add(&mut self.progress.paid, parts)?;
            }
            Change::PaymentVoided {} => moves.push(self.status.payment.advance(PaymentStatus::Voided)?),
            Change::PaymentFailed { .. } => moves.push(self.status.payment.advance(PaymentStatus::Failed)?),
            Change::CodCollected { courier_ref, parts, .. } => {
                moves.push(self.status.payment.advance(PaymentStatus::CodCollected)?);
                add(&mut self.progress.paid, parts)?;
                self.progress.courier_ref = Some(courier_ref.clone());
            }
            Change::Refunded {
                refund_id,
                amount_minor,
                parts,
                units,
                reason,
            } => {
                // What the parts do not account for comes out of the surplus an edit left.
                let from_surplus = amount_minor - parts.iter().sum::<i64>();
                if from_surplus < 0 || from_surplus > self.progress.surplus() {
                    return Err(OrderError::Corrupt(
                        "a refund's parts do not add up to its amount".into(),
                    ));
                }
                add(&mut self.progress.refunded, parts)?;
                self.progress.adjustment.refunded += from_surplus;
                for (i, q, _) in self.units(units)? {
                    self.progress.lines[i].refunded_units += q;
                }
                self.progress.refunds.push(Refund {
                    id: *refund_id,
                    amount_minor: *amount_minor,
                    reason: reason.clone(),
                    refunded_at: at,
                });
                let target = if self.progress.refunded_total() >= self.progress.captured() {
                    PaymentStatus::Refunded
                } else {
                    PaymentStatus::PartiallyRefunded
                };
                moves.push(self.status.payment.advance(target)?);
            }
            Change::CodRefused {
                reason,
                return_id,
                lines,
            } => {
                moves.push(self.status.payment.advance(PaymentStatus::CodRefused)?);
                self.open_return(*return_id, lines, reason, true)?;
                moves.push(self.status.fulfilment.advance(FulfilmentStatus::Returned)?);
            }
            Change::Shipped {
                shipment_id,
                lines,
                carrier,
                tracking_number,
            } => {
                for (i, q, _) in self.units(lines)? {
                    self.progress.lines[i].shipped += q;
                }
                self.progress.shipments.push(Shipment {
                    id: *shipment_id,
                    lines: lines.clone(),
                    carrier: carrier.clone(),
                    tracking_number: tracking_number.clone(),
                    shipped_at: at,
                    delivered_at: None,
                });
                let all = self
                    .lines
                    .iter()
                    .zip(&self.progress.lines)
                    .all(|(l, p)| p.shipped == l.quantity.get());
                let target = if all {
                    FulfilmentStatus::Shipped
                } else {
                    FulfilmentStatus::PartiallyShipped
                };
                moves.push(self.status.fulfilment.advance(target)?);
            }
            Change::Delivered { shipment_id } => {
                let shipment = self
                    .progress
                    .shipments
                    .iter_mut()
                    .find(|s| s.id == *shipment_id)
                    .ok_or_else(|| OrderError::Corrupt("delivery of an unknown shipment".into()))?;
                shipment.delivered_at = Some(at);
                if self.status.fulfilment == FulfilmentStatus::Shipped && self.progress.all_delivered() {
                    moves.push(self.status.fulfilment.advance(FulfilmentStatus::Delivered)?);
                }
            }
            Change::ReturnRequested {
                return_id,
                lines,
                reason,
            } => {
                self.open_return(*return_id, lines, reason, false)?;
                let target = if self.progress.returned_units() >= self.progress.shipped_units() {
                    FulfilmentStatus::Returned
                } else {
                    FulfilmentStatus::PartiallyReturned
                };
                moves.push(self.status.fulfilment.advance(target)?);
            }
            Change::ReturnReceived { return_id, restock } => {
                let r = self
                    .progress
                    .returns
                    .iter_mut()
                    .find(|r| r.id == *return_id)
                    .ok_or_else(|| OrderError::Corrupt("receipt of an unknown return".into()))?;
                r.received_at = Some(at);
                r.restocked = *restock;
            }
        }
        self.version = event.sequence;
        self.updated_at = at;
        Ok(moves)
    }

    /// Everything delivered, paid or collected in full, no return open: the order is done.
    pub(super) fn is_completable(&self) -> bool {
        self.status.order == OrderStatus::Confirmed
            && self
                .lines
                .iter()
                .zip(&self.progress.lines)
                .all(|(l, p)| p.shipped == l.quantity.get())
            && self.progress.all_delivered()
            && self.is_paid_in_full()
            && self.progress.open_returns() == 0
            && self.status.order.can_move_to(OrderStatus::Completed)
    }
}
