//! Property test of the tax documents (`invoice::due`) along any run of payments, edits, refunds and a cancel:
//! issuing never fails, the first invoice comes with being paid in full, and from then on the documents never
//! charge a part more than the order retains of it, and charge exactly that while the order is paid in full, part
//! by part, with the order's VAT in all.

use proptest::prelude::*;
use time::OffsetDateTime;

use super::edit_fixtures::{SKUS, Shop, op, pay, qty, run, sku};
use super::*;
use crate::domain::invoice::{self, DocumentKind, Seller, TaxDocument};
use crate::domain::tax::PriceMode;

#[derive(Clone, Debug)]
enum Step {
    Edit(Vec<(u8, u8, u32)>),
    /// Authorise the balance due, then capture this many per mille of what is capturable.
    Capture(u16),
    /// Refund this many per mille of what is refundable (surplus first).
    Refund(u16),
    Cancel,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => prop::collection::vec((any::<u8>(), any::<u8>(), any::<u32>()), 1..4).prop_map(Step::Edit),
        3 => (1u16..=1000).prop_map(|m| Step::Capture(if m > 600 { 1000 } else { m })),
        2 => (1u16..=1000).prop_map(Step::Refund),
        1 => Just(Step::Cancel),
    ]
}

fn share(m: i64, per_mille: u16) -> i64 {
    (m * i64::from(per_mille) / 1000).max(1).min(m)
}

/// Per SKU (`shipping` for shipping): what the documents charge, amount and VAT.
fn charged(docs: &[TaxDocument], key: &str) -> (i64, i64) {
    docs.iter()
        .flat_map(|d| d.lines.iter().map(move |l| (d.kind.sign(), l)))
        .filter(|(_, l)| l.sku == key)
        .fold((0, 0), |(t, v), (sign, l)| {
            (t + sign * l.total.amount_minor(), v + sign * l.vat.amount_minor())
        })
}

/// Per part: its key and what the order retains of it, amount and VAT.
fn retained(o: &Order) -> Vec<(String, i64, i64)> {
    o.part_totals()
        .into_iter()
        .enumerate()
        .map(|(i, total)| {
            let refunded = o.progress.refunded[i];
            let (key, tax) = match o.lines.get(i) {
                Some(l) => (l.sku.as_str().to_owned(), l.tax.amount_minor()),
                None => ("shipping".to_owned(), o.shipping_tax.amount_minor()),
            };
            (key, total - refunded, tax - invoice::vat_share(tax, total, refunded))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_documents_charge_what_the_order_retains_part_by_part(
        inclusive in any::<bool>(),
        shipping in 0i64..3_000,
        prices in prop::collection::vec((1i64..100_000, any::<bool>()), 6),
        initial in prop::collection::btree_map(0usize..6, 1u32..4, 1..4),
        how in 0u8..6,
        steps in prop::collection::vec(step(), 1..10),
    ) {
        let mode = if inclusive { PriceMode::Inclusive } else { PriceMode::Exclusive };
        let shop = Shop::new(Currency::Aed, mode, shipping, &prices);
        let lines: Vec<(Sku, Quantity)> = initial.iter().map(|(i, q)| (sku(SKUS[*i]), qty(*q))).collect();
        let (mut o, mut log) = shop.place(PaymentMethod::Card, "AE", &lines);
        let seller = Seller { name: "Orderly".into(), vat_number: "300000000000003".into() };
        let mut docs: Vec<TaxDocument> = Vec::new();
        let issue = |o: &Order, events: &[OrderEvent], docs: &mut Vec<TaxDocument>| -> Result<(), TestCaseError> {
            for e in events {
                for draft in invoice::due(o, docs, &e.change) {
                    let number = format!("{:?}-{}", draft.kind, docs.len() + 1);
                    let doc = draft.issue(o, docs, &seller, number, OffsetDateTime::now_utc());
                    prop_assert!(doc.is_ok(), "issuing never fails: {:?}", doc);
                    docs.extend(doc.ok());
                }
            }
            Ok(())
        };
        let start = log.len();
        pay(&mut o, &mut log, how);
        issue(&o, &log[start..], &mut docs)?;
        for s in steps {
            let start = log.len();
            let command = match s {
                Step::Edit(ops) => shop.edit(ops.into_iter().map(op).collect()),
                Step::Capture(m) => {
                    let due = o.dues().balance_due;
                    if due > 0 && o.status.payment != PaymentStatus::Pending {
                        let authorize = Command::Authorize { amount_minor: due, provider_ref: "psp2".into() };
                        if run(&mut o, &mut log, authorize).is_ok() {
                            issue(&o, &log[start..], &mut docs)?;
                        }
                    }
                    Command::Capture { amount_minor: share(o.capturable().max(1), m) }
                }
                Step::Refund(m) => {
                    let refundable = o.progress.refundable_parts().iter().sum::<i64>() + o.progress.surplus();
                    Command::Refund { amount_minor: Some(share(refundable.max(1), m)), lines: vec![], reason: None }
                }
                Step::Cancel => Command::Cancel { reason: None },
            };
            let start = log.len();
            if run(&mut o, &mut log, command).is_err() {
                continue;
            }
            issue(&o, &log[start..], &mut docs)?;

            let (net, net_vat) = invoice::net(&docs);
            prop_assert!(net >= 0 && net_vat >= 0, "documents never charge less than nothing");
            let has_invoice = docs.iter().any(|d| d.kind == DocumentKind::Invoice);
            let paid_in_full = o.is_paid_in_full() && o.progress.paid.iter().sum::<i64>() > 0;
            if paid_in_full {
                prop_assert!(has_invoice, "an order paid in full has its invoice");
            }
            if !has_invoice {
                continue;
            }
            let parts = retained(&o);
            for (key, total, _) in &parts {
                let (c_total, _) = charged(&docs, key);
                prop_assert!(c_total <= *total, "{key}: charged {c_total}, retained {total}");
                if paid_in_full {
                    prop_assert_eq!(c_total, *total, "{} charged exactly what is retained", key);
                }
            }
            if paid_in_full {
                let vat: i64 = parts.iter().map(|(_, _, vat)| vat).sum();
                prop_assert_eq!(net_vat, vat, "the documents' VAT is the order's");
            }
            for d in &docs {
                for l in &d.lines {
                    if !parts.iter().any(|(key, _, _)| key == &l.sku) {
                        prop_assert_eq!(charged(&docs, &l.sku).0, 0, "{} left the order: all credited", &l.sku);
                    }
                }
            }
        }
    }
}
