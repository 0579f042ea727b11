//! The command-line side of the migration tools: arguments, the configured store, the summary line and the exit
//! status (0 finished, 1 failed or, for a reconciliation, not green, 2 a bad export).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::report::Report;
use super::run::{self, Mode, Options, RunError};
use super::source::Encoding;
use crate::config::Config;
use crate::server::open_migration_store;

/// A failure with a specific exit status, for `main` to return.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

#[derive(Debug, Subcommand)]
pub enum ImportSource {
    /// Import a legacy export folder (ORDERS.csv, ORDER_ITEMS.csv, PAYMENTS.csv, PRODUCTS.csv) into the store.
    ///
    /// New legacy orders are created (number = ORDER_NO, customer `legacy-<CUST_ID>`), orders the legacy system
    /// moved on since the last import are synced with an `order.legacy_synced` event, and orders Orderly has
    /// changed since import are left alone and reported as `owned_by_orderly`. Running it again on the same export
    /// changes nothing; a killed run resumes when started again. Rejected orders are listed in rejected.csv with a
    /// reason. Exit status: 0 finished (rejections included), 2 bad export (missing file or header), 1 any other
    /// error. See docs/migration.md.
    Legacy(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The export folder.
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    /// How the export's bytes are encoded; a UTF-8 byte-order mark overrides it.
    #[arg(long, value_enum, default_value = "windows-1256")]
    pub encoding: Encoding,
    /// Read and check everything and write the report, but write nothing to the store.
    #[arg(long)]
    pub dry_run: bool,
    /// Where reconciliation.json, rejected.csv, checksums.csv and owned_by_orderly.csv go.
    #[arg(long, value_name = "DIR", default_value = "import-report")]
    pub report: PathBuf,
    /// Orders per transaction.
    #[arg(long, default_value_t = 1000, hide = true)]
    pub batch_size: usize,
}

#[derive(Debug, Subcommand)]
pub enum ReconcileSource {
    /// Compare a legacy export with the store, writing nothing to it: exit 0 when every accepted legacy order is
    /// in Orderly with the same checksum and contents and the sums agree, 1 otherwise (differences.csv lists each).
    /// Orders owned by Orderly since import are listed in owned_by_orderly.csv and are not differences.
    Legacy(ReconcileArgs),
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
    #[arg(long, value_enum, default_value = "windows-1256")]
    pub encoding: Encoding,
    #[arg(long, value_name = "DIR", default_value = "reconcile-report")]
    pub report: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ExportTarget {
    /// Write the orders Orderly created, or changed after importing them, since a time, in the legacy four-file
    /// format (UTF-8 with a BOM), for the legacy system to take back on a rollback.
    Legacy(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// RFC 3339 time, e.g. the cutover: `2026-12-01T00:00:00Z`.
    #[arg(long, value_name = "RFC3339")]
    pub since: String,
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
}

fn exit(code: u8, e: impl std::fmt::Display) -> anyhow::Error {
    Exit {
        code,
        message: e.to_string(),
    }
    .into()
}

async fn walk(config: &Config, opts: Options) -> anyhow::Result<Report> {
    // An import (a dry run too) brings the schema up to date; a reconciliation writes nothing, schema included.
    let store = open_migration_store(config, matches!(opts.mode, Mode::Import { .. })).await?;
    if !store.schema_is_current().await? {
        return Err(exit(
            1,
            "the database schema is not current: run `orderly migrate` first",
        ));
    }
    let vat = config.pricing_policy()?.vat;
    match run::run(store, &vat, &opts).await {
        Ok(report) => Ok(report),
        Err(RunError::BadExport(e)) => Err(exit(2, format!("bad export: {e}"))),
        Err(RunError::Other(e)) => Err(exit(1, format!("{e:#}"))),
    }
}

fn summary(verb: &str, report: &Report, dir: &std::path::Path) -> String {
    let o = &report.orders;
    format!(
        "{verb}: accepted {} (created {}, updated {}, unchanged {}, owned_by_orderly {}), rejected {}, \
         duplicates_identical {}; report in {}",
        o.accepted,
        o.created,
        o.updated,
        o.unchanged,
        o.owned_by_orderly,
        o.rejected,
        o.duplicates_identical,
        dir.display()
    )
}

pub async fn import(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    let opts = Options {
        from: args.from,
        encoding: args.encoding,
        report: args.report.clone(),
        mode: Mode::Import { dry_run: args.dry_run },
        batch_size: args.batch_size.max(1),
    };
    let report = walk(config, opts).await?;
    let verb = if args.dry_run { "dry run" } else { "import finished" };
    println!("{}", summary(verb, &report, &args.report));
    Ok(())
}

pub async fn reconcile(config: &Config, args: ReconcileArgs) -> anyhow::Result<()> {
    let opts = Options {
        from: args.from,
        encoding: args.encoding,
        report: args.report.clone(),
        mode: Mode::Reconcile,
        batch_size: 1000,
    };
    let report = walk(config, opts).await?;
    println!("{}", summary("reconciled", &report, &args.report));
    if report.green() {
        println!("reconciliation: green");
        Ok(())
    } else {
        Err(exit(
            1,
            format!(
                "reconciliation: {} differences, checksums_match {}; see {}",
                report.differences.unwrap_or(0),
                report.checksums_match,
                args.report.join("differences.csv").display()
            ),
        ))
    }
}

pub async fn export(config: &Config, args: ExportArgs) -> anyhow::Result<()> {
    let since = time::OffsetDateTime::parse(&args.since, &time::format_description::well_known::Rfc3339)
        .map_err(|e| exit(2, format!("--since `{}` is not an RFC 3339 time: {e}", args.since)))?;
    let store = open_migration_store(config, false).await?;
    let done = super::export::export(store.as_ref(), since, &args.to).await?;
    println!(
        "export finished: {} orders ({} approximated) to {}",
        done.orders,
        done.approximated.len(),
        args.to.display()
    );
    Ok(())
}
