//! One configuration, read from command-line flags and environment variables and validated at
//! start (SPEC section 9). A bad value stops the server with a message naming the variable;
//! secret values (`VAULT_TOKEN`, `MTLS_DATA_KEY`, ...) are never echoed.
//!
//! Each setting is declared once, as a `Setting` (variable, flag, help, default and
//! parser), by the module that uses it: the store's in `store::config`, the credentials' in
//! `auth::config`, the forwarding client's in `forward::config`, the throttle's in
//! `throttle::config`, the P12 inspector's in `certificates::inspector::config`, `MTLS_SERVICES`
//! in `services`; the gateway-wide ones below. [`Config::try_from_sources`] is the one place
//! that builds all of them: it derives the command line from the declarations, reads each
//! setting (flag, else environment variable, else default) through its parser, collects every
//! problem and fails once with the whole list ([`ConfigErrors`]). `main` prints that list and
//! exits 64 (`EX_USAGE`). Tests take the same path with a map instead of the process environment.
//!
//! Conventions for every variable:
//! - unset, or set to the empty string: the default applies (or "off" for optional settings);
//! - booleans: `true`/`false` (also `1`/`0`, `yes`/`no`, any case);
//! - lists: comma separated, blanks around items ignored;
//! - a flag wins over its environment variable.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Arg, ArgAction, Command};

use crate::auth::AuthConfig;
use crate::certificates::InspectorConfig;
use crate::certificates::expiry_warning::EXPIRY_WARNING_DAYS;
use crate::forward::ForwardConfig;
use crate::store::StoreConfig;
use crate::throttle::ThrottleConfig;

use crate::settings::{self, Declared, Raw, Refusals, Setting, Settings};
pub use crate::settings::{ConfigError, Lookup, ProcessEnvironment, flag_for};

// === gateway-wide settings ===

/// Loopback by default: plain HTTP must not reach a network by accident (SPEC section 9).
pub const LISTEN: Setting<SocketAddr> = Setting::new(
    "MTLS_LISTEN",
    "listen",
    "Listen address, IP:PORT (or localhost:PORT). Plain HTTP only on loopback unless allowed.",
    listen,
)
.default("127.0.0.1:8080");
/// PEM certificate chain for HTTPS.
pub const TLS_CERT: Setting<PathBuf> =
    Setting::new("MTLS_TLS_CERT", "tls-cert", "PEM certificate chain for HTTPS (with --tls-key).", settings::file);
/// PEM private key for HTTPS.
pub const TLS_KEY: Setting<PathBuf> =
    Setting::new("MTLS_TLS_KEY", "tls-key", "PEM private key for HTTPS (with --tls-cert).", settings::file);
/// Allow plain HTTP on a non-loopback address.
pub const ALLOW_INSECURE_HTTP: Setting<bool> = Setting::new(
    "MTLS_ALLOW_INSECURE_HTTP",
    "allow-insecure-http",
    "Allow plain HTTP on a non-loopback address (true/false).",
    settings::boolean,
)
.default("false")
.switch();
/// Log line format.
pub const LOG_FORMAT: Setting<LogFormat> =
    Setting::new("MTLS_LOG_FORMAT", "log-format", "Log line format: text or json.", log_format).default("text");
/// Runtime cache TTL (SPEC section 7).
pub const RUNTIME_CACHE_TTL_SECONDS: Setting<u64> = Setting::new(
    "MTLS_RUNTIME_CACHE_TTL_SECONDS",
    "runtime-cache-ttl-seconds",
    "Runtime cache TTL in seconds (0: entries expire at once).",
    settings::whole,
)
.default("300");
/// Allow `http://` targets.
pub const ALLOW_PLAIN_HTTP_TARGETS: Setting<bool> = Setting::new(
    "MTLS_ALLOW_PLAIN_HTTP_TARGETS",
    "allow-plain-http-targets",
    "Allow plain http:// targets (true/false).",
    settings::boolean,
)
.default("false")
.switch();
/// Request body limit (SPEC section 9: 10 MiB).
pub const MAX_BODY_BYTES: Setting<usize> = Setting::new(
    "MTLS_MAX_BODY_BYTES",
    "max-body-bytes",
    "Request body limit in bytes.",
    settings::positive,
)
.default("10485760");
/// The gateway-wide settings, for the command line and `--help`.
const GATEWAY_SETTINGS: &[&dyn Declared] = &[
    &LISTEN,
    &TLS_CERT,
    &TLS_KEY,
    &ALLOW_INSECURE_HTTP,
    &LOG_FORMAT,
    &RUNTIME_CACHE_TTL_SECONDS,
    &ALLOW_PLAIN_HTTP_TARGETS,
    &MAX_BODY_BYTES,
    &EXPIRY_WARNING_DAYS,
    &crate::services::SERVICES,
];

/// Every setting of the gateway, in `--help` order.
pub fn all_settings() -> impl Iterator<Item = &'static dyn Declared> {
    [
        GATEWAY_SETTINGS,
        StoreConfig::SETTINGS,
        AuthConfig::SETTINGS,
        ThrottleConfig::SETTINGS,
        ForwardConfig::SETTINGS,
        InspectorConfig::SETTINGS,
    ]
    .into_iter()
    .flatten()
    .copied()
}

// === the settings ===

/// Validated settings: the gateway-wide ones, and one sub-config per module that owns them.
#[derive(Debug, Clone)]
pub struct Config {
    /// `MTLS_LISTEN`.
    pub listen: SocketAddr,
    /// `MTLS_TLS_CERT` / `MTLS_TLS_KEY`: serve HTTPS when both are set.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `MTLS_ALLOW_INSECURE_HTTP`.
    pub allow_insecure_http: bool,
    /// `MTLS_LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `MTLS_STORE` and its settings.
    pub store: StoreConfig,
    /// Credentials: admin token, external issuer, oAuth1 form reads.
    pub auth: AuthConfig,
    /// Throttling per client.
    pub throttle: ThrottleConfig,
    /// The forwarding client.
    pub forward: ForwardConfig,
    /// P12 inspections.
    pub p12: InspectorConfig,
    /// `MTLS_SERVICES`: name and numeric code of each service.
    pub services: Vec<(String, u32)>,
    /// `MTLS_RUNTIME_CACHE_TTL_SECONDS` (0 = entries expire at once).
    pub runtime_cache_ttl: Duration,
    /// `MTLS_ALLOW_PLAIN_HTTP_TARGETS`: mappings, checks, probes and forwarding.
    pub allow_plain_http_targets: bool,
    /// `MTLS_MAX_BODY_BYTES`: every request body, forwarded ones included.
    pub max_body_bytes: usize,
    /// `MTLS_EXPIRY_WARNING_DAYS`: certificates expiring within this many days (or expired)
    /// are `expiringSoon`.
    pub expiry_warning_days: u32,
}

/// How log lines are written (`MTLS_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

impl Config {
    /// Reads flags from `std::env::args_os()` and the process environment.
    ///
    /// # Errors
    /// As [`Config::try_from_sources`].
    pub fn try_from_env() -> Result<Self, StartError> {
        Self::try_from_sources(std::env::args_os(), &ProcessEnvironment)
    }

    /// Reads the command line `args` (first item: program name), then `environment` for every
    /// setting not given as a flag, and validates everything.
    ///
    /// # Errors
    /// [`StartError::Usage`] for flag syntax errors, `--help` and `--version` (the caller
    /// prints it and exits with its code); [`StartError::Invalid`] with every bad setting.
    pub fn try_from_sources<I, T>(args: I, environment: &dyn Lookup) -> Result<Self, StartError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let matches = command().try_get_matches_from(args).map_err(StartError::Usage)?;
        let flags: BTreeMap<String, String> = all_settings()
            .filter_map(|s| Some((s.env().to_owned(), matches.get_one::<String>(s.env())?.clone())))
            .collect();
        let sources = FlagsThenEnvironment { flags, environment };
        let mut settings = Settings::new(&sources);
        match Self::from_settings(&mut settings) {
            Some(config) if settings.errors.is_empty() => Ok(config),
            _ => Err(StartError::Invalid(ConfigErrors(settings.errors))),
        }
    }

    /// Builds every sub-config. Each reads all of its settings before giving up, so that every
    /// bad one is reported; cross-setting rules come last.
    fn from_settings(s: &mut Settings<'_>) -> Option<Self> {
        let listen = s.read(&LISTEN);
        let tls = Self::tls(s);
        let allow_insecure_http = s.read(&ALLOW_INSECURE_HTTP);
        let log_format = s.read(&LOG_FORMAT);
        let store = StoreConfig::from_settings(s);
        let auth = AuthConfig::from_settings(s);
        let throttle = ThrottleConfig::from_settings(s);
        let forward = ForwardConfig::from_settings(s);
        let p12 = InspectorConfig::from_settings(s);
        let services = s.read(&crate::services::SERVICES);
        let runtime_cache_ttl = s.read(&RUNTIME_CACHE_TTL_SECONDS);
        let allow_plain_http_targets = s.read(&ALLOW_PLAIN_HTTP_TARGETS);
        let max_body_bytes = s.read(&MAX_BODY_BYTES);
        let expiry_warning_days = s.read(&EXPIRY_WARNING_DAYS);

        // Plain HTTP only on loopback unless explicitly allowed.
        if let (Some(addr), Some(None), Some(false)) = (listen, &tls, allow_insecure_http)
            && !addr.ip().is_loopback()
        {
            s.refuse(
                LISTEN.env,
                format!(
                    "plain HTTP on non-loopback address {addr} is refused; set {} and {} to serve \
                     HTTPS, or {}=true",
                    TLS_CERT.env, TLS_KEY.env, ALLOW_INSECURE_HTTP.env
                ),
            );
        }

        Some(Self {
            listen: listen?,
            tls: tls?,
            allow_insecure_http: allow_insecure_http?,
            log_format: log_format?,
            store: store?,
            auth: auth?,
            throttle: throttle?,
            forward: forward?,
            p12: p12?,
            services: services?,
            runtime_cache_ttl: Duration::from_secs(runtime_cache_ttl?),
            allow_plain_http_targets: allow_plain_http_targets?,
            max_body_bytes: max_body_bytes?,
            expiry_warning_days: expiry_warning_days?,
        })
    }

    /// `Some(None)`: plain HTTP; `Some(Some(..))`: HTTPS; `None`: invalid.
    fn tls(s: &mut Settings<'_>) -> Option<Option<(PathBuf, PathBuf)>> {
        let cert = s.read(&TLS_CERT);
        let key = s.read(&TLS_KEY);
        match (s.is_set(&TLS_CERT), s.is_set(&TLS_KEY)) {
            (false, false) => Some(None),
            (true, false) => {
                s.refuse(TLS_KEY.env, format!("missing: {} is set, HTTPS needs both", TLS_CERT.env));
                None
            }
            (false, true) => {
                s.refuse(TLS_CERT.env, format!("missing: {} is set, HTTPS needs both", TLS_KEY.env));
                None
            }
            (true, true) => Some(cert.zip(key)),
        }
    }

    /// The defaults, read the way the binary reads them, on an embedded store in `data_dir`
    /// and with the admin token `test-admin-token` (for tests).
    ///
    /// # Panics
    /// When `data_dir` exists and is not a directory.
    #[cfg(any(test, feature = "test-support"))]
    pub fn for_tests(data_dir: PathBuf) -> Self {
        let environment = BTreeMap::from([
            (crate::store::config::DATA_DIR.env.to_owned(), data_dir.to_string_lossy().into_owned()),
            (crate::auth::config::ADMIN_TOKEN.env.to_owned(), "test-admin-token".to_owned()),
        ]);
        match Self::try_from_sources(["mtls-server"], &environment) {
            Ok(config) => config,
            Err(error) => panic!("test configuration refused: {error}"),
        }
    }
}

fn listen(raw: &Raw<'_>) -> Result<SocketAddr, Refusals> {
    if let Ok(addr) = raw.text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    // Host names other than localhost would make the bind address depend on DNS.
    if let Some(port) = raw.text.strip_prefix("localhost:")
        && let Ok(port) = port.parse::<u16>()
    {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    Err(vec![format!("{} is not an address; expected IP:PORT such as 127.0.0.1:8080", raw.shown_whole())])
}

fn log_format(raw: &Raw<'_>) -> Result<LogFormat, Refusals> {
    match raw.text.to_ascii_lowercase().as_str() {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(vec![format!("{} is not a log format; use text or json", raw.shown(other))]),
    }
}

// === the command line ===

/// The command line of `mtls-server`, derived from the settings' declarations: one flag per
/// setting, its help line naming the variable and the default. Values stay raw text here; the
/// settings' parsers read them so that every bad one is reported at once.
pub fn command() -> Command {
    let arguments = all_settings().map(|s| {
        let mut help = format!("{} [env: {}]", s.help(), s.env());
        if let Some(default) = s.default_text().filter(|_| !s.is_secret()) {
            help.push_str(&format!(" [default: {default}]"));
        }
        let arg = Arg::new(s.env()).long(s.flag()).action(ArgAction::Set).help(help);
        if s.is_switch() { arg.num_args(0..=1).default_missing_value("true") } else { arg }
    });
    Command::new("mtls-server")
        .version(env!("CARGO_PKG_VERSION"))
        .about("The mTLS gateway: certificate and mapping API, wrap-and-forward over mutual TLS.")
        .args(arguments)
}

// === errors ===

/// Every bad setting found in one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// Whether `variable` is among the problems (tests).
    pub fn names(&self, variable: &str) -> bool {
        self.0.iter().any(|e| e.variable == variable)
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration ({} problem{}):", self.0.len(), if self.0.len() == 1 { "" } else { "s" })?;
        for e in &self.0 {
            write!(f, "\n  {} ({}): {}", e.variable, flag_for(e.variable), e.reason)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Why the server cannot start from this command line and environment.
#[derive(Debug)]
pub enum StartError {
    /// Flag syntax error, `--help` or `--version`: clap's own message and exit code.
    Usage(clap::Error),
    /// Settings that parse as flags but are invalid.
    Invalid(ConfigErrors),
}

impl StartError {
    /// Exit code: 64 (`EX_USAGE`) for invalid settings and bad flags, 0 for `--help`.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(e) if !e.use_stderr() => 0,
            Self::Usage(_) | Self::Invalid(_) => 64,
        }
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(e) => write!(f, "{}", e.render().to_string().trim_end()),
            Self::Invalid(e) => write!(f, "mtls-server: {e}"),
        }
    }
}

// === raw input ===

/// A flag wins over its environment variable.
struct FlagsThenEnvironment<'a> {
    flags: BTreeMap<String, String>,
    environment: &'a dyn Lookup,
}

impl Lookup for FlagsThenEnvironment<'_> {
    fn get(&self, variable: &str) -> Option<String> {
        self.flags.get(variable).cloned().or_else(|| self.environment.get(variable))
    }
}

#[cfg(test)]
mod tests;
