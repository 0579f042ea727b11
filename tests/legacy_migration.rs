//! The legacy migration, end to end on both backends: exports from the independent generator (with every fault of
//! the contract) imported by the `orderly` binary, the report checked against what the generator expected, the
//! orders read back through the API, reruns, a newer export, a SIGKILL mid-import, reconciliation, and the
//! export back.

mod common;

use std::time::{Duration, Instant};

use common::legacy::{
    assert_order_matches, assert_report_matches, csv_rows, generate, import, ok, orderly, orderly_command, orderly_ids,
    read_report, scalar, staff_get, temp,
};
use common::{Backend, TestApp, TestDb, fresh_db};
use serde_json::Value;

on_each_backend!(
    an_import_reports_exactly_what_the_generator_made,
    reruns_change_nothing_and_newer_exports_sync,
    a_killed_import_resumes_to_the_same_end,
    a_sync_never_overwrites_an_order_that_moved_meanwhile,
);

async fn an_import_reports_exactly_what_the_generator_made(backend: Backend) {
    let Some(db) = fresh_db(backend).await else { return };
    let root = tempfile::tempdir().unwrap();
    let export = temp("export", &root);
    let expected = generate(&export, &["--seed", "1"]);
    let dir = root.path().join("report");

    // A dry run writes the report of what the store would hold, and nothing to the store.
    let dry = import(&db, &export, &dir, &["--dry-run"]);
    assert_report_matches(&dry, &expected, &dir);
    assert_eq!(dry["orders"]["created"], expected["orders"]["accepted"]);
    assert_eq!(
        scalar(&db, "SELECT count(*) FROM orders").await,
        0,
        "a dry run writes nothing"
    );

    let report = import(&db, &export, &dir, &[]);
    assert_report_matches(&report, &expected, &dir);
    assert_eq!(report["orders"]["created"], expected["orders"]["accepted"]);
    assert_eq!(report["orders"]["updated"], 0);
    let mut said = dry.clone();
    said["dry_run"] = Value::Bool(false);
    assert_eq!(report, said, "the dry run said exactly what the import did");

    let ids = orderly_ids(&dir);
    let app = TestApp::serve(db).await;
    for (legacy_id, want) in expected["orders_detail"].as_object().unwrap() {
        let id = &ids[&legacy_id.parse::<i64>().unwrap()];
        let view = staff_get(&app, &format!("/v1/orders/{id}")).await;
        assert_order_matches(&view, want);
        let events = staff_get(&app, &format!("/v1/orders/{id}/events")).await;
        let first = &events["items"][0];
        assert_eq!(first["type"], "order.imported");
        assert_eq!(first["data"]["legacy"]["order_id"], legacy_id.parse::<i64>().unwrap());
        assert_eq!(first["data"]["checksum"], expected["checksums"][legacy_id]);
    }
    // Windows-1256 Arabic came through intact: some accepted customer names are Arabic.
    let arabic = expected["orders_detail"]
        .as_object()
        .unwrap()
        .values()
        .filter(|o| {
            o["legacy"]["customer_name"]
                .as_str()
                .unwrap()
                .chars()
                .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
        })
        .count();
    assert!(arabic > 0, "the generator made Arabic names");
    for (sku, level) in expected["stock"].as_object().unwrap() {
        let stock = staff_get(&app, &format!("/v1/stock/{sku}")).await;
        assert_eq!(stock["on_hand"], level["on_hand"], "{sku}");
        assert_eq!(stock["reserved"], level["reserved"], "{sku}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_utf8_export_with_arabic_indic_digits_imports() {
    let Some(db) = fresh_db(Backend::Sqlite).await else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let export = temp("export", &root);
    let expected = generate(&export, &["--seed", "7", "--encoding", "utf-8"]);
    let dir = root.path().join("report");
    let report = import(&db, &export, &dir, &["--encoding", "utf-8"]);
    assert_report_matches(&report, &expected, &dir);
    let ids = orderly_ids(&dir);
    let app = TestApp::serve(db).await;
    for (legacy_id, want) in expected["orders_detail"].as_object().unwrap() {
        let view = staff_get(&app, &format!("/v1/orders/{}", ids[&legacy_id.parse::<i64>().unwrap()])).await;
        assert_order_matches(&view, want);
    }
}

#[tokio::test]
async fn a_bad_export_exits_2_and_help_explains_itself() {
    let Some(db) = fresh_db(Backend::Sqlite).await else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let export = temp("export", &root);
    generate(&export, &["--seed", "2"]);
    std::fs::remove_file(export.join("PAYMENTS.csv")).unwrap();
    let out = orderly(&db, &["import", "legacy", "--from", export.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(export.join("PAYMENTS.csv"), "PAY_ID,ORDER_ID,TYPE,AMOUNT,PAY_DATE\n").unwrap();
    let out = orderly(&db, &["import", "legacy", "--from", export.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "a missing column is a bad export");
    assert!(String::from_utf8_lossy(&out.stderr).contains("REF"));
    let help = ok(&orderly(&db, &["import", "legacy", "--help"]));
    for word in [
        "--from",
        "--encoding",
        "windows-1256",
        "--dry-run",
        "--report",
        "owned_by_orderly",
        "Exit status",
    ] {
        assert!(help.contains(word), "help mentions {word}:\n{help}");
    }
}

async fn reruns_change_nothing_and_newer_exports_sync(backend: Backend) {
    let Some(db) = fresh_db(backend).await else { return };
    let root = tempfile::tempdir().unwrap();
    let base = temp("base", &root);
    let newer = temp("newer", &root);
    let expected = generate(&base, &["--seed", "3"]);
    let expected_newer = generate(&newer, &["--seed", "3", "--newer"]);
    let dir = root.path().join("r1");
    import(&db, &base, &dir, &[]);
    let again = import(&db, &base, &root.path().join("r2"), &[]);
    assert_eq!(again["orders"]["created"], 0);
    assert_eq!(again["orders"]["updated"], 0);
    assert_eq!(again["orders"]["unchanged"], expected["orders"]["accepted"]);

    // Orderly takes one of the orders the legacy system will move on (S to D): it is Orderly's from now on.
    let ids = orderly_ids(&dir);
    let changed: Vec<(i64, Value)> = expected_newer["changes"]["changed"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.parse().unwrap(), v.clone()))
        .collect();
    let (taken, _) = changed
        .iter()
        .find(|(_, c)| c["from"] == "S" && c["to"] == "D")
        .expect("the newer export delivers a shipped order");
    let taken_id = ids[taken].clone();
    let app = TestApp::serve(db).await;
    let order = staff_get(&app, &format!("/v1/orders/{taken_id}")).await;
    let shipment = order["shipments"][0]["id"].as_str().unwrap().to_owned();
    let delivered = app.step(&order, &format!("shipments/{shipment}/deliver"), None).await;
    let version = delivered["version"].as_i64().unwrap();

    let synced = import(&app.db, &newer, &root.path().join("r3"), &[]);
    let new_orders = expected_newer["changes"]["new"].as_array().unwrap().len() as i64;
    assert_eq!(synced["orders"]["created"], new_orders);
    assert_eq!(synced["orders"]["updated"], changed.len() as i64 - 1);
    assert_eq!(synced["orders"]["owned_by_orderly"], 1);
    assert_eq!(synced["orders"]["accepted"], expected_newer["orders"]["accepted"]);
    let owned = csv_rows(&root.path().join("r3/owned_by_orderly.csv"));
    assert_eq!(owned.len(), 2);
    assert_eq!(owned[1][1], taken_id);
    assert!(owned[1][2].starts_with("legacy changed"), "{:?}", owned[1]);
    let after = staff_get(&app, &format!("/v1/orders/{taken_id}")).await;
    assert_eq!(after["version"], version, "an Orderly-owned order is never overwritten");

    for (legacy_id, c) in changed.iter().filter(|(l, _)| l != taken) {
        let id = &ids[legacy_id];
        let events = staff_get(&app, &format!("/v1/orders/{id}/events")).await;
        let last = events["items"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["type"], "order.legacy_synced", "{c}");
        let fields: Vec<&str> = last["data"]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(
            fields
                .iter()
                .any(|f| f.starts_with("status.") || f.starts_with("payment.")),
            "{fields:?}"
        );
        let view = staff_get(&app, &format!("/v1/orders/{id}")).await;
        assert_order_matches(&view, &expected_newer["orders_detail"][legacy_id.to_string()]);
    }
    let once_more = import(&app.db, &newer, &root.path().join("r4"), &[]);
    assert_eq!(
        (
            once_more["orders"]["created"].as_i64(),
            once_more["orders"]["updated"].as_i64()
        ),
        (Some(0), Some(0))
    );
}

/// Everything of the store the import decides, without the times it ran at.
async fn store_state(db: &TestDb) -> Vec<String> {
    let app_less = orderly::server::open_migration_store(&db.config, false).await.unwrap();
    let mut ids: Vec<uuid::Uuid> = Vec::new();
    let page = app_less
        .list_orders(&orderly::store::OrderQuery {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap();
    ids.extend(page.orders.iter().map(|o| o.id));
    let mut state: Vec<String> = page.orders.iter().map(|o| serde_json::to_string(o).unwrap()).collect();
    for id in ids {
        let events = app_less.order_events(id).await.unwrap();
        state.push(format!(
            "{id}: {:?}",
            events.iter().map(|e| (e.sequence, e.kind())).collect::<Vec<_>>()
        ));
    }
    state.sort();
    state
}

async fn a_killed_import_resumes_to_the_same_end(backend: Backend) {
    let Some(killed) = fresh_db(backend).await else { return };
    let Some(clean) = fresh_db(backend).await else { return };
    let root = tempfile::tempdir().unwrap();
    let export = temp("export", &root);
    generate(&export, &["--seed", "4", "--orders", "3000"]);
    let clean_dir = root.path().join("clean");
    import(&clean, &export, &clean_dir, &[]);

    let killed_dir = root.path().join("killed");
    ok(&orderly(&killed, &["migrate"]));
    let mut child = orderly_command(
        &killed,
        &[
            "import",
            "legacy",
            "--from",
            export.to_str().unwrap(),
            "--report",
            killed_dir.to_str().unwrap(),
            "--batch-size",
            "50",
        ],
    )
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let written = scalar(&killed, "SELECT count(*) FROM legacy_orders").await;
        if written >= 100 {
            break;
        }
        assert!(Instant::now() < deadline, "the import never got going");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import finished before it could be killed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let part = scalar(&killed, "SELECT count(*) FROM legacy_orders").await;
    let clean_count = scalar(&clean, "SELECT count(*) FROM legacy_orders").await;
    assert!(part < clean_count, "killed part way ({part} of {clean_count})");
    // No half-written order: every order written has its lines and its event.
    assert_eq!(
        scalar(
            &killed,
            "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id) \
             OR NOT EXISTS (SELECT 1 FROM order_events e WHERE e.order_id = o.id)"
        )
        .await,
        0
    );

    let resumed = import(&killed, &export, &killed_dir, &[]);
    assert_eq!(
        resumed,
        read_report(&clean_dir),
        "the resumed run reports the whole import"
    );
    for file in ["rejected.csv", "checksums.csv", "owned_by_orderly.csv"] {
        assert_eq!(
            csv_rows(&killed_dir.join(file)),
            csv_rows(&clean_dir.join(file)),
            "{file}"
        );
    }
    assert_eq!(
        store_state(&killed).await,
        store_state(&clean).await,
        "the same store as an uninterrupted run"
    );
    let after = import(&killed, &export, &root.path().join("after"), &[]);
    assert_eq!(
        (after["orders"]["created"].as_i64(), after["orders"]["updated"].as_i64()),
        (Some(0), Some(0))
    );
}

/// The guard in the write itself: a sync prepared against a version the order has since left is refused, even if
/// the import's earlier read said the order was the legacy system's.
async fn a_sync_never_overwrites_an_order_that_moved_meanwhile(backend: Backend) {
    use orderly::domain::events::{Change, OrderEvent};
    use orderly::domain::legacy::Synced;
    use orderly::store::backfill::{BackfillBatch, BackfillOrder};

    let Some(db) = fresh_db(backend).await else { return };
    let root = tempfile::tempdir().unwrap();
    let export = temp("export", &root);
    generate(&export, &["--seed", "8"]);
    let dir = root.path().join("import");
    import(&db, &export, &dir, &[]);
    let (legacy_id, id) = orderly_ids(&dir).into_iter().next().unwrap();
    let id: uuid::Uuid = id.parse().unwrap();
    let store = orderly::server::open_migration_store(&db.config, false).await.unwrap();
    let order = store.orders_by_ids(&[id]).await.unwrap().pop().unwrap();
    let now = time::OffsetDateTime::now_utc();
    let run = store.begin_run("guard-test", now).await.unwrap();
    let sync_to = |version: i64| {
        let mut next = order.clone();
        next.version = version;
        BackfillOrder {
            legacy_order_id: legacy_id,
            checksum: "changed".into(),
            event: OrderEvent {
                id: uuid::Uuid::now_v7(),
                order_id: id,
                sequence: version,
                change: Change::LegacySynced(Box::new(Synced {
                    checksum: "changed".into(),
                    changes: Vec::new(),
                    order: next.clone(),
                })),
                actor: "test".into(),
                occurred_at: now,
            },
            order: next,
        }
    };
    // Prepared as if the order were still at version 0: it is at 1, so the write is refused and reported.
    let stale = [sync_to(order.version)];
    let moved = store
        .write_backfill(BackfillBatch {
            run_id: run,
            created: &[],
            synced: &stale,
        })
        .await
        .unwrap();
    assert_eq!(moved, vec![legacy_id]);
    assert_eq!(store.order_events(id).await.unwrap().len(), 1, "nothing written");
    assert_eq!(store.legacy_records(&[legacy_id]).await.unwrap()[0].checksum, {
        let rows = csv_rows(&dir.join("checksums.csv"));
        rows.iter().find(|r| r[0] == legacy_id.to_string()).unwrap()[2].clone()
    });
    // Prepared against the version it is at: written.
    let fresh = [sync_to(order.version + 1)];
    let moved = store
        .write_backfill(BackfillBatch {
            run_id: run,
            created: &[],
            synced: &fresh,
        })
        .await
        .unwrap();
    assert!(moved.is_empty());
    assert_eq!(store.order_events(id).await.unwrap().len(), 2);
    assert_eq!(store.legacy_records(&[legacy_id]).await.unwrap()[0].checksum, "changed");
}
