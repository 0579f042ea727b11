//! The reconciliation's side of a batch: each accepted legacy order against what the store holds.

use super::order::LegacyOrder;
use super::projection::diff;
use super::run::Engine;
use crate::domain::order::Order;
use crate::store::backfill::LegacyRecord;

impl Engine<'_> {
    pub(super) fn owned(
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

    pub(super) fn reconcile_one(
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

    pub(super) fn difference(
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
}
