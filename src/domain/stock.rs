//! Stock of one SKU: what is on the shelf and how much of it open orders hold.
//!
//! Invariant: `0 <= reserved <= on_hand`. Placing an order reserves, shipping deducts, cancelling releases.
//! The stores also enforce the invariant with CHECK constraints as a last line of defence.

use serde::{Deserialize, Serialize};

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
}

impl StockLevel {
    pub fn empty() -> Self {
        StockLevel {
            on_hand: 0,
            reserved: 0,
        }
    }

    pub fn available(self) -> i64 {
        self.on_hand - self.reserved
    }

    pub fn reserve(self, quantity: i64) -> Result<Self, StockError> {
        if quantity > self.available() {
            return Err(StockError::Insufficient {
                available: self.available(),
                requested: quantity,
            });
        }
        Ok(StockLevel {
            reserved: self.reserved + quantity,
            ..self
        })
    }

    pub fn release(self, quantity: i64) -> Result<Self, StockError> {
        if quantity > self.reserved {
            return Err(StockError::ReleaseExceedsReserved {
                reserved: self.reserved,
                requested: quantity,
            });
        }
        Ok(StockLevel {
            reserved: self.reserved - quantity,
            ..self
        })
    }

    /// Reserved units leave the warehouse: both reserved and on hand drop.
    pub fn ship(self, quantity: i64) -> Result<Self, StockError> {
        let released = self.release(quantity)?;
        Ok(StockLevel {
            on_hand: released.on_hand - quantity,
            ..released
        })
    }

    /// Returned units go back on the shelf.
    pub fn restock(self, quantity: i64) -> Self {
        StockLevel {
            on_hand: self.on_hand + quantity,
            ..self
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
