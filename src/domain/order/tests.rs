//! The order lifecycle as the domain sees it, and property tests over random command sequences.

use time::OffsetDateTime;
use uuid::Uuid;

use super::*;
use crate::domain::events::SkuQuantity;
use crate::domain::pricing::{CatalogEntry, PricingPolicy, price_order};
use crate::domain::tax::TaxClass;

pub(super) fn sq(sku: &str, q: u32) -> SkuQuantity {
    SkuQuantity {
        sku: Sku::parse(sku).unwrap(),
        quantity: Quantity::parse(i64::from(q), 1000).unwrap(),
    }
}

/// A placed order for `lines` at 1.235 KWD each, shipped to Kuwait, with its first event.
pub(super) fn placed(method: PaymentMethod, lines: &[(&str, u32)]) -> (Order, Vec<OrderEvent>) {
    let catalog: Vec<CatalogEntry> = lines
        .iter()
        .map(|(s, _)| CatalogEntry {
            sku: Sku::parse(s).unwrap(),
            name_en: "Oud".into(),
            name_ar: "عود".into(),
            unit_price: crate::domain::Money::new(1235, Currency::Kwd),
            tax_class: TaxClass::Standard,
            active: true,
        })
        .collect();
    let wanted: Vec<(Sku, Quantity)> = lines
        .iter()
        .map(|(s, q)| (Sku::parse(s).unwrap(), Quantity::parse(i64::from(*q), 1000).unwrap()))
        .collect();
    let kw = CountryCode::parse("KW").unwrap();
    let priced = price_order(&PricingPolicy::default(), Currency::Kwd, &kw, &wanted, &catalog).unwrap();
    let request = NewOrder {
        customer_id: None,
        currency: Currency::Kwd,
        ship_to: ShipTo {
            name: "علي".into(),
            line1: Some("Block 1".into()),
            line2: None,
            city: "Jabriya".into(),
            country: kw,
            phone: Some("+96599999999".into()),
        },
        lines: wanted,
        payment_method: method,
    };
    let (order, event) = Order::place(
        request,
        "KW-000000001".into(),
        StoreCode::parse("KW").unwrap(),
        priced,
        "t",
        OffsetDateTime::now_utc(),
    );
    (order, vec![event])
}

pub(super) fn run(order: &mut Order, log: &mut Vec<OrderEvent>, command: Command) -> Result<OrderChange, OrderError> {
    let change = order.execute(command, "ops", OffsetDateTime::now_utc())?;
    log.extend(change.events.clone());
    Ok(change)
}

fn types(log: &[OrderEvent]) -> Vec<&'static str> {
    log.iter().map(|e| e.kind()).collect()
}

#[test]
fn a_card_order_is_authorised_captured_shipped_in_two_parts_delivered_and_completed() {
    let (mut o, mut log) = placed(PaymentMethod::Card, &[("A", 2), ("B", 1)]);
    let total = o.totals.grand_total.amount_minor();
    run(
        &mut o,
        &mut log,
        Command::Authorize {
            amount_minor: total,
            provider_ref: "psp-1".into(),
        },
    )
    .unwrap();
    assert_eq!(o.status.order, OrderStatus::Confirmed);
    run(&mut o, &mut log, Command::Capture { amount_minor: total }).unwrap();
    let first = run(
        &mut o,
        &mut log,
        Command::Ship {
            lines: vec![sq("A", 2)],
            carrier: "Aramex".into(),
            tracking_number: "1".into(),
        },
    )
    .unwrap();
    assert_eq!(
        first.stock,
        vec![StockMove::Ship(
            Sku::parse("A").unwrap(),
            Quantity::parse(2, 9).unwrap()
        )]
    );
    assert_eq!(o.status.fulfilment, FulfilmentStatus::PartiallyShipped);
    run(
        &mut o,
        &mut log,
        Command::Ship {
            lines: vec![sq("B", 1)],
            carrier: "Aramex".into(),
            tracking_number: "2".into(),
        },
    )
    .unwrap();
    assert_eq!(o.status.fulfilment, FulfilmentStatus::Shipped);
    let ids: Vec<Uuid> = o.progress.shipments.iter().map(|s| s.id).collect();
    run(&mut o, &mut log, Command::Deliver { shipment_id: ids[0] }).unwrap();
    assert_eq!(o.status.order, OrderStatus::Confirmed);
    run(&mut o, &mut log, Command::Deliver { shipment_id: ids[1] }).unwrap();
    assert_eq!(
        o.status,
        Statuses {
            order: OrderStatus::Completed,
            payment: PaymentStatus::Captured,
            fulfilment: FulfilmentStatus::Delivered
        }
    );
    assert_eq!(
        types(&log),
        [
            "order.placed",
            "payment.authorized",
            "order.confirmed",
            "payment.captured",
            "shipment.created",
            "shipment.created",
            "shipment.delivered",
            "shipment.delivered",
            "order.completed"
        ]
    );
    assert_eq!(Order::replay(&log).unwrap(), o);
    assert_eq!(o.version, log.len() as i64);
}

#[test]
fn a_cod_order_is_shipped_delivered_collected_and_completed() {
    let (mut o, mut log) = placed(PaymentMethod::Cod, &[("A", 3)]);
    run(
        &mut o,
        &mut log,
        Command::Ship {
            lines: vec![sq("A", 3)],
            carrier: "SMSA".into(),
            tracking_number: "9".into(),
        },
    )
    .unwrap();
    assert_eq!(o.status.order, OrderStatus::Confirmed);
    let id = o.progress.shipments[0].id;
    run(&mut o, &mut log, Command::Deliver { shipment_id: id }).unwrap();
    let total = o.totals.grand_total.amount_minor();
    assert!(matches!(
        run(
            &mut o,
            &mut log,
            Command::CollectCod {
                amount_minor: total - 1,
                courier_ref: "c".into()
            }
        ),
        Err(OrderError::InvalidAmount(_))
    ));
    run(
        &mut o,
        &mut log,
        Command::CollectCod {
            amount_minor: total,
            courier_ref: "c".into(),
        },
    )
    .unwrap();
    assert_eq!(o.status.order, OrderStatus::Completed);
    assert_eq!(o.status.payment, PaymentStatus::CodCollected);
    assert_eq!(Order::replay(&log).unwrap(), o);
}

#[test]
fn a_refused_cod_order_goes_back_to_origin_and_restocks_on_receipt() {
    let (mut o, mut log) = placed(PaymentMethod::Cod, &[("A", 2)]);
    run(
        &mut o,
        &mut log,
        Command::Ship {
            lines: vec![sq("A", 2)],
            carrier: "SMSA".into(),
            tracking_number: "9".into(),
        },
    )
    .unwrap();
    run(
        &mut o,
        &mut log,
        Command::RefuseCod {
            reason: Some("not home".into()),
        },
    )
    .unwrap();
    assert_eq!(o.status.payment, PaymentStatus::CodRefused);
    assert_eq!(o.status.fulfilment, FulfilmentStatus::Returned);
    let rto = o.progress.returns[0].id;
    let received = run(
        &mut o,
        &mut log,
        Command::ReceiveReturn {
            return_id: rto,
            restock: true,
        },
    )
    .unwrap();
    assert_eq!(
        received.stock,
        vec![StockMove::Restock(
            Sku::parse("A").unwrap(),
            Quantity::parse(2, 9).unwrap()
        )]
    );
    assert_eq!(o.status.order, OrderStatus::Cancelled);
    assert_eq!(Order::replay(&log).unwrap(), o);
}

fn completed_card_order(lines: &[(&str, u32)]) -> (Order, Vec<OrderEvent>) {
    let (mut o, mut log) = placed(PaymentMethod::Card, lines);
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
    run(&mut o, &mut log, Command::Capture { amount_minor: total }).unwrap();
    let all: Vec<SkuQuantity> = lines.iter().map(|(s, q)| sq(s, *q)).collect();
    run(
        &mut o,
        &mut log,
        Command::Ship {
            lines: all,
            carrier: "DHL".into(),
            tracking_number: "x".into(),
        },
    )
    .unwrap();
    let id = o.progress.shipments[0].id;
    run(&mut o, &mut log, Command::Deliver { shipment_id: id }).unwrap();
    assert_eq!(o.status.order, OrderStatus::Completed);
    (o, log)
}

#[test]
fn partial_refunds_after_a_partial_return_never_exceed_what_was_captured() {
    let (mut o, mut log) = completed_card_order(&[("A", 3)]);
    run(
        &mut o,
        &mut log,
        Command::RequestReturn {
            lines: vec![sq("A", 1)],
            reason: None,
        },
    )
    .unwrap();
    assert_eq!(o.status.fulfilment, FulfilmentStatus::PartiallyReturned);
    let rid = o.progress.returns[0].id;
    run(
        &mut o,
        &mut log,
        Command::ReceiveReturn {
            return_id: rid,
            restock: true,
        },
    )
    .unwrap();
    // One unit by quantity (1.235 KWD), then 1.000 KWD as goodwill.
    run(
        &mut o,
        &mut log,
        Command::Refund {
            amount_minor: None,
            lines: vec![sq("A", 1)],
            reason: None,
        },
    )
    .unwrap();
    assert_eq!(o.progress.refunded_total(), 1235);
    run(
        &mut o,
        &mut log,
        Command::Refund {
            amount_minor: Some(1000),
            lines: vec![],
            reason: None,
        },
    )
    .unwrap();
    assert_eq!(o.status.payment, PaymentStatus::PartiallyRefunded);
    let left = o.progress.captured() - o.progress.refunded_total();
    let third = run(
        &mut o,
        &mut log,
        Command::Refund {
            amount_minor: Some(left + 1),
            lines: vec![],
            reason: None,
        },
    );
    assert_eq!(
        third,
        Err(OrderError::RefundExceedsCaptured {
            requested: left + 1,
            refundable: left
        })
    );
    run(
        &mut o,
        &mut log,
        Command::Refund {
            amount_minor: Some(left),
            lines: vec![],
            reason: None,
        },
    )
    .unwrap();
    assert_eq!(o.status.payment, PaymentStatus::Refunded);
    assert_eq!(Order::replay(&log).unwrap(), o);
}

#[test]
fn a_snapshot_of_a_cancelled_cod_order_replays_to_cod_cancelled() {
    use crate::domain::status::{OrderStatus, PaymentStatus};
    let (mut order, _) = placed(PaymentMethod::Cod, &[("A", 1)]);
    order.status.order = OrderStatus::Cancelled;
    order.status.payment = PaymentStatus::CodPending;
    assert_eq!(
        order.with_cancelled_cod_settled().status.payment,
        PaymentStatus::CodCancelled
    );
    order.status.order = OrderStatus::Open;
    assert_eq!(
        order.with_cancelled_cod_settled().status.payment,
        PaymentStatus::CodPending
    );
}

#[test]
fn cancelling_a_cod_order_leaves_no_cash_due() {
    use crate::domain::status::PaymentStatus;
    let (mut o, _) = placed(PaymentMethod::Cod, &[("A", 1)]);
    let change = o
        .execute(Command::Cancel { reason: None }, "ops", OffsetDateTime::now_utc())
        .unwrap();
    assert_eq!(o.status.payment, PaymentStatus::CodCancelled);
    assert_eq!(types(&change.events), ["order.cancelled"]);
    assert!(
        change
            .transitions
            .iter()
            .any(|t| t.from == "cod_pending" && t.to == "cod_cancelled")
    );
}
