//! Settings: defaults, then an optional TOML file, then `ORDERLY_*` environment variables (highest wins).
//!
//! Secrets (`database_url`, `jwt_secret`, `log_principal_salt`) are `SecretString`s: they print as `[REDACTED]` in `Debug` and are
//! masked by `redacted()`, which is what `orderly config` and the startup log show.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::domain::Money;
use crate::domain::currency::Currency;
use crate::domain::pricing::{PricingPolicy, ShippingFees};
use crate::domain::tax::{BasisPoints, PriceMode, VatTable};
use crate::domain::values::{CountryCode, StoreCode};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Production,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `production` refuses development conveniences such as the generated JWT key.
    pub env: Environment,
    pub listen: SocketAddr,
    pub admin_listen: SocketAddr,
    /// A PostgreSQL URL selects PostgreSQL; unset or empty, the SQLite file at `sqlite_path` is used.
    pub database_url: Option<SecretString>,
    pub sqlite_path: PathBuf,
    pub db_max_connections: u32,
    pub db_acquire_timeout_ms: u64,
    /// Ping a pooled connection before handing it out (one extra round trip per request; off by default).
    pub db_test_before_acquire: bool,
    /// `database_url` reaches a transaction-mode pooler (PgBouncer), not PostgreSQL itself: no start-up settings,
    /// no prepared statement kept across transactions, reads in transactions (docs/operations.md, "PgBouncer").
    pub db_transaction_pooler: bool,
    /// PostgreSQL `statement_timeout` of reads. Writes have none: their COMMIT may be waiting for a synchronous
    /// standby, which a timeout must never cut short (ADR 0012); their lock waits are bounded by `lock_timeout`.
    pub db_statement_timeout_ms: u64,
    /// Apply migrations when `serve` starts. Defaults to true on SQLite and in development.
    pub migrate_on_start: Option<bool>,
    /// How long a duplicate request waits for the first one with its Idempotency-Key.
    pub idempotency_wait_ms: u64,
    pub idempotency_ttl_secs: u64,
    /// HS256 shared secret (at least 32 bytes).
    pub jwt_secret: Option<SecretString>,
    /// RS256/ES256 public key (PEM) for verifying tokens.
    pub jwt_public_key_file: Option<PathBuf>,
    /// RS256/ES256 private key (PEM), used only by `orderly token`.
    pub jwt_private_key_file: Option<PathBuf>,
    pub jwt_algorithm: String,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// Verify RS256/ES256/EdDSA tokens against this JWKS file, keys chosen by `kid` (re-read like the URL).
    pub jwt_jwks_file: Option<PathBuf>,
    /// Or against the JWKS at this URL (HTTPS in production), fetched at startup and cached.
    pub jwt_jwks_url: Option<String>,
    /// The JWKS is reloaded this often, so a key the IdP withdrew stops being trusted.
    pub jwt_jwks_refresh_secs: u64,
    /// A token with an unknown `kid` reloads the JWKS early, but at most once per this interval.
    pub jwt_jwks_min_refresh_secs: u64,
    /// Longest accepted token lifetime, `exp - iat` (or `exp - now` for a token without `iat`).
    pub jwt_max_lifetime_secs: u64,
    /// Refuse tokens whose header `typ` is not `at+jwt` (RFC 9068 access tokens).
    pub jwt_require_typ: bool,
    /// The `kid` that `orderly token` writes into the header (development with a JWKS).
    pub jwt_key_id: Option<String>,
    /// Development only: where the generated HS256 key lives, shared by `serve` and `token`.
    pub dev_key_file: PathBuf,
    pub store_code: String,
    pub prices_include_tax: bool,
    /// Overrides of the VAT table, e.g. `AE=500,SA=1500` (basis points).
    pub vat_rates: String,
    /// Flat shipping fee per currency in minor units, e.g. `KWD=1000,AED=1500`.
    pub shipping_fees: String,
    pub max_body_bytes: usize,
    pub max_lines: usize,
    pub max_quantity: u32,
    pub request_timeout_ms: u64,
    /// After SIGTERM: keep serving (while reporting not ready) this long so load balancers notice.
    pub shutdown_delay_ms: u64,
    /// Then: how long in-flight requests get to finish.
    pub drain_timeout_ms: u64,
    /// A client has this long from its first byte (or from connecting) to send a whole request head.
    pub header_read_timeout_ms: u64,
    /// Cap on a request head (request line and headers); a larger one answers 431. At least 8192.
    pub max_header_bytes: usize,
    /// A keep-alive connection with no request for this long is closed.
    pub idle_timeout_ms: u64,
    /// Cap on open API connections; beyond it new connections wait in the listen backlog.
    pub max_connections: u32,
    /// Cap on requests being processed at once; beyond it requests are shed at once (503 `overloaded`).
    pub max_in_flight: u32,
    /// Key of the HMAC that turns a token's `sub` into the `principal` field of request log lines.
    pub log_principal_salt: Option<SecretString>,
    pub log_level: String,
    /// NATS server for the outbox relay, e.g. `nats://nats:4222`. Unset: the relay is off (events are still kept).
    pub nats_url: Option<SecretString>,
    pub nats_stream: String,
    /// JetStream de-duplication window; a relay crash is harmless if it restarts within it.
    pub nats_duplicate_window_secs: u64,
    pub outbox_batch_size: u32,
    /// How often an idle relay looks for new events.
    pub outbox_poll_ms: u64,
    /// Token buckets (requests per second refilled, and the bucket's size): per principal for customers (tokens
    /// holding only `:own` scopes) and staff (any other token), per client IP for requests without a valid
    /// token. A rate of 0 turns that class's limit off; a burst of 0 means one second's worth.
    pub rate_limit_customer_per_sec: u32,
    pub rate_limit_customer_burst: u32,
    pub rate_limit_staff_per_sec: u32,
    pub rate_limit_staff_burst: u32,
    pub rate_limit_ip_per_sec: u32,
    pub rate_limit_ip_burst: u32,
    /// How many proxies in front of the service append to `X-Forwarded-For` (0: the header is ignored and the
    /// peer address is the client; 1: one ingress, the right-most entry is the client).
    pub rate_limit_trusted_hops: u32,
    /// How many unpaid orders (card `pending`, COD `cod_pending` not yet shipped) one customer may have open at
    /// once; 0 turns the cap off.
    pub max_open_unpaid_orders_per_customer: u32,
    /// A card order still not authorised this long after it was placed is expired and its stock released; 0
    /// turns expiry off.
    pub unpaid_order_ttl_secs: u64,
    /// How often the expiry sweeper looks for such orders.
    pub expiry_sweep_interval_ms: u64,
    /// Key of the HMAC that binds the operations console's CSRF tokens to a session. Unset: derived from
    /// `jwt_secret`, or random per process without one (then every replica needs the same key set here).
    pub console_session_key: Option<SecretString>,
    /// The seller on tax invoices: legal name and VAT registration number (required in production). Read as text
    /// even when it looks like a number (a VAT number is digits; see `seller::exact_from_env`).
    #[serde(deserialize_with = "seller::text")]
    pub seller_name: Option<String>,
    #[serde(deserialize_with = "seller::text")]
    pub seller_vat_number: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            env: Environment::Development,
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            admin_listen: SocketAddr::from(([0, 0, 0, 0], 9090)),
            database_url: None,
            sqlite_path: PathBuf::from("orderly.db"),
            db_max_connections: 10,
            db_acquire_timeout_ms: 2_000,
            db_test_before_acquire: false,
            db_transaction_pooler: false,
            db_statement_timeout_ms: 30_000,
            migrate_on_start: None,
            idempotency_wait_ms: 5_000,
            idempotency_ttl_secs: 24 * 3600,
            jwt_secret: None,
            jwt_public_key_file: None,
            jwt_private_key_file: None,
            jwt_algorithm: "HS256".into(),
            jwt_issuer: "orderly".into(),
            jwt_audience: "orderly-api".into(),
            jwt_jwks_file: None,
            jwt_jwks_url: None,
            jwt_jwks_refresh_secs: 300,
            jwt_jwks_min_refresh_secs: 30,
            jwt_max_lifetime_secs: 3600,
            jwt_require_typ: false,
            jwt_key_id: None,
            dev_key_file: PathBuf::from("orderly-dev.key"),
            store_code: "KW".into(),
            prices_include_tax: false,
            vat_rates: String::new(),
            shipping_fees: String::new(),
            max_body_bytes: 64 * 1024,
            max_lines: 100,
            max_quantity: 1_000,
            request_timeout_ms: 10_000,
            shutdown_delay_ms: 5_000,
            drain_timeout_ms: 20_000,
            header_read_timeout_ms: 10_000,
            max_header_bytes: 32 * 1024,
            idle_timeout_ms: 60_000,
            max_connections: 1_024,
            max_in_flight: 512,
            log_principal_salt: None,
            log_level: "info".into(),
            nats_url: None,
            nats_stream: "ORDERLY_ORDERS".into(),
            nats_duplicate_window_secs: 600,
            outbox_batch_size: 200,
            outbox_poll_ms: 100,
            rate_limit_customer_per_sec: 5,
            rate_limit_customer_burst: 20,
            rate_limit_staff_per_sec: 200,
            rate_limit_staff_burst: 400,
            rate_limit_ip_per_sec: 20,
            rate_limit_ip_burst: 40,
            rate_limit_trusted_hops: 0,
            max_open_unpaid_orders_per_customer: 5,
            unpaid_order_ttl_secs: 1800,
            expiry_sweep_interval_ms: 30_000,
            console_session_key: None,
            seller_name: None,
            seller_vat_number: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration: {0}")]
    Invalid(String),
}

fn invalid(msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(msg.into())
}

/// Parses `K=V,K=V` lists.
fn pairs(raw: &str) -> Result<Vec<(String, i64)>, ConfigError> {
    raw.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| invalid(format!("`{p}` is not KEY=VALUE")))?;
            let v = v
                .trim()
                .parse::<i64>()
                .map_err(|_| invalid(format!("`{p}`: value is not an integer")))?;
            Ok((k.trim().to_owned(), v))
        })
        .collect()
}

impl Config {
    /// Loads from defaults, the file (if given) and the environment, then validates.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(DefaultsOnly::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(invalid(format!("config file {} does not exist", path.display())));
            }
            figment = figment.merge(Toml::file(path));
        }
        // Only the names this struct knows; ORDERLY_TEST_* and friends are not settings.
        let figment = figment.merge(Env::prefixed("ORDERLY_").only(FIELDS).lowercase(true));
        let mut config: Config = figment.extract().map_err(|e| ConfigError::Load(Box::new(e)))?;
        if config
            .database_url
            .as_ref()
            .is_some_and(|u| u.expose_secret().trim().is_empty())
        {
            config.database_url = None;
        }
        if config
            .nats_url
            .as_ref()
            .is_some_and(|u| u.expose_secret().trim().is_empty())
        {
            config.nats_url = None;
        }
        if config
            .log_principal_salt
            .as_ref()
            .is_some_and(|u| u.expose_secret().is_empty())
        {
            config.log_principal_salt = None;
        }
        // An empty variable (a ConfigMap lists every setting) means unset.
        config.jwt_jwks_url = config.jwt_jwks_url.filter(|u| !u.trim().is_empty());
        config.jwt_jwks_file = config.jwt_jwks_file.filter(|p| !p.as_os_str().is_empty());
        config.jwt_key_id = config.jwt_key_id.filter(|k| !k.is_empty());
        seller::exact_from_env(&mut config);
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.store_code()?;
        self.pricing_policy()?;
        if self.max_lines == 0 || self.max_quantity == 0 || self.max_body_bytes < 1024 {
            return Err(invalid(
                "max_lines and max_quantity must be positive, max_body_bytes at least 1024",
            ));
        }
        self.validate_connections()?;
        if self.db_transaction_pooler && self.migrate_on_start == Some(true) {
            return Err(invalid(
                "migrate_on_start cannot be true with db_transaction_pooler: migrations hold a session-level lock, \
                 which a transaction pooler cannot keep; run `orderly migrate` against PostgreSQL itself",
            ));
        }
        keys::validate(self)?;
        // After the keys: a production start without either names the key first, as it always has.
        self.seller().map(|_| ())
    }

    pub fn store_code(&self) -> Result<StoreCode, ConfigError> {
        StoreCode::parse(&self.store_code).map_err(|e| invalid(format!("store_code: {e}")))
    }

    pub fn pricing_policy(&self) -> Result<PricingPolicy, ConfigError> {
        let mut rates = Vec::new();
        for (country, bp) in pairs(&self.vat_rates)? {
            let c = CountryCode::parse(&country).map_err(|e| invalid(format!("vat_rates: {e}")))?;
            let r = BasisPoints::new(bp).map_err(|e| invalid(format!("vat_rates: {e}")))?;
            rates.push((c, r));
        }
        let mut fees = Vec::new();
        for (code, minor) in pairs(&self.shipping_fees)? {
            let currency: Currency = code.parse().map_err(|e| invalid(format!("shipping_fees: {e}")))?;
            if minor < 0 {
                return Err(invalid("shipping_fees must not be negative"));
            }
            fees.push(Money::new(minor, currency));
        }
        Ok(PricingPolicy {
            vat: VatTable::default().with_rates(rates),
            price_mode: if self.prices_include_tax {
                PriceMode::Inclusive
            } else {
                PriceMode::Exclusive
            },
            shipping: ShippingFees::new(fees),
        })
    }

    pub fn uses_postgres(&self) -> bool {
        self.database_url.is_some()
    }

    pub fn migrate_on_start(&self) -> bool {
        self.migrate_on_start
            .unwrap_or(!self.uses_postgres() || (self.env == Environment::Development && !self.db_transaction_pooler))
    }

    /// The relay's settings, when NATS is configured.
    pub fn relay(&self) -> Option<crate::outbox::RelaySettings> {
        let url = self.nats_url.as_ref()?;
        Some(crate::outbox::RelaySettings {
            nats_url: url.expose_secret().to_owned(),
            stream: self.nats_stream.clone(),
            batch: self.outbox_batch_size.max(1),
            poll: Config::ms(self.outbox_poll_ms),
            duplicate_window: Duration::from_secs(self.nats_duplicate_window_secs),
        })
    }

    pub fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }
}

mod abuse;
mod keys;
mod listener;
mod names;
mod seller;

pub use names::redact_url;
use names::{DefaultsOnly, FIELDS};

#[cfg(test)]
mod tests;
