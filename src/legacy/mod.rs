//! Migration from the legacy order system: `orderly import legacy`, `orderly reconcile legacy` and
//! `orderly export legacy` (docs/migration.md is the runbook, `../shared/legacy-export.md` the file contract).

mod catalog;
mod checksum;
pub mod commands;
pub mod export;
pub mod fields;
mod mapping;
mod meter;
pub mod order;
pub mod projection;
mod reconcile;
pub mod report;
pub mod run;
pub mod source;
mod walk;
