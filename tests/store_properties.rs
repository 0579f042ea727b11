//! Property tests through the real stores (SQLite and PostgreSQL): random sequences of valid and invalid
//! commands on several orders never break stock or money. After every step, for every SKU, reserved equals the
//! unshipped quantity of orders that are not cancelled, and on hand equals the initial count minus what shipped
//! plus what was restocked. Edits (re-counting a line, or taking it off and adding it back at today's price) are
//! among the commands, so the stores' rewriting of lines, totals and stock is held to the same invariants and to
//! replay.

mod common;

use std::collections::HashMap;

use common::{Backend, fresh_store};
use orderly::domain::Money;
use orderly::domain::catalog::Product;
use orderly::domain::currency::Currency;
use orderly::domain::events::SkuQuantity;
use orderly::domain::invoice::Seller;
use orderly::domain::order::{Command, Edit, EditOperation, NewOrder, Order, PaymentMethod, ShipTo};
use orderly::domain::pricing::PricingPolicy;
use orderly::domain::status::OrderStatus;
use orderly::domain::tax::TaxClass;
use orderly::domain::values::{CountryCode, Quantity, Sku, StoreCode};
use orderly::store::{Actor, Executed, IdempotencyKey, PlaceOrder, Store, StoredResponse, UpdateOrder};
use proptest::prelude::*;
use time::OffsetDateTime;

const SKUS: [&str; 3] = ["A", "B", "C"];
const ON_HAND: i64 = 50;

fn sq(sku: &str, q: u32) -> SkuQuantity {
    SkuQuantity {
        sku: Sku::parse(sku).unwrap(),
        quantity: Quantity::parse(i64::from(q), 1000).unwrap(),
    }
}

fn key(n: usize) -> IdempotencyKey {
    IdempotencyKey {
        principal: "prop".into(),
        key: format!("k{n}"),
        fingerprint: format!("f{n}"),
        ttl: time::Duration::hours(1),
    }
}

fn render(_: &Order) -> StoredResponse {
    StoredResponse {
        status: 200,
        headers: vec![],
        body: vec![],
    }
}

fn command(o: &Order, (kind, a, b): (u8, u32, u32)) -> Command {
    let sku = SKUS[a as usize % SKUS.len()];
    let total = o.totals.grand_total.amount_minor();
    match kind % 12 {
        0 => Command::Cancel { reason: None },
        1 => Command::Authorize {
            amount_minor: total,
            provider_ref: "p".into(),
        },
        2 => Command::Capture { amount_minor: total },
        3 => Command::Ship {
            lines: vec![sq(sku, b % 3 + 1)],
            carrier: "c".into(),
            tracking_number: "t".into(),
        },
        4 | 5 => match o.progress.shipments.get(a as usize % o.progress.shipments.len().max(1)) {
            Some(s) => Command::Deliver { shipment_id: s.id },
            None => Command::Void,
        },
        6 => Command::RequestReturn {
            lines: vec![sq(sku, b % 2 + 1)],
            reason: None,
        },
        7 => match o.progress.returns.first() {
            Some(r) => Command::ReceiveReturn {
                return_id: r.id,
                restock: b % 2 == 0,
            },
            None => Command::RefuseCod { reason: None },
        },
        8 => Command::CollectCod {
            amount_minor: total,
            courier_ref: "d".into(),
        },
        9 => Command::Refund {
            amount_minor: Some(i64::from(a % 4000) + 1),
            lines: vec![],
            reason: None,
        },
        kind => {
            let (sku, quantity) = (
                Sku::parse(sku).unwrap(),
                Quantity::parse(i64::from(b % 6 + 1), 9).unwrap(),
            );
            let operations = if kind % 12 == 10 {
                vec![EditOperation::SetQuantity { sku, quantity }]
            } else {
                vec![
                    EditOperation::RemoveLine { sku: sku.clone() },
                    EditOperation::AddLine { sku, quantity },
                ]
            };
            Command::Edit(Box::new(Edit {
                operations,
                catalog: Vec::new(),
                policy: PricingPolicy::default(),
                max_lines: 100,
            }))
        }
    }
}

async fn check_invariants(store: &dyn Store, ids: &[uuid::Uuid], restocked: &HashMap<String, i64>) {
    let mut unshipped: HashMap<String, i64> = HashMap::new();
    let mut shipped: HashMap<String, i64> = HashMap::new();
    for id in ids {
        let o = store.get_order(*id).await.unwrap().unwrap();
        let p = &o.progress;
        assert!(p.captured() - p.refunded_total() >= 0);
        for ((paid, refunded), part) in p.paid.iter().zip(&p.refunded).zip(o.part_totals()) {
            assert!(0 <= *refunded && refunded <= paid && *paid <= part);
        }
        for (line, lp) in o.lines.iter().zip(&p.lines) {
            let left = i64::from(line.quantity.get() - lp.shipped);
            if o.status.order != OrderStatus::Cancelled {
                *unshipped.entry(line.sku.as_str().to_owned()).or_default() += left;
            }
            *shipped.entry(line.sku.as_str().to_owned()).or_default() += i64::from(lp.shipped);
        }
    }
    for sku in SKUS {
        let level = store.get_stock(&Sku::parse(sku).unwrap()).await.unwrap().unwrap();
        assert!(level.on_hand >= 0 && level.reserved >= 0, "{sku}: {level:?}");
        assert_eq!(
            level.reserved,
            unshipped.get(sku).copied().unwrap_or(0),
            "{sku}: reserved = unshipped of open orders"
        );
        let expected = ON_HAND - shipped.get(sku).copied().unwrap_or(0) + restocked.get(sku).copied().unwrap_or(0);
        assert_eq!(level.on_hand, expected, "{sku}: on hand");
    }
}

async fn run_case(backend: Backend, cod: Vec<bool>, picks: Vec<Pick>) {
    let Some((store, _db)) = fresh_store(backend).await else {
        return;
    };
    let store = store.as_ref();
    for sku in SKUS {
        let product = Product {
            sku: Sku::parse(sku).unwrap(),
            name_en: "Item".into(),
            name_ar: "سلعة".into(),
            prices: vec![Money::new(1235, Currency::Kwd)],
            tax_class: TaxClass::Standard,
            active: true,
        };
        store.put_product(&product, &Actor::system("test")).await.unwrap();
        store
            .set_stock(&product.sku, ON_HAND, &Actor::system("test"))
            .await
            .unwrap();
    }
    let mut ids = Vec::new();
    for (n, is_cod) in cod.iter().enumerate() {
        let request = NewOrder {
            customer_id: None,
            currency: Currency::Kwd,
            ship_to: ShipTo {
                name: "Huda".into(),
                line1: Some("Block 5".into()),
                line2: None,
                city: "Fahaheel".into(),
                country: CountryCode::parse("KW").unwrap(),
                phone: Some("+96566666666".into()),
            },
            lines: SKUS
                .iter()
                .map(|s| (Sku::parse(s).unwrap(), Quantity::parse(3, 9).unwrap()))
                .collect(),
            payment_method: if *is_cod {
                PaymentMethod::Cod
            } else {
                PaymentMethod::Card
            },
        };
        let placed = store
            .place_order(PlaceOrder {
                idempotency: &key(1000 + n),
                request,
                store: &StoreCode::parse("KW").unwrap(),
                policy: &PricingPolicy::default(),
                actor: "prop",
                render: &render,
                refuse: &|e| StoredResponse {
                    status: 409,
                    headers: Vec::new(),
                    body: e.to_string().into_bytes(),
                },
                max_open_unpaid: 0,
            })
            .await
            .unwrap();
        let Executed::Fresh(order, ..) = placed else {
            panic!("fresh")
        };
        ids.push(order.id);
    }
    let mut restocked: HashMap<String, i64> = HashMap::new();
    for (step, (which, kind, a, b)) in picks.into_iter().enumerate() {
        let id = ids[which as usize % ids.len()];
        let current = store.get_order(id).await.unwrap().unwrap();
        let cmd = command(&current, (kind, a, b));
        let returned = match &cmd {
            Command::ReceiveReturn {
                return_id,
                restock: true,
            } => current
                .progress
                .returns
                .iter()
                .find(|r| r.id == *return_id && r.received_at.is_none())
                .map(|r| r.lines.clone()),
            _ => None,
        };
        // An edit prices what it adds from the catalog rows the store reads in its transaction.
        let catalog = match &cmd {
            Command::Edit(edit) => edit.added_skus(),
            _ => Vec::new(),
        };
        let apply = |o: &mut Order, products: &[Product]| {
            let mut cmd = cmd.clone();
            if let Command::Edit(edit) = &mut cmd {
                edit.catalog = products.to_vec();
            }
            o.execute(cmd, "prop", OffsetDateTime::now_utc())
        };
        let result = store
            .update_order(UpdateOrder {
                idempotency: &key(step),
                order_id: id,
                expected_version: current.version,
                owner: None,
                seller: Some(&Seller {
                    name: "Property Store".into(),
                    vat_number: "300000000000003".into(),
                }),
                catalog: &catalog,
                apply: &apply,
                render: &render,
                refuse: &|e| StoredResponse {
                    status: 409,
                    headers: Vec::new(),
                    body: e.to_string().into_bytes(),
                },
            })
            .await;
        if result.is_ok() {
            for l in returned.unwrap_or_default() {
                *restocked.entry(l.sku.as_str().to_owned()).or_default() += l.quantity.as_i64();
            }
        }
        check_invariants(store, &ids, &restocked).await;
    }
    for id in &ids {
        let events = store.order_events(*id).await.unwrap();
        assert_eq!(
            Order::replay(&events).unwrap(),
            store.get_order(*id).await.unwrap().unwrap()
        );
    }
}

/// A step: which order, which command, and two numbers the command draws its details from.
type Pick = (u8, u8, u32, u32);

fn strategy() -> impl Strategy<Value = (Vec<bool>, Vec<Pick>)> {
    (
        prop::collection::vec(any::<bool>(), 1..4),
        prop::collection::vec((any::<u8>(), any::<u8>(), any::<u32>(), any::<u32>()), 1..40),
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_random_commands_keep_stock_and_money_consistent((cod, picks) in strategy()) {
        runtime().block_on(run_case(Backend::Sqlite, cod, picks));
    }

    #[test]
    fn postgres_random_commands_keep_stock_and_money_consistent((cod, picks) in strategy()) {
        runtime().block_on(run_case(Backend::Postgres, cod, picks));
    }
}
