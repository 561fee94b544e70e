//! Throttling (SPEC section 7) with actix-governor: `MTLS_RATE_LIMIT_PER_SECOND` requests per
//! second per client IP with a burst of `MTLS_RATE_LIMIT_BURST`; over it, 429 with `Retry-After`
//! and the SPEC error body. The operations endpoints are exempt.
//!
//! The client IP is the TCP peer, or, when the peer is in `MTLS_TRUSTED_PROXIES`, the first
//! address of `X-Forwarded-For` that is not a trusted proxy, scanning from the right (each proxy
//! appends the address it received from, so entries left of the first untrusted one are the
//! client's own claims and cannot be believed). IPv6 clients are keyed by their /64, which one
//! host usually owns whole.
//!
//! Entry points: [`start`] once, then [`middleware`] per worker, wrapped by `main` inside the
//! request-id middleware.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use actix_governor::governor::clock::{Clock, DefaultClock, QuantaInstant};
use actix_governor::governor::middleware::NoOpMiddleware;
use actix_governor::governor::NotUntil;
use actix_governor::{Governor, GovernorConfig, GovernorConfigBuilder, KeyExtractor, SimpleKeyExtractionError};
use actix_web::dev::ServiceRequest;
use actix_web::{HttpResponse, HttpResponseBuilder};
use ipnet::IpNet;

pub mod config;

pub use config::ThrottleConfig;

/// Paths never throttled (SPEC section 5, operations).
pub const EXEMPT_PATHS: [&str; 4] = ["/healthz", "/readyz", "/metrics", "/openapi.json"];

/// A request over its client's rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests from this address; retry in {wait_seconds} s")]
pub struct RateLimited {
    /// Whole seconds until the bucket lets a request through, rounded up.
    pub wait_seconds: u64,
}

impl RateLimited {
    /// `Retry-After`: at least 1, as a zero would invite an immediate retry.
    pub fn retry_after_seconds(&self) -> u64 {
        self.wait_seconds.max(1)
    }
}

// Not one of HTTP's standard names: looked up by `&str` it would be allocated on every request.
const X_FORWARDED_FOR: actix_web::http::header::HeaderName =
    actix_web::http::header::HeaderName::from_static("x-forwarded-for");

/// The bucket a request counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ThrottleKey {
    /// An operations endpoint: never limited.
    Exempt,
    /// A client address (IPv6 reduced to its /64).
    Client(IpAddr),
}

/// Finds the client address of a request.
#[derive(Debug, Clone)]
pub struct ClientIpKeyExtractor {
    trusted_proxies: Arc<Vec<IpNet>>,
}

/// The governor configuration; clones share one limiter. Each worker wraps its app in
/// `actix_governor::Governor::new(&config)`.
pub type LimiterConfig = GovernorConfig<ClientIpKeyExtractor, NoOpMiddleware<QuantaInstant>>;

/// The governor configuration for `config`.
///
/// # Errors
/// A rate or burst of zero (names the variable).
pub fn governor_config(config: &ThrottleConfig) -> Result<LimiterConfig, String> {
    if config.rate_limit_per_second == 0 {
        return Err("MTLS_RATE_LIMIT_PER_SECOND: must be at least 1".into());
    }
    if config.rate_limit_burst == 0 {
        return Err("MTLS_RATE_LIMIT_BURST: must be at least 1".into());
    }
    // One token every 1/rate seconds; `requests_per_second` would truncate rates over 10^9.
    let period = Duration::from_secs(1) / config.rate_limit_per_second;
    GovernorConfigBuilder::default()
        .period(period.max(Duration::from_nanos(1)))
        .burst_size(config.rate_limit_burst)
        .key_extractor(ClientIpKeyExtractor::new(config.trusted_proxies.clone()))
        .finish()
        .ok_or_else(|| "MTLS_RATE_LIMIT_PER_SECOND: invalid rate".to_owned())
}

/// The throttle for `config`; also starts a background thread that forgets idle clients every
/// minute so the key map stays bounded by the recently active ones.
///
/// # Errors
/// See [`governor_config`].
pub fn start(config: &ThrottleConfig) -> Result<LimiterConfig, String> {
    let conf = governor_config(config)?;
    let limiter = conf.limiter().clone();
    std::thread::Builder::new()
        .name("throttle-gc".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_secs(60));
            limiter.retain_recent();
            limiter.shrink_to_fit();
        })
        .map_err(|e| format!("cannot start the throttle cleaner: {e}"))?;
    Ok(conf)
}

/// The middleware for one worker.
pub fn middleware(config: &LimiterConfig) -> Governor<ClientIpKeyExtractor, NoOpMiddleware<QuantaInstant>> {
    Governor::new(config)
}

impl ClientIpKeyExtractor {
    /// An extractor trusting `X-Forwarded-For` from `trusted_proxies`.
    pub fn new(trusted_proxies: Vec<IpNet>) -> Self {
        Self { trusted_proxies: Arc::new(trusted_proxies) }
    }

    /// The client address of a request from `peer` carrying the `X-Forwarded-For` values `xff`.
    pub fn client_ip<'a>(&self, peer: IpAddr, xff: impl Iterator<Item = &'a str>) -> IpAddr {
        if !self.is_trusted(peer) {
            return peer;
        }
        let hops: Vec<&str> = xff.flat_map(|v| v.split(',')).map(str::trim).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else { break };
            client = ip;
            if !self.is_trusted(ip) {
                break;
            }
        }
        client
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }
}

impl KeyExtractor for ClientIpKeyExtractor {
    type Key = ThrottleKey;
    type KeyExtractionError = SimpleKeyExtractionError<&'static str>;

    fn extract(&self, req: &ServiceRequest) -> Result<Self::Key, Self::KeyExtractionError> {
        if EXEMPT_PATHS.contains(&req.path()) {
            return Ok(ThrottleKey::Exempt);
        }
        // Without a peer address (a Unix socket or a test request), everyone shares one bucket.
        let peer = req.peer_addr().map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
        let xff = req.headers().get_all(&X_FORWARDED_FOR).filter_map(|v| v.to_str().ok());
        Ok(ThrottleKey::Client(bucket(self.client_ip(peer, xff))))
    }

    fn exceed_rate_limit_response(
        &self,
        negative: &NotUntil<QuantaInstant>,
        response: HttpResponseBuilder,
    ) -> HttpResponse {
        let wait = negative.wait_time_from(DefaultClock::default().now());
        // Retry-After is whole seconds (RFC 9110 section 10.2.3): round up, so a caller that
        // waits that long is let through.
        let wait_seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        crate::http::error::rate_limited(RateLimited { wait_seconds }, response)
    }

    fn whitelisted_keys(&self) -> Vec<Self::Key> {
        vec![ThrottleKey::Exempt]
    }
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(addr) = hop.parse::<std::net::SocketAddr>() {
        return Some(addr.ip());
    }
    hop.strip_prefix('[').and_then(|h| h.strip_suffix(']')).and_then(|h| h.parse().ok())
}

fn bucket(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn extractor(trusted: &[&str]) -> ClientIpKeyExtractor {
        ClientIpKeyExtractor::new(trusted.iter().map(|t| t.parse().unwrap()).collect())
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_claims() {
        let e = extractor(&["10.0.0.0/8"]);
        assert_eq!(e.client_ip(ip("203.0.113.9"), ["1.2.3.4"].into_iter()), ip("203.0.113.9"));
    }

    #[test]
    fn trusted_peer_yields_the_first_untrusted_hop_from_the_right() {
        let e = extractor(&["10.0.0.0/8", "192.168.0.0/16"]);
        let xff = ["6.6.6.6, 1.2.3.4", "192.168.1.1"];
        assert_eq!(e.client_ip(ip("10.0.0.1"), xff.into_iter()), ip("1.2.3.4"));
        assert_eq!(e.client_ip(ip("10.0.0.1"), ["[2001:db8::1]:443"].into_iter()), ip("2001:db8::1"));
        // Nothing but proxies: the leftmost proxy is the best we know.
        assert_eq!(e.client_ip(ip("10.0.0.1"), ["10.0.0.7"].into_iter()), ip("10.0.0.7"));
        // No header: the proxy itself.
        assert_eq!(e.client_ip(ip("10.0.0.1"), [].into_iter()), ip("10.0.0.1"));
        // Garbage stops the scan at the last trusted hop.
        assert_eq!(e.client_ip(ip("10.0.0.1"), ["1.1.1.1, junk"].into_iter()), ip("10.0.0.1"));
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        assert_eq!(bucket(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(bucket(ip("::ffff:1.2.3.4")), ip("1.2.3.4"));
    }

    #[test]
    fn zero_rate_or_burst_is_refused_naming_the_variable() {
        let mut config = Config::for_tests("unused".into()).throttle;
        config.rate_limit_per_second = 0;
        assert!(governor_config(&config).err().unwrap().contains("MTLS_RATE_LIMIT_PER_SECOND"));
        config.rate_limit_per_second = 10;
        config.rate_limit_burst = 0;
        assert!(governor_config(&config).err().unwrap().contains("MTLS_RATE_LIMIT_BURST"));
    }
}
