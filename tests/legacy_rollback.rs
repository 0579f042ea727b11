//! The migration's proofs after import: reconciliation goes red when a stored row is altered, and the export back
//! to the legacy format round-trips through an import into an empty store. Both backends.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::legacy::{csv_rows, generate, import, ok, orderly, orderly_ids, read_report, sql, staff_get, temp};
use common::{Backend, TestApp, fresh_db};
use serde_json::Value;

on_each_backend!(reconciliation_catches_a_row_altered_in_sql, the_export_back_round_trips);

async fn reconciliation_catches_a_row_altered_in_sql(backend: Backend) {
    let Some(db) = fresh_db(backend).await else { return };
    let root = tempfile::tempdir().unwrap();
    let export = temp("export", &root);
    generate(&export, &["--seed", "5"]);
    let dir = root.path().join("import");
    import(&db, &export, &dir, &[]);
    let check = |name: &str| {
        let report = root.path().join(name);
        let out = orderly(
            &db,
            &[
                "reconcile",
                "legacy",
                "--from",
                export.to_str().unwrap(),
                "--report",
                report.to_str().unwrap(),
            ],
        );
        (out.status.code(), report)
    };
    let (code, _) = check("green");
    assert_eq!(code, Some(0), "a clean import reconciles");

    let (legacy_id, id) = orderly_ids(&dir).into_iter().next().unwrap();
    let altered = sql(
        &db,
        &format!("UPDATE orders SET grand_total_minor = grand_total_minor + 1 WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(altered, 1);
    let (code, report) = check("red");
    assert_eq!(code, Some(1), "one fils off is a difference");
    let differences = csv_rows(&report.join("differences.csv"));
    assert!(
        differences
            .iter()
            .any(|r| r[0] == legacy_id.to_string() && r[2] == "totals.grand_total"),
        "{differences:?}"
    );
    let r = read_report(&report);
    assert_eq!(
        r["checksums_match"], true,
        "the checksum is the legacy row's; the sums and the contents catch the change"
    );
    assert!(
        r["totals_minor"]
            .as_object()
            .unwrap()
            .values()
            .any(|s| s["source"] != s["orderly"])
    );
}

async fn the_export_back_round_trips(backend: Backend) {
    let Some(db) = fresh_db(backend).await else { return };
    let root = tempfile::tempdir().unwrap();
    let export = temp("export", &root);
    let expected = generate(&export, &["--seed", "6"]);
    let dir = root.path().join("import");
    import(&db, &export, &dir, &[]);
    let cutover = time::OffsetDateTime::now_utc() - Duration::from_secs(1);

    // After cutover Orderly takes an imported order (delivers it) and places new ones.
    let ids = orderly_ids(&dir);
    let app = TestApp::serve(db).await;
    let shipped = expected["orders_detail"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, o)| o["legacy_status"] == "S" && o["pay_method"] == "CC")
        .map(|(k, _)| ids[&k.parse::<i64>().unwrap()].clone())
        .expect("a shipped card order");
    let order = staff_get(&app, &format!("/v1/orders/{shipped}")).await;
    let shipment = order["shipments"][0]["id"].as_str().unwrap().to_owned();
    app.step(&order, &format!("shipments/{shipment}/deliver"), None).await;
    app.stocked("NATIVE-1", 2500, "KWD", 50).await;
    let mut native = Vec::new();
    for i in 0..3 {
        let body = common::order_body("KWD", "KW", &[("NATIVE-1", i + 1)]);
        let created = app.create_order(&app.staff(), &format!("native-{i}"), &body).await;
        assert_eq!(created.status().as_u16(), 201);
        native.push(created.json::<Value>().await.unwrap());
    }
    let total = native[0]["totals"]["grand_total"]["amount_minor"].clone();
    let body = serde_json::json!({"amount_minor": total, "provider_ref": "psp-9"});
    app.step(&native[0], "payment/authorize", Some(body)).await;

    let back = root.path().join("back");
    let since = cutover.format(&time::format_description::well_known::Rfc3339).unwrap();
    let out = ok(&orderly(
        &app.db,
        &["export", "legacy", "--since", &since, "--to", back.to_str().unwrap()],
    ));
    assert!(out.contains("export finished: 4 orders"), "{out}");
    let orders_csv = std::fs::read(back.join("ORDERS.csv")).unwrap();
    assert!(orders_csv.starts_with("\u{feff}".as_bytes()), "UTF-8 with a BOM");
    let approximated: Value =
        serde_json::from_str(&std::fs::read_to_string(back.join("export-report.json")).unwrap()).unwrap();
    let approx: BTreeSet<String> = approximated["approximated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["number"].as_str().unwrap().to_owned())
        .collect();

    let Some(empty) = fresh_db(backend).await else { return };
    let report = import(&empty, &back, &root.path().join("reimport"), &["--encoding", "utf-8"]);
    assert_eq!(report["orders"]["accepted"], 4, "{report}");
    assert_eq!(report["orders"]["rejected"], 0);
    let reimported = TestApp::serve(empty).await;
    let page = staff_get(&reimported, "/v1/orders?limit=100").await;
    let by_number: BTreeMap<String, Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["number"].as_str().unwrap().to_owned(), o.clone()))
        .collect();
    let mut compared = 0;
    for id in std::iter::once(shipped.clone()).chain(native.iter().map(|o| o["id"].as_str().unwrap().to_owned())) {
        let original = staff_get(&app, &format!("/v1/orders/{id}")).await;
        let number = original["number"].as_str().unwrap().to_owned();
        if approx.contains(&number) {
            continue;
        }
        let copy = &by_number[&number];
        for field in ["status", "totals", "currency", "payment_method"] {
            assert_eq!(copy[field], original[field], "{number} {field}");
        }
        for k in ["authorized", "captured", "refunded"] {
            assert_eq!(copy["payment"][k], original["payment"][k], "{number} payment.{k}");
        }
        let lines = |o: &Value| -> Vec<Value> {
            o["lines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| serde_json::json!([l["sku"], l["quantity"], l["unit_price"], l["tax"], l["total"]]))
                .collect()
        };
        assert_eq!(lines(copy), lines(&original), "{number} lines");
        assert_eq!(copy["ship_to"], original["ship_to"], "{number} ship_to");
        assert_eq!(
            copy["created_at"].as_str().unwrap()[..19],
            original["created_at"].as_str().unwrap()[..19]
        );
        compared += 1;
    }
    assert!(compared >= 3, "most orders are exactly representable ({compared})");
}
