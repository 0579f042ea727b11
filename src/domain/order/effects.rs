//! What a change does to stock: cancellation (and expiry) releases the unshipped units, a shipment deducts them, a received
//! return put back on the shelf restocks them.

use super::{Order, StockMove};
use crate::domain::events::Change;
use crate::domain::values::Quantity;

impl Order {
    pub(super) fn stock_moves(&self, change: &Change) -> Vec<StockMove> {
        match change {
            Change::Cancelled { .. } | Change::Expired {} => self
                .lines
                .iter()
                .zip(&self.progress.lines)
                .filter(|(l, p)| l.quantity.get() > p.shipped)
                .filter_map(|(l, p)| {
                    let left = Quantity::parse(i64::from(l.quantity.get() - p.shipped), u32::MAX);
                    left.ok().map(|q| StockMove::Release(l.sku.clone(), q))
                })
                .collect(),
            Change::Shipped { lines, .. } => lines
                .iter()
                .map(|l| StockMove::Ship(l.sku.clone(), l.quantity))
                .collect(),
            Change::ReturnReceived {
                return_id,
                restock: true,
            } => self
                .progress
                .returns
                .iter()
                .filter(|r| r.id == *return_id)
                .flat_map(|r| r.lines.iter().map(|l| StockMove::Restock(l.sku.clone(), l.quantity)))
                .collect(),
            Change::Edited(edited) => self.edit_moves(edited),
            _ => Vec::new(),
        }
    }
}
