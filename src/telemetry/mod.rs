//! What operators see: Prometheus metrics (`metrics`) and JSON log lines (`logging`), which name the caller only
//! by a keyed hash (`principal`).

pub mod logging;
pub mod metrics;
pub mod principal;
pub mod process;

pub use metrics::Metrics;
