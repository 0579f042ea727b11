//! JSON log lines on stdout, and the per-request context (request id, W3C trace id).
//!
//! Request logs carry the route template, never the raw path or query, and no header values other than the
//! request id and trace id: tokens, addresses and phone numbers never reach a log line.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// Installs the global JSON subscriber. `level` is an `EnvFilter` directive such as `info` or `orderly=debug`.
pub fn init(level: &str) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_span_events(FmtSpan::NONE)
        .with_env_filter(filter)
        .with_writer(std::io::stdout)
        .try_init();
}

/// The trace id of a W3C `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex>`), if well formed and not all zeros.
pub fn trace_id(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.trim().split('-');
    let version = parts.next()?;
    let trace = parts.next()?;
    let parent = parts.next()?;
    let flags = parts.next()?;
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let ok = hex(version, 2) && version != "ff" && hex(trace, 32) && hex(parent, 16) && hex(flags, 2);
    (ok && trace.bytes().any(|b| b != b'0')).then_some(trace)
}

/// A caller's `X-Request-Id` if it is safe to log and echo (1 to 128 visible ASCII characters), else a new one.
pub fn request_id(incoming: Option<&str>) -> String {
    match incoming {
        Some(id) if !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic()) => id.to_owned(),
        _ => uuid::Uuid::now_v7().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_trace_id_of_a_valid_traceparent() {
        let tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(trace_id(tp), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert_eq!(
            trace_id("00-00000000000000000000000000000000-00f067aa0ba902b7-01"),
            None
        );
        assert_eq!(trace_id("garbage"), None);
    }

    #[test]
    fn unsafe_request_ids_are_replaced() {
        assert_eq!(request_id(Some("abc-123")), "abc-123");
        assert_ne!(request_id(Some("has space")), "has space");
        assert_eq!(request_id(None).len(), 36);
    }
}
