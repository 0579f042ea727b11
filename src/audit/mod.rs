//! The tamper-evident audit trail: the hash chains (`chain`) that order events and audit rows are written into,
//! and `orderly verify` (`verify`), which walks both and names the first broken link. ADR 0010 explains the design.

pub mod chain;
pub mod verify;
