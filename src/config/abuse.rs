//! The settings of abuse control as the parts that use them want them (docs/configuration.md, "Abuse control").

use std::time::Duration;

use super::Config;
use crate::expiry::ExpirySettings;
use crate::http::ratelimit::{Rate, RateSettings};

impl Config {
    /// The rate limits of the API port.
    pub fn rate_limits(&self) -> RateSettings {
        RateSettings {
            customer: Rate::new(self.rate_limit_customer_per_sec, self.rate_limit_customer_burst),
            staff: Rate::new(self.rate_limit_staff_per_sec, self.rate_limit_staff_burst),
            ip: Rate::new(self.rate_limit_ip_per_sec, self.rate_limit_ip_burst),
            trusted_hops: self.rate_limit_trusted_hops,
        }
    }

    /// The expiry sweeper's settings, when expiry is on.
    pub fn expiry(&self) -> Option<ExpirySettings> {
        (self.unpaid_order_ttl_secs > 0).then(|| ExpirySettings {
            ttl: Duration::from_secs(self.unpaid_order_ttl_secs),
            interval: Config::ms(self.expiry_sweep_interval_ms.max(10)),
            batch: 100,
        })
    }
}
