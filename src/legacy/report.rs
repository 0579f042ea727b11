//! The report an import or a reconciliation writes: `reconciliation.json` and its CSV companions, in the shape
//! the migration team's scripts read (issue 13).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use serde::Serialize;

use super::order::Letter;
use super::source::{Rejection, RowCounts};
use crate::domain::status::{OrderStatus, StatusMachine};

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct OrderCounts {
    pub accepted: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub duplicates_identical: u64,
    pub owned_by_orderly: u64,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Sums {
    pub source: i64,
    pub orderly: i64,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Report {
    pub export: RowCounts,
    pub orders: OrderCounts,
    pub by_legacy_status: BTreeMap<&'static str, u64>,
    pub by_orderly_status: BTreeMap<&'static str, u64>,
    pub totals_minor: BTreeMap<&'static str, Sums>,
    pub rejections: BTreeMap<&'static str, u64>,
    pub checksums_match: bool,
    /// Reconciliation only: accepted legacy orders that differ from what Orderly holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differences: Option<u64>,
    /// SKUs whose export reserves more units than it holds (the reservation is capped at `on_hand`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stock_short: Vec<String>,
    pub dry_run: bool,
}

impl Report {
    pub fn new(export: RowCounts, dry_run: bool) -> Self {
        Report {
            export,
            orders: OrderCounts::default(),
            by_legacy_status: Letter::ALL.iter().map(|l| (l.as_str(), 0)).collect(),
            by_orderly_status: OrderStatus::ALL.iter().map(|s| (s.as_str(), 0)).collect(),
            totals_minor: BTreeMap::new(),
            rejections: BTreeMap::new(),
            checksums_match: true,
            differences: None,
            stock_short: Vec::new(),
            dry_run,
        }
    }

    /// Whether every accepted order agrees: checksums and, per currency, the sums.
    pub fn green(&self) -> bool {
        self.checksums_match
            && self.differences.unwrap_or(0) == 0
            && self.totals_minor.values().all(|s| s.source == s.orderly)
    }
}

/// The CSV files beside the report, written as the run goes.
pub struct Companions {
    pub rejected: csv::Writer<BufWriter<File>>,
    pub checksums: csv::Writer<BufWriter<File>>,
    pub owned: csv::Writer<BufWriter<File>>,
    pub differences: Option<csv::Writer<BufWriter<File>>>,
}

fn writer(dir: &Path, name: &str, header: &[&str]) -> anyhow::Result<csv::Writer<BufWriter<File>>> {
    let mut w = csv::Writer::from_writer(BufWriter::new(File::create(dir.join(name))?));
    w.write_record(header)?;
    Ok(w)
}

impl Companions {
    pub fn create(dir: &Path, reconcile: bool) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Companions {
            rejected: writer(dir, "rejected.csv", &["file", "legacy_id", "reason", "detail"])?,
            checksums: writer(dir, "checksums.csv", &["legacy_order_id", "orderly_id", "checksum"])?,
            owned: writer(
                dir,
                "owned_by_orderly.csv",
                &["legacy_order_id", "orderly_id", "difference"],
            )?,
            differences: if reconcile {
                Some(writer(
                    dir,
                    "differences.csv",
                    &["legacy_order_id", "orderly_id", "field", "export", "orderly"],
                )?)
            } else {
                None
            },
        })
    }

    pub fn reject(&mut self, r: &Rejection) -> anyhow::Result<()> {
        self.rejected.write_record([
            r.file,
            r.legacy_id.as_str(),
            r.fault.reason.code(),
            r.fault.detail.as_str(),
        ])?;
        Ok(())
    }

    pub fn finish(self, dir: &Path, report: &Report) -> anyhow::Result<()> {
        let mut all = vec![self.rejected, self.checksums, self.owned];
        all.extend(self.differences);
        for mut w in all {
            w.flush()?;
        }
        let json = serde_json::to_string_pretty(report)?;
        let tmp = dir.join("reconciliation.json.tmp");
        std::fs::write(&tmp, json + "\n")?;
        std::fs::rename(tmp, dir.join("reconciliation.json"))?;
        Ok(())
    }
}
