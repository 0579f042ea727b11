//! Support for the migration tests: legacy exports made by the independent generator
//! (`scripts/legacy_export.py`), the `orderly` binary run against a test database, and SQL on that database.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use secrecy::ExposeSecret;
use serde_json::Value;

use super::{TestApp, TestDb};
use std::collections::BTreeSet;

/// Generates an export into `dir` with the generator's flags; returns its `expected.json`.
pub fn generate(dir: &Path, flags: &[&str]) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/legacy_export.py");
    let out = Command::new("python3")
        .arg(script)
        .arg("--out")
        .arg(dir)
        .args(flags)
        .output()
        .expect("run the generator");
    assert!(
        out.status.success(),
        "generator: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap()
}

/// `orderly <args>` against `db`, as an operator would run it.
pub fn orderly_command(db: &TestDb, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orderly"));
    cmd.args(args)
        .env("ORDERLY_SQLITE_PATH", &db.config.sqlite_path)
        .env("ORDERLY_LOG_LEVEL", "warn")
        .env_remove("ORDERLY_DATABASE_URL");
    if let Some(url) = &db.config.database_url {
        cmd.env("ORDERLY_DATABASE_URL", url.expose_secret());
    }
    cmd
}

pub fn orderly(db: &TestDb, args: &[&str]) -> Output {
    orderly_command(db, args).output().expect("run orderly")
}

pub fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {stdout}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Imports `export` into `db` with the report in `report`; returns reconciliation.json.
pub fn import(db: &TestDb, export: &Path, report: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "import",
        "legacy",
        "--from",
        export.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    ok(&orderly(db, &args));
    read_report(report)
}

pub fn read_report(report: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(report.join("reconciliation.json")).unwrap()).unwrap()
}

/// The rows of a report CSV, header first.
pub fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_path(path).unwrap();
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// `legacy_order_id -> orderly_id` from checksums.csv.
pub fn orderly_ids(report: &Path) -> BTreeMap<i64, String> {
    csv_rows(&report.join("checksums.csv"))
        .into_iter()
        .skip(1)
        .map(|r| (r[0].parse().unwrap(), r[1].clone()))
        .collect()
}

pub fn temp(name: &str, root: &tempfile::TempDir) -> PathBuf {
    let p = root.path().join(name);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// Runs one statement on the test database (to break it on purpose, or to look inside).
pub async fn sql(db: &TestDb, statement: &str) -> u64 {
    match &db.config.database_url {
        Some(url) => {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url.expose_secret())
                .await
                .unwrap();
            sqlx::query(statement).execute(&mut conn).await.unwrap().rows_affected()
        }
        None => {
            let url = format!("sqlite://{}", db.config.sqlite_path.display());
            let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            sqlx::query(statement).execute(&mut conn).await.unwrap().rows_affected()
        }
    }
}

/// Runs one statement on the test database as its owner; the error's text when it is refused (a trigger, a grant).
pub async fn try_sql(db: &TestDb, statement: &str) -> Result<u64, String> {
    let done = match &db.config.database_url {
        Some(url) => {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url.expose_secret())
                .await
                .unwrap();
            sqlx::query(statement)
                .execute(&mut conn)
                .await
                .map(|r| r.rows_affected())
        }
        None => {
            let url = format!("sqlite://{}", db.config.sqlite_path.display());
            let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            sqlx::query(statement)
                .execute(&mut conn)
                .await
                .map(|r| r.rows_affected())
        }
    };
    done.map_err(|e| e.to_string())
}

/// One integer from a query on the test database.
pub async fn scalar(db: &TestDb, query: &str) -> i64 {
    match &db.config.database_url {
        Some(url) => {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url.expose_secret())
                .await
                .unwrap();
            sqlx::query_scalar(query).fetch_one(&mut conn).await.unwrap()
        }
        None => {
            let url = format!("sqlite://{}", db.config.sqlite_path.display());
            let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
                .await
                .unwrap();
            sqlx::query_scalar(query).fetch_one(&mut conn).await.unwrap()
        }
    }
}

pub fn nonzero(v: &Value) -> BTreeMap<String, i64> {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_i64().filter(|n| *n != 0).map(|n| (k.clone(), n)))
                .collect()
        })
        .unwrap_or_default()
}

/// The report's counts and sums are the generator's, every rejection is listed with its reason, checksums agree.
pub fn assert_report_matches(report: &Value, expected: &Value, dir: &std::path::Path) {
    assert_eq!(report["export"], expected["export"], "row counts");
    for key in ["accepted", "rejected", "duplicates_identical"] {
        assert_eq!(report["orders"][key], expected["orders"][key], "orders.{key}");
    }
    assert_eq!(
        nonzero(&report["by_legacy_status"]),
        nonzero(&expected["by_legacy_status"])
    );
    assert_eq!(
        nonzero(&report["by_orderly_status"]),
        nonzero(&expected["by_orderly_status"])
    );
    assert_eq!(
        nonzero(&report["rejections"]),
        nonzero(&expected["rejections"]),
        "rejections"
    );
    let totals = expected["totals_minor"].as_object().unwrap();
    assert_eq!(report["totals_minor"].as_object().unwrap().len(), totals.len());
    for (currency, sums) in totals {
        assert_eq!(
            report["totals_minor"][currency]["source"], sums["source"],
            "{currency} source"
        );
        assert_eq!(
            report["totals_minor"][currency]["orderly"], sums["source"],
            "{currency} orderly"
        );
    }
    assert_eq!(report["checksums_match"], true);

    let listed: BTreeSet<(String, String, String)> = csv_rows(&dir.join("rejected.csv"))
        .into_iter()
        .skip(1)
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect();
    let wanted: BTreeSet<(String, String, String)> = expected["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let id = match &r["legacy_id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (
                r["file"].as_str().unwrap().to_owned(),
                id,
                r["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(listed, wanted, "rejected.csv");
    let sums: BTreeMap<String, String> = csv_rows(&dir.join("checksums.csv"))
        .into_iter()
        .skip(1)
        .map(|r| (r[0].clone(), r[2].clone()))
        .collect();
    let expected_sums: BTreeMap<String, String> = expected["checksums"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(
        sums, expected_sums,
        "checksums computed by the generator and the importer agree"
    );
}

pub fn minor(v: &Value) -> i64 {
    v["amount_minor"].as_i64().unwrap()
}

/// An imported order read through the API is the legacy order as the generator says it must become.
pub fn assert_order_matches(view: &Value, want: &Value) {
    let ctx = format!("{}", want["number"]);
    assert_eq!(view["number"], want["number"], "{ctx}");
    assert_eq!(view["customer_id"], want["customer_id"], "{ctx}");
    assert_eq!(view["legacy"], want["legacy"], "{ctx} legacy ids and name");
    assert_eq!(view["created_at"], want["created_at"], "{ctx} UTC time");
    assert_eq!(view["currency"], want["currency"], "{ctx}");
    assert_eq!(view["ship_to"]["phone"], want["phone"], "{ctx} E.164");
    assert_eq!(view["ship_to"]["country"], want["country"], "{ctx}");
    assert_eq!(view["ship_to"]["name"], want["ship_name"], "{ctx}");
    assert_eq!(view["status"], want["status"], "{ctx} statuses");
    for k in ["subtotal", "tax", "shipping", "grand_total"] {
        assert_eq!(
            minor(&view["totals"][k]),
            want["totals_minor"][k].as_i64().unwrap(),
            "{ctx} {k}"
        );
    }
    for k in ["authorized", "captured", "refunded"] {
        assert_eq!(
            minor(&view["payment"][k]),
            want["payment_minor"][k].as_i64().unwrap(),
            "{ctx} payment {k}"
        );
    }
    let lines: Vec<Value> = view["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            serde_json::json!({"sku": l["sku"], "quantity": l["quantity"], "unit_price": minor(&l["unit_price"]),
                "tax": minor(&l["tax"]), "total": minor(&l["total"])})
        })
        .collect();
    assert_eq!(Value::from(lines), want["lines"], "{ctx} lines");
}

pub async fn staff_get(app: &TestApp, path: &str) -> Value {
    let response = app
        .client
        .get(format!("{}{path}", app.api))
        .bearer_auth(app.staff())
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "GET {path}: {}", response.status());
    response.json().await.unwrap()
}
