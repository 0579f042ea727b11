//! Upgrading a PostgreSQL database from the first search design (migration 0006: a folded name column under a
//! trigram index) to tokens (migration 0007, ADR 0013): the orders written before it become searchable again by
//! name, phone and number once the service has migrated, without being written by hand.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

/// One order as the service wrote it at migration 0006: keys in `search_name` and `search_phone`.
const AT_0006: &str = "
    INSERT INTO orders (id, number, store, customer_id, currency, payment_method, order_status, payment_status,
        fulfilment_status, ship_to, vat_rate_bp, subtotal_minor, tax_minor, shipping_minor, shipping_tax_minor,
        grand_total_minor, version, created_at, updated_at, progress, search_name, search_phone)
    VALUES ('0190f5a0-0000-7000-8000-000000000001', 'KW-000004321', 'KW', 'c-old', 'KWD', 'cod', 'open',
        'cod_pending', 'unfulfilled',
        '{\"name\":\"فاطمة الكندري\",\"line1\":\"Block 2\",\"city\":\"Kuwait City\",\"country\":\"KW\",\"phone\":\"+96551234567\"}',
        0, 1235, 0, 0, 0, 1235, 1, now(), now(),
        '{\"paid\":[0,0,0,0],\"lines\":[{\"shipped\":0,\"returned\":0,\"refunded_units\":0}],\"refunds\":[],\"returns\":[],\"refunded\":[0,0,0,0],\"shipments\":[],\"courier_ref\":null,\"provider_ref\":null,\"authorized_minor\":0}',
        ' فاطمه الكندري', '51234567');
    INSERT INTO order_lines (order_id, line_no, sku, name_en, name_ar, quantity, unit_price_minor, tax_class,
        subtotal_minor, tax_minor, total_minor)
    VALUES ('0190f5a0-0000-7000-8000-000000000001', 1, 'OUD', 'Oud', 'عود', 1, 1235, 'standard', 1235, 0, 1235);";

async fn numbers_found(app: &TestApp, q: &str) -> Vec<String> {
    let body: Value = app
        .client
        .get(format!("{}/v1/orders", app.api))
        .query(&[("q", q)])
        .bearer_auth(app.staff())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no orders in {body}"))
        .iter()
        .map(|o| o["number"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_keyed_by_the_trigram_design_are_found_after_the_upgrade_to_tokens() {
    let Some(db) = fresh_db(Backend::Postgres).await else {
        return;
    };
    let url = {
        use secrecy::ExposeSecret;
        db.config.database_url.as_ref().unwrap().expose_secret().to_owned()
    };
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let mut migrator =
        sqlx::migrate::Migrator::new(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres")))
            .await
            .unwrap();
    let upto_0006: Vec<_> = migrator.migrations.iter().filter(|m| m.version <= 6).cloned().collect();
    assert_eq!(upto_0006.len(), 6, "migrations 0001 to 0006");
    migrator.migrations = upto_0006.into();
    migrator.run(&mut conn).await.unwrap();
    sqlx::raw_sql(AT_0006).execute(&mut conn).await.unwrap();

    // The service migrates on start: 0007 replaces the keys and the fill computes the tokens of the old order.
    let app = TestApp::serve(db).await;
    let unfilled: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE search_tokens IS NULL")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(unfilled, 0);
    let old = vec!["KW-000004321".to_owned()];
    assert_eq!(numbers_found(&app, "فاطمه").await, old, "name, folded");
    assert_eq!(
        numbers_found(&app, "fatma").await,
        Vec::<String>::new(),
        "no transliteration"
    );
    assert_eq!(numbers_found(&app, "فاطمة الكن").await, old, "word prefixes");
    assert_eq!(
        numbers_found(&app, "٥١٢٣٤٥٦٧").await,
        old,
        "phone in Arabic-Indic digits"
    );
    assert_eq!(numbers_found(&app, "0004321").await, old, "number fragment");
    let trigram_column: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'search_name'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(trigram_column, 0, "migration 0007 drops the trigram column");
}
