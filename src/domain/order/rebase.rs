//! The money held carried over an edit (docs/api.md, "Editing an order"): what was paid and refunded per part
//! follows the parts to the edited lines, and what no part keeps is the order's surplus.

use super::Order;
use super::edit::Edited;
use super::progress::{Adjustment, LineProgress, Progress};
use crate::domain::allocation::allocate;

impl Order {
    /// The progress for the edited lines. Per line (by SKU) and for shipping, what was paid and refunded stays
    /// where it was, up to what the part now costs; the money held that is left over (lines removed or made
    /// cheaper) goes to the parts still short of being paid, in proportion; what still remains is the surplus, in
    /// `Adjustment`, with the refunds that went with it. So captured and refunded keep their totals, and a part's
    /// refunds (what its credit notes count) stay with it.
    pub(super) fn rebase(&self, edited: &Edited) -> Progress {
        let old = &self.progress;
        let at = |v: &[i64], i: usize| v.get(i).copied().unwrap_or(0);
        let n = edited.lines.len();
        let mut costs: Vec<i64> = edited.lines.iter().map(|l| l.total.amount_minor()).collect();
        costs.push(edited.totals.shipping.amount_minor() + edited.shipping_tax.amount_minor());
        // Each new part's previous self: the line of the same SKU, and shipping.
        let mut from: Vec<Option<usize>> = edited.lines.iter().map(|l| self.line_index(&l.sku)).collect();
        from.push(Some(self.lines.len()));
        let mut paid = vec![0i64; n + 1];
        let mut refunded = vec![0i64; n + 1];
        for (j, source) in from.iter().enumerate() {
            if let Some(i) = *source {
                paid[j] = at(&old.paid, i).clamp(0, costs[j]);
                refunded[j] = at(&old.refunded, i).clamp(0, paid[j]);
            }
        }
        // What no part keeps: removed lines, and what kept parts held beyond their new cost.
        let loose_paid = old.paid.iter().sum::<i64>() - paid.iter().sum::<i64>();
        let loose_refunded = old.refunded.iter().sum::<i64>() - refunded.iter().sum::<i64>();
        let loose = (loose_paid - loose_refunded + old.surplus()).max(0);
        let room: Vec<i64> = costs.iter().zip(&paid).map(|(c, p)| (c - p).max(0)).collect();
        let give = loose.min(room.iter().sum());
        for (p, share) in paid.iter_mut().zip(allocate(give, &room)) {
            *p += share;
        }
        let lines = edited
            .lines
            .iter()
            .map(|l| LineProgress {
                refunded_units: self
                    .line_index(&l.sku)
                    .map_or(0, |i| old.lines[i].refunded_units.min(l.quantity.get())),
                ..LineProgress::default()
            })
            .collect();
        // Captured and refunded keep their totals; what the parts do not hold is the adjustment.
        let adjustment = Adjustment {
            paid: old.captured() - paid.iter().sum::<i64>(),
            refunded: old.refunded_total() - refunded.iter().sum::<i64>(),
        };
        Progress {
            lines,
            paid,
            refunded,
            adjustment,
            ..old.clone()
        }
    }
}
