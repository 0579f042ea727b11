//! Order edits (docs/api.md, "Editing an order"): lines added, removed or re-counted and the address changed,
//! all together or not at all, while nothing of the order has shipped.
//!
//! Existing lines keep their price snapshot, added lines are priced from the catalog as it is now, and the whole
//! order is priced again by the one rule placing uses (`pricing::price_lines`), with the shipping fee it was
//! charged; so an edited order carries exactly the totals it would have had if it had been placed that way.
//! Stock moves by the difference per SKU. Money already held is carried over to the new lines (`rebase`): what the
//! new total no longer accounts for is the order's surplus, refunded first; what it lacks is the balance due.

use serde::{Deserialize, Serialize};

use super::decide::blocked;
use super::{Order, OrderError, ShipTo, StockMove};
use crate::domain::catalog::Product;
use crate::domain::events::{Change, SkuQuantity};
use crate::domain::money::Money;
use crate::domain::placing::catalog_entries;
use crate::domain::pricing::{CatalogEntry, Charge, PricedLine, PricingError, PricingPolicy, Totals, price_lines};
use crate::domain::status::{FulfilmentStatus, OrderStatus, PaymentStatus, StatusMachine};
use crate::domain::tax::PriceMode;
use crate::domain::values::{Quantity, Sku};

/// One operation of an edit, as sent (`op` names it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum EditOperation {
    /// A SKU not on the order, priced from the catalog now.
    AddLine {
        sku: Sku,
        quantity: Quantity,
    },
    RemoveLine {
        sku: Sku,
    },
    SetQuantity {
        sku: Sku,
        quantity: Quantity,
    },
    SetShipTo {
        ship_to: ShipTo,
    },
}

/// An edit as the domain runs it: the operations, and what the transaction read for them (the catalog rows of
/// the SKUs added, the store's pricing rules) and the cap on lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub operations: Vec<EditOperation>,
    pub catalog: Vec<Product>,
    pub policy: PricingPolicy,
    pub max_lines: usize,
}

impl Edit {
    /// The SKUs whose catalog rows the edit needs: those it adds, sorted, once each.
    pub fn added_skus(&self) -> Vec<Sku> {
        let mut skus: Vec<Sku> = self
            .operations
            .iter()
            .filter_map(|op| match op {
                EditOperation::AddLine { sku, .. } => Some(sku.clone()),
                _ => None,
            })
            .collect();
        skus.sort();
        skus.dedup();
        skus
    }
}

/// A SKU whose quantity an edit changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantityChange {
    pub sku: Sku,
    pub from: Quantity,
    pub to: Quantity,
}

/// What an edit changed, for the history: lines added, removed and re-counted, the address when it changed, and
/// the totals before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditDiff {
    pub added: Vec<SkuQuantity>,
    pub removed: Vec<SkuQuantity>,
    pub changed: Vec<QuantityChange>,
    pub ship_to: Option<ShipTo>,
    pub totals_before: Totals,
    pub totals_after: Totals,
}

/// The `order.edited` event: the diff, and the order's new lines, address, shipping VAT and totals (what replay
/// sets; the money held is carried over by `rebase`, a function of these and the order before).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edited {
    pub diff: EditDiff,
    pub lines: Vec<PricedLine>,
    pub ship_to: ShipTo,
    pub shipping_tax: Money,
    pub totals: Totals,
}

/// A line while the operations are applied: its SKU and quantity, and its snapshot if it was on the order.
struct Draft {
    sku: Sku,
    quantity: Quantity,
    snapshot: Option<PricedLine>,
}

fn invalid(index: usize, field: &'static str, detail: String) -> OrderError {
    OrderError::InvalidEdit { index, field, detail }
}

impl Order {
    pub(super) fn decide_edit(&self, edit: &Edit) -> Result<Vec<Change>, OrderError> {
        self.require_editable()?;
        let mut drafts: Vec<Draft> = self
            .lines
            .iter()
            .map(|l| Draft {
                sku: l.sku.clone(),
                quantity: l.quantity,
                snapshot: Some(l.clone()),
            })
            .collect();
        let mut ship_to = self.ship_to.clone();
        for (index, op) in edit.operations.iter().enumerate() {
            let find = |drafts: &[Draft], sku: &Sku| {
                drafts
                    .iter()
                    .position(|d| &d.sku == sku)
                    .ok_or_else(|| invalid(index, "sku", format!("SKU {sku} is not on this order")))
            };
            match op {
                EditOperation::AddLine { sku, quantity } => {
                    if drafts.iter().any(|d| &d.sku == sku) {
                        let detail = format!("SKU {sku} is already on this order: set its quantity instead");
                        return Err(invalid(index, "sku", detail));
                    }
                    drafts.push(Draft {
                        sku: sku.clone(),
                        quantity: *quantity,
                        snapshot: None,
                    });
                }
                EditOperation::RemoveLine { sku } => {
                    let i = find(&drafts, sku)?;
                    drafts.remove(i);
                }
                EditOperation::SetQuantity { sku, quantity } => {
                    let i = find(&drafts, sku)?;
                    drafts[i].quantity = *quantity;
                }
                EditOperation::SetShipTo { ship_to: to } => ship_to = to.clone(),
            }
        }
        if drafts.is_empty() {
            return Err(invalid(0, "operations", "an order keeps at least one line".into()));
        }
        if drafts.len() > edit.max_lines {
            let detail = format!("an order has at most {} lines", edit.max_lines);
            return Err(invalid(0, "operations", detail));
        }
        let rate = if ship_to.country == self.ship_to.country {
            self.vat_rate
        } else {
            let rate = edit
                .policy
                .vat
                .rate_for(&ship_to.country)
                .ok_or_else(|| PricingError::NoVatRate(ship_to.country.clone()))?;
            if rate != self.vat_rate {
                return Err(OrderError::VatCountryChange {
                    from: self.ship_to.country.clone(),
                    to: ship_to.country.clone(),
                });
            }
            rate
        };
        let added: Vec<Product> = edit
            .catalog
            .iter()
            .filter(|p| drafts.iter().any(|d| d.snapshot.is_none() && d.sku == p.sku))
            .cloned()
            .collect();
        let mut entries = catalog_entries(&added, self.currency)?;
        entries.extend(drafts.iter().filter_map(|d| d.snapshot.as_ref()).map(|l| CatalogEntry {
            sku: l.sku.clone(),
            name_en: l.name_en.clone(),
            name_ar: l.name_ar.clone(),
            unit_price: l.unit_price,
            tax_class: l.tax_class,
            active: true,
        }));
        let mode = self.placed_mode(edit.policy.price_mode);
        let charge = Charge {
            currency: self.currency,
            rate,
            mode,
            shipping: self.shipping_charged(mode),
        };
        let wanted: Vec<(Sku, Quantity)> = drafts.iter().map(|d| (d.sku.clone(), d.quantity)).collect();
        let priced = price_lines(&charge, &wanted, &entries)?;
        let diff = EditDiff {
            added: drafts
                .iter()
                .filter(|d| d.snapshot.is_none())
                .map(|d| SkuQuantity {
                    sku: d.sku.clone(),
                    quantity: d.quantity,
                })
                .collect(),
            removed: self
                .lines
                .iter()
                .filter(|l| !drafts.iter().any(|d| d.snapshot.is_some() && d.sku == l.sku))
                .map(|l| SkuQuantity {
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                })
                .collect(),
            changed: drafts
                .iter()
                .filter_map(|d| {
                    let before = d.snapshot.as_ref()?;
                    (before.quantity != d.quantity).then(|| QuantityChange {
                        sku: d.sku.clone(),
                        from: before.quantity,
                        to: d.quantity,
                    })
                })
                .collect(),
            ship_to: (ship_to != self.ship_to).then(|| ship_to.clone()),
            totals_before: self.totals,
            totals_after: priced.totals,
        };
        Ok(vec![Change::Edited(Box::new(Edited {
            diff,
            lines: priced.lines,
            ship_to,
            shipping_tax: priced.shipping_tax,
            totals: priced.totals,
        }))])
    }

    /// Lines and address change while the order is open or confirmed, nothing of it has shipped, and its payment
    /// is still one an edit can settle: not yet paid, authorised, captured (perhaps partly refunded) or cash to
    /// collect.
    fn require_editable(&self) -> Result<(), OrderError> {
        self.require_open_or_confirmed("edited")?;
        // An imported order carries the legacy system's per-line VAT and perhaps a reservation capped at the stock
        // there was: re-pricing it by Orderly's rule could move lines nobody touched, and releasing it could
        // release more than was reserved.
        if self.legacy.is_some() {
            return Err(blocked("origin", "legacy", "edited"));
        }
        if self.status.fulfilment.has_shipped_anything() {
            return Err(blocked(
                FulfilmentStatus::KIND,
                self.status.fulfilment.as_str(),
                "edited",
            ));
        }
        match self.status.payment {
            PaymentStatus::Pending
            | PaymentStatus::Authorized
            | PaymentStatus::Captured
            | PaymentStatus::PartiallyRefunded
            | PaymentStatus::CodPending => Ok(()),
            other => Err(blocked(PaymentStatus::KIND, other.as_str(), "edited")),
        }
    }

    /// The price mode the order was placed under, as its lines show it (so changing the setting later does not
    /// re-read the prices of orders already placed): in inclusive mode a taxed line's total is its price times
    /// its units, in exclusive mode its net is. When no line shows it (nothing taxed), `setting`.
    fn placed_mode(&self, setting: PriceMode) -> PriceMode {
        for l in self.lines.iter().filter(|l| l.tax.amount_minor() != 0) {
            let Some(charged) = l.unit_price.amount_minor().checked_mul(l.quantity.as_i64()) else {
                continue;
            };
            if charged == l.total.amount_minor() {
                return PriceMode::Inclusive;
            }
            if charged == l.subtotal.amount_minor() {
                return PriceMode::Exclusive;
            }
        }
        setting
    }

    /// The shipping fee as it was charged: net in exclusive mode, with its VAT in inclusive mode.
    fn shipping_charged(&self, mode: PriceMode) -> Money {
        match mode {
            PriceMode::Exclusive => self.totals.shipping,
            PriceMode::Inclusive => Money::new(
                self.totals.shipping.amount_minor() + self.shipping_tax.amount_minor(),
                self.currency,
            ),
        }
    }

    /// Stock moves of an edit: per SKU, the units added are reserved and the units taken off released (nothing
    /// has shipped, so every unit of the order is reserved).
    pub(super) fn edit_moves(&self, edited: &Edited) -> Vec<StockMove> {
        let before = |sku: &Sku| {
            self.lines
                .iter()
                .find(|l| &l.sku == sku)
                .map_or(0, |l| l.quantity.as_i64())
        };
        let after = |sku: &Sku| {
            edited
                .lines
                .iter()
                .find(|l| &l.sku == sku)
                .map_or(0, |l| l.quantity.as_i64())
        };
        let mut skus: Vec<&Sku> = self.lines.iter().chain(&edited.lines).map(|l| &l.sku).collect();
        skus.sort();
        skus.dedup();
        skus.into_iter()
            .filter_map(|sku| {
                let delta = after(sku) - before(sku);
                let units = Quantity::parse(delta.abs(), u32::MAX).ok()?;
                Some(if delta > 0 {
                    StockMove::Reserve(sku.clone(), units)
                } else {
                    StockMove::Release(sku.clone(), units)
                })
            })
            .collect()
    }

    /// Folds an `order.edited` event in: the new lines, address and totals, and the money held carried over.
    pub(super) fn apply_edit(&mut self, edited: &Edited) -> Result<(), OrderError> {
        if self.status.fulfilment.has_shipped_anything() || self.status.order == OrderStatus::Cancelled {
            return Err(OrderError::Corrupt("an edit after shipping or cancellation".into()));
        }
        self.progress = self.rebase(edited);
        self.lines = edited.lines.clone();
        self.ship_to = edited.ship_to.clone();
        self.shipping_tax = edited.shipping_tax;
        self.totals = edited.totals;
        Ok(())
    }
}
