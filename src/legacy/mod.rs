//! Migration from the legacy order system: `orderly import legacy`, `orderly reconcile legacy` and
//! `orderly export legacy` (docs/migration.md is the runbook, `../shared/legacy-export.md` the file contract).

pub mod commands;
pub mod export;
pub mod fields;
pub mod order;
pub mod report;
pub mod run;
pub mod source;
