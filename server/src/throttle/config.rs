//! The throttle's settings (SPEC section 7), declared and validated here;
//! [`crate::config::Config`] builds them at start.

use crate::settings::{self, Declared, Setting, Settings};

/// Throttling rate per client IP.
pub const RATE_LIMIT_PER_SECOND: Setting<u32> = Setting::new(
    "MTLS_RATE_LIMIT_PER_SECOND",
    "rate-limit-per-second",
    "Requests per second per client IP.",
    settings::positive,
)
.default("10");
/// Throttling burst per client IP.
pub const RATE_LIMIT_BURST: Setting<u32> = Setting::new(
    "MTLS_RATE_LIMIT_BURST",
    "rate-limit-burst",
    "Burst per client IP.",
    settings::positive,
)
.default("10");

/// Proxies whose `X-Forwarded-For` is believed.
pub const TRUSTED_PROXIES: Setting<Vec<ipnet::IpNet>> = Setting::new(
    "MTLS_TRUSTED_PROXIES",
    "trusted-proxies",
    "Proxies (CIDRs or IPs, comma separated) whose X-Forwarded-For is believed.",
    settings::cidrs,
);

/// How many requests each client may send.
#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    /// `MTLS_RATE_LIMIT_PER_SECOND`.
    pub rate_limit_per_second: u32,
    /// `MTLS_RATE_LIMIT_BURST`.
    pub rate_limit_burst: u32,
    /// `MTLS_TRUSTED_PROXIES`: whose `X-Forwarded-For` names the client (the oAuth1 base
    /// string believes their `X-Forwarded-Proto` too).
    pub trusted_proxies: Vec<ipnet::IpNet>,
}

impl ThrottleConfig {
    /// The throttle's settings, for the command line and `--help`.
    pub const SETTINGS: &[&dyn Declared] =
        &[&RATE_LIMIT_PER_SECOND, &RATE_LIMIT_BURST, &TRUSTED_PROXIES];

    /// Reads the throttle's settings.
    pub fn from_settings(s: &mut Settings<'_>) -> Option<Self> {
        let rate_limit_per_second = s.read(&RATE_LIMIT_PER_SECOND);
        let rate_limit_burst = s.read(&RATE_LIMIT_BURST);
        let trusted_proxies = s.read(&TRUSTED_PROXIES);
        Some(Self {
            rate_limit_per_second: rate_limit_per_second?,
            rate_limit_burst: rate_limit_burst?,
            trusted_proxies: trusted_proxies.unwrap_or_default(),
        })
    }
}
