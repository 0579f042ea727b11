//! The import and the reconciliation: one walk over the export, bucket by bucket, in batches of orders. The import
//! writes each batch in one transaction (so no half-written order is ever visible) and records, per legacy order,
//! which run wrote it and how: a rerun of a killed import resumes that run and reports the whole of it.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use time::OffsetDateTime;
use uuid::Uuid;

use super::fields::{Fault, Zones};
use super::meter::Meter;
use super::order::LegacyOrder;
use super::projection::diff;
use super::report::{Companions, Report};
use super::source::{self, BadExport, Encoding, ORDERS, Partitioned, Rejection};
use crate::domain::events::{Change, OrderEvent};
use crate::domain::legacy::{Imported, Synced};
use crate::domain::money::Money;
use crate::domain::order::Order;
use crate::domain::status::StatusMachine;
use crate::domain::tax::VatTable;
use crate::domain::values::Sku;
use crate::store::MigrationStore;
use crate::store::backfill::{BackfillAction, BackfillBatch, BackfillOrder, LegacyRecord};

/// The actor of imported history.
pub const ACTOR: &str = "legacy-import";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Import { dry_run: bool },
    Reconcile,
}

pub struct Options {
    pub from: PathBuf,
    pub encoding: Encoding,
    pub report: PathBuf,
    pub mode: Mode,
    pub batch_size: usize,
}

/// Why a run stopped: a bad export (exit 2) or anything else (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    BadExport(#[from] BadExport),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<crate::store::StoreError> for RunError {
    fn from(e: crate::store::StoreError) -> Self {
        RunError::Other(e.into())
    }
}

impl From<csv::Error> for RunError {
    fn from(e: csv::Error) -> Self {
        RunError::Other(e.into())
    }
}

pub(super) struct Engine<'a> {
    pub(super) store: Arc<dyn MigrationStore>,
    /// The batch being written while the next one is built.
    pub(super) inflight: Option<tokio::task::JoinHandle<Result<Written, crate::store::StoreError>>>,
    pub(super) opts: &'a Options,
    pub(super) zones: Zones,
    pub(super) vat: &'a VatTable,
    pub(super) names: HashMap<Sku, (String, String)>,
    pub(super) run: Option<i64>,
    pub(super) report: Report,
    pub(super) files: Companions,
    pub(super) reserved: BTreeMap<Sku, i64>,
    pub(super) written: u64,
    pub(super) rows_read: u64,
    pub(super) started: Instant,
    pub(super) meter: Meter,
}

impl Engine<'_> {
    pub(super) fn reject(
        &mut self,
        file: &'static str,
        legacy_id: String,
        fault: Fault,
        counts_order: bool,
    ) -> anyhow::Result<()> {
        *self.report.rejections.entry(fault.reason.code()).or_default() += 1;
        if counts_order {
            self.report.orders.rejected += 1;
        }
        self.files.reject(&Rejection { file, legacy_id, fault })
    }

    /// Counts an accepted order; the legacy letter says what it reserves unless Orderly owns it (then its
    /// reservation is counted from the store, with Orderly's own orders).
    pub(super) fn accept(&mut self, lo: &LegacyOrder, stored: &Order, owned: bool) {
        let r = &mut self.report;
        r.orders.accepted += 1;
        *r.by_legacy_status.entry(lo.letter.as_str()).or_default() += 1;
        *r.by_orderly_status.entry(stored.status.order.as_str()).or_default() += 1;
        let sums = r.totals_minor.entry(lo.currency.code()).or_default();
        sums.source += lo.total;
        sums.orderly += stored.totals.grand_total.amount_minor();
        if lo.letter.reserves_stock() && !owned {
            for i in &lo.items {
                *self.reserved.entry(i.sku.clone()).or_default() += i.qty.as_i64();
            }
        }
    }

    fn names_of(&self) -> impl Fn(&Sku) -> (String, String) + '_ {
        |sku: &Sku| {
            self.names
                .get(sku)
                .cloned()
                .unwrap_or_else(|| (sku.as_str().to_owned(), sku.as_str().to_owned()))
        }
    }

    pub(super) async fn batch(&mut self, batch: Vec<LegacyOrder>) -> Result<(), RunError> {
        let ids: Vec<i64> = batch.iter().map(|o| o.order_id).collect();
        let records: HashMap<i64, LegacyRecord> = self
            .store
            .legacy_records(&ids)
            .await?
            .into_iter()
            .map(|r| (r.legacy_order_id, r))
            .collect();
        let now = crate::domain::order::now_micros(OffsetDateTime::now_utc());
        let mut expected = Vec::with_capacity(batch.len());
        for lo in batch {
            let built = lo.to_order(&self.names_of(), self.vat);
            match built {
                Ok(order) => {
                    let checksum = lo.checksum();
                    expected.push((lo, order, checksum));
                }
                Err(fault) => self.reject(ORDERS.name, lo.order_id.to_string(), fault, true)?,
            }
        }
        // The stored orders this batch must look at: every one in a reconciliation, else those to diff.
        let reconcile = self.opts.mode == Mode::Reconcile;
        let to_load: Vec<Uuid> = expected
            .iter()
            .filter_map(|(lo, o, checksum)| {
                let r = records.get(&lo.order_id)?;
                let recorded = Some(r.run_id) == self.run;
                (reconcile || (!recorded && (r.owned_by_orderly() || &r.checksum != checksum))).then_some(o.id)
            })
            .collect();
        let stored: HashMap<Uuid, Order> = if to_load.is_empty() {
            HashMap::new()
        } else {
            self.store
                .orders_by_ids(&to_load)
                .await?
                .into_iter()
                .map(|o| (o.id, o))
                .collect()
        };

        let mut created = Vec::new();
        let mut synced = Vec::new();
        for (lo, order, checksum) in expected {
            self.files
                .checksums
                .write_record([lo.order_id.to_string(), order.id.to_string(), checksum.clone()])?;
            let record = records.get(&lo.order_id);
            if reconcile {
                self.reconcile_one(&lo, &order, &checksum, record, stored.get(&order.id))?;
                continue;
            }
            match record {
                None => {
                    self.report.orders.created += 1;
                    self.accept(&lo, &order, false);
                    let event = OrderEvent {
                        id: Uuid::now_v7(),
                        order_id: order.id,
                        sequence: 1,
                        change: Change::Imported(Box::new(Imported {
                            legacy: lo.legacy_ref(),
                            checksum: checksum.clone(),
                            order: order.clone(),
                        })),
                        actor: ACTOR.into(),
                        occurred_at: now,
                    };
                    created.push(BackfillOrder {
                        legacy_order_id: lo.order_id,
                        checksum,
                        order,
                        event,
                    });
                }
                Some(r) if Some(r.run_id) == self.run => {
                    // Written by this run before it was interrupted: counted as it was then.
                    match r.action {
                        BackfillAction::Created => self.report.orders.created += 1,
                        BackfillAction::Updated => self.report.orders.updated += 1,
                    }
                    if r.checksum != checksum {
                        self.report.checksums_match = false;
                    }
                    let mut as_stored = order;
                    as_stored.totals.grand_total = Money::new(r.grand_total_minor, lo.currency);
                    self.accept(&lo, &as_stored, false);
                }
                Some(r) if r.owned_by_orderly() => {
                    let current = stored.get(&order.id).cloned().unwrap_or(order.clone());
                    self.owned(&lo, &order, &current, r, &checksum)?;
                }
                Some(r) if r.checksum == checksum => {
                    self.report.orders.unchanged += 1;
                    let mut as_stored = order;
                    as_stored.totals.grand_total = Money::new(r.grand_total_minor, lo.currency);
                    self.accept(&lo, &as_stored, false);
                }
                Some(r) => {
                    let Some(current) = stored.get(&order.id) else {
                        return Err(
                            anyhow::anyhow!("legacy order {} is recorded but its order is gone", lo.order_id).into(),
                        );
                    };
                    let changes = diff(current, &order);
                    let mut next = order;
                    next.version = r.version + 1;
                    next.updated_at = now;
                    let event = OrderEvent {
                        id: Uuid::now_v7(),
                        order_id: next.id,
                        sequence: next.version,
                        change: Change::LegacySynced(Box::new(Synced {
                            checksum: checksum.clone(),
                            changes,
                            order: next.clone(),
                        })),
                        actor: ACTOR.into(),
                        occurred_at: now,
                    };
                    self.report.orders.updated += 1;
                    self.accept(&lo, &next, false);
                    synced.push(BackfillOrder {
                        legacy_order_id: r.legacy_order_id,
                        checksum,
                        order: next,
                        event,
                    });
                }
            }
        }
        if let (Mode::Import { dry_run: false }, Some(run)) = (self.opts.mode, self.run) {
            // One batch is written while the next is read and built: the database and the parsing overlap.
            self.settle().await?;
            let store = Arc::clone(&self.store);
            self.inflight = Some(tokio::spawn(async move {
                let moved = store
                    .write_backfill(BackfillBatch {
                        run_id: run,
                        created: &created,
                        synced: &synced,
                    })
                    .await?;
                Ok(Written {
                    created: created.len(),
                    synced,
                    moved,
                })
            }));
        }
        Ok(())
    }

    /// Waits for the batch being written, and counts what it did.
    pub(super) async fn settle(&mut self) -> Result<(), RunError> {
        let Some(inflight) = self.inflight.take() else {
            return Ok(());
        };
        let done = inflight.await.map_err(anyhow::Error::from)??;
        // Orders a command changed between the read and the write are Orderly's now: reported, not written.
        for b in done.synced.iter().filter(|b| done.moved.contains(&b.legacy_order_id)) {
            self.report.orders.updated -= 1;
            self.report.orders.owned_by_orderly += 1;
            self.files.owned.write_record([
                b.legacy_order_id.to_string(),
                b.order.id.to_string(),
                "changed in Orderly during the import".to_owned(),
            ])?;
        }
        self.written += (done.created + done.synced.len() - done.moved.len()) as u64;
        Ok(())
    }
}

/// What a batch's write did.
pub(super) struct Written {
    created: usize,
    synced: Vec<BackfillOrder>,
    moved: Vec<i64>,
}

/// Runs an import or a reconciliation and writes its report. Returns the report.
pub async fn run(store: Arc<dyn MigrationStore>, vat: &VatTable, opts: &Options) -> Result<Report, RunError> {
    let digest = source::digest(&opts.from)?;
    std::fs::create_dir_all(&opts.report).map_err(anyhow::Error::from)?;
    let spill = tempfile::Builder::new()
        .prefix(".spill-")
        .tempdir_in(&opts.report)
        .map_err(anyhow::Error::from)?;
    let mut meter = Meter::new();
    let export = Partitioned::read(&opts.from, opts.encoding, spill.path(), &mut |done, total| {
        meter.show(
            "reading",
            done,
            total,
            format!("{} of {} MB of export read", done >> 20, total >> 20),
        );
    })
    .map_err(|e| match e.downcast::<BadExport>() {
        Ok(bad) => RunError::BadExport(bad),
        Err(other) => RunError::Other(other),
    })?;
    let dry_run = opts.mode != Mode::Import { dry_run: false };
    let run = if dry_run {
        None
    } else {
        Some(store.begin_run(&digest, OffsetDateTime::now_utc()).await?)
    };
    let mut engine = Engine {
        store: Arc::clone(&store),
        inflight: None,
        opts,
        zones: Zones::load()?,
        vat,
        names: HashMap::new(),
        run,
        report: Report::new(export.counts, opts.mode == Mode::Import { dry_run: true }),
        files: Companions::create(&opts.report, opts.mode == Mode::Reconcile)?,
        reserved: BTreeMap::new(),
        written: 0,
        rows_read: 0,
        started: Instant::now(),
        meter,
    };
    let products = engine.products(&export)?;
    engine.names = products
        .iter()
        .map(|p| {
            (
                p.product.sku.clone(),
                (p.product.name_en.clone(), p.product.name_ar.clone()),
            )
        })
        .collect();
    engine.walk(&export).await?;
    engine.settle().await?;
    if opts.mode == Mode::Reconcile {
        engine.report.differences.get_or_insert(0);
    } else {
        let (changed, stock) = engine.catalog_changes(products).await?;
        if let Some(run) = run {
            store
                .finish_run(run, &changed, &stock, OffsetDateTime::now_utc())
                .await?;
        }
    }
    engine.meter.finish();
    let Engine { report, files, .. } = engine;
    files.finish(&opts.report, &report)?;
    Ok(report)
}
