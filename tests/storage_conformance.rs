//! ONE storage conformance suite, run against SQLite and PostgreSQL: both adapters must behave identically
//! behind the `Store` port.

mod common;

use std::sync::Arc;

use common::{Backend, fresh_store};
use orderly::domain::Money;
use orderly::domain::catalog::Product;
use orderly::domain::currency::Currency;
use orderly::domain::order::{Command, NewOrder, Order, OrderError, PaymentMethod, ShipTo};
use orderly::domain::pricing::{PricingError, PricingPolicy};
use orderly::domain::stock::{StockError, StockLevel};
use orderly::domain::tax::TaxClass;
use orderly::domain::values::{CountryCode, CustomerId, Quantity, Sku, StoreCode};
use orderly::store::{
    Actor, Executed, IdempotencyKey, OrderQuery, PlaceOrder, Store, StoreError, StoredResponse, UpdateOrder,
};
use time::OffsetDateTime;

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn product(code: &str, kwd: i64) -> Product {
    Product {
        sku: sku(code),
        name_en: "Ajwa dates 1 kg".into(),
        name_ar: "تمر عجوة ١ كغ".into(),
        prices: vec![Money::new(kwd, Currency::Kwd), Money::new(kwd * 12, Currency::Aed)],
        tax_class: TaxClass::Standard,
        active: true,
    }
}

fn key(k: &str, fingerprint: &str) -> IdempotencyKey {
    IdempotencyKey {
        principal: "tester".into(),
        key: k.into(),
        fingerprint: fingerprint.into(),
        ttl: time::Duration::hours(24),
    }
}

fn request(customer: &str, lines: &[(&str, i64)]) -> NewOrder {
    NewOrder {
        customer_id: Some(CustomerId::parse(customer).unwrap()),
        currency: Currency::Kwd,
        ship_to: ShipTo {
            name: "سالم".into(),
            line1: Some("Block 1".into()),
            line2: None,
            city: "Hawalli".into(),
            country: CountryCode::parse("KW").unwrap(),
            phone: Some("+96560000000".into()),
        },
        lines: lines
            .iter()
            .map(|(s, q)| (sku(s), Quantity::parse(*q, 1000).unwrap()))
            .collect(),
        payment_method: PaymentMethod::Card,
    }
}

fn render(o: &Order) -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![("etag".into(), format!("\"{}\"", o.version))],
        body: o.id.as_bytes().to_vec(),
    }
}

/// A refusal as the key's response: its message, so a replay can be told from the original.
fn refuse(e: StoreError) -> StoredResponse {
    StoredResponse {
        status: 409,
        headers: Vec::new(),
        body: e.to_string().into_bytes(),
    }
}

async fn place(store: &dyn Store, k: &IdempotencyKey, req: NewOrder) -> Result<Executed, StoreError> {
    store
        .place_order(PlaceOrder {
            idempotency: k,
            request: req,
            store: &StoreCode::parse("KW").unwrap(),
            policy: &PricingPolicy::default(),
            actor: "tester",
            render: &render,
            refuse: &refuse,
            max_open_unpaid: 0,
        })
        .await
}

async fn place_ok(store: &dyn Store, k: &str, req: NewOrder) -> Order {
    match place(store, &key(k, k), req).await.unwrap() {
        Executed::Fresh(order, _, _) => *order,
        Executed::Replayed(_) => panic!("expected a fresh order"),
    }
}

async fn cancel(
    store: &dyn Store,
    k: &str,
    order: &Order,
    version: i64,
    owner: Option<&CustomerId>,
) -> Result<Executed, StoreError> {
    let apply =
        |o: &mut Order, _: &[Product]| o.execute(Command::Cancel { reason: None }, "tester", OffsetDateTime::now_utc());
    store
        .update_order(UpdateOrder {
            idempotency: &key(k, k),
            order_id: order.id,
            expected_version: version,
            owner,
            seller: None,
            catalog: &[],
            apply: &apply,
            render: &render,
            refuse: &refuse,
        })
        .await
}

async fn stocked(store: &dyn Store, code: &str, on_hand: i64) {
    store
        .put_product(&product(code, 1235), &Actor::system("test"))
        .await
        .unwrap();
    store
        .set_stock(&sku(code), on_hand, &Actor::system("test"))
        .await
        .unwrap();
}

async fn level(store: &dyn Store, code: &str) -> StockLevel {
    store.get_stock(&sku(code)).await.unwrap().unwrap()
}

async fn products_round_trip_with_arabic_names_and_every_price(store: Arc<dyn Store>) {
    let p = product("DATES", 2500);
    assert!(
        store.put_product(&p, &Actor::system("test")).await.unwrap(),
        "first put creates"
    );
    let mut back = store.get_product(&sku("DATES")).await.unwrap().unwrap();
    back.prices.sort_by_key(|m| m.currency());
    let mut expected = p.clone();
    expected.prices.sort_by_key(|m| m.currency());
    assert_eq!(back, expected);
    let changed = Product {
        active: false,
        prices: vec![Money::new(3000, Currency::Kwd)],
        ..p
    };
    assert!(
        !store.put_product(&changed, &Actor::system("test")).await.unwrap(),
        "second put replaces"
    );
    assert_eq!(store.get_product(&sku("DATES")).await.unwrap().unwrap(), changed);
    assert!(store.get_product(&sku("NONE")).await.unwrap().is_none());
}

async fn stock_is_set_only_for_known_products_and_never_below_reserved(store: Arc<dyn Store>) {
    assert!(matches!(
        store.set_stock(&sku("GHOST"), 5, &Actor::system("test")).await,
        Err(StoreError::NotFound(orderly::store::Missing::Product))
    ));
    stocked(&*store, "OUD", 5).await;
    place_ok(&*store, "o1", request("c1", &[("OUD", 3)])).await;
    assert_eq!(
        level(&*store, "OUD").await,
        StockLevel {
            on_hand: 5,
            reserved: 3
        }
    );
    let below = store.set_stock(&sku("OUD"), 2, &Actor::system("test")).await;
    assert!(matches!(
        below,
        Err(StoreError::Stock {
            source: StockError::BelowReserved { .. },
            ..
        })
    ));
    assert_eq!(
        store.set_stock(&sku("OUD"), 3, &Actor::system("test")).await.unwrap(),
        StockLevel {
            on_hand: 3,
            reserved: 3
        }
    );
}

async fn a_placed_order_reads_back_exactly(store: Arc<dyn Store>) {
    stocked(&*store, "OUD", 10).await;
    stocked(&*store, "MUSK", 10).await;
    let placed = place_ok(&*store, "o1", request("c1", &[("OUD", 2), ("MUSK", 1)])).await;
    assert_eq!(placed.version, 1);
    assert_eq!(placed.number, "KW-000000001");
    assert_eq!(store.get_order(placed.id).await.unwrap().unwrap(), placed);
    let second = place_ok(&*store, "o2", request("c1", &[("OUD", 1)])).await;
    assert_eq!(second.number, "KW-000000002");
}

async fn reservation_is_all_lines_or_none(store: Arc<dyn Store>) {
    stocked(&*store, "A", 5).await;
    stocked(&*store, "B", 1).await;
    let err = place(&*store, &key("k", "k"), request("c1", &[("A", 2), ("B", 2)]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Stock { ref sku, source: StockError::Insufficient { available: 1, requested: 2 } } if sku.as_str() == "B")
    );
    assert_eq!(level(&*store, "A").await.reserved, 0);
    assert_eq!(level(&*store, "B").await.reserved, 0);
    let page = store
        .list_orders(&OrderQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(page.orders.is_empty());
    // The refusal is the key's outcome: a retry gets it back even once the stock is there, and changes nothing;
    // a new key places the order.
    store.set_stock(&sku("B"), 2, &Actor::system("test")).await.unwrap();
    match place(&*store, &key("k", "k"), request("c1", &[("A", 2), ("B", 2)])).await {
        Ok(Executed::Replayed(response)) => assert_eq!(response, refuse(err)),
        other => panic!("expected the stored refusal, got {other:?}"),
    }
    assert_eq!(level(&*store, "B").await.reserved, 0);
    assert!(matches!(
        place(&*store, &key("k2", "k2"), request("c1", &[("A", 2), ("B", 2)])).await,
        Ok(Executed::Fresh(..))
    ));
}

async fn refused_commands_replay_their_refusal_under_the_key(store: Arc<dyn Store>) {
    stocked(&*store, "A", 5).await;
    let order = place_ok(&*store, "o", request("alice", &[("A", 1)])).await;
    // A version conflict is a race, not an outcome: the retry with the same key and the version re-read runs.
    let stale = cancel(&*store, "c1", &order, 7, None).await;
    assert!(matches!(stale, Err(StoreError::VersionConflict { .. })));
    let Ok(Executed::Fresh(cancelled, ..)) = cancel(&*store, "c1", &order, 1, None).await else {
        panic!("the retry after a version conflict runs")
    };
    // Cancelling again is refused by the status machine, and that refusal is the key's outcome.
    let refused = cancel(&*store, "c2", &cancelled, 2, None).await.unwrap_err();
    assert!(matches!(refused, StoreError::Order(OrderError::InvalidTransition(_))));
    match cancel(&*store, "c2", &cancelled, 2, None).await {
        Ok(Executed::Replayed(response)) => assert_eq!(response, refuse(refused)),
        other => panic!("expected the stored refusal, got {other:?}"),
    }
    // The same key with another request is still a reuse.
    assert!(matches!(
        place(&*store, &key("c2", "other"), request("alice", &[("A", 1)])).await,
        Err(StoreError::IdempotencyKeyReused)
    ));
    assert_eq!(store.get_order(order.id).await.unwrap().unwrap().version, 2);
}

async fn unknown_skus_fail_pricing_before_any_stock_moves(store: Arc<dyn Store>) {
    stocked(&*store, "A", 5).await;
    let err = place(&*store, &key("k", "k"), request("c1", &[("A", 1), ("NOPE", 1)]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Pricing(PricingError::UnknownSku(_))));
    assert_eq!(level(&*store, "A").await.reserved, 0);
}

async fn a_product_without_stock_has_nothing_available(store: Arc<dyn Store>) {
    store
        .put_product(&product("NEW", 100), &Actor::system("test"))
        .await
        .unwrap();
    let err = place(&*store, &key("k", "k"), request("c1", &[("NEW", 1)]))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        StoreError::Stock {
            source: StockError::Insufficient { available: 0, .. },
            ..
        }
    ));
}

async fn a_key_replays_its_stored_response_and_refuses_another_request(store: Arc<dyn Store>) {
    stocked(&*store, "A", 5).await;
    let first = match place(&*store, &key("k1", "print-a"), request("c1", &[("A", 1)]))
        .await
        .unwrap()
    {
        Executed::Fresh(order, response, _) => (order, response),
        other => panic!("{other:?}"),
    };
    match place(&*store, &key("k1", "print-a"), request("c1", &[("A", 1)]))
        .await
        .unwrap()
    {
        Executed::Replayed(response) => assert_eq!(response, first.1),
        other => panic!("{other:?}"),
    }
    let reused = place(&*store, &key("k1", "print-b"), request("c1", &[("A", 1)])).await;
    assert!(matches!(reused, Err(StoreError::IdempotencyKeyReused)));
    assert_eq!(level(&*store, "A").await.reserved, 1);
}

async fn an_expired_key_can_be_used_again(store: Arc<dyn Store>) {
    stocked(&*store, "A", 5).await;
    let short = IdempotencyKey {
        ttl: time::Duration::ZERO,
        ..key("k1", "print-a")
    };
    assert!(matches!(
        place(&*store, &short, request("c1", &[("A", 1)])).await,
        Ok(Executed::Fresh(..))
    ));
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let other_request = IdempotencyKey {
        ttl: time::Duration::ZERO,
        ..key("k1", "print-b")
    };
    assert!(matches!(
        place(&*store, &other_request, request("c1", &[("A", 1)])).await,
        Ok(Executed::Fresh(..))
    ));
    assert_eq!(level(&*store, "A").await.reserved, 2);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(store.purge_expired_keys(OffsetDateTime::now_utc()).await.unwrap(), 1);
}

async fn cancelling_checks_owner_then_version_then_transition(store: Arc<dyn Store>) {
    stocked(&*store, "A", 5).await;
    let order = place_ok(&*store, "o", request("alice", &[("A", 3)])).await;
    let mallory = CustomerId::parse("mallory").unwrap();
    assert!(matches!(
        cancel(&*store, "x1", &order, 1, Some(&mallory)).await,
        Err(StoreError::NotFound(orderly::store::Missing::Order))
    ));
    assert!(matches!(
        cancel(&*store, "x2", &order, 5, None).await,
        Err(StoreError::VersionConflict {
            expected: 5,
            current: 1
        })
    ));
    let alice = CustomerId::parse("alice").unwrap();
    let Executed::Fresh(cancelled, _, moves) = cancel(&*store, "x3", &order, 1, Some(&alice)).await.unwrap() else {
        panic!("expected fresh")
    };
    assert_eq!(cancelled.version, 2);
    assert_eq!(moves.len(), 1);
    assert_eq!(
        level(&*store, "A").await,
        StockLevel {
            on_hand: 5,
            reserved: 0
        }
    );
    assert!(matches!(
        cancel(&*store, "x4", &cancelled, 2, None).await,
        Err(StoreError::Order(OrderError::InvalidTransition(_)))
    ));
    assert_eq!(store.get_order(order.id).await.unwrap().unwrap(), *cancelled);
}

async fn every_change_appends_one_event_numbered_without_gaps(store: Arc<dyn Store>) {
    stocked(&*store, "A", 5).await;
    let order = place_ok(&*store, "o", request("alice", &[("A", 1)])).await;
    cancel(&*store, "c", &order, 1, None).await.unwrap();
    let events = store.order_events(order.id).await.unwrap();
    let sequences: Vec<i64> = events.iter().map(|e| e.sequence).collect();
    assert_eq!(sequences, vec![1, 2]);
    assert_eq!(events[0].kind(), "order.placed");
    assert_eq!(events[1].kind(), "order.cancelled");
    assert!(events.iter().all(|e| e.order_id == order.id && e.actor == "tester"));
}

async fn listing_filters_and_pages_newest_first(store: Arc<dyn Store>) {
    stocked(&*store, "A", 50).await;
    let mut placed = Vec::new();
    for i in 0..5 {
        let who = if i < 3 { "alice" } else { "bob" };
        placed.push(place_ok(&*store, &format!("o{i}"), request(who, &[("A", 1)])).await);
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_orders(&OrderQuery {
                limit: 2,
                after,
                ..Default::default()
            })
            .await
            .unwrap();
        seen.extend(page.orders.iter().map(|o| o.id));
        match page.next {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    let expected: Vec<_> = placed.iter().rev().map(|o| o.id).collect();
    assert_eq!(seen, expected);
    let alice = store
        .list_orders(&OrderQuery {
            limit: 10,
            customer_id: Some(CustomerId::parse("alice").unwrap()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(alice.orders.len(), 3);
    assert!(alice.next.is_none());
    assert_eq!(alice.orders[0].lines.len(), 1, "lines come with listed orders");
    let by_number = store
        .list_orders(&OrderQuery {
            limit: 10,
            number: Some(placed[1].number.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        by_number.orders.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![placed[1].id]
    );
}

async fn readiness_checks_answer(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
    assert!(store.schema_is_current().await.unwrap());
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (store, _db) = super::fresh_store(super::Backend::Sqlite).await.expect("sqlite");
                super::$name(store).await;
            } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some((store, _db)) = super::fresh_store(super::Backend::Postgres).await {
                    super::$name(store).await;
                }
            } )*
        }
    };
}

conformance!(
    products_round_trip_with_arabic_names_and_every_price,
    stock_is_set_only_for_known_products_and_never_below_reserved,
    a_placed_order_reads_back_exactly,
    reservation_is_all_lines_or_none,
    refused_commands_replay_their_refusal_under_the_key,
    unknown_skus_fail_pricing_before_any_stock_moves,
    a_product_without_stock_has_nothing_available,
    a_key_replays_its_stored_response_and_refuses_another_request,
    an_expired_key_can_be_used_again,
    cancelling_checks_owner_then_version_then_transition,
    every_change_appends_one_event_numbered_without_gaps,
    listing_filters_and_pages_newest_first,
    readiness_checks_answer,
);
