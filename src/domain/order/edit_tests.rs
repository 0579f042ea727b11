//! Edits as the domain sees them, case by case (the property test is in `edit_props`): prices kept and taken,
//! what is owed either way after an edit and how the payment commands settle it, and the refusals.

use super::edit_fixtures::{Shop, address, pay, qty, run, sku};
use super::*;
use crate::domain::Money;
use crate::domain::tax::PriceMode;

fn shop() -> Shop {
    Shop::new(Currency::Aed, PriceMode::Exclusive, 1500, &[(10_000, true); 6])
}

fn two_lines(method: PaymentMethod) -> (Shop, Order, Vec<OrderEvent>) {
    let shop = shop();
    let (o, log) = shop.place(method, "AE", &[(sku("A"), qty(2)), (sku("B"), qty(1))]);
    (shop, o, log)
}

#[test]
fn existing_lines_keep_their_price_and_added_lines_take_todays() {
    let (mut shop, mut o, mut log) = two_lines(PaymentMethod::Card);
    shop.products[0].prices = vec![Money::new(99_999, Currency::Aed)];
    shop.products[2].prices = vec![Money::new(5_000, Currency::Aed)];
    let add = EditOperation::AddLine {
        sku: sku("C"),
        quantity: qty(1),
    };
    let set = EditOperation::SetQuantity {
        sku: sku("A"),
        quantity: qty(3),
    };
    run(&mut o, &mut log, shop.edit(vec![add, set])).unwrap();
    let price = |s: &str| {
        o.lines
            .iter()
            .find(|l| l.sku.as_str() == s)
            .unwrap()
            .unit_price
            .amount_minor()
    };
    assert_eq!((price("A"), price("C")), (10_000, 5_000));
    // 3 x 100 + 100 + 50 AED, shipping 15, VAT 5% of 465.
    assert_eq!(o.totals.grand_total.amount_minor(), 46_500 + 2_325);
    let Change::Edited(e) = &log.last().unwrap().change else {
        panic!("not an edit")
    };
    assert_eq!(e.diff.added.len(), 1);
    assert_eq!(e.diff.changed[0].to, qty(3));
    assert_eq!(e.diff.totals_before.grand_total.amount_minor(), 31_500 + 1_575);
}

#[test]
fn a_captured_order_made_cheaper_owes_a_refund_that_the_next_refund_pays_first() {
    let (shop, mut o, mut log) = two_lines(PaymentMethod::Card);
    pay(&mut o, &mut log, 2);
    let remove = EditOperation::RemoveLine { sku: sku("B") };
    run(&mut o, &mut log, shop.edit(vec![remove])).unwrap();
    // B cost 100 AED + 5 AED VAT.
    assert_eq!(o.dues().refund_due, 10_500);
    assert_eq!(o.dues().balance_due, 0);
    let change = run(
        &mut o,
        &mut log,
        Command::Refund {
            amount_minor: Some(10_500),
            lines: vec![],
            reason: None,
        },
    )
    .unwrap();
    let Change::Refunded {
        parts, amount_minor, ..
    } = &change.events[0].change
    else {
        panic!("not a refund")
    };
    assert_eq!(
        (*amount_minor, parts.iter().sum::<i64>()),
        (10_500, 0),
        "all from the surplus"
    );
    assert_eq!(o.dues(), Dues::default());
    assert_eq!(o.status.payment, PaymentStatus::PartiallyRefunded);
    assert_eq!(Order::replay(&log).unwrap(), o);
}

#[test]
fn an_authorised_order_made_dearer_owes_a_balance_authorised_then_captured() {
    let (shop, mut o, mut log) = two_lines(PaymentMethod::Card);
    pay(&mut o, &mut log, 1);
    let set = EditOperation::SetQuantity {
        sku: sku("B"),
        quantity: qty(2),
    };
    run(&mut o, &mut log, shop.edit(vec![set])).unwrap();
    assert_eq!(o.dues().balance_due, 10_500);
    let wrong = Command::Authorize {
        amount_minor: 10_000,
        provider_ref: "x".into(),
    };
    assert!(matches!(
        run(&mut o, &mut log, wrong),
        Err(OrderError::InvalidAmount(_))
    ));
    let balance = Command::Authorize {
        amount_minor: 10_500,
        provider_ref: "psp-2".into(),
    };
    run(&mut o, &mut log, balance).unwrap();
    assert_eq!(o.dues(), Dues::default());
    assert_eq!(o.status.payment, PaymentStatus::Authorized);
    let total = o.totals.grand_total.amount_minor();
    run(&mut o, &mut log, Command::Capture { amount_minor: total }).unwrap();
    assert_eq!(o.progress.captured(), total);
    // Nothing more is due, so another authorisation is a transition the payment cannot make.
    let again = Command::Authorize {
        amount_minor: 1,
        provider_ref: "x".into(),
    };
    assert!(matches!(
        run(&mut o, &mut log, again),
        Err(OrderError::InvalidTransition(_))
    ));
}

#[test]
fn an_authorised_order_made_cheaper_owes_the_surplus_until_its_total_is_captured() {
    let (shop, mut o, mut log) = two_lines(PaymentMethod::Card);
    pay(&mut o, &mut log, 1);
    run(
        &mut o,
        &mut log,
        shop.edit(vec![EditOperation::RemoveLine { sku: sku("B") }]),
    )
    .unwrap();
    assert_eq!(o.dues().refund_due, 10_500);
    let total = o.totals.grand_total.amount_minor();
    let too_much = Command::Capture {
        amount_minor: total + 1,
    };
    assert!(matches!(
        run(&mut o, &mut log, too_much),
        Err(OrderError::InvalidAmount(_))
    ));
    run(&mut o, &mut log, Command::Capture { amount_minor: total }).unwrap();
    assert_eq!(o.dues(), Dues::default(), "capturing the total releases the rest");
}

#[test]
fn a_cod_order_collects_the_new_total() {
    let (shop, mut o, mut log) = two_lines(PaymentMethod::Cod);
    let add = EditOperation::AddLine {
        sku: sku("C"),
        quantity: qty(1),
    };
    run(&mut o, &mut log, shop.edit(vec![add])).unwrap();
    let dues = o.dues();
    assert_eq!(dues.to_collect, Some(o.totals.grand_total.amount_minor()));
    assert_eq!((dues.balance_due, dues.refund_due), (0, 0));
    run(&mut o, &mut log, Command::Cancel { reason: None }).unwrap();
    assert_eq!(o.dues().to_collect, Some(0), "a cancelled COD order owes no cash");
}

#[test]
fn cancelling_an_order_with_a_surplus_refunds_everything_held() {
    let (shop, mut o, mut log) = two_lines(PaymentMethod::Card);
    pay(&mut o, &mut log, 2);
    run(
        &mut o,
        &mut log,
        shop.edit(vec![EditOperation::RemoveLine { sku: sku("A") }]),
    )
    .unwrap();
    run(&mut o, &mut log, Command::Cancel { reason: None }).unwrap();
    assert_eq!(o.progress.refunded_total(), o.progress.captured());
    assert_eq!(o.status.payment, PaymentStatus::Refunded);
    assert_eq!(Order::replay(&log).unwrap(), o);
}

#[test]
fn edits_are_refused_once_anything_has_shipped() {
    let (shop, mut o, mut log) = two_lines(PaymentMethod::Cod);
    let ship = Command::Ship {
        lines: vec![super::tests::sq("A", 1)],
        carrier: "Aramex".into(),
        tracking_number: "T1".into(),
    };
    run(&mut o, &mut log, ship).unwrap();
    let before = o.clone();
    for op in [
        EditOperation::RemoveLine { sku: sku("B") },
        EditOperation::SetShipTo { ship_to: address("AE") },
    ] {
        let refused = run(&mut o, &mut log, shop.edit(vec![op]));
        assert!(
            matches!(refused, Err(OrderError::InvalidTransition(ref t)) if t.from == "partially_shipped" && t.to == "edited"),
            "{refused:?}"
        );
    }
    assert_eq!(o, before);
}

#[test]
fn orders_imported_from_the_legacy_system_are_not_edited() {
    let (shop, mut o, mut log) = two_lines(PaymentMethod::Cod);
    o.legacy = Some(crate::domain::legacy::LegacyRef {
        order_id: 7,
        order_no: "L-7".into(),
        customer_id: 1,
        customer_name: "Legacy".into(),
    });
    let refused = run(
        &mut o,
        &mut log,
        shop.edit(vec![EditOperation::RemoveLine { sku: sku("B") }]),
    );
    assert!(
        matches!(refused, Err(OrderError::InvalidTransition(ref t)) if (t.kind, t.from) == ("origin", "legacy")),
        "{refused:?}"
    );
}

#[test]
fn the_price_mode_is_the_one_the_order_was_placed_under() {
    let (mut shop, mut o, mut log) = two_lines(PaymentMethod::Card);
    let before = (o.lines.clone(), o.totals);
    // The setting changes after the order was placed: a re-count of nothing moves no price.
    shop.policy.price_mode = PriceMode::Inclusive;
    let same = EditOperation::SetQuantity {
        sku: sku("A"),
        quantity: qty(2),
    };
    run(&mut o, &mut log, shop.edit(vec![same])).unwrap();
    assert_eq!((o.lines.clone(), o.totals), before);
}

#[test]
fn bad_operations_name_the_operation_and_change_nothing() {
    let (shop, mut o, mut log) = two_lines(PaymentMethod::Card);
    let before = o.clone();
    let cases = [
        (
            vec![EditOperation::AddLine {
                sku: sku("A"),
                quantity: qty(1),
            }],
            (0, "sku"),
        ),
        (
            vec![
                EditOperation::RemoveLine { sku: sku("A") },
                EditOperation::RemoveLine { sku: sku("Z") },
            ],
            (1, "sku"),
        ),
        (
            vec![
                EditOperation::RemoveLine { sku: sku("A") },
                EditOperation::RemoveLine { sku: sku("B") },
            ],
            (0, "operations"),
        ),
    ];
    for (ops, (at, what)) in cases {
        match run(&mut o, &mut log, shop.edit(ops)) {
            Err(OrderError::InvalidEdit { index, field, .. }) => assert_eq!((index, field), (at, what)),
            other => panic!("{other:?}"),
        }
    }
    let to_bahrain = EditOperation::SetShipTo { ship_to: address("BH") };
    assert!(matches!(
        run(&mut o, &mut log, shop.edit(vec![to_bahrain])),
        Err(OrderError::VatCountryChange { .. })
    ));
    let unknown = EditOperation::AddLine {
        sku: sku("NOPE"),
        quantity: qty(1),
    };
    assert!(matches!(
        run(&mut o, &mut log, shop.edit(vec![unknown])),
        Err(OrderError::Pricing(crate::domain::pricing::PricingError::UnknownSku(_)))
    ));
    assert_eq!(o, before);
}
