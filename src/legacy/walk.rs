//! The second pass: one bucket at a time, each legacy order with its items and payments, duplicates and
//! orphans found, and the accepted orders handed on in batches.

use std::collections::HashMap;

use super::fields::{Fault, Reason};
use super::order::{LegacyOrder, Place};
use super::run::{Engine, RunError};
use super::source::{ITEMS, ORDERS, PAYMENTS, Partitioned};

fn file_of(place: Place) -> &'static str {
    match place {
        Place::Orders => ORDERS.name,
        Place::Items => ITEMS.name,
        Place::Payments => PAYMENTS.name,
    }
}

impl Engine<'_> {
    pub(super) async fn walk(&mut self, export: &Partitioned) -> Result<(), RunError> {
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
}
