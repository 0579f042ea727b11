//! What operators see: Prometheus metrics (`metrics`) and JSON log lines (`logging`).

pub mod logging;
pub mod metrics;
pub mod process;

pub use metrics::Metrics;
