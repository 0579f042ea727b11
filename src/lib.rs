#![recursion_limit = "256"] // serde_json::json! in Config::redacted lists every setting
//! Orderly: the order system of a Gulf e-commerce business.
//!
//! - `domain`: money, VAT, pricing, stock and the order aggregate with its status machines. Pure, no I/O.
//! - `store`: the persistence port and its PostgreSQL and SQLite adapters.
//! - `http`: the axum adapter: one module per resource, problem+json errors, auth, idempotency headers.
//! - `console`: the operations console, server-rendered pages under `/console/` in English and Arabic.
//! - `audit`: the hash chains of order events and audit rows, and `orderly verify`, which walks them.
//! - `auth`: JWT verification and the development token minter.
//! - `expiry`: the sweeper that cancels card orders left unpaid past their time.
//! - `outbox`: the relay that publishes order events to NATS JetStream.
//! - `telemetry`: Prometheus metrics and JSON logs.
//! - `config`: settings from `ORDERLY_*` variables and an optional file, secrets redacted.
//! - `connections`: the API listener's accept loop: head and idle timeouts, header and connection caps.
//! - `server`: builds the application, binds the API and admin listeners, drains on SIGTERM.
//! - `cli`: the `orderly` command line.

pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod connections;
pub mod console;
pub mod domain;
pub mod expiry;
pub mod http;
pub mod legacy;
pub mod outbox;
pub mod server;
pub mod shutdown;
pub mod store;
pub mod telemetry;
