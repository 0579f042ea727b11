//! Property tests over random command sequences: money per part stays within bounds, stock follows shipments,
//! refused commands change nothing, sequences have no gaps, and replay rebuilds the order.

use proptest::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::tests::{placed, sq};
use super::*;

/// Commands drawn at random; ids of shipments and returns are picked from those that exist.
fn command(o: &Order, pick: (u8, u32, u32)) -> Command {
    let (kind, a, b) = pick;
    let sku = |i: u32| o.lines[(i as usize) % o.lines.len()].sku.as_str().to_owned();
    let total = o.totals.grand_total.amount_minor();
    match kind % 12 {
        0 => Command::Cancel { reason: None },
        1 => Command::Authorize {
            amount_minor: total,
            provider_ref: "p".into(),
        },
        2 => Command::Capture {
            amount_minor: i64::from(a % 5000) + 1,
        },
        3 => Command::Void,
        4 => Command::CollectCod {
            amount_minor: total,
            courier_ref: "c".into(),
        },
        5 => Command::RefuseCod { reason: None },
        6 => Command::Ship {
            lines: vec![sq(&sku(a), b % 3 + 1)],
            carrier: "x".into(),
            tracking_number: "y".into(),
        },
        7 => match o.progress.shipments.get(a as usize % o.progress.shipments.len().max(1)) {
            Some(s) => Command::Deliver { shipment_id: s.id },
            None => Command::Deliver {
                shipment_id: Uuid::nil(),
            },
        },
        8 => Command::RequestReturn {
            lines: vec![sq(&sku(a), b % 2 + 1)],
            reason: None,
        },
        9 => match o.progress.returns.get(a as usize % o.progress.returns.len().max(1)) {
            Some(r) => Command::ReceiveReturn {
                return_id: r.id,
                restock: b % 2 == 0,
            },
            None => Command::ReceiveReturn {
                return_id: Uuid::nil(),
                restock: true,
            },
        },
        10 => Command::Refund {
            amount_minor: Some(i64::from(a % 3000) + 1),
            lines: vec![],
            reason: None,
        },
        _ => Command::Refund {
            amount_minor: None,
            lines: vec![sq(&sku(a), b % 2 + 1)],
            reason: None,
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_command_sequences_keep_money_and_stock_exact(
        cod in any::<bool>(),
        quantities in prop::collection::vec(1u32..4, 1..4),
        picks in prop::collection::vec((any::<u8>(), any::<u32>(), any::<u32>()), 0..60),
    ) {
        let names = ["A", "B", "C", "D"];
        let lines: Vec<(&str, u32)> = quantities.iter().enumerate().map(|(i, q)| (names[i], *q)).collect();
        let (mut o, mut log) = placed(if cod { PaymentMethod::Cod } else { PaymentMethod::Card }, &lines);
        // Stock held for this order: reserved starts at the ordered quantity; on_hand counts shelf units too.
        let mut reserved: Vec<i64> = quantities.iter().map(|q| i64::from(*q)).collect();
        let mut on_hand: Vec<i64> = reserved.clone();
        for pick in picks {
            let before = o.clone();
            match o.execute(command(&o, pick), "prop", OffsetDateTime::now_utc()) {
                Ok(change) => {
                    for m in &change.stock {
                        let (StockMove::Reserve(s, q) | StockMove::Release(s, q) | StockMove::Ship(s, q) | StockMove::Restock(s, q)) = m;
                        let i = names.iter().position(|n| *n == s.as_str()).unwrap();
                        match m {
                            StockMove::Reserve(..) => reserved[i] += q.as_i64(),
                            StockMove::Release(..) => reserved[i] -= q.as_i64(),
                            StockMove::Ship(..) => { reserved[i] -= q.as_i64(); on_hand[i] -= q.as_i64(); }
                            StockMove::Restock(..) => on_hand[i] += q.as_i64(),
                        }
                    }
                    for (k, e) in change.events.iter().enumerate() {
                        prop_assert_eq!(e.sequence, before.version + 1 + k as i64, "sequences have no gaps");
                    }
                    log.extend(change.events);
                }
                Err(_) => prop_assert_eq!(&o, &before, "a refused command changes nothing"),
            }
            let p = &o.progress;
            prop_assert!(p.captured() - p.refunded_total() >= 0);
            for ((paid, refunded), part) in p.paid.iter().zip(&p.refunded).zip(o.part_totals()) {
                prop_assert!(0 <= *refunded && refunded <= paid && *paid <= part, "per part: refunded {refunded} paid {paid} of {part}");
            }
            prop_assert!(p.captured() <= p.authorized_minor.max(o.totals.grand_total.amount_minor()));
            for (i, (line, lp)) in o.lines.iter().zip(&p.lines).enumerate() {
                prop_assert!(reserved[i] >= 0 && on_hand[i] >= 0);
                let unshipped = i64::from(line.quantity.get() - lp.shipped);
                let expected = if o.status.order == OrderStatus::Cancelled { 0 } else { unshipped };
                prop_assert_eq!(reserved[i], expected, "reserved equals the unshipped quantity of an open order");
            }
        }
        prop_assert_eq!(Order::replay(&log).unwrap(), o.clone(), "replaying the events rebuilds the order");
        prop_assert_eq!(o.version, log.len() as i64);
    }
}
