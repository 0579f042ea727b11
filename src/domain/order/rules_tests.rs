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
