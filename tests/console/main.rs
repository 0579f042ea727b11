//! The operations console, end to end: six scenarios in a real (headless) chromium (`scenarios`), the edit form
//! (`edits`), and plain HTTP checks of security headers, cookies, CSRF, scopes, page weight, metrics and the
//! catalog forms (`http`), each on SQLite and PostgreSQL.

#[path = "../common/mod.rs"]
mod common;

mod browser;
mod catalog;
mod edits;
mod http;
mod scenarios;
mod sessions;
mod support;
