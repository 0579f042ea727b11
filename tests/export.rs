//! `GET /v1/orders/export.csv`: a CSV finance opens in Excel (UTF-8 with a BOM, RFC 4180), one row per line, every
//! amount exact, the list's filters and `q`; and it streams: bounded by what the client reads, stopped when the
//! client leaves.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Backend, TestApp, assert_problem};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn export(app: &TestApp, query: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .get(format!("{}/v1/orders/export.csv", app.api))
        .bearer_auth(app.staff())
        .query(query)
        .send()
        .await
        .unwrap()
}

/// The CSV as Python's `csv` module reads it (the BOM left to `utf-8-sig`): a list of rows.
fn python_rows(csv: &[u8]) -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("orders.csv");
    std::fs::write(&file, csv).unwrap();
    let script = "import csv, json, sys\n\
                  with open(sys.argv[1], newline='', encoding='utf-8-sig') as f:\n    \
                  print(json.dumps(list(csv.reader(f))))";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Minor units from the CSV's decimal text, exactly (the text must have the currency's digits).
fn minor(text: &str, exponent: usize) -> i64 {
    let (units, fraction) = text.split_once('.').unwrap_or((text, ""));
    assert_eq!(fraction.len(), exponent, "{text} has not {exponent} decimals");
    let sign = if units.starts_with('-') { -1 } else { 1 };
    let units: i64 = units.trim_start_matches('-').parse().unwrap();
    let fraction: i64 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().unwrap()
    };
    sign * (units * 10i64.pow(exponent as u32) + fraction)
}

async fn the_export_is_excel_ready_csv_whose_amounts_round_trip_exactly(app: TestApp) {
    app.stocked("OUD-1", 1_235, "KWD", 1_000).await;
    app.stocked("BKH-2", 20_005, "KWD", 1_000).await;
    let staff = app.staff();
    let mut placed = Vec::new();
    for (i, name) in ["فاطمة الكندري", "Al \"Reem\", Tower 2", "Ali\u{0640}"]
        .iter()
        .enumerate()
    {
        let body = json!({
            "customer_id": format!("c-{i}"),
            "currency": "KWD",
            "ship_to": {"name": name, "line1": "Block 3", "city": "Salmiya", "country": if i == 1 { "AE" } else { "KW" },
                        "phone": "+96550000000"},
            "lines": [{"sku": "OUD-1", "quantity": 3}, {"sku": "BKH-2", "quantity": 1 + i}],
            "payment_method": "card",
        });
        let created = app.create_order(&staff, &format!("k-{i}"), &body).await;
        assert_eq!(created.status(), 201);
        placed.push(created.json::<Value>().await.unwrap());
    }
    let response = export(&app, &[]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment; filename=\"orders-") && disposition.ends_with(".csv\""));
    let bytes = response.bytes().await.unwrap();
    assert!(
        bytes.starts_with("\u{FEFF}number,created_at,".as_bytes()),
        "a BOM, then the header"
    );
    let rows = python_rows(&bytes);
    assert_eq!(rows[0], orderly::http::export::COLUMNS.map(str::to_owned).to_vec());
    assert_eq!(rows.len(), 1 + 6, "one row per line");
    let col = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    // Newest first, so the rows come in the reverse of the order they were placed.
    for (i, order) in placed.iter().rev().enumerate() {
        for (j, line) in order["lines"].as_array().unwrap().iter().enumerate() {
            let row = &rows[1 + i * 2 + j];
            assert_eq!(row[col("number")], order["number"].as_str().unwrap());
            assert_eq!(row[col("ship_to_name")], order["ship_to"]["name"].as_str().unwrap());
            assert_eq!(row[col("sku")], line["sku"].as_str().unwrap());
            assert_eq!(row[col("quantity")], line["quantity"].to_string());
            for (column, value) in [
                ("unit_price", &line["unit_price"]),
                ("line_tax", &line["tax"]),
                ("line_total", &line["total"]),
                ("order_subtotal", &order["totals"]["subtotal"]),
                ("order_tax", &order["totals"]["tax"]),
                ("order_shipping", &order["totals"]["shipping"]),
                ("order_grand_total", &order["totals"]["grand_total"]),
            ] {
                assert_eq!(
                    minor(&row[col(column)], 3),
                    value["amount_minor"].as_i64().unwrap(),
                    "{column}"
                );
            }
        }
    }
}

async fn the_export_takes_the_lists_filters_and_q_and_is_for_staff(app: TestApp) {
    app.stocked("OUD-1", 1_235, "KWD", 1_000).await;
    let staff = app.staff();
    for (i, name) in ["أحمد الكعبي", "Sara"].iter().enumerate() {
        let body = json!({
            "customer_id": format!("c-{i}"),
            "currency": "KWD",
            "ship_to": {"name": name, "line1": "Block 3", "city": "Salmiya", "country": "KW", "phone": "+96550000000"},
            "lines": [{"sku": "OUD-1", "quantity": 1}],
            "payment_method": "cod",
        });
        assert_eq!(app.create_order(&staff, &format!("k-{i}"), &body).await.status(), 201);
    }
    let rows = python_rows(&export(&app, &[("q", "احمد")]).await.bytes().await.unwrap());
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][3], "أحمد الكعبي");
    let rows = python_rows(&export(&app, &[("customer_id", "c-1")]).await.bytes().await.unwrap());
    assert_eq!((rows.len(), rows[1][3].as_str()), (2, "Sara"));
    assert_problem(export(&app, &[("q", "!")]).await, 422, "validation_failed").await;
    assert_problem(export(&app, &[("limit", "5")]).await, 422, "validation_failed").await;
    let customer = app
        .client
        .get(format!("{}/v1/orders/export.csv", app.api))
        .bearer_auth(app.customer("c-1"))
        .send()
        .await
        .unwrap();
    assert_problem(customer, 403, "insufficient_scope").await;
}

on_both_backends!(
    the_export_is_excel_ready_csv_whose_amounts_round_trip_exactly,
    the_export_takes_the_lists_filters_and_q_and_is_for_staff,
);

/// 40,000 orders of three lines (80 pages of the export), written directly.
const SEED: &str = "
    INSERT INTO products (sku, name_en, name_ar, tax_class, active)
      SELECT 'S-' || s, 'Oud ' || s, 'عود', 'standard', true FROM generate_series(1, 3) s;
    CREATE TEMP TABLE g AS SELECT i, gen_random_uuid() AS id, now() - make_interval(secs => i) AS at
      FROM generate_series(1, 40000) i;
    INSERT INTO orders (id, number, store, customer_id, currency, payment_method, order_status, payment_status,
        fulfilment_status, ship_to, vat_rate_bp, subtotal_minor, tax_minor, shipping_minor, shipping_tax_minor,
        grand_total_minor, version, created_at, updated_at, progress, search_tokens)
      SELECT id, 'KW-' || lpad(i::text, 9, '0'), 'KW', 'c-' || i, 'KWD', 'cod', 'open', 'cod_pending', 'unfulfilled',
        '{\"name\":\"سارة\",\"line1\":\"Block 2\",\"city\":\"Kuwait City\",\"country\":\"KW\",\"phone\":\"+96551111111\"}',
        0, 3705, 0, 0, 0, 3705, 1, at, at,
        '{\"paid\":[0,0,0,0],\"lines\":[{\"shipped\":0,\"returned\":0,\"refunded_units\":0},{\"shipped\":0,\"returned\":0,\"refunded_units\":0},{\"shipped\":0,\"returned\":0,\"refunded_units\":0}],\"refunds\":[],\"returns\":[],\"refunded\":[0,0,0,0],\"shipments\":[],\"courier_ref\":null,\"provider_ref\":null,\"authorized_minor\":0}',
        '{n:س,n:سا,n:سار,n:ساره}'
      FROM g;
    INSERT INTO order_lines (order_id, line_no, sku, name_en, name_ar, quantity, unit_price_minor, tax_class,
        subtotal_minor, tax_minor, total_minor)
      SELECT id, n, 'S-' || n, 'Oud ' || n, 'عود', 1, 1235, 'standard', 1235, 0, 1235 FROM g, generate_series(1, 3) n;
    ANALYZE;";

/// How many pages of orders the service has read (its storage metric for `list_orders`).
async fn pages_read(app: &TestApp) -> f64 {
    let metrics = app.metrics().await;
    metrics
        .lines()
        .find(|l| l.starts_with("orderly_db_query_duration_seconds_count") && l.contains("operation=\"list_orders\""))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_streams_as_fast_as_its_client_reads_and_stops_when_it_leaves() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let url = {
        use secrecy::ExposeSecret;
        app.db.config.database_url.as_ref().unwrap().expose_secret().to_owned()
    };
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.unwrap();
    sqlx::raw_sql(SEED).execute(&mut conn).await.unwrap();

    // A client that reads the first bytes and then nothing: the service reads a few pages ahead, not 60.
    let mut stream = tokio::net::TcpStream::connect(app.api.trim_start_matches("http://"))
        .await
        .unwrap();
    let head = format!(
        "GET /v1/orders/export.csv HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
        app.staff()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut first = vec![0u8; 16 * 1024];
    let n = stream.read(&mut first).await.unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));
    // What it reads ahead fills the two pages of its channel and the sockets' buffers (the kernel's, several MB on
    // loopback), then it waits.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stalled = pages_read(&app).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let later = pages_read(&app).await;
    assert!(
        later - stalled <= 3.0,
        "kept reading for a client that reads nothing: {stalled} -> {later}"
    );
    assert!(later < 40.0, "read {later} of 80 pages ahead of a stalled client");

    // The client leaves: no page is read after that.
    drop(stream);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let left = pages_read(&app).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(pages_read(&app).await, left, "pages read after the client left");
    assert!(left < 45.0, "{left} of 80 pages read for a client that left");

    // A client that reads everything gets every line.
    let all = export(&app, &[]).await.bytes().await.unwrap();
    let lines = all.iter().filter(|b| **b == b'\n').count();
    assert_eq!(lines, 1 + 40_000 * 3);
}
