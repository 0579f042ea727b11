//! The names of the settings: `FIELDS` (which `ORDERLY_*` variables are read), the redacted view that
//! `orderly config` and the startup log show, and the defaults figment starts from (the same view, secrets left out).

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::Config;

impl Config {
    /// The effective configuration as JSON, secrets masked.
    pub fn redacted(&self) -> serde_json::Value {
        let secret = |s: &Option<SecretString>| s.as_ref().map(|_| "[REDACTED]");
        serde_json::json!({
            "env": self.env,
            "listen": self.listen.to_string(),
            "admin_listen": self.admin_listen.to_string(),
            "database_url": self.database_url.as_ref().map(|u| redact_url(u.expose_secret())),
            "sqlite_path": self.sqlite_path,
            "db_max_connections": self.db_max_connections,
            "db_acquire_timeout_ms": self.db_acquire_timeout_ms,
            "db_test_before_acquire": self.db_test_before_acquire,
            "db_transaction_pooler": self.db_transaction_pooler,
            "db_statement_timeout_ms": self.db_statement_timeout_ms,
            "migrate_on_start": self.migrate_on_start(),
            "idempotency_wait_ms": self.idempotency_wait_ms,
            "idempotency_ttl_secs": self.idempotency_ttl_secs,
            "jwt_secret": secret(&self.jwt_secret),
            "jwt_public_key_file": self.jwt_public_key_file,
            "jwt_private_key_file": self.jwt_private_key_file,
            "jwt_algorithm": self.jwt_algorithm,
            "jwt_issuer": self.jwt_issuer,
            "jwt_audience": self.jwt_audience,
            "jwt_jwks_file": self.jwt_jwks_file,
            "jwt_jwks_url": self.jwt_jwks_url.as_deref().map(redact_url),
            "jwt_jwks_refresh_secs": self.jwt_jwks_refresh_secs,
            "jwt_jwks_min_refresh_secs": self.jwt_jwks_min_refresh_secs,
            "jwt_max_lifetime_secs": self.jwt_max_lifetime_secs,
            "jwt_require_typ": self.jwt_require_typ,
            "jwt_key_id": self.jwt_key_id,
            "dev_key_file": self.dev_key_file,
            "store_code": self.store_code,
            "prices_include_tax": self.prices_include_tax,
            "vat_rates": self.vat_rates,
            "shipping_fees": self.shipping_fees,
            "max_body_bytes": self.max_body_bytes,
            "max_lines": self.max_lines,
            "max_quantity": self.max_quantity,
            "request_timeout_ms": self.request_timeout_ms,
            "shutdown_delay_ms": self.shutdown_delay_ms,
            "drain_timeout_ms": self.drain_timeout_ms,
            "header_read_timeout_ms": self.header_read_timeout_ms,
            "max_header_bytes": self.max_header_bytes,
            "idle_timeout_ms": self.idle_timeout_ms,
            "max_connections": self.max_connections,
            "max_in_flight": self.max_in_flight,
            "log_principal_salt": secret(&self.log_principal_salt),
            "log_level": self.log_level,
            "nats_url": self.nats_url.as_ref().map(|u| redact_url(u.expose_secret())),
            "nats_stream": self.nats_stream,
            "nats_duplicate_window_secs": self.nats_duplicate_window_secs,
            "outbox_batch_size": self.outbox_batch_size,
            "outbox_poll_ms": self.outbox_poll_ms,
            "rate_limit_customer_per_sec": self.rate_limit_customer_per_sec,
            "rate_limit_customer_burst": self.rate_limit_customer_burst,
            "rate_limit_staff_per_sec": self.rate_limit_staff_per_sec,
            "rate_limit_staff_burst": self.rate_limit_staff_burst,
            "rate_limit_ip_per_sec": self.rate_limit_ip_per_sec,
            "rate_limit_ip_burst": self.rate_limit_ip_burst,
            "rate_limit_trusted_hops": self.rate_limit_trusted_hops,
            "max_open_unpaid_orders_per_customer": self.max_open_unpaid_orders_per_customer,
            "unpaid_order_ttl_secs": self.unpaid_order_ttl_secs,
            "expiry_sweep_interval_ms": self.expiry_sweep_interval_ms,
            "console_session_key": secret(&self.console_session_key),
            "seller_name": self.seller_name,
            "seller_vat_number": self.seller_vat_number,
        })
    }
}

/// Every setting name, for the environment filter.
pub(super) const FIELDS: &[&str] = &[
    "env",
    "listen",
    "admin_listen",
    "database_url",
    "sqlite_path",
    "db_max_connections",
    "db_acquire_timeout_ms",
    "db_test_before_acquire",
    "db_transaction_pooler",
    "db_statement_timeout_ms",
    "migrate_on_start",
    "idempotency_wait_ms",
    "idempotency_ttl_secs",
    "jwt_secret",
    "jwt_public_key_file",
    "jwt_private_key_file",
    "jwt_algorithm",
    "jwt_issuer",
    "jwt_audience",
    "jwt_jwks_file",
    "jwt_jwks_url",
    "jwt_jwks_refresh_secs",
    "jwt_jwks_min_refresh_secs",
    "jwt_max_lifetime_secs",
    "jwt_require_typ",
    "jwt_key_id",
    "dev_key_file",
    "store_code",
    "prices_include_tax",
    "vat_rates",
    "shipping_fees",
    "max_body_bytes",
    "max_lines",
    "max_quantity",
    "request_timeout_ms",
    "shutdown_delay_ms",
    "drain_timeout_ms",
    "header_read_timeout_ms",
    "max_header_bytes",
    "idle_timeout_ms",
    "max_connections",
    "max_in_flight",
    "log_principal_salt",
    "log_level",
    "nats_url",
    "nats_stream",
    "nats_duplicate_window_secs",
    "outbox_batch_size",
    "outbox_poll_ms",
    "rate_limit_customer_per_sec",
    "rate_limit_customer_burst",
    "rate_limit_staff_per_sec",
    "rate_limit_staff_burst",
    "rate_limit_ip_per_sec",
    "rate_limit_ip_burst",
    "rate_limit_trusted_hops",
    "max_open_unpaid_orders_per_customer",
    "unpaid_order_ttl_secs",
    "expiry_sweep_interval_ms",
    "console_session_key",
    "seller_name",
    "seller_vat_number",
];

/// Figment needs serializable defaults; secrets have none, so this mirror leaves them out.
#[derive(Serialize)]
pub(super) struct DefaultsOnly(serde_json::Value);

impl Default for DefaultsOnly {
    fn default() -> Self {
        let mut v = Config::default().redacted();
        if let Some(map) = v.as_object_mut() {
            map.retain(|_, value| !value.is_null());
            map.remove("migrate_on_start");
        }
        DefaultsOnly(v)
    }
}

/// `postgres://user:secret@host/db?sslpassword=x` -> `postgres://user:[REDACTED]@host/db?[REDACTED]`.
pub fn redact_url(url: &str) -> String {
    let (url, query) = match url.split_once('?') {
        Some((base, _)) => (base, "?[REDACTED]"),
        None => (url, ""),
    };
    let Some((scheme, rest)) = url.split_once("://") else {
        return "[REDACTED]".into();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:[REDACTED]@{host}{query}")
        }
        None => format!("{scheme}://{rest}{query}"),
    }
}
