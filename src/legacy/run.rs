//! The import and the reconciliation: one walk over the export, bucket by bucket, in batches of orders. The import
//! writes each batch in one transaction (so no half-written order is ever visible) and records, per legacy order,
//! which run wrote it and how: a rerun of a killed import resumes that run and reports the whole of it.

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use super::fields::{self, Fault, Reason, Zones, nullable};
use super::order::{LegacyOrder, Place};
use super::report::{Companions, Report};
use super::source::{self, BadExport, Encoding, ITEMS, ORDERS, PAYMENTS, PRODUCTS, Partitioned, Rejection};
use crate::domain::catalog::Product;
use crate::domain::events::{Change, OrderEvent};
use crate::domain::legacy::{FieldChange, Imported, Synced};
use crate::domain::money::Money;
use crate::domain::order::Order;
use crate::domain::status::{OrderStatus, StatusMachine};
use crate::domain::tax::{TaxClass, VatTable};
use crate::domain::values::Sku;
use crate::store::MigrationStore;
use crate::store::backfill::{BackfillAction, BackfillBatch, BackfillOrder, LegacyRecord, StockCount};

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

/// The fields of an order that the import sets and the reconciliation compares, by name.
pub fn projection(o: &Order) -> BTreeMap<&'static str, Value> {
    let p = &o.progress;
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            serde_json::json!([
                l.sku.as_str(),
                l.quantity.get(),
                l.unit_price.amount_minor(),
                l.tax.amount_minor(),
                l.total.amount_minor()
            ])
        })
        .collect();
    let mut m = BTreeMap::new();
    m.insert("number", Value::from(o.number.clone()));
    m.insert(
        "customer_id",
        serde_json::json!(o.customer_id.as_ref().map(|c| c.as_str())),
    );
    m.insert("currency", Value::from(o.currency.code()));
    m.insert("status.order", Value::from(o.status.order.as_str()));
    m.insert("status.payment", Value::from(o.status.payment.as_str()));
    m.insert("status.fulfilment", Value::from(o.status.fulfilment.as_str()));
    m.insert("totals.subtotal", Value::from(o.totals.subtotal.amount_minor()));
    m.insert("totals.tax", Value::from(o.totals.tax.amount_minor()));
    m.insert("totals.shipping", Value::from(o.totals.shipping.amount_minor()));
    m.insert("totals.grand_total", Value::from(o.totals.grand_total.amount_minor()));
    m.insert("payment.authorized", Value::from(p.authorized_minor));
    m.insert("payment.captured", Value::from(p.captured()));
    m.insert("payment.refunded", Value::from(p.refunded_total()));
    m.insert("lines", Value::from(lines));
    m.insert("ship_to", serde_json::to_value(&o.ship_to).unwrap_or(Value::Null));
    m.insert("legacy", serde_json::to_value(&o.legacy).unwrap_or(Value::Null));
    m.insert(
        "created_at",
        Value::from(o.created_at.unix_timestamp_nanos().to_string()),
    );
    m
}

/// The fields where `to` differs from `from`.
pub fn diff(from: &Order, to: &Order) -> Vec<FieldChange> {
    let (a, b) = (projection(from), projection(to));
    a.into_iter()
        .zip(b)
        .filter(|((_, x), (_, y))| x != y)
        .map(|((field, x), (_, y))| FieldChange {
            field: field.to_owned(),
            from: x,
            to: y,
        })
        .collect()
}

/// One product of PRODUCTS.csv, its rows folded.
struct ProductRow {
    product: Product,
    on_hand: i64,
}

/// Progress on a terminal (a bar) or in logs (a line every few seconds).
struct Meter {
    bar: Option<ProgressBar>,
    last_log: Instant,
    started: Instant,
}

impl Meter {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{prefix:>8} [{bar:30}] {percent:>3}% {msg} eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Meter {
            bar,
            last_log: Instant::now(),
            started: Instant::now(),
        }
    }

    fn show(&mut self, phase: &str, done: u64, total: u64, msg: String) {
        match &self.bar {
            Some(bar) => {
                bar.set_prefix(phase.to_owned());
                bar.set_length(total);
                bar.set_position(done);
                bar.set_message(msg);
            }
            None if self.last_log.elapsed() >= Duration::from_secs(5) || done == total => {
                self.last_log = Instant::now();
                tracing::info!(
                    phase,
                    done,
                    total,
                    elapsed_s = self.started.elapsed().as_secs(),
                    "{msg}"
                );
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

struct Engine<'a> {
    store: &'a dyn MigrationStore,
    opts: &'a Options,
    zones: Zones,
    vat: &'a VatTable,
    names: HashMap<Sku, (String, String)>,
    run: Option<i64>,
    report: Report,
    files: Companions,
    reserved: BTreeMap<Sku, i64>,
    written: u64,
    rows_read: u64,
    started: Instant,
    meter: Meter,
}

fn file_of(place: Place) -> &'static str {
    match place {
        Place::Orders => ORDERS.name,
        Place::Items => ITEMS.name,
        Place::Payments => PAYMENTS.name,
    }
}

impl Engine<'_> {
    fn reject(
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
    fn accept(&mut self, lo: &LegacyOrder, stored: &Order, owned: bool) {
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

    async fn batch(&mut self, batch: Vec<LegacyOrder>) -> Result<(), RunError> {
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
                Ok(order) => expected.push((lo, order)),
                Err(fault) => self.reject(ORDERS.name, lo.order_id.to_string(), fault, true)?,
            }
        }
        // The stored orders this batch must look at: every one in a reconciliation, else those to diff.
        let reconcile = self.opts.mode == Mode::Reconcile;
        let to_load: Vec<Uuid> = expected
            .iter()
            .filter_map(|(lo, o)| {
                let r = records.get(&lo.order_id)?;
                let recorded = Some(r.run_id) == self.run;
                (reconcile || (!recorded && (r.owned_by_orderly() || r.checksum != lo.checksum()))).then_some(o.id)
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
        for (lo, order) in expected {
            let checksum = lo.checksum();
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
                    synced.push((
                        lo,
                        current.clone(),
                        BackfillOrder {
                            legacy_order_id: r.legacy_order_id,
                            checksum,
                            order: next,
                            event,
                        },
                    ));
                }
            }
        }
        if let (Mode::Import { dry_run: false }, Some(run)) = (self.opts.mode, self.run) {
            let to_sync: Vec<BackfillOrder> = synced.iter().map(|(_, _, b)| b.clone()).collect();
            let moved = self
                .store
                .write_backfill(BackfillBatch {
                    run_id: run,
                    created: &created,
                    synced: &to_sync,
                })
                .await?;
            // Orders a command changed between the read and the write are Orderly's now: reported, not written.
            for (lo, current, b) in synced.iter().filter(|(_, _, b)| moved.contains(&b.legacy_order_id)) {
                self.report.orders.updated -= 1;
                self.report.orders.accepted -= 1;
                self.report.orders.owned_by_orderly += 1;
                self.files.owned.write_record([
                    lo.order_id.to_string(),
                    current.id.to_string(),
                    "changed in Orderly during the import".to_owned(),
                ])?;
                let _ = b;
            }
            self.written += (created.len() + to_sync.len() - moved.len()) as u64;
        }
        Ok(())
    }

    fn owned(
        &mut self,
        lo: &LegacyOrder,
        expected: &Order,
        current: &Order,
        r: &LegacyRecord,
        checksum: &str,
    ) -> anyhow::Result<()> {
        self.report.orders.owned_by_orderly += 1;
        self.accept(lo, current, true);
        let difference = if r.checksum == checksum {
            "legacy unchanged since import".to_owned()
        } else {
            let fields: Vec<String> = diff(current, expected)
                .into_iter()
                .map(|c| format!("{}: {} -> {}", c.field, c.from, c.to))
                .collect();
            format!("legacy changed: {}", fields.join("; "))
        };
        self.files
            .owned
            .write_record([lo.order_id.to_string(), current.id.to_string(), difference])?;
        Ok(())
    }

    fn reconcile_one(
        &mut self,
        lo: &LegacyOrder,
        expected: &Order,
        checksum: &str,
        record: Option<&LegacyRecord>,
        stored: Option<&Order>,
    ) -> anyhow::Result<()> {
        let id = lo.order_id.to_string();
        let (Some(r), Some(current)) = (record, stored) else {
            self.report.orders.accepted += 1;
            *self.report.by_legacy_status.entry(lo.letter.as_str()).or_default() += 1;
            self.report.totals_minor.entry(lo.currency.code()).or_default().source += lo.total;
            self.difference(&id, &expected.id.to_string(), "order", "present", "missing")?;
            return Ok(());
        };
        if r.owned_by_orderly() {
            return self.owned(lo, expected, current, r, checksum);
        }
        self.report.orders.unchanged += 1;
        self.accept(lo, current, false);
        if r.checksum != checksum {
            self.report.checksums_match = false;
            self.difference(&id, &current.id.to_string(), "checksum", checksum, &r.checksum)?;
        }
        for change in diff(expected, current) {
            self.difference(
                &id,
                &current.id.to_string(),
                &change.field,
                &change.from.to_string(),
                &change.to.to_string(),
            )?;
        }
        Ok(())
    }

    fn difference(
        &mut self,
        legacy_id: &str,
        orderly_id: &str,
        field: &str,
        export: &str,
        orderly: &str,
    ) -> anyhow::Result<()> {
        *self.report.differences.get_or_insert(0) += 1;
        if let Some(w) = &mut self.files.differences {
            w.write_record([legacy_id, orderly_id, field, export, orderly])?;
        }
        Ok(())
    }

    async fn walk(&mut self, export: &Partitioned) -> Result<(), RunError> {
        for rejection in &export.rejections {
            let order = rejection.file == ORDERS.name;
            self.reject(
                rejection.file,
                rejection.legacy_id.clone(),
                rejection.fault.clone(),
                order,
            )?;
        }
        let mut pending = Vec::with_capacity(self.opts.batch_size);
        for b in 0..export.buckets {
            let mut bucket = export.bucket(b)?;
            for (id, copies) in std::mem::take(&mut bucket.orders) {
                let items = bucket.items.remove(&id).unwrap_or_default();
                let payments = bucket.payments.remove(&id).unwrap_or_default();
                self.rows_read += (copies.len() + items.len() + payments.len()) as u64;
                if copies.len() > 1 {
                    if copies.iter().all(|c| c.iter().eq(copies[0].iter())) {
                        self.report.orders.duplicates_identical += (copies.len() - 1) as u64;
                    } else {
                        let fault = Fault::new(
                            Reason::DuplicateConflict,
                            format!("{} rows with this ORDER_ID differ", copies.len()),
                        );
                        self.reject(ORDERS.name, id.to_string(), fault, true)?;
                        continue;
                    }
                }
                match LegacyOrder::assemble(&copies[0], &items, &payments, &self.zones) {
                    Ok(lo) => pending.push(lo),
                    Err((place, fault)) => self.reject(file_of(place), id.to_string(), fault, true)?,
                }
                if pending.len() >= self.opts.batch_size {
                    self.batch(std::mem::take(&mut pending)).await?;
                }
            }
            let orphans = |rows: HashMap<i64, Vec<csv::StringRecord>>| {
                let mut all: Vec<String> = rows
                    .into_values()
                    .flatten()
                    .map(|r| r.get(0).unwrap_or("").to_owned())
                    .collect();
                all.sort();
                all
            };
            for item in orphans(std::mem::take(&mut bucket.items)) {
                self.rows_read += 1;
                self.reject(
                    ITEMS.name,
                    item,
                    Fault::new(Reason::OrphanItem, "no order has this ORDER_ID"),
                    false,
                )?;
            }
            for pay in orphans(std::mem::take(&mut bucket.payments)) {
                self.rows_read += 1;
                self.reject(
                    PAYMENTS.name,
                    pay,
                    Fault::new(Reason::OrphanPayment, "no order has this ORDER_ID"),
                    false,
                )?;
            }
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            let msg = format!(
                "rows {} written {} rejected {} ({:.0} orders/s)",
                self.rows_read,
                self.written,
                self.report.orders.rejected,
                self.report.orders.accepted as f64 / secs
            );
            self.meter.show("orders", (b + 1) as u64, export.buckets as u64, msg);
        }
        if !pending.is_empty() {
            self.batch(pending).await?;
        }
        Ok(())
    }

    /// PRODUCTS.csv folded per SKU; a bad row is rejected with its SKU as the legacy id.
    fn products(&mut self, export: &Partitioned) -> anyhow::Result<Vec<ProductRow>> {
        let mut by_sku: BTreeMap<String, ProductRow> = BTreeMap::new();
        for r in &export.products {
            let at = |i: usize| r.get(i).unwrap_or("");
            let read = || -> Result<(Sku, String, String, Money, i64), Fault> {
                let raw = fields::required("SKU", at(0))?;
                let sku =
                    Sku::parse(raw.trim()).map_err(|e| Fault::new(Reason::BadValue, format!("SKU `{raw}`: {e}")))?;
                let currency = fields::currency(at(3))?;
                let price = fields::amount("PRICE", at(4), currency)?;
                let on_hand = fields::integer("ON_HAND", at(5))?;
                if on_hand < 0 {
                    return Err(Fault::new(Reason::BadQuantity, format!("ON_HAND {on_hand}")));
                }
                use unicode_normalization::UnicodeNormalization;
                let name = |i: usize| {
                    nullable(at(i))
                        .map(|n| n.nfc().collect::<String>())
                        .unwrap_or_else(|| raw.to_owned())
                };
                Ok((sku, name(1), name(2), Money::new(price, currency), on_hand))
            };
            match read() {
                Ok((sku, name_en, name_ar, price, on_hand)) => {
                    let row = by_sku.entry(sku.as_str().to_owned()).or_insert_with(|| ProductRow {
                        product: Product {
                            sku: sku.clone(),
                            name_en,
                            name_ar,
                            prices: Vec::new(),
                            tax_class: TaxClass::Standard,
                            active: true,
                        },
                        on_hand,
                    });
                    row.product.prices.retain(|p| p.currency() != price.currency());
                    row.product.prices.push(price);
                    row.product.prices.sort_by_key(|p| p.currency());
                }
                Err(fault) => {
                    let sku = at(0).to_owned();
                    self.reject(PRODUCTS.name, sku, fault, false)?;
                }
            }
        }
        Ok(by_sku.into_values().collect())
    }

    /// What Orderly's own orders (placed in Orderly, or imported and changed since) hold reserved: the units not yet
    /// shipped of those still open or confirmed. The import must not take their reservations away.
    async fn add_orderly_reservations(&mut self) -> Result<(), RunError> {
        let mut after = None;
        loop {
            let page = self
                .store
                .orders_changed_since(OffsetDateTime::UNIX_EPOCH, after, 1000)
                .await?;
            let Some(last) = page.last() else { return Ok(()) };
            after = Some(crate::store::OrderCursor {
                created_at: last.updated_at,
                id: last.id,
            });
            for o in page
                .iter()
                .filter(|o| matches!(o.status.order, OrderStatus::Open | OrderStatus::Confirmed))
            {
                for (sku, units) in o.unshipped() {
                    *self.reserved.entry(sku).or_default() += units;
                }
            }
        }
    }

    /// The products and stock that differ from the store's, with reservations from the accepted orders.
    async fn catalog_changes(&mut self, rows: Vec<ProductRow>) -> Result<(Vec<Product>, Vec<StockCount>), RunError> {
        self.add_orderly_reservations().await?;
        let mut products = Vec::new();
        let mut stock = Vec::new();
        for row in rows {
            let mut product = row.product;
            let existing = self.store.get_product(&product.sku).await?;
            if let Some(e) = &existing {
                // What the legacy export does not know stays as Orderly has it.
                product.tax_class = e.tax_class;
                product.active = e.active;
            }
            if existing.as_ref() != Some(&product) {
                products.push(product.clone());
            }
            let wanted = self.reserved.get(&product.sku).copied().unwrap_or(0);
            if wanted > row.on_hand {
                self.report.stock_short.push(product.sku.as_str().to_owned());
            }
            let count = StockCount {
                sku: product.sku.clone(),
                on_hand: row.on_hand,
                reserved: wanted.min(row.on_hand),
            };
            let current = self.store.get_stock(&product.sku).await?;
            if current.is_none_or(|c| c.on_hand != count.on_hand || c.reserved != count.reserved) {
                stock.push(count);
            }
        }
        Ok((products, stock))
    }
}

/// Runs an import or a reconciliation and writes its report. Returns the report.
pub async fn run(store: &dyn MigrationStore, vat: &VatTable, opts: &Options) -> Result<Report, RunError> {
    let digest = source::digest(&opts.from)?;
    std::fs::create_dir_all(&opts.report).map_err(anyhow::Error::from)?;
    let spill = tempfile::Builder::new()
        .prefix(".spill-")
        .tempdir_in(&opts.report)
        .map_err(anyhow::Error::from)?;
    let mut meter = Meter::new();
    let export = Partitioned::read(&opts.from, opts.encoding, spill.path(), &mut |done, total| {
        meter.show("reading", done, total, format!("{} of {} MB of export read", done >> 20, total >> 20));
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
        store,
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

/// Where `path` is, for messages.
pub fn shown(path: &Path) -> String {
    path.display().to_string()
}
