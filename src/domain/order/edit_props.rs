//! Property test of edits: any sequence of edits prices the order exactly as placing the edited order fresh
//! would, stock follows the lines, money held is carried over whole, refused edits change nothing, replay
//! rebuilds the order, and what is owed either way is settled by the commands that say so.

use proptest::prelude::*;

use super::edit_fixtures::{SKUS, Shop, op, pay, qty, run, sku};
use super::*;
use crate::domain::tax::PriceMode;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_sequence_of_edits_prices_the_order_as_placing_it_fresh_would(
        inclusive in any::<bool>(),
        shipping in 0i64..5_000,
        prices in prop::collection::vec((1i64..200_000, any::<bool>()), 6),
        initial in prop::collection::btree_map(0usize..6, 1u32..5, 1..4),
        how in 0u8..6,
        edits in prop::collection::vec(prop::collection::vec((any::<u8>(), any::<u8>(), any::<u32>()), 1..4), 1..6),
    ) {
        let mode = if inclusive { PriceMode::Inclusive } else { PriceMode::Exclusive };
        let shop = Shop::new(Currency::Aed, mode, shipping, &prices);
        let lines: Vec<(Sku, Quantity)> = initial.iter().map(|(i, q)| (sku(SKUS[*i]), qty(*q))).collect();
        let method = if how == 4 { PaymentMethod::Cod } else { PaymentMethod::Card };
        let (mut o, mut log) = shop.place(method, "AE", &lines);
        pay(&mut o, &mut log, how);
        let (captured, refunded) = (o.progress.captured(), o.progress.refunded_total());
        let mut reserved: std::collections::BTreeMap<Sku, i64> =
            lines.iter().map(|(s, q)| (s.clone(), q.as_i64())).collect();
        for ops in edits {
            let before = o.clone();
            match run(&mut o, &mut log, shop.edit(ops.into_iter().map(op).collect())) {
                Ok(change) => {
                    prop_assert_eq!(change.events.len(), 1);
                    for m in &change.stock {
                        match m {
                            StockMove::Reserve(s, q) => *reserved.entry(s.clone()).or_default() += q.as_i64(),
                            StockMove::Release(s, q) => *reserved.entry(s.clone()).or_default() -= q.as_i64(),
                            other => prop_assert!(false, "an edit moved stock by {other:?}"),
                        }
                    }
                }
                Err(_) => prop_assert_eq!(&o, &before, "a refused edit changes nothing"),
            }
            let now: Vec<(Sku, Quantity)> = o.lines.iter().map(|l| (l.sku.clone(), l.quantity)).collect();
            let fresh = shop.price(&o.ship_to.country, &now);
            prop_assert_eq!(&o.lines, &fresh.lines, "lines as placing them fresh prices them");
            prop_assert_eq!(o.totals, fresh.totals);
            prop_assert_eq!(o.shipping_tax, fresh.shipping_tax);
            prop_assert_eq!(o.ship_to.country.as_str() == "BH", false, "never to another VAT rate");
            for (s, units) in &reserved {
                let on_order = o.lines.iter().find(|l| &l.sku == s).map_or(0, |l| l.quantity.as_i64());
                prop_assert_eq!(*units, on_order, "stock reserved for {} follows the lines", s);
            }
            let p = &o.progress;
            prop_assert_eq!(p.captured(), captured, "an edit captures nothing");
            prop_assert_eq!(p.refunded_total(), refunded, "and refunds nothing");
            for ((paid, refunded), part) in p.paid.iter().zip(&p.refunded).zip(o.part_totals()) {
                prop_assert!(0 <= *refunded && refunded <= paid && *paid <= part);
            }
            if p.surplus() > 0 {
                prop_assert_eq!(&p.paid, &o.part_totals(), "a surplus only once every part is paid for");
            }
            let dues = o.dues();
            prop_assert!(dues.balance_due == 0 || dues.refund_due == 0);
        }
        prop_assert_eq!(Order::replay(&log).unwrap(), o.clone(), "replaying the events rebuilds the order");

        // Whatever the edits left owed is settled by the commands the dues name.
        let dues = o.dues();
        if dues.balance_due > 0 && o.status.payment != PaymentStatus::Pending {
            run(&mut o, &mut log, Command::Authorize { amount_minor: dues.balance_due, provider_ref: "psp2".into() }).unwrap();
        }
        if o.status.payment.holds_payment() && o.status.payment != PaymentStatus::Authorized {
            let left = o.capturable();
            if left > 0 {
                run(&mut o, &mut log, Command::Capture { amount_minor: left }).unwrap();
            }
            let due = o.dues().refund_due;
            if due > 0 {
                run(&mut o, &mut log, Command::Refund { amount_minor: Some(due), lines: vec![], reason: None }).unwrap();
            }
            prop_assert_eq!(&o.progress.paid, &o.part_totals(), "every part paid for");
            prop_assert_eq!(o.dues(), Dues::default());
        }
        prop_assert_eq!(Order::replay(&log).unwrap(), o, "and replay still rebuilds it");
    }
}
