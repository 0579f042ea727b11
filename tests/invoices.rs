//! Tax invoices and credit notes over HTTP, on SQLite and PostgreSQL (docs/invoices.md): an invoice issued once
//! when an order becomes paid in full (card capture or COD collection), credit notes on refunds that never pass
//! the invoice, the ZATCA phase-1 QR payload, the bilingual page, who may read what, and gap-free numbers under
//! 100 concurrent captures on PostgreSQL.

mod common;

use common::legacy::try_sql;

use base64::Engine;
use common::{Backend, TestApp, assert_problem, order_body};
use futures::future::join_all;
use serde_json::{Value, json};
use time::OffsetDateTime;

fn year() -> i32 {
    OffsetDateTime::now_utc().year()
}

fn inv(seq: u32) -> String {
    format!("INV-KW-{}-{seq:06}", year())
}

fn cn(seq: u32) -> String {
    format!("CN-KW-{}-{seq:06}", year())
}

fn minor(v: &Value) -> i64 {
    v["amount_minor"].as_i64().unwrap()
}

async fn get(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.api))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn documents(app: &TestApp, order: &Value) -> Value {
    let id = order["id"].as_str().unwrap();
    let response = get(app, &app.staff(), &format!("/v1/orders/{id}/invoices")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A card order of 2 × 20.00 SAR to Saudi Arabia (VAT 15%: 46.00 in all), placed by `token` and authorised.
async fn authorised_sa(app: &TestApp, token: &str) -> Value {
    let body = order_body("SAR", "SA", &[("DATES", 2)]);
    let response = app.create_order(token, &uuid::Uuid::new_v4().to_string(), &body).await;
    assert_eq!(response.status(), 201);
    let o: Value = response.json().await.unwrap();
    assert_eq!(minor(&o["totals"]["grand_total"]), 4600);
    app.step(
        &o,
        "payment/authorize",
        Some(json!({"amount_minor": 4600, "provider_ref": "psp-1"})),
    )
    .await
}

/// Parses base64 TLV records (1-byte tag, 1-byte length, UTF-8 value).
fn tlv(payload: &str) -> Vec<(u8, String)> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(payload).unwrap();
    let mut records = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let (tag, len) = (bytes[i], usize::from(bytes[i + 1]));
        let value = String::from_utf8(bytes[i + 2..i + 2 + len].to_vec()).unwrap();
        records.push((tag, value));
        i += 2 + len;
    }
    records
}

async fn an_invoice_is_issued_once_when_captures_reach_the_grand_total(app: TestApp) {
    app.stocked("DATES", 2000, "SAR", 50).await;
    let o = authorised_sa(&app, &app.staff()).await;
    let o = app
        .step(&o, "payment/capture", Some(json!({"amount_minor": 1000})))
        .await;
    let docs = documents(&app, &o).await;
    assert_eq!(
        docs,
        json!({"invoices": [], "credit_notes": []}),
        "a partial capture issues nothing"
    );

    let (id, version) = (o["id"].as_str().unwrap(), o["version"].as_i64().unwrap());
    let body = Some(json!({"amount_minor": 3600}));
    let first = app
        .command(&app.staff(), id, "payment/capture", version, "cap-2", body.clone())
        .await;
    assert_eq!(first.status(), 200);
    let replay = app
        .command(&app.staff(), id, "payment/capture", version, "cap-2", body)
        .await;
    assert_eq!(replay.status(), 200);
    let docs = documents(&app, &o).await;
    let invoices = docs["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 1, "{docs}");
    let invoice = &invoices[0];
    assert_eq!(invoice["number"], inv(1));
    assert_eq!(invoice["kind"], "invoice");
    assert_eq!(invoice["order_id"], o["id"]);
    assert_eq!(invoice["order_number"], o["number"]);
    assert_eq!(
        invoice["seller"],
        json!({"name": "Orderly Development Store", "vat_number": "300000000000003"})
    );
    assert_eq!(invoice["buyer"], json!({"name": "فاطمة الكندري", "country": "SA"}));
    assert_eq!(invoice["currency"], "SAR");
    assert_eq!(
        invoice["lines"],
        json!([{"sku": "DATES", "name_en": "Item DATES", "name_ar": "منتج", "quantity": 2,
                "unit_price": {"amount_minor": 2000, "currency": "SAR"}, "vat_rate_bp": 1500,
                "vat": {"amount_minor": 600, "currency": "SAR"}, "total": {"amount_minor": 4600, "currency": "SAR"}}])
    );
    assert_eq!(
        invoice["totals"],
        json!({"subtotal": {"amount_minor": 4000, "currency": "SAR"}, "vat": {"amount_minor": 600, "currency": "SAR"},
               "grand_total": {"amount_minor": 4600, "currency": "SAR"}})
    );
    assert_eq!(invoice["references"], Value::Null);

    // The document alone, by its number, is the same.
    let one = get(&app, &app.staff(), &format!("/v1/invoices/{}", inv(1))).await;
    assert_eq!(one.status(), 200);
    assert_eq!(&one.json::<Value>().await.unwrap(), invoice);

    // ZATCA phase 1: seller, VAT number, time of issue, total and VAT.
    let issued = OffsetDateTime::parse(
        invoice["issued_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let when = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        issued.year(),
        u8::from(issued.month()),
        issued.day(),
        issued.hour(),
        issued.minute(),
        issued.second()
    );
    assert_eq!(
        tlv(invoice["zatca_qr"].as_str().unwrap()),
        vec![
            (1, "Orderly Development Store".to_owned()),
            (2, "300000000000003".to_owned()),
            (3, when),
            (4, "46.00".to_owned()),
            (5, "6.00".to_owned()),
        ]
    );
}

async fn collecting_cod_cash_issues_the_invoice(app: TestApp) {
    app.stocked("OUD", 1235, "KWD", 10).await;
    let o = common::cod::collected(&app, "Aramex", "AWB-1").await;
    let docs = documents(&app, &o).await;
    let invoices = docs["invoices"].as_array().unwrap();
    assert_eq!(invoices.len(), 1, "{docs}");
    assert_eq!(invoices[0]["number"], inv(1));
    assert_eq!(minor(&invoices[0]["totals"]["grand_total"]), 1235);
    assert_eq!(invoices[0]["zatca_qr"], Value::Null, "only orders to SA carry the QR");
}

async fn credit_notes_on_partial_and_full_refunds_never_pass_the_invoice(app: TestApp) {
    app.stocked("DATES", 2000, "SAR", 50).await;
    let o = authorised_sa(&app, &app.staff()).await;
    let o = app
        .step(&o, "payment/capture", Some(json!({"amount_minor": 4600})))
        .await;
    let o = app
        .step(&o, "refunds", Some(json!({"lines": [{"sku": "DATES", "quantity": 1}]})))
        .await;
    let o = app.step(&o, "refunds", Some(json!({"amount_minor": 1001}))).await;
    let o = app.step(&o, "refunds", Some(json!({}))).await;
    assert_eq!(o["status"]["payment"], "refunded");
    let docs = documents(&app, &o).await;
    let notes = docs["credit_notes"].as_array().unwrap();
    assert_eq!(notes.len(), 3, "{docs}");
    let invoice = &docs["invoices"][0];
    for (i, note) in notes.iter().enumerate() {
        assert_eq!(note["number"], cn(i as u32 + 1));
        assert_eq!(note["kind"], "credit_note");
        assert_eq!(note["references"], invoice["number"]);
        let t = &note["totals"];
        assert_eq!(minor(&t["subtotal"]) + minor(&t["vat"]), minor(&t["grand_total"]));
        assert!(note["zatca_qr"].is_string());
    }
    // By units: one of two units is half the line, VAT included.
    assert_eq!(notes[0]["lines"][0]["quantity"], 1);
    assert_eq!(minor(&notes[0]["totals"]["grand_total"]), 2300);
    assert_eq!(minor(&notes[0]["totals"]["vat"]), 300);
    assert_eq!(minor(&notes[1]["totals"]["grand_total"]), 1001);
    let sum = |field: &str| -> i64 { notes.iter().map(|n| minor(&n["totals"][field])).sum() };
    assert_eq!(sum("grand_total"), minor(&invoice["totals"]["grand_total"]));
    assert_eq!(
        sum("vat"),
        minor(&invoice["totals"]["vat"]),
        "a full refund credits exactly the VAT"
    );
    // Nothing is left to refund, so nothing more can be credited.
    let (id, version) = (o["id"].as_str().unwrap(), o["version"].as_i64().unwrap());
    let more = app
        .command(
            &app.staff(),
            id,
            "refunds",
            version,
            "r-4",
            Some(json!({"amount_minor": 1})),
        )
        .await;
    assert!(more.status().is_client_error());
    assert_eq!(documents(&app, &o).await["credit_notes"].as_array().unwrap().len(), 3);
}

async fn the_page_is_bilingual_with_the_qr_as_an_image_and_no_script(app: TestApp) {
    app.stocked("DATES", 2000, "SAR", 50).await;
    let o = authorised_sa(&app, &app.staff()).await;
    app.step(&o, "payment/capture", Some(json!({"amount_minor": 4600})))
        .await;
    let page = get(&app, &app.staff(), &format!("/v1/invoices/{}.html", inv(1))).await;
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'none'"), "{csp}");
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<section lang="ar" dir="rtl">"#), "{html}");
    assert!(html.contains("فاتورة ضريبية") && html.contains("Tax invoice"));
    assert!(
        html.contains(r#"src="data:image/svg+xml;base64,"#),
        "the QR is an image"
    );
    assert!(!html.contains("<script"));
    assert!(html.contains(&inv(1)) && html.contains("46.00"));
}

async fn a_customer_reads_only_their_own_invoices(app: TestApp) {
    app.stocked("DATES", 2000, "SAR", 50).await;
    let alice = app.customer("alice");
    let o = authorised_sa(&app, &alice).await;
    app.step(&o, "payment/capture", Some(json!({"amount_minor": 4600})))
        .await;
    let id = o["id"].as_str().unwrap();
    assert_eq!(
        get(&app, &alice, &format!("/v1/invoices/{}", inv(1))).await.status(),
        200
    );
    assert_eq!(
        get(&app, &alice, &format!("/v1/orders/{id}/invoices")).await.status(),
        200
    );
    let bob = app.customer("bob");
    for path in [
        format!("/v1/invoices/{}", inv(1)),
        format!("/v1/invoices/{}.html", inv(1)),
    ] {
        assert_problem(get(&app, &bob, &path).await, 404, "invoice_not_found").await;
    }
    assert_problem(
        get(&app, &bob, &format!("/v1/orders/{id}/invoices")).await,
        404,
        "order_not_found",
    )
    .await;
    assert_problem(
        get(&app, &app.staff(), "/v1/invoices/INV-KW-1999-000001").await,
        404,
        "invoice_not_found",
    )
    .await;
}

async fn the_database_refuses_to_change_or_delete_a_document(app: TestApp) {
    app.stocked("DATES", 2000, "SAR", 50).await;
    let o = authorised_sa(&app, &app.staff()).await;
    app.step(&o, "payment/capture", Some(json!({"amount_minor": 4600})))
        .await;
    for statement in ["UPDATE tax_documents SET document = '{}'", "DELETE FROM tax_documents"] {
        let refused = try_sql(&app.db, statement).await.expect_err(statement);
        assert!(refused.contains("append-only"), "{statement}: {refused}");
    }
}

on_both_backends!(
    an_invoice_is_issued_once_when_captures_reach_the_grand_total,
    collecting_cod_cash_issues_the_invoice,
    credit_notes_on_partial_and_full_refunds_never_pass_the_invoice,
    the_page_is_bilingual_with_the_qr_as_an_image_and_no_script,
    a_customer_reads_only_their_own_invoices,
    the_database_refuses_to_change_or_delete_a_document,
);

/// 100 orders captured at once on PostgreSQL: invoice numbers 1 to 100, no gap, no duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_captures_on_postgres_number_invoices_without_gaps() {
    let Some(app) = TestApp::spawn_with(Backend::Postgres, |c| {
        c.rate_limit_staff_per_sec = 100_000;
        c.rate_limit_staff_burst = 100_000;
        c.db_max_connections = 20;
    })
    .await
    else {
        return;
    };
    app.stocked("DATES", 2000, "SAR", 1_000).await;
    let mut orders = Vec::new();
    for _ in 0..100 {
        orders.push(authorised_sa(&app, &app.staff()).await);
    }
    let captures = orders.iter().map(|o| {
        let (id, version) = (o["id"].as_str().unwrap().to_owned(), o["version"].as_i64().unwrap());
        let app = &app;
        async move {
            let key = uuid::Uuid::new_v4().to_string();
            let body = Some(json!({"amount_minor": 4600}));
            app.command(&app.staff(), &id, "payment/capture", version, &key, body)
                .await
                .status()
        }
    });
    for status in join_all(captures).await {
        assert_eq!(status, 200);
    }
    let mut numbers = Vec::new();
    for o in &orders {
        let docs = documents(&app, o).await;
        let invoices = docs["invoices"].as_array().unwrap();
        assert_eq!(invoices.len(), 1);
        numbers.push(invoices[0]["number"].as_str().unwrap().to_owned());
    }
    numbers.sort();
    let expected: Vec<String> = (1..=100).map(inv).collect();
    assert_eq!(numbers, expected);
}
