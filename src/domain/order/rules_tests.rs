//! The rules that refuse a command: cancelling after shipping, shipping before payment, shipping too much.

use super::tests::{placed, run, sq};
use super::*;

#[test]
fn cancelling_after_a_shipment_is_refused() {
    let (mut o, mut log) = placed(PaymentMethod::Cod, &[("A", 2)]);
    run(
        &mut o,
        &mut log,
        Command::Ship {
            lines: vec![sq("A", 1)],
            carrier: "x".into(),
            tracking_number: "y".into(),
        },
    )
    .unwrap();
    let before = o.clone();
    assert!(matches!(
        run(&mut o, &mut log, Command::Cancel { reason: None }),
        Err(OrderError::AlreadyShipped(_))
    ));
    assert_eq!(o, before, "a refused command changes nothing");
}

#[test]
fn cancelling_voids_an_authorisation_and_refunds_a_capture() {
    let (mut o, mut log) = placed(PaymentMethod::Card, &[("A", 1)]);
    let total = o.totals.grand_total.amount_minor();
    run(
        &mut o,
        &mut log,
        Command::Authorize {
            amount_minor: total,
            provider_ref: "p".into(),
        },
    )
    .unwrap();
    let change = run(&mut o, &mut log, Command::Cancel { reason: None }).unwrap();
    assert_eq!(o.status.payment, PaymentStatus::Voided);
    assert_eq!(
        change.stock,
        vec![StockMove::Release(
            Sku::parse("A").unwrap(),
            Quantity::parse(1, 9).unwrap()
        )]
    );

    let (mut o, mut log) = placed(PaymentMethod::Card, &[("A", 1)]);
    run(
        &mut o,
        &mut log,
        Command::Authorize {
            amount_minor: total,
            provider_ref: "p".into(),
        },
    )
    .unwrap();
    run(&mut o, &mut log, Command::Capture { amount_minor: 1000 }).unwrap();
    run(&mut o, &mut log, Command::Cancel { reason: None }).unwrap();
    assert_eq!(o.status.payment, PaymentStatus::Refunded);
    assert_eq!(o.progress.refunded_total(), 1000);
    assert_eq!(o.status.order, OrderStatus::Cancelled);
}

#[test]
fn a_card_order_does_not_ship_before_authorisation() {
    let (mut o, mut log) = placed(PaymentMethod::Card, &[("A", 1)]);
    let r = run(
        &mut o,
        &mut log,
        Command::Ship {
            lines: vec![sq("A", 1)],
            carrier: "x".into(),
            tracking_number: "y".into(),
        },
    );
    assert_eq!(r, Err(OrderError::PaymentRequired));
}

#[test]
fn a_voided_card_order_does_not_ship() {
    let (mut o, mut log) = placed(PaymentMethod::Card, &[("A", 1)]);
    let total = o.totals.grand_total.amount_minor();
    run(
        &mut o,
        &mut log,
        Command::Authorize {
            amount_minor: total,
            provider_ref: "p".into(),
        },
    )
    .unwrap();
    run(&mut o, &mut log, Command::Void).unwrap();
    let r = run(
        &mut o,
        &mut log,
        Command::Ship {
            lines: vec![sq("A", 1)],
            carrier: "x".into(),
            tracking_number: "y".into(),
        },
    );
    assert_eq!(r, Err(OrderError::PaymentRequired));
}

#[test]
fn shipping_more_than_ordered_names_the_line() {
    let (mut o, mut log) = placed(PaymentMethod::Cod, &[("A", 1)]);
    let r = run(
        &mut o,
        &mut log,
        Command::Ship {
            lines: vec![sq("A", 2)],
            carrier: "x".into(),
            tracking_number: "y".into(),
        },
    );
    assert!(matches!(
        r,
        Err(OrderError::InvalidLine {
            index: 0,
            field: "quantity",
            ..
        })
    ));
}

#[test]
fn only_a_card_order_left_unpaid_past_its_time_expires_releasing_its_stock() {
    let (mut fresh, mut log) = placed(PaymentMethod::Card, &[("A", 2)]);
    let early = Command::Expire {
        placed_before: fresh.created_at - time::Duration::seconds(1),
    };
    assert!(run(&mut fresh, &mut log, early).is_err(), "not due yet");
    let due = Command::Expire {
        placed_before: fresh.created_at + time::Duration::seconds(1),
    };
    let change = run(&mut fresh, &mut log, due).unwrap();
    assert_eq!(Order::replay(&log).unwrap(), fresh, "replay handles order.expired");
    assert_eq!(change.events[0].kind(), "order.expired");
    assert_eq!(fresh.status.order, OrderStatus::Cancelled);
    assert_eq!(fresh.status.payment, PaymentStatus::Pending);
    assert_eq!(
        change.stock,
        vec![StockMove::Release(
            Sku::parse("A").unwrap(),
            Quantity::parse(2, 9).unwrap()
        )]
    );

    let (mut paid, mut log) = placed(PaymentMethod::Card, &[("A", 1)]);
    let total = paid.totals.grand_total.amount_minor();
    run(
        &mut paid,
        &mut log,
        Command::Authorize {
            amount_minor: total,
            provider_ref: "p".into(),
        },
    )
    .unwrap();
    let due_for = |o: &Order| Command::Expire {
        placed_before: o.created_at + time::Duration::seconds(1),
    };
    assert!(run(&mut paid.clone(), &mut log, due_for(&paid)).is_err(), "authorised");
    let (cod, mut log) = placed(PaymentMethod::Cod, &[("A", 1)]);
    assert!(
        run(&mut cod.clone(), &mut log, due_for(&cod)).is_err(),
        "cash on delivery"
    );
}
