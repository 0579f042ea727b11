//! The audit trail: catalog and stock writes leave audit rows (actor, request id, before, after) readable through
//! `GET /v1/audit` with `audit:read`; `orderly verify` passes on an intact database and names the link after one
//! event's payload is altered, one event is deleted (in the middle and the newest), or one audit row is altered;
//! on PostgreSQL a member of `orderly_app` runs the service but can neither rewrite nor delete events or audit rows.

mod common;

use common::legacy::{generate, import, orderly, scalar, sql, temp};
use common::{Backend, TestApp, assert_problem, fresh_db, order_body};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

async fn audit(app: &TestApp, query: &str) -> reqwest::Response {
    app.client
        .get(format!("{}/v1/audit{query}", app.api))
        .bearer_auth(app.token("auditor-1", "audit:read"))
        .send()
        .await
        .unwrap()
}

async fn audit_items(app: &TestApp, query: &str) -> Value {
    let response = audit(app, query).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// PUTs `body` to `path` as staff `ops-1` with the request id `request_id`; returns the id the server answered.
async fn staff_put(app: &TestApp, path: &str, body: Value, request_id: &str) -> String {
    let response = app
        .client
        .put(format!("{}{path}", app.api))
        .bearer_auth(app.staff())
        .header("x-request-id", request_id)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.headers()["x-request-id"].to_str().unwrap().to_owned()
}

fn product(price: i64) -> Value {
    json!({"name_en": "Oud", "name_ar": "عود", "prices": [{"amount_minor": price, "currency": "KWD"}]})
}

async fn catalog_and_stock_writes_leave_audit_rows(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let created = staff_put(&app, "/v1/products/OUD-1", product(12_500), "req-create").await;
    let repriced = staff_put(&app, "/v1/products/OUD-1", product(0), "req-price-zero").await;
    let counted = staff_put(&app, "/v1/stock/OUD-1", json!({"on_hand": 7}), "req-count").await;
    let recounted = staff_put(&app, "/v1/stock/OUD-1", json!({"on_hand": 3}), "req-recount").await;
    assert_eq!(
        repriced, "req-price-zero",
        "the request id a client sends is the one recorded"
    );

    let page = audit_items(&app, "").await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{page}");
    let summary: Vec<(&str, &str, &str, &str)> = items
        .iter()
        .map(|i| {
            (
                i["entity_type"].as_str().unwrap(),
                i["action"].as_str().unwrap(),
                i["actor"].as_str().unwrap(),
                i["request_id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("stock", "set", "ops-1", recounted.as_str()),
            ("stock", "set", "ops-1", counted.as_str()),
            ("product", "updated", "ops-1", repriced.as_str()),
            ("product", "created", "ops-1", created.as_str()),
        ],
        "newest first"
    );
    let price = &items[2];
    assert_eq!(price["entity_id"], "OUD-1");
    assert_eq!(price["before"]["prices"][0]["amount_minor"], 12_500);
    assert_eq!(price["after"]["prices"][0]["amount_minor"], 0);
    assert_eq!(price["after"]["name_ar"], "عود");
    assert!(items[3]["before"].is_null(), "a created product had no before");
    assert_eq!(items[0]["before"], json!({"on_hand": 7, "reserved": 0}));
    assert_eq!(items[0]["after"], json!({"on_hand": 3, "reserved": 0}));
    assert!(items[1]["before"].is_null(), "the first count had no stock row before");
    assert_eq!(items[0]["prev_hash"], items[1]["hash"], "one chain");
    assert!(items[0]["at"].is_string());

    let products = audit_items(&app, "?entity=product:OUD-1").await;
    assert_eq!(products["items"].as_array().unwrap().len(), 2);
    assert!(
        products["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["entity_type"] == "product")
    );
    assert_eq!(
        audit_items(&app, "?entity=stock").await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(audit_items(&app, "?entity=stock:OTHER").await["items"], json!([]));
    assert_eq!(audit_items(&app, "?to=2000-01-01T00:00:00Z").await["items"], json!([]));
    assert_eq!(
        audit_items(&app, "?from=2000-01-01T00:00:00Z").await["items"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // Pages of one, newest first, until the cursor runs out.
    let mut seen = Vec::new();
    let mut query = "?limit=1".to_owned();
    loop {
        let page = audit_items(&app, &query).await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["seq"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => query = format!("?limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, vec![4, 3, 2, 1]);

    // Staff who may write the catalog may not read its audit log.
    let forbidden = app
        .client
        .get(format!("{}/v1/audit", app.api))
        .bearer_auth(app.staff())
        .send()
        .await
        .unwrap();
    assert_problem(forbidden, 403, "insufficient_scope").await;
    assert_problem(audit(&app, "?entity=order:X").await, 422, "validation_failed").await;
    assert_problem(audit(&app, "?entity=stock:bad%20sku").await, 422, "validation_failed").await;
    assert_problem(audit(&app, "?from=yesterday").await, 422, "validation_failed").await;
    assert_problem(audit(&app, "?cursor=x").await, 422, "validation_failed").await;
}

/// `orderly verify` on `db`: its exit status and its output.
fn verify(db: &common::TestDb) -> (i32, String) {
    let out = orderly(db, &["verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code().unwrap_or(-1), stdout)
}

fn summary_line(stdout: &str) -> &str {
    stdout.lines().find(|l| l.starts_with("VERIFY ")).unwrap_or("")
}

/// Places a card order for `sku` and takes it through `steps` (authorise, capture, ship) as staff.
async fn order_through(app: &TestApp, sku: &str, steps: usize) -> Value {
    let key = uuid::Uuid::new_v4().to_string();
    let response = app
        .create_order(&app.customer("c-1"), &key, &order_body("KWD", "KW", &[(sku, 1)]))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let mut o: Value = response.json().await.unwrap();
    let total = o["totals"]["grand_total"]["amount_minor"].as_i64().unwrap();
    let all = [
        (
            "payment/authorize",
            json!({"amount_minor": total, "provider_ref": "tap_1"}),
        ),
        ("payment/capture", json!({"amount_minor": total})),
        (
            "shipments",
            json!({"lines": [{"sku": sku, "quantity": 1}], "carrier": "Aramex", "tracking_number": "AX1"}),
        ),
    ];
    for (action, body) in all.into_iter().take(steps) {
        o = app.step(&o, action, Some(body)).await;
    }
    o
}

async fn verify_passes_when_intact_and_names_each_broken_link(backend: Backend) {
    let Some(db) = fresh_db(backend).await else { return };
    let root = tempfile::tempdir().unwrap();
    let (base, newer) = (temp("base", &root), temp("newer", &root));
    generate(&base, &["--seed", "3", "--orders", "40"]);
    generate(&newer, &["--seed", "3", "--orders", "40", "--newer"]);
    import(&db, &base, &root.path().join("r1"), &[]);
    // The newer export syncs orders: their `order.legacy_synced` events chain onto the imported ones.
    let synced = import(&db, &newer, &root.path().join("r2"), &[]);
    assert!(synced["orders"]["updated"].as_i64().unwrap() > 0, "{synced}");
    let imported_audit = scalar(
        &db,
        "SELECT count(*) FROM audit_log WHERE actor = 'system:legacy-import'",
    )
    .await;
    assert!(imported_audit > 0, "the import's catalog and stock writes are audited");

    let app = TestApp::serve(db).await;
    app.stocked("OUD", 1235, "KWD", 50).await;
    let a = order_through(&app, "OUD", 3).await;
    let b = order_through(&app, "OUD", 3).await;
    let c = order_through(&app, "OUD", 2).await;
    let db = &app.db;

    let (code, stdout) = verify(db);
    assert_eq!(code, 0, "{stdout}");
    let orders = scalar(db, "SELECT count(*) FROM orders").await;
    let events = scalar(db, "SELECT count(*) FROM order_events").await;
    let rows = scalar(db, "SELECT count(*) FROM audit_log").await;
    assert!(
        summary_line(&stdout).starts_with(&format!(
            "VERIFY orders={orders} events={events} audit_rows={rows} broken=0"
        )),
        "{stdout}"
    );

    // (a) One event's payload, altered in SQL.
    let a_id = a["id"].as_str().unwrap();
    sql(
        db,
        &format!("UPDATE order_events SET data = '{{\"amount_minor\":1,\"provider_ref\":\"x\"}}' WHERE order_id = '{a_id}' AND sequence = 2"),
    )
    .await;
    let (code, stdout) = verify(db);
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stdout.contains(&format!("BROKEN order={a_id} event=2: content does not match its hash")),
        "{stdout}"
    );
    assert!(summary_line(&stdout).contains("broken=1"), "{stdout}");

    // (b) One event deleted in the middle of a chain, and the newest of another.
    let b_id = b["id"].as_str().unwrap();
    assert_eq!(
        sql(
            db,
            &format!("DELETE FROM order_events WHERE order_id = '{b_id}' AND sequence = 2")
        )
        .await,
        1
    );
    let c_id = c["id"].as_str().unwrap();
    let newest = c["version"].as_i64().unwrap();
    assert_eq!(
        sql(
            db,
            &format!("DELETE FROM order_events WHERE order_id = '{c_id}' AND sequence = {newest}")
        )
        .await,
        1
    );
    let (code, stdout) = verify(db);
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stdout.contains(&format!("BROKEN order={b_id} event=2: missing")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "BROKEN order={c_id} event={newest}: missing (the order is at version {newest})"
        )),
        "{stdout}"
    );
    assert!(summary_line(&stdout).contains("broken=3"), "{stdout}");

    // (c) One audit row altered: a stock count made larger after the fact.
    sql(
        db,
        "UPDATE audit_log SET after = '{\"on_hand\":999,\"reserved\":0}' WHERE seq = 2",
    )
    .await;
    let (code, stdout) = verify(db);
    assert_eq!(code, 3, "{stdout}");
    assert!(
        stdout.contains("BROKEN audit_row=2: content does not match its hash"),
        "{stdout}"
    );
    assert!(summary_line(&stdout).contains("broken=4"), "{stdout}");
}

/// Events from before migration 0004 have no hashes; `orderly migrate` seals them, in order, and `verify` passes.
async fn migrate_seals_events_written_before_the_chain(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    app.stocked("OUD", 1235, "KWD", 50).await;
    let a = order_through(&app, "OUD", 3).await;
    order_through(&app, "OUD", 1).await;
    let db = &app.db;
    // As the rows stood before 0004 (on PostgreSQL the NOT VALID constraint must step aside for that).
    if backend == Backend::Postgres {
        sql(db, "ALTER TABLE order_events DROP CONSTRAINT order_events_hashed").await;
    }
    sql(db, "UPDATE order_events SET prev_hash = NULL, hash = NULL").await;
    if backend == Backend::Postgres {
        sql(
            db,
            "ALTER TABLE order_events ADD CONSTRAINT order_events_hashed \
             CHECK (prev_hash IS NOT NULL AND hash IS NOT NULL) NOT VALID",
        )
        .await;
    }
    let (code, stdout) = verify(db);
    assert_eq!(code, 3, "{stdout}");
    let a_id = a["id"].as_str().unwrap();
    assert!(
        stdout.contains(&format!("BROKEN order={a_id} event=1: not sealed")),
        "{stdout}"
    );

    common::legacy::ok(&orderly(db, &["migrate"]));
    let (code, stdout) = verify(db);
    assert_eq!(code, 0, "{stdout}");
    let events = scalar(db, "SELECT count(*) FROM order_events").await;
    assert!(
        summary_line(&stdout).contains(&format!("events={events} audit_rows=2 broken=0")),
        "{stdout}"
    );
    // Sealed as the service would have chained them: the next command chains on.
    let deliver = format!("shipments/{}/deliver", a["shipments"][0]["id"].as_str().unwrap());
    let a = app.step(&a, &deliver, None).await;
    assert_eq!(a["status"]["fulfilment"], "delivered");
    let (code, stdout) = verify(db);
    assert_eq!(code, 0, "{stdout}");
}

on_each_backend!(
    catalog_and_stock_writes_leave_audit_rows,
    verify_passes_when_intact_and_names_each_broken_link,
    migrate_seals_events_written_before_the_chain
);

/// The code of the database error `statement` fails with when run as `role` on `db`; `None` when it succeeds.
async fn as_role(url: &str, statement: &str) -> Option<String> {
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await.unwrap();
    match sqlx::query(statement).execute(&mut conn).await {
        Ok(_) => None,
        Err(sqlx::Error::Database(d)) => d.code().map(|c| c.into_owned()),
        Err(e) => panic!("{statement}: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_of_orderly_app_runs_the_service_but_cannot_rewrite_history() {
    let Some(mut db) = fresh_db(Backend::Postgres).await else {
        return;
    };
    // The owner migrates; the service then runs as a login role that is only a member of orderly_app.
    orderly::server::open_store(&db.config, true).await.unwrap();
    let owner_url = db.config.database_url.as_ref().unwrap().expose_secret().to_owned();
    let role = format!("orderly_svc_{}", uuid::Uuid::new_v4().simple());
    sql(&db, &format!("CREATE ROLE {role} LOGIN IN ROLE orderly_app")).await;
    let app_url = owner_url.replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    assert_ne!(app_url, owner_url);
    db.config.database_url = Some(SecretString::from(app_url.clone()));
    db.config.migrate_on_start = Some(false);
    let app = TestApp::serve(db).await;
    app.stocked("OUD", 1235, "KWD", 5).await;
    let o = order_through(&app, "OUD", 2).await;
    let id = o["id"].as_str().unwrap();

    let refused = Some("42501".to_owned());
    for statement in [
        format!("UPDATE order_events SET data = '{{}}' WHERE order_id = '{id}'"),
        format!("UPDATE order_events SET hash = repeat('0', 64) WHERE order_id = '{id}'"),
        format!("DELETE FROM order_events WHERE order_id = '{id}'"),
        "UPDATE audit_log SET actor = 'someone-else'".to_owned(),
        "DELETE FROM audit_log".to_owned(),
        "TRUNCATE order_events, audit_log".to_owned(),
    ] {
        assert_eq!(as_role(&app_url, &statement).await, refused, "{statement}");
    }
    // What the service itself needs stays allowed: the outbox marks events published, stock and orders change.
    assert_eq!(
        as_role(
            &app_url,
            &format!("UPDATE order_events SET published_at = now() WHERE order_id = '{id}'")
        )
        .await,
        None
    );
    assert_eq!(as_role(&app_url, "UPDATE stock SET on_hand = on_hand + 1").await, None);
    let (code, stdout) = verify(&app.db);
    assert_eq!(code, 0, "{stdout}");
}
