//! The generic plans of the request path's statements (the adapter's sessions run with
//! `plan_cache_mode = force_generic_plan`): none may scan a table that grows with the business. The planner cannot
//! see array lengths or LIMIT values in a generic plan, and twice a statement that looked fine was planned as a
//! hash join over a whole table (bench/RESULTS.md). Runs against ORDERLY_TEST_DATABASE_URL; skipped without it
//! unless CI is set.

use sqlx::{Connection, Execute, Executor, PgConnection};

use super::create::{INSERT_PLACED, LOAD_FOR_PLACING};
use super::uow::{APPEND_EVENT, LOCK_ORDER, WRITE_STOCK};
use super::{GET_ORDER, OrderCursor, OrderQuery, list_query};
use crate::domain::search::SearchQuery;
use crate::domain::status::OrderStatus;
use crate::domain::values::CustomerId;

/// Catalog, stock and order volumes at which a sequential scan costs more than an index lookup.
const LOAD: &str = "
    INSERT INTO products (sku, name_en, name_ar, tax_class, active)
      SELECT g::text, 'P ' || g, 'م ' || g, 'standard', true FROM generate_series(1000, 2999) g;
    INSERT INTO product_prices (sku, currency, amount_minor) SELECT sku, 'KWD', 1000 FROM products;
    INSERT INTO stock (sku, on_hand, reserved) SELECT sku, 1000, 0 FROM products;
    INSERT INTO orders (id, number, store, customer_id, currency, payment_method, order_status, payment_status,
        fulfilment_status, ship_to, vat_rate_bp, subtotal_minor, tax_minor, shipping_minor, shipping_tax_minor,
        grand_total_minor, version, created_at, updated_at, progress, search_tokens, search_phone)
      SELECT gen_random_uuid(), 'KW-' || g, 'KW', 'c-' || (g % 3000), 'KWD', 'card',
        (ARRAY['open', 'confirmed', 'completed'])[1 + g % 3], 'pending', 'unfulfilled', '{}', 0, 3000, 0, 0, 0,
        3000, 1, now() - g * interval '1 minute', now(), '{}',
        ARRAY['n:' || (ARRAY['احمد', 'فاطمه', 'محمد', 'sara', 'ali'])[1 + g % 5], 'n:name' || g,
              '#:' || right('kw-' || g, 4)],
        (50000000 + g)::text
      FROM generate_series(1, 30000) g;
    INSERT INTO order_lines (order_id, line_no, sku, name_en, name_ar, quantity, unit_price_minor, tax_class,
        subtotal_minor, tax_minor, total_minor)
      SELECT o.id, n, (1000 + n * 500)::text, 'P', 'م', 1, 1000, 'standard', 1000, 0, 1000
      FROM orders o, generate_series(1, 3) n;
    INSERT INTO order_events (id, order_id, sequence, type, data, actor, occurred_at, published_at, prev_hash, hash)
      SELECT gen_random_uuid(), id, 1, 'order.placed', '{}', 'ops', created_at, now(), repeat('0', 64),
        md5(id::text) || md5(id::text) FROM orders;
    INSERT INTO idempotency_keys (principal, key, fingerprint, created_at, expires_at)
      SELECT 'ops', g::text, 'f', now(), now() + interval '1 day' FROM generate_series(1, 30000) g;
    ANALYZE;";

/// The tables whose size grows with orders or the catalog.
const GROWING: [&str; 6] = [
    "orders",
    "order_lines",
    "stock",
    "products",
    "idempotency_keys",
    "order_events",
];

/// The plan of `sql` prepared as `name`: under a forced generic plan it does not depend on the (NULL) values.
async fn generic_plan(conn: &mut PgConnection, name: &str, sql: &str) -> String {
    let params = (1..=64).filter(|n| sql.contains(&format!("${n}"))).count();
    conn.execute(format!("PREPARE {name} AS {sql}").as_str())
        .await
        .unwrap_or_else(|e| panic!("prepare {sql}: {e}"));
    let args = vec!["NULL"; params].join(", ");
    let lines: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN EXECUTE {name}({args})"))
        .fetch_all(&mut *conn)
        .await
        .expect("explain");
    lines.join("\n")
}

/// A fresh database with the schema and `LOAD`, dropped again by `drop_loaded`; `None` without a test cluster.
async fn loaded_database() -> Option<(PgConnection, PgConnection, String)> {
    let Ok(admin) = std::env::var("ORDERLY_TEST_DATABASE_URL") else {
        assert!(std::env::var_os("CI").is_none(), "CI needs ORDERLY_TEST_DATABASE_URL");
        return None;
    };
    let name = format!("orderly_plans_{}", uuid::Uuid::new_v4().simple());
    let mut server = PgConnection::connect(&admin).await.expect("connect");
    server
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create database");
    let url = format!("{}/{name}", admin.rsplit_once('/').expect("url ends in /<database>").0);
    let mut conn = PgConnection::connect(&url).await.expect("connect to the new database");
    super::MIGRATOR.run(&mut conn).await.expect("migrate");
    conn.execute(LOAD).await.expect("load");
    Some((server, conn, name))
}

async fn drop_loaded(mut server: PgConnection, conn: PgConnection, name: &str) {
    drop(conn);
    server
        .execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str())
        .await
        .expect("drop database");
}

/// Whether `plan` scans one of the growing tables from end to end.
fn full_scans(plan: &str) -> bool {
    GROWING.iter().any(|table| {
        plan.contains(&format!("Seq Scan on {table} ")) || plan.contains(&format!("Seq Scan on {table}\n"))
    })
}

#[tokio::test]
async fn request_path_statements_have_generic_plans_without_full_scans() {
    let Some((server, mut conn, name)) = loaded_database().await else {
        return;
    };
    conn.execute("SET plan_cache_mode = force_generic_plan")
        .await
        .expect("set");

    let customer = CustomerId::parse("c-7").expect("customer id");
    let base = OrderQuery {
        limit: 20,
        ..OrderQuery::default()
    };
    let lists = [
        OrderQuery {
            customer_id: Some(customer.clone()),
            ..base.clone()
        },
        OrderQuery {
            status: Some(OrderStatus::Open),
            ..base.clone()
        },
        OrderQuery {
            number: Some("KW-17".into()),
            ..base.clone()
        },
        OrderQuery {
            created_from: Some(time::OffsetDateTime::now_utc()),
            ..base.clone()
        },
        OrderQuery {
            customer_id: Some(customer),
            after: Some(OrderCursor {
                created_at: time::OffsetDateTime::now_utc(),
                id: uuid::Uuid::nil(),
            }),
            ..base.clone()
        },
        base,
    ];
    let mut statements: Vec<String> = vec![
        GET_ORDER.clone(),
        LOCK_ORDER.clone(),
        WRITE_STOCK.into(),
        LOAD_FOR_PLACING.clone(),
        super::unpaid::EXPIRABLE_ORDERS.clone(),
        INSERT_PLACED.into(),
        APPEND_EVENT.into(),
        super::pg_rows::LIST_PRODUCTS.into(),
    ];
    statements.extend(lists.iter().map(|q| list_query(q).sql().to_owned()));

    let mut found = Vec::new();
    for (i, sql) in statements.iter().enumerate() {
        let plan = generic_plan(&mut conn, &format!("plan_{i}"), sql).await;
        if full_scans(&plan) {
            found.push(format!("{sql}\n{plan}"));
        }
    }
    drop_loaded(server, conn, &name).await;
    assert!(
        found.is_empty(),
        "sequential scans in generic plans:\n\n{}",
        found.join("\n\n")
    );
}

/// Searches run with custom plans (`sessions`): for each kind of selective query, with its values, the plan reads
/// the orders through the index made for it; for a common one, the newest first through `orders_by_created` until
/// a page is full. None needs to scan the table.
#[tokio::test]
async fn search_statements_read_orders_through_their_indexes() {
    let Some((server, mut conn, name)) = loaded_database().await else {
        return;
    };
    // Custom plans, as searches run; and sequential scans priced out, so that the plan shows whether the statement
    // can be answered from its indexes at all (at this test's 30,000 orders a scan may simply be cheaper; at scale
    // the planner picks the indexes by itself: bench/RESULTS.md, "bench-scale").
    conn.execute("SET plan_cache_mode = force_custom_plan")
        .await
        .expect("set");
    conn.execute("SET enable_seqscan = off").await.expect("set");
    let search = |q: &str| OrderQuery {
        limit: 20,
        search: Some(SearchQuery::parse(q).expect("query")),
        ..OrderQuery::default()
    };
    let cases = [
        (search("أحمد name1234"), "orders_search_tokens"),
        // A fifth of the orders match: reading the newest in order and stopping after a page is cheaper still.
        (search("Sara"), "orders_by_created"),
        (search("+965 5001 2345"), "orders_search_phone"),
        (search("KW-2345"), "orders_search_tokens"),
        (search("C-7"), "orders_customer_folded"),
        (
            OrderQuery {
                status: Some(OrderStatus::Open),
                created_from: Some(time::OffsetDateTime::now_utc() - time::Duration::days(30)),
                after: Some(OrderCursor {
                    created_at: time::OffsetDateTime::now_utc(),
                    id: uuid::Uuid::nil(),
                }),
                ..search("فاطمة name99")
            },
            // Which of the two is cheaper depends on how many match within the filters: either reads no more
            // than it must, and neither scans the table.
            "orders_search_tokens|orders_by_created",
        ),
    ];
    let mut wrong = Vec::new();
    for (q, index) in &cases {
        let mut builder = list_query(q);
        let mut built = builder.build();
        let sql = format!("EXPLAIN {}", built.sql());
        let args = built.take_arguments().expect("arguments").expect("bound values");
        let plan: Vec<String> = sqlx::query_scalar_with(&sql, args)
            .fetch_all(&mut conn)
            .await
            .expect("explain");
        let plan = plan.join("\n");
        if full_scans(&plan) || !index.split('|').any(|i| plan.contains(i)) {
            wrong.push(format!("{:?}: expected {index}\n{plan}", q.search));
        }
    }
    drop_loaded(server, conn, &name).await;
    assert!(wrong.is_empty(), "search plans:\n\n{}", wrong.join("\n\n"));
}
