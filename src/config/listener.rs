//! The API listener's settings: `header_read_timeout_ms`, `max_header_bytes`, `idle_timeout_ms`,
//! `max_connections` (see `crate::connections`); `max_in_flight` is read where the state is built.

use super::{Config, ConfigError, invalid};

impl Config {
    /// hyper refuses a read buffer under 8 KiB, and a zero timeout or cap would refuse every client.
    pub(super) fn validate_connections(&self) -> Result<(), ConfigError> {
        if self.max_header_bytes < 8192 {
            return Err(invalid("max_header_bytes must be at least 8192"));
        }
        if self.header_read_timeout_ms == 0 || self.idle_timeout_ms == 0 {
            return Err(invalid("header_read_timeout_ms and idle_timeout_ms must be positive"));
        }
        if self.max_connections == 0 || self.max_in_flight == 0 {
            return Err(invalid("max_connections and max_in_flight must be positive"));
        }
        Ok(())
    }

    /// The API listener's connection limits.
    pub fn connections(&self) -> crate::connections::ConnectionLimits {
        crate::connections::ConnectionLimits {
            header_read_timeout: Config::ms(self.header_read_timeout_ms),
            max_header_bytes: self.max_header_bytes,
            idle_timeout: Config::ms(self.idle_timeout_ms),
            max_connections: self.max_connections,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_cap_hyper_would_panic_on_and_zero_limits_are_refused() {
        assert!(Config::default().validate().is_ok());
        for bad in [
            Config {
                max_header_bytes: 4096,
                ..Config::default()
            },
            Config {
                header_read_timeout_ms: 0,
                ..Config::default()
            },
            Config {
                max_in_flight: 0,
                ..Config::default()
            },
        ] {
            assert!(bad.validate().is_err());
        }
    }
}
