//! The forwarding client's settings, declared and validated here; [`crate::config::Config`]
//! builds them at start.

use std::path::PathBuf;
use std::time::Duration;

use crate::settings::{self, Declared, Setting, Settings};

/// Target ranges allowed despite being loopback/private/link-local.
pub(crate) const ALLOWED_TARGET_CIDRS: Setting<Vec<ipnet::IpNet>> = Setting::new(
    "MTLS_ALLOWED_TARGET_CIDRS",
    "allowed-target-cidrs",
    "Target ranges (CIDRs) allowed although loopback, private or link-local.",
    settings::cidrs,
);
/// Extra CA file for target server certificates.
pub(crate) const EXTRA_TARGET_CA_FILE: Setting<PathBuf> = Setting::new(
    "MTLS_EXTRA_TARGET_CA_FILE",
    "extra-target-ca-file",
    "Extra CA file (PEM) trusted for target server certificates, besides Mozilla's roots.",
    settings::file,
);
/// Forward connect timeout (SPEC section 9).
pub(crate) const FORWARD_CONNECT_TIMEOUT_MS: Setting<u64> = Setting::new(
    "MTLS_FORWARD_CONNECT_TIMEOUT_MS",
    "forward-connect-timeout-ms",
    "Forward connect timeout in milliseconds.",
    settings::positive,
)
.default("5000");
/// Forward idle timeout (SPEC section 9).
pub(crate) const FORWARD_TIMEOUT_MS: Setting<u64> = Setting::new(
    "MTLS_FORWARD_TIMEOUT_MS",
    "forward-timeout-ms",
    "Forward idle timeout in milliseconds: the longest wait for the target's response head, or for \
     the next bytes of the request or response body (a steady stream is never cut).",
    settings::positive,
)
.default("30000");

/// How targets are reached.
#[derive(Debug, Clone)]
pub struct ForwardConfig {
    /// `MTLS_ALLOWED_TARGET_CIDRS`.
    pub allowed_target_cidrs: Vec<ipnet::IpNet>,
    /// `MTLS_EXTRA_TARGET_CA_FILE`.
    pub extra_target_ca_file: Option<PathBuf>,
    /// `MTLS_FORWARD_CONNECT_TIMEOUT_MS`: DNS, TCP and TLS.
    pub connect_timeout: Duration,
    /// `MTLS_FORWARD_TIMEOUT_MS`: the longest wait for the target's response head once the
    /// request stopped moving, and for the next bytes of either body; never a stream's length.
    pub idle_timeout: Duration,
}

impl ForwardConfig {
    /// The forwarding client's settings, for the command line and `--help`.
    pub const SETTINGS: &[&dyn Declared] = &[
        &ALLOWED_TARGET_CIDRS,
        &EXTRA_TARGET_CA_FILE,
        &FORWARD_CONNECT_TIMEOUT_MS,
        &FORWARD_TIMEOUT_MS,
    ];

    /// Reads the forwarding client's settings.
    pub fn from_settings(s: &mut Settings<'_>) -> Option<Self> {
        let allowed_target_cidrs = s.read(&ALLOWED_TARGET_CIDRS);
        let extra_target_ca_file = s.read(&EXTRA_TARGET_CA_FILE);
        let connect_timeout = s.read(&FORWARD_CONNECT_TIMEOUT_MS);
        let idle_timeout = s.read(&FORWARD_TIMEOUT_MS);
        Some(Self {
            allowed_target_cidrs: allowed_target_cidrs.unwrap_or_default(),
            extra_target_ca_file,
            connect_timeout: Duration::from_millis(connect_timeout?),
            idle_timeout: Duration::from_millis(idle_timeout?),
        })
    }
}
