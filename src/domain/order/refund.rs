//! Refunds: how much goes back and how it is spread over the order's parts, exact to the minor unit.
//!
//! By amount, the surplus an edit left (money above the new total) goes back first, and the rest is spread over
//! what each part still has refundable, by largest remainder. By units,
//! each line refunds the exact value of those units: `total * (done + q) / qty - total * done / qty`, so refunding
//! every unit in several steps returns the line total to the fils. Never more than captured minus refunded.

use uuid::Uuid;

use super::decide::blocked;
use super::{Order, OrderError};
use crate::domain::allocation::allocate;
use crate::domain::events::{Change, SkuQuantity};
use crate::domain::status::{PaymentStatus, StatusMachine};

impl Order {
    pub(super) fn decide_refund(
        &self,
        amount: Option<i64>,
        lines: Vec<SkuQuantity>,
        reason: Option<String>,
    ) -> Result<Vec<Change>, OrderError> {
        if !matches!(
            self.status.payment,
            PaymentStatus::Captured | PaymentStatus::PartiallyRefunded | PaymentStatus::CodCollected
        ) {
            return Err(blocked(PaymentStatus::KIND, self.status.payment.as_str(), "refunded"));
        }
        let remaining = self.progress.refundable_parts();
        let surplus = self.progress.surplus();
        let refundable: i64 = remaining.iter().sum::<i64>() + surplus;
        let (amount_minor, parts) = if lines.is_empty() {
            // By amount: the surplus an edit left goes back first, then the parts.
            let amount = amount.unwrap_or(refundable);
            self.check_refund(amount, refundable)?;
            (amount, allocate(amount - amount.min(surplus), &remaining))
        } else {
            self.check_lines(
                &lines,
                |o, i| o.lines[i].quantity.get() - o.progress.lines[i].refunded_units,
                "to refund",
            )?;
            // The value of the named units, exact to the minor unit over successive partial refunds.
            let mut value = vec![0i64; remaining.len()];
            for l in &lines {
                let Some(i) = self.line_index(&l.sku) else { continue };
                let (total, qty) = (
                    self.lines[i].total.amount_minor() as i128,
                    i128::from(self.lines[i].quantity.get()),
                );
                let done = i128::from(self.progress.lines[i].refunded_units);
                let q = i128::from(l.quantity.get());
                let share = total * (done + q) / qty - total * done / qty;
                value[i] = i64::try_from(share).unwrap_or(i64::MAX).min(remaining[i]);
            }
            let named: i64 = value.iter().sum();
            let parts = match amount {
                None => {
                    self.check_refund(named, refundable)?;
                    value
                }
                Some(amount) => {
                    self.check_refund(amount, named.min(refundable))?;
                    allocate(amount, &value)
                }
            };
            (parts.iter().sum(), parts)
        };
        let target = if amount_minor >= refundable {
            PaymentStatus::Refunded
        } else {
            PaymentStatus::PartiallyRefunded
        };
        self.status.payment.move_to(target)?;
        Ok(vec![Change::Refunded {
            refund_id: Uuid::now_v7(),
            amount_minor,
            parts,
            units: lines,
            reason,
        }])
    }

    fn check_refund(&self, amount: i64, refundable: i64) -> Result<(), OrderError> {
        if amount <= 0 {
            return Err(OrderError::InvalidAmount("a refund must be positive".into()));
        }
        if amount > refundable {
            return Err(OrderError::RefundExceedsCaptured {
                requested: amount,
                refundable,
            });
        }
        Ok(())
    }
}
