//! What is owed either way once an order's total can change after payment (docs/api.md, "Editing an order").
//!
//! Each part of the order (lines, shipping) is paid at most its cost, so what the parts still lack is what is
//! unpaid; refunds against a part (a return, a goodwill gesture) do not make it owed again. Against the unpaid
//! amount a card order holds the authorisations not yet captured, while the payment can still be captured: the
//! rest is the balance due (an authorisation of exactly that is the next command). The surplus an edit left
//! (money held that no part needs), and an authorisation beyond what is unpaid, are the refund due; capturing
//! what is unpaid releases the rest of an authorisation. A COD order's cash to collect is its total while the
//! payment is `cod_pending`. A cancelled order owes nothing.

use super::{Order, PaymentMethod};
use crate::domain::status::{OrderStatus, PaymentStatus};

/// Amounts in minor units, each zero when nothing is due.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dues {
    pub balance_due: i64,
    pub refund_due: i64,
    /// `None` for card orders.
    pub to_collect: Option<i64>,
}

impl Order {
    /// What the parts still lack: the grand total less what is paid towards them (nothing once cancelled).
    fn unpaid(&self) -> i64 {
        if self.status.order == OrderStatus::Cancelled {
            return 0;
        }
        (self.totals.grand_total.amount_minor() - self.progress.paid.iter().sum::<i64>()).max(0)
    }

    /// Authorised and not yet captured, while the payment can still be captured.
    fn open_authorisation(&self) -> i64 {
        if self.status.payment.holds_payment() && self.status.order != OrderStatus::Cancelled {
            (self.progress.authorized_minor - self.progress.captured()).max(0)
        } else {
            0
        }
    }

    /// Whether every part is paid for: what issues the invoice and lets the order complete.
    pub(crate) fn is_paid_in_full(&self) -> bool {
        self.progress.paid.iter().sum::<i64>() >= self.totals.grand_total.amount_minor()
    }

    /// What can still be captured: what the authorisations leave, up to what is unpaid.
    pub(super) fn capturable(&self) -> i64 {
        self.open_authorisation().min(self.unpaid())
    }

    pub fn dues(&self) -> Dues {
        let (unpaid, open) = (self.unpaid(), self.open_authorisation());
        // Once nothing is unpaid, what is left of an authorisation is released, not owed back.
        let unneeded = if unpaid > 0 { (open - unpaid).max(0) } else { 0 };
        match self.payment_method {
            PaymentMethod::Card => Dues {
                balance_due: (unpaid - open).max(0),
                refund_due: self.progress.surplus() + unneeded,
                to_collect: None,
            },
            PaymentMethod::Cod => Dues {
                balance_due: 0,
                refund_due: self.progress.surplus(),
                to_collect: Some(if self.status.payment == PaymentStatus::CodPending {
                    unpaid
                } else {
                    0
                }),
            },
        }
    }
}
