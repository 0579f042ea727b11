//! Stock of one SKU: what is on the shelf and how much of it open orders hold; and the rules that move the stock
//! of the several SKUs one order touches, all of them or none.
//!
//! Invariant: `0 <= reserved <= on_hand`. Placing an order reserves, shipping deducts, cancelling releases.
//! The stores also enforce the invariant with CHECK constraints as a last line of defence.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::order::StockMove;
use super::values::{Quantity, Sku};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub on_hand: i64,
    pub reserved: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    #[error("only {available} available, {requested} requested")]
    Insufficient { available: i64, requested: i64 },
    #[error("on hand cannot be set to {on_hand}: {reserved} units are reserved by open orders")]
    BelowReserved { on_hand: i64, reserved: i64 },
    #[error("on hand must not be negative")]
    Negative,
    #[error("cannot release {requested}: only {reserved} reserved")]
    ReleaseExceedsReserved { reserved: i64, requested: i64 },
    /// A count would leave the range of a 64-bit integer (an `on_hand` set near i64::MAX, then a restock).
    #[error("{on_hand} on hand and {added} more exceed the largest count that can be stored")]
    Overflow { on_hand: i64, added: i64 },
}

impl StockLevel {
    pub fn empty() -> Self {
        StockLevel {
            on_hand: 0,
            reserved: 0,
        }
    }

    /// Never negative and never overflowing while the invariant holds; saturating if a corrupt row breaks it.
    pub fn available(self) -> i64 {
        self.on_hand.saturating_sub(self.reserved)
    }

    pub fn reserve(self, quantity: i64) -> Result<Self, StockError> {
        if quantity > self.available() {
            return Err(StockError::Insufficient {
                available: self.available(),
                requested: quantity,
            });
        }
        // `quantity <= on_hand - reserved` makes the sum at most `on_hand`; checked all the same, so a corrupt row
        // is a refusal and not a wrapped count.
        let reserved = self.reserved.checked_add(quantity).ok_or(StockError::Overflow {
            on_hand: self.on_hand,
            added: quantity,
        })?;
        Ok(StockLevel { reserved, ..self })
    }

    pub fn release(self, quantity: i64) -> Result<Self, StockError> {
        if quantity > self.reserved {
            return Err(StockError::ReleaseExceedsReserved {
                reserved: self.reserved,
                requested: quantity,
            });
        }
        Ok(StockLevel {
            reserved: self.reserved.saturating_sub(quantity),
            ..self
        })
    }

    /// Reserved units leave the warehouse: both reserved and on hand drop.
    pub fn ship(self, quantity: i64) -> Result<Self, StockError> {
        let released = self.release(quantity)?;
        Ok(StockLevel {
            on_hand: released.on_hand.saturating_sub(quantity),
            ..released
        })
    }

    /// Returned units go back on the shelf; refused if the count would overflow.
    pub fn restock(self, quantity: i64) -> Result<Self, StockError> {
        let on_hand = self.on_hand.checked_add(quantity).ok_or(StockError::Overflow {
            on_hand: self.on_hand,
            added: quantity,
        })?;
        Ok(StockLevel { on_hand, ..self })
    }

    /// A stock count from the warehouse. It may not drop below what open orders already hold.
    pub fn with_on_hand(self, on_hand: i64) -> Result<Self, StockError> {
        if on_hand < 0 {
            return Err(StockError::Negative);
        }
        if on_hand < self.reserved {
            return Err(StockError::BelowReserved {
                on_hand,
                reserved: self.reserved,
            });
        }
        Ok(StockLevel { on_hand, ..self })
    }
}

/// A stock rule refused for one SKU: the first refusal ends the whole reservation or move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SKU {sku}: {source}")]
pub struct SkuStockError {
    pub sku: Sku,
    pub source: StockError,
}

/// Stock levels per SKU, sorted by SKU: the order in which stores lock and write stock rows.
pub type Levels = Vec<(Sku, StockLevel)>;

/// The levels after reserving every line of an order, all or nothing. `locked` holds the stock rows as the store
/// locked them; a SKU without a row has nothing available. Lines are checked in SKU order, so which SKU is
/// reported short does not depend on the order of the request's lines.
pub fn reserve_all(locked: &[(Sku, StockLevel)], lines: &[(Sku, Quantity)]) -> Result<Levels, SkuStockError> {
    let mut sorted: Vec<&(Sku, Quantity)> = lines.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut next = BTreeMap::new();
    for (sku, quantity) in sorted {
        let level = current(&next, locked, sku);
        let reserved = level
            .reserve(quantity.as_i64())
            .map_err(|source| refused(sku, source))?;
        next.insert(sku.clone(), reserved);
    }
    Ok(next.into_iter().collect())
}

/// The SKUs `moves` touch, sorted and once each: the stock rows to lock before `apply_moves`.
pub fn skus_moved(moves: &[StockMove]) -> Vec<Sku> {
    let mut skus: Vec<Sku> = moves.iter().map(|m| m.sku().clone()).collect();
    skus.sort();
    skus.dedup();
    skus
}

/// The levels after applying `moves` in order to the `locked` rows, all or nothing (a SKU without a row counts as
/// empty, so releasing or shipping it is refused).
pub fn apply_moves(locked: &[(Sku, StockLevel)], moves: &[StockMove]) -> Result<Levels, SkuStockError> {
    let mut next = BTreeMap::new();
    for m in moves {
        let level = current(&next, locked, m.sku());
        let moved = m.apply_to(level).map_err(|source| refused(m.sku(), source))?;
        next.insert(m.sku().clone(), moved);
    }
    Ok(next.into_iter().collect())
}

impl StockMove {
    pub fn sku(&self) -> &Sku {
        match self {
            StockMove::Reserve(sku, _)
            | StockMove::Release(sku, _)
            | StockMove::Ship(sku, _)
            | StockMove::Restock(sku, _) => sku,
        }
    }

    fn apply_to(&self, level: StockLevel) -> Result<StockLevel, StockError> {
        match self {
            StockMove::Reserve(_, q) => level.reserve(q.as_i64()),
            StockMove::Release(_, q) => level.release(q.as_i64()),
            StockMove::Ship(_, q) => level.ship(q.as_i64()),
            StockMove::Restock(_, q) => level.restock(q.as_i64()),
        }
    }
}

/// The level of `sku` as earlier steps left it, else as locked, else empty.
fn current(next: &BTreeMap<Sku, StockLevel>, locked: &[(Sku, StockLevel)], sku: &Sku) -> StockLevel {
    next.get(sku)
        .or_else(|| locked.iter().find(|(s, _)| s == sku).map(|(_, l)| l))
        .copied()
        .unwrap_or(StockLevel::empty())
}

fn refused(sku: &Sku, source: StockError) -> SkuStockError {
    SkuStockError {
        sku: sku.clone(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sku(s: &str) -> Sku {
        Sku::parse(s).unwrap()
    }

    fn qty(n: i64) -> Quantity {
        Quantity::parse(n, 1000).unwrap()
    }

    fn level(on_hand: i64, reserved: i64) -> StockLevel {
        StockLevel { on_hand, reserved }
    }

    #[test]
    fn reserving_all_lines_yields_every_level_sorted_by_sku() {
        let locked = vec![(sku("A"), level(5, 1)), (sku("B"), level(3, 0))];
        let got = reserve_all(&locked, &[(sku("B"), qty(3)), (sku("A"), qty(2))]).unwrap();
        assert_eq!(got, vec![(sku("A"), level(5, 3)), (sku("B"), level(3, 3))]);
    }

    #[test]
    fn one_short_line_refuses_the_whole_reservation_naming_the_first_short_sku() {
        let locked = vec![
            (sku("A"), level(1, 0)),
            (sku("B"), level(1, 0)),
            (sku("C"), level(9, 0)),
        ];
        let lines = [(sku("C"), qty(1)), (sku("B"), qty(2)), (sku("A"), qty(2))];
        assert_eq!(
            reserve_all(&locked, &lines),
            Err(SkuStockError {
                sku: sku("A"),
                source: StockError::Insufficient {
                    available: 1,
                    requested: 2
                }
            })
        );
    }

    #[test]
    fn a_sku_without_a_stock_row_has_nothing_available() {
        let err = reserve_all(&[], &[(sku("A"), qty(1))]).unwrap_err();
        assert_eq!(err.sku, sku("A"));
        assert_eq!(
            err.source,
            StockError::Insufficient {
                available: 0,
                requested: 1
            }
        );
    }

    #[test]
    fn moves_apply_in_order_to_the_locked_levels() {
        let locked = vec![(sku("A"), level(10, 4)), (sku("B"), level(2, 0))];
        let moves = [
            StockMove::Ship(sku("A"), qty(3)),
            StockMove::Release(sku("A"), qty(1)),
            StockMove::Restock(sku("B"), qty(2)),
        ];
        assert_eq!(skus_moved(&moves), vec![sku("A"), sku("B")]);
        assert_eq!(
            apply_moves(&locked, &moves).unwrap(),
            vec![(sku("A"), level(7, 0)), (sku("B"), level(4, 0))]
        );
    }

    #[test]
    fn a_move_the_level_cannot_take_refuses_all_moves_with_its_sku() {
        let locked = vec![(sku("A"), level(10, 4)), (sku("B"), level(2, 1))];
        let moves = [StockMove::Release(sku("A"), qty(4)), StockMove::Ship(sku("B"), qty(2))];
        assert_eq!(
            apply_moves(&locked, &moves),
            Err(SkuStockError {
                sku: sku("B"),
                source: StockError::ReleaseExceedsReserved {
                    reserved: 1,
                    requested: 2
                }
            })
        );
    }

    #[test]
    fn reserving_more_than_available_is_refused() {
        let s = StockLevel {
            on_hand: 5,
            reserved: 3,
        };
        assert_eq!(
            s.reserve(3),
            Err(StockError::Insufficient {
                available: 2,
                requested: 3
            })
        );
        assert_eq!(s.reserve(2).unwrap().available(), 0);
    }

    #[test]
    fn a_count_below_reserved_is_refused() {
        let s = StockLevel {
            on_hand: 5,
            reserved: 3,
        };
        assert!(matches!(s.with_on_hand(2), Err(StockError::BelowReserved { .. })));
        assert_eq!(s.with_on_hand(3).unwrap().available(), 0);
        assert_eq!(s.with_on_hand(-1), Err(StockError::Negative));
    }

    #[test]
    fn a_restock_that_would_overflow_is_refused_and_nothing_moves() {
        let locked = vec![(sku("A"), level(i64::MAX - 1, 0))];
        let moves = [StockMove::Restock(sku("A"), qty(2))];
        let err = apply_moves(&locked, &moves).unwrap_err();
        assert_eq!(
            err.source,
            StockError::Overflow {
                on_hand: i64::MAX - 1,
                added: 2
            }
        );
        let fits = apply_moves(&locked, &[StockMove::Restock(sku("A"), qty(1))]).unwrap();
        assert_eq!(fits, vec![(sku("A"), level(i64::MAX, 0))]);
    }

    #[test]
    fn reserving_near_the_top_of_the_range_is_checked() {
        assert!(level(i64::MAX, i64::MAX - 1).reserve(1).is_ok());
        assert!(level(i64::MAX, i64::MAX).reserve(1).is_err());
        // A row that breaks the invariant (reserved above on hand) is refused, not wrapped.
        assert!(level(0, i64::MAX).reserve(1).is_err());
    }

    proptest! {
        #[test]
        fn no_sequence_of_operations_breaks_the_invariant(ops in prop::collection::vec((0u8..3, 0i64..20), 0..100)) {
            let mut s = StockLevel::empty();
            for (op, n) in ops {
                let next = match op {
                    0 => s.reserve(n),
                    1 => s.release(n),
                    _ => s.with_on_hand(n),
                };
                if let Ok(next) = next { s = next; }
                prop_assert!(0 <= s.reserved && s.reserved <= s.on_hand);
            }
        }
    }
}
