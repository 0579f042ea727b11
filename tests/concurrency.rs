//! Concurrency on both backends: stock never oversells, and an Idempotency-Key creates one order however many
//! copies of the request race each other.

mod common;

use std::collections::{HashMap, HashSet};

use common::{TestApp, order_body};
use futures::future::join_all;
use serde_json::{Value, json};

async fn two_hundred_concurrent_orders_for_fifty_units_give_exactly_fifty_orders(app: TestApp) {
    app.stocked("HOT-1", 500, "KWD", 50).await;
    let customer = app.customer("rush");
    let body = order_body("KWD", "KW", &[("HOT-1", 1)]);
    let requests = (0..200).map(|i| {
        let (app, customer, body) = (&app, &customer, &body);
        async move {
            let r = app.create_order(customer, &format!("rush-{i}"), body).await;
            let status = r.status().as_u16();
            let v: Value = r.json().await.unwrap();
            (status, v)
        }
    });
    let results = join_all(requests).await;
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    let refused: Vec<_> = results.iter().filter(|(s, _)| *s == 409).collect();
    assert_eq!(created, 50, "{:?}", results.iter().map(|(s, _)| s).collect::<Vec<_>>());
    assert_eq!(refused.len(), 150);
    assert!(refused.iter().all(|(_, v)| v["code"] == "insufficient_stock"));
    assert_eq!(
        app.stock("HOT-1").await,
        json!({"sku": "HOT-1", "on_hand": 50, "reserved": 50, "available": 0})
    );
    assert_eq!(app.order_count().await, 50);
}

async fn each_key_sent_three_times_at_once_creates_exactly_one_order(app: TestApp) {
    app.stocked("OUD-1", 1235, "KWD", 1000).await;
    let customer = app.customer("retry");
    let body = order_body("KWD", "KW", &[("OUD-1", 2)]);
    let requests = (0..20).flat_map(|k| (0..3).map(move |_| k)).map(|k| {
        let (app, customer, body) = (&app, &customer, &body);
        async move {
            let r = app.create_order(customer, &format!("key-{k}"), body).await;
            let status = r.status().as_u16();
            let v: Value = r.json().await.unwrap();
            (k, status, v)
        }
    });
    let results = join_all(requests).await;
    let mut per_key: HashMap<i32, HashSet<String>> = HashMap::new();
    for (k, status, v) in &results {
        assert_eq!(*status, 201, "{v}");
        per_key
            .entry(*k)
            .or_default()
            .insert(v["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(per_key.len(), 20);
    assert!(per_key.values().all(|ids| ids.len() == 1), "{per_key:?}");
    assert_eq!(app.order_count().await, 20);
    assert_eq!(app.stock("OUD-1").await["reserved"], 40);
}

async fn concurrent_cancels_of_one_order_release_its_stock_once(app: TestApp) {
    app.stocked("OUD-1", 1235, "KWD", 10).await;
    let staff = app.staff();
    let order: Value = app
        .create_order(&staff, "o", &order_body("KWD", "KW", &[("OUD-1", 4)]))
        .await
        .json()
        .await
        .unwrap();
    let id = order["id"].as_str().unwrap();
    let attempts = (0..10).map(|i| {
        let (app, staff) = (&app, &staff);
        async move { app.cancel(staff, id, 1, &format!("cancel-{i}")).await.status().as_u16() }
    });
    let statuses = join_all(attempts).await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 412), "{statuses:?}");
    assert_eq!(app.stock("OUD-1").await["reserved"], 0);
}

on_both_backends_and_pgbouncer!(
    two_hundred_concurrent_orders_for_fifty_units_give_exactly_fifty_orders,
    each_key_sent_three_times_at_once_creates_exactly_one_order,
    concurrent_cancels_of_one_order_release_its_stock_once,
);
