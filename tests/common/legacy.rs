//! Support for the migration tests: legacy exports made by the independent generator
//! (`scripts/legacy_export.py`), the `orderly` binary run against a test database, and SQL on that database.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use secrecy::ExposeSecret;
use serde_json::Value;

use super::TestDb;

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
