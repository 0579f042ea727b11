//! Token buckets in front of every API request, so one caller cannot take the service (or the stock) for
//! itself: a request with a valid bearer token draws from its principal's bucket (customers, holding only `:own`
//! scopes, get a smaller one than staff), any other request from its client IP's. Every request draws, whatever
//! it then turns out to be, so requests that fail validation cost as much as those that succeed. An empty bucket
//! answers 429 `rate_limited` with `Retry-After`: the seconds until it holds a token again.
//!
//! The buckets live in this process (governor's GCRA, one keyed limiter per class): with N replicas a caller
//! gets up to N times the rate (docs/operations.md). Keys of callers whose bucket has refilled are dropped every
//! few seconds by a background task, so the maps stay as small as the set of recently active callers; IPv6
//! clients are keyed by their /64, which is what one subscriber gets.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::AppState;
use super::error::ApiError;
use crate::auth::Principal;

/// One class's refill rate and bucket size. A rate of 0 means unlimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub per_sec: u32,
    pub burst: u32,
}

impl Rate {
    pub fn new(per_sec: u32, burst: u32) -> Self {
        Rate { per_sec, burst }
    }

    /// The quota, or `None` when unlimited. A burst of 0 is one second's worth of requests.
    fn quota(self) -> Option<Quota> {
        let per_sec = NonZeroU32::new(self.per_sec)?;
        let burst = NonZeroU32::new(self.burst).unwrap_or(per_sec);
        Some(Quota::per_second(per_sec).allow_burst(burst))
    }
}

#[derive(Clone, Copy, Debug)]
pub struct RateSettings {
    pub customer: Rate,
    pub staff: Rate,
    pub ip: Rate,
    /// Proxies in front that append to `X-Forwarded-For`; 0 ignores the header.
    pub trusted_hops: u32,
}

/// How often buckets that have refilled (and so hold nothing worth keeping) are dropped.
const RETAIN_EVERY: Duration = Duration::from_secs(10);

/// The buckets of the API port.
pub struct RateLimits {
    customer: Option<DefaultKeyedRateLimiter<String>>,
    staff: Option<DefaultKeyedRateLimiter<String>>,
    ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    trusted_hops: u32,
    clock: DefaultClock,
}

/// Whose bucket a request draws from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    Customer(String),
    Staff(String),
    Ip(IpAddr),
    /// No peer address is known (a test harness without connect info): nothing to key on, not limited.
    Unknown,
}

impl RateLimits {
    /// The buckets for `settings`; inside a tokio runtime also the task that keeps them small, which ends when
    /// the limits are dropped.
    pub fn new(settings: RateSettings) -> Arc<Self> {
        let clock = DefaultClock::default();
        let limits = Arc::new(RateLimits {
            customer: keyed(settings.customer, &clock),
            staff: keyed(settings.staff, &clock),
            ip: keyed(settings.ip, &clock),
            trusted_hops: settings.trusted_hops,
            clock: clock.clone(),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(retain_recent(Arc::downgrade(&limits)));
        }
        limits
    }

    /// Draws one token from `caller`'s bucket; `Err` holds the seconds until one is available (at least 1).
    pub fn check(&self, caller: &Caller) -> Result<(), u64> {
        let outcome = match caller {
            Caller::Customer(sub) => self.customer.as_ref().map(|l| l.check_key(sub)),
            Caller::Staff(sub) => self.staff.as_ref().map(|l| l.check_key(sub)),
            Caller::Ip(ip) => self.ip.as_ref().map(|l| l.check_key(ip)),
            Caller::Unknown => None,
        };
        match outcome {
            None | Some(Ok(())) => Ok(()),
            Some(Err(not_until)) => {
                let wait = not_until.wait_time_from(self.clock.now());
                // Round up: a client that waits the whole seconds it was told finds a token.
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(secs.max(1))
            }
        }
    }

    /// How many callers have a bucket right now (for tests and debugging).
    pub fn tracked(&self) -> usize {
        self.customer.as_ref().map_or(0, |l| l.len())
            + self.staff.as_ref().map_or(0, |l| l.len())
            + self.ip.as_ref().map_or(0, |l| l.len())
    }

    /// Drops the buckets that have refilled: they are indistinguishable from new ones.
    pub fn retain_recent(&self) {
        if let Some(l) = &self.customer {
            l.retain_recent();
        }
        if let Some(l) = &self.staff {
            l.retain_recent();
        }
        if let Some(l) = &self.ip {
            l.retain_recent();
        }
    }

    /// The client's address: the peer, or with trusted proxies in front the `X-Forwarded-For` entry they
    /// appended for it (the right-most one the client could not have written). When the header has fewer entries
    /// than there are trusted hops, the request did not come through them, and the peer is the client.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let hops = usize::try_from(self.trusted_hops).unwrap_or(usize::MAX);
        if hops == 0 {
            return peer;
        }
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        entries
            .len()
            .checked_sub(hops)
            .and_then(|i| entries.get(i))
            .and_then(|e| e.parse::<IpAddr>().ok())
            .or(peer)
    }
}

fn keyed<K: Clone + std::hash::Hash + Eq>(rate: Rate, clock: &DefaultClock) -> Option<DefaultKeyedRateLimiter<K>> {
    rate.quota().map(|q| RateLimiter::dashmap_with_clock(q, clock.clone()))
}

/// The bucket key of an address: IPv4 as it is, IPv6 by its /64 (one subscriber's allocation).
fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

async fn retain_recent(limits: Weak<RateLimits>) {
    let mut tick = tokio::time::interval(RETAIN_EVERY);
    loop {
        tick.tick().await;
        match limits.upgrade() {
            Some(l) => l.retain_recent(),
            None => return,
        }
    }
}

/// The caller of a request: the principal of a valid bearer token (verified here only to find whose bucket to
/// use; the handler's extractor reuses the result), else the client IP.
async fn caller(state: &AppState, req: &mut Request) -> Caller {
    if let Some(token) = bearer(req.headers()).map(str::to_owned) {
        let outcome = state.verifier.verify(&token).await;
        let caller = outcome.as_ref().ok().map(|principal| {
            if principal.only_own_scopes() {
                Caller::Customer(principal.sub.clone())
            } else {
                Caller::Staff(principal.sub.clone())
            }
        });
        // The extractor takes this outcome, good or bad, so a token is verified (and a JWKS refreshed) once.
        req.extensions_mut().insert(Verified(std::sync::Arc::new(outcome)));
        if let Some(caller) = caller {
            return caller;
        }
    }
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    match state.rate_limits.client_ip(peer, req.headers()) {
        Some(ip) => Caller::Ip(ip_key(ip)),
        None => Caller::Unknown,
    }
}

/// The outcome of verifying this request's bearer token, which the rate limiter already did.
#[derive(Clone)]
pub struct Verified(pub std::sync::Arc<Result<Principal, crate::auth::AuthError>>);

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
}

/// The middleware: draws from the caller's bucket, or answers 429.
pub async fn limit(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let who = caller(&state, &mut req).await;
    match state.rate_limits.check(&who) {
        Ok(()) => next.run(req).await,
        Err(retry_after_secs) => {
            state.metrics.request_rate_limited();
            ApiError::RateLimited { retry_after_secs }.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn limits(hops: u32) -> Arc<RateLimits> {
        RateLimits::new(RateSettings {
            customer: Rate::new(1, 2),
            staff: Rate::new(0, 0),
            ip: Rate::new(1, 1),
            trusted_hops: hops,
        })
    }

    #[test]
    fn a_bucket_empties_after_its_burst_and_says_when_to_retry() {
        let l = limits(0);
        let alice = Caller::Customer("alice".into());
        assert_eq!(l.check(&alice), Ok(()));
        assert_eq!(l.check(&alice), Ok(()));
        assert_eq!(l.check(&alice), Err(1));
        assert_eq!(l.check(&Caller::Customer("bob".into())), Ok(()));
    }

    #[test]
    fn a_rate_of_zero_is_unlimited() {
        let l = limits(0);
        for _ in 0..1000 {
            assert_eq!(l.check(&Caller::Staff("ops".into())), Ok(()));
        }
        assert_eq!(l.check(&Caller::Unknown), Ok(()));
    }

    #[test]
    fn forwarded_for_is_read_only_behind_trusted_hops() {
        let peer = Some(IpAddr::from([10, 0, 0, 9]));
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("6.6.6.6, 203.0.113.7"));
        assert_eq!(limits(0).client_ip(peer, &headers), peer);
        assert_eq!(
            limits(1).client_ip(peer, &headers),
            Some(IpAddr::from([203, 0, 113, 7]))
        );
        assert_eq!(limits(2).client_ip(peer, &headers), Some(IpAddr::from([6, 6, 6, 6])));
        assert_eq!(limits(3).client_ip(peer, &headers), peer);
        headers.insert("x-forwarded-for", HeaderValue::from_static("not-an-ip"));
        assert_eq!(limits(1).client_ip(peer, &headers), peer);
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(ip_key(mapped), IpAddr::from([192, 0, 2, 1]));
    }

    #[test]
    fn refilled_buckets_are_dropped() {
        let l = RateLimits::new(RateSettings {
            customer: Rate::new(1000, 1),
            staff: Rate::new(0, 0),
            ip: Rate::new(0, 0),
            trusted_hops: 0,
        });
        for i in 0..100 {
            let _ = l.check(&Caller::Customer(format!("c{i}")));
        }
        assert_eq!(l.tracked(), 100);
        std::thread::sleep(Duration::from_millis(20));
        l.retain_recent();
        assert_eq!(l.tracked(), 0);
    }
}
