//! The three status machines of an order, each an explicit table of allowed moves.
//!
//! Anything not in a table is refused with `InvalidTransition`, naming both states: never a silent no-op.
//! A self-move is only allowed where it is listed (a second partial shipment, a further partial refund).

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} status cannot move from `{from}` to `{to}`")]
pub struct InvalidTransition {
    pub kind: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}

/// A move that happened, for metrics and the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub kind: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}

/// A finite status with a transition table.
pub trait StatusMachine: Copy + Eq + fmt::Debug + 'static {
    const KIND: &'static str;
    const ALL: &'static [Self];
    const TRANSITIONS: &'static [(Self, Self)];

    fn as_str(self) -> &'static str;

    fn can_move_to(self, to: Self) -> bool {
        Self::TRANSITIONS.iter().any(|&(f, t)| f == self && t == to)
    }

    /// The checked move: `to` when the table allows it, otherwise an error naming both states.
    fn move_to(self, to: Self) -> Result<Self, InvalidTransition> {
        if self.can_move_to(to) {
            Ok(to)
        } else {
            Err(InvalidTransition {
                kind: Self::KIND,
                from: self.as_str(),
                to: to.as_str(),
            })
        }
    }

    /// Moves `self` to `to` in place when the table allows it, returning the move made.
    fn advance(&mut self, to: Self) -> Result<Transition, InvalidTransition> {
        let from = *self;
        *self = from.move_to(to)?;
        Ok(Transition {
            kind: Self::KIND,
            from: from.as_str(),
            to: to.as_str(),
        })
    }

    fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.as_str() == raw)
    }
}

macro_rules! status_enum {
    ($name:ident, $kind:literal, [$($variant:ident => $text:literal),+ $(,)?], [$($from:ident -> $to:ident),+ $(,)?]) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl StatusMachine for $name {
            const KIND: &'static str = $kind;
            const ALL: &'static [Self] = &[$($name::$variant),+];
            const TRANSITIONS: &'static [(Self, Self)] = &[$(($name::$from, $name::$to)),+];

            fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

status_enum!(
    OrderStatus,
    "order",
    [Open => "open", Confirmed => "confirmed", Completed => "completed", Cancelled => "cancelled"],
    [
        Open -> Confirmed,
        Confirmed -> Completed,
        Open -> Cancelled,
        Confirmed -> Cancelled,
    ]
);

status_enum!(
    PaymentStatus,
    "payment",
    [
        Pending => "pending",
        Authorized => "authorized",
        Captured => "captured",
        PartiallyRefunded => "partially_refunded",
        Refunded => "refunded",
        Failed => "failed",
        Voided => "voided",
        CodPending => "cod_pending",
        CodCollected => "cod_collected",
        CodRefused => "cod_refused",
        CodCancelled => "cod_cancelled",
    ],
    [
        Pending -> Authorized,
        Pending -> Failed,
        Authorized -> Captured,
        Authorized -> Voided,
        Captured -> Captured,
        Captured -> PartiallyRefunded,
        Captured -> Refunded,
        PartiallyRefunded -> PartiallyRefunded,
        PartiallyRefunded -> Refunded,
        CodPending -> CodCollected,
        CodPending -> CodRefused,
        CodPending -> CodCancelled,
        CodCollected -> PartiallyRefunded,
        CodCollected -> Refunded,
    ]
);

impl PaymentStatus {
    /// A card payment that is authorised or captured and not fully refunded: one an edit's balance can be
    /// authorised and captured on.
    pub fn holds_payment(self) -> bool {
        matches!(
            self,
            PaymentStatus::Authorized | PaymentStatus::Captured | PaymentStatus::PartiallyRefunded
        )
    }
}

status_enum!(
    FulfilmentStatus,
    "fulfilment",
    [
        Unfulfilled => "unfulfilled",
        PartiallyShipped => "partially_shipped",
        Shipped => "shipped",
        Delivered => "delivered",
        PartiallyReturned => "partially_returned",
        Returned => "returned",
    ],
    [
        Unfulfilled -> PartiallyShipped,
        Unfulfilled -> Shipped,
        PartiallyShipped -> PartiallyShipped,
        PartiallyShipped -> Shipped,
        Shipped -> Delivered,
        Shipped -> Returned,
        Delivered -> PartiallyReturned,
        Delivered -> Returned,
        PartiallyReturned -> PartiallyReturned,
        PartiallyReturned -> Returned,
    ]
);

impl OrderStatus {
    /// Cancelling is a status move; whether the order has shipped is checked by the aggregate.
    pub fn can_cancel(self) -> bool {
        self.can_move_to(OrderStatus::Cancelled)
    }
}

impl FulfilmentStatus {
    pub fn has_shipped_anything(self) -> bool {
        self != FulfilmentStatus::Unfulfilled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check_table<S: StatusMachine>() {
        for &from in S::ALL {
            for &to in S::ALL {
                let listed = S::TRANSITIONS.contains(&(from, to));
                assert_eq!(from.move_to(to).is_ok(), listed, "{} {:?} -> {:?}", S::KIND, from, to);
            }
        }
    }

    #[test]
    fn every_pair_is_accepted_exactly_when_listed() {
        check_table::<OrderStatus>();
        check_table::<PaymentStatus>();
        check_table::<FulfilmentStatus>();
    }

    #[test]
    fn terminal_states_have_no_way_out() {
        for s in [OrderStatus::Completed, OrderStatus::Cancelled] {
            assert!(OrderStatus::ALL.iter().all(|&t| !s.can_move_to(t)), "{s}");
        }
        for s in [
            PaymentStatus::Refunded,
            PaymentStatus::Failed,
            PaymentStatus::Voided,
            PaymentStatus::CodRefused,
            PaymentStatus::CodCancelled,
        ] {
            assert!(PaymentStatus::ALL.iter().all(|&t| !s.can_move_to(t)), "{s}");
        }
        assert!(
            FulfilmentStatus::ALL
                .iter()
                .all(|&t| !FulfilmentStatus::Returned.can_move_to(t))
        );
    }

    #[test]
    fn an_invalid_move_names_both_states() {
        let err = OrderStatus::Cancelled.move_to(OrderStatus::Confirmed).unwrap_err();
        assert_eq!(
            err.to_string(),
            "order status cannot move from `cancelled` to `confirmed`"
        );
    }

    #[test]
    fn names_parse_back() {
        for &s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OrderStatus::parse("shipped"), None);
    }

    fn walk<S: StatusMachine>(start: S, picks: &[usize]) -> Result<(), String> {
        let mut current = start;
        for &p in picks {
            let requested = S::ALL[p % S::ALL.len()];
            match current.move_to(requested) {
                Ok(next) => {
                    if !S::TRANSITIONS.contains(&(current, requested)) {
                        return Err(format!("accepted unlisted {current:?} -> {requested:?}"));
                    }
                    current = next;
                }
                Err(_) => {
                    if S::TRANSITIONS.contains(&(current, requested)) {
                        return Err(format!("refused listed {current:?} -> {requested:?}"));
                    }
                }
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn random_walks_only_take_listed_moves(picks in prop::collection::vec(0usize..64, 0..50)) {
            prop_assert_eq!(walk(OrderStatus::Open, &picks), Ok(()));
            prop_assert_eq!(walk(PaymentStatus::Pending, &picks), Ok(()));
            prop_assert_eq!(walk(PaymentStatus::CodPending, &picks), Ok(()));
            prop_assert_eq!(walk(FulfilmentStatus::Unfulfilled, &picks), Ok(()));
        }
    }
}
