//! One configuration struct, read from environment variables and command-line flags and
//! validated at start (SPEC section 9). A bad value stops the server with a message naming the
//! variable; secret values (`VAULT_TOKEN`, `MTLS_DATA_KEY`, ...) are never echoed.
//!
//! Two layers, as ripgrep and linkerd do it: [`Args`] declares every setting once (flag, env
//! variable, help) and holds raw text; [`Config::from_lookup`] parses *all* of it, collects every
//! problem, and fails once with the whole list ([`ConfigErrors`]). `main` prints that list and
//! exits 64 (`EX_USAGE`). Unit tests feed a map through the [`Lookup`] trait instead of the
//! process environment.
//!
//! Conventions for every variable:
//! - unset, or set to the empty string: the default applies (or "off" for optional settings);
//! - booleans: `true`/`false` (also `1`/`0`, `yes`/`no`, any case);
//! - lists: comma separated, blanks around items ignored;
//! - a flag wins over its environment variable.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use clap::{CommandFactory, FromArgMatches, Parser};

// === names and defaults ===

/// Listen address.
pub const ENV_LISTEN: &str = "MTLS_LISTEN";
/// PEM certificate chain for HTTPS.
pub const ENV_TLS_CERT: &str = "MTLS_TLS_CERT";
/// PEM private key for HTTPS.
pub const ENV_TLS_KEY: &str = "MTLS_TLS_KEY";
/// Allow plain HTTP on a non-loopback address.
pub const ENV_ALLOW_INSECURE_HTTP: &str = "MTLS_ALLOW_INSECURE_HTTP";
/// Token for `/admin/*` (secret).
pub const ENV_ADMIN_TOKEN: &str = "MTLS_ADMIN_TOKEN";
/// `embedded` or `vault`.
pub const ENV_STORE: &str = "MTLS_STORE";
/// Embedded store directory.
pub const ENV_DATA_DIR: &str = "MTLS_DATA_DIR";
/// Embedded store encryption key, base64 of 32 bytes (secret).
pub const ENV_DATA_KEY: &str = "MTLS_DATA_KEY";
/// Vault address.
pub const ENV_VAULT_ADDR: &str = "VAULT_ADDR";
/// Vault token (secret).
pub const ENV_VAULT_TOKEN: &str = "VAULT_TOKEN";
/// AppRole role id.
pub const ENV_VAULT_ROLE_ID: &str = "VAULT_ROLE_ID";
/// AppRole secret id (secret).
pub const ENV_VAULT_SECRET_ID: &str = "VAULT_SECRET_ID";
/// Mount path of the AppRole auth method.
pub const ENV_VAULT_APPROLE_MOUNT: &str = "VAULT_APPROLE_MOUNT";
/// Extra CA certificate (PEM) to verify Vault's HTTPS certificate.
pub const ENV_VAULT_CACERT: &str = "VAULT_CACERT";
/// Vault Enterprise namespace.
pub const ENV_VAULT_NAMESPACE: &str = "VAULT_NAMESPACE";
/// KV v2 mount.
pub const ENV_VAULT_MOUNT: &str = "MTLS_VAULT_MOUNT";
/// Key prefix inside the mount.
pub const ENV_VAULT_PREFIX: &str = "MTLS_VAULT_PREFIX";
/// Throttling rate per client IP.
pub const ENV_RATE_LIMIT_PER_SECOND: &str = "MTLS_RATE_LIMIT_PER_SECOND";
/// Throttling burst per client IP.
pub const ENV_RATE_LIMIT_BURST: &str = "MTLS_RATE_LIMIT_BURST";
/// Proxies whose `X-Forwarded-For` is believed.
pub const ENV_TRUSTED_PROXIES: &str = "MTLS_TRUSTED_PROXIES";
/// Runtime cache TTL.
pub const ENV_RUNTIME_CACHE_TTL_SECONDS: &str = "MTLS_RUNTIME_CACHE_TTL_SECONDS";
/// Target ranges allowed despite being loopback/private/link-local.
pub const ENV_ALLOWED_TARGET_CIDRS: &str = "MTLS_ALLOWED_TARGET_CIDRS";
/// Extra CA file for target server certificates.
pub const ENV_EXTRA_TARGET_CA_FILE: &str = "MTLS_EXTRA_TARGET_CA_FILE";
/// Allow `http://` targets.
pub const ENV_ALLOW_PLAIN_HTTP_TARGETS: &str = "MTLS_ALLOW_PLAIN_HTTP_TARGETS";
/// Forward connect timeout.
pub const ENV_FORWARD_CONNECT_TIMEOUT_MS: &str = "MTLS_FORWARD_CONNECT_TIMEOUT_MS";
/// Forward idle timeout: the longest wait for the target's response head or either body's bytes.
pub const ENV_FORWARD_TIMEOUT_MS: &str = "MTLS_FORWARD_TIMEOUT_MS";
/// Time allowed to read an oAuth1 form body on forward.
pub const ENV_OAUTH1_FORM_READ_TIMEOUT_MS: &str = "MTLS_OAUTH1_FORM_READ_TIMEOUT_MS";
/// Request body limit.
pub const ENV_MAX_BODY_BYTES: &str = "MTLS_MAX_BODY_BYTES";
/// PKCS#12 iteration cap.
pub const ENV_P12_MAX_ITERATIONS: &str = "MTLS_P12_MAX_ITERATIONS";
/// Budget of KDF iterations over all P12 files of one request.
pub const ENV_P12_REQUEST_ITERATION_BUDGET: &str = "MTLS_P12_REQUEST_ITERATION_BUDGET";
/// How many P12 inspections run at once.
pub const ENV_P12_INSPECTION_WORKERS: &str = "MTLS_P12_INSPECTION_WORKERS";
/// Service names and codes.
pub const ENV_SERVICES: &str = "MTLS_SERVICES";
/// External issuer's JWKS file.
pub const ENV_JWKS_FILE: &str = "MTLS_JWKS_FILE";
/// Log line format: `text` or `json`.
pub const ENV_LOG_FORMAT: &str = "MTLS_LOG_FORMAT";
/// Days before a certificate's notAfter from which it counts as `expiringSoon`.
pub const ENV_EXPIRY_WARNING_DAYS: &str = "MTLS_EXPIRY_WARNING_DAYS";

/// Loopback by default: plain HTTP must not reach a network by accident (SPEC section 9).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Relative to the working directory, as the SPEC says.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// Vault's default KV v2 mount in dev servers and most installations.
pub const DEFAULT_VAULT_MOUNT: &str = "secret";
/// Keeps the gateway's keys apart from other users of the mount.
pub const DEFAULT_VAULT_PREFIX: &str = "mtls";
/// Vault's default AppRole mount path.
pub const DEFAULT_VAULT_APPROLE_MOUNT: &str = "approle";
/// SPEC section 7.
pub const DEFAULT_RATE_LIMIT_PER_SECOND: u32 = 10;
/// SPEC section 7.
pub const DEFAULT_RATE_LIMIT_BURST: u32 = 10;
/// SPEC section 7.
pub const DEFAULT_RUNTIME_CACHE_TTL_SECONDS: u64 = 300;
/// SPEC section 12: the same 30 days as the SDK report's `expires_soon` warning.
pub const DEFAULT_EXPIRY_WARNING_DAYS: u32 = 30;
/// Ten years: a longer warning window only means every certificate is always "expiring soon".
pub const MAX_EXPIRY_WARNING_DAYS: u32 = 3650;
/// SPEC section 9.
pub const DEFAULT_FORWARD_CONNECT_TIMEOUT_MS: u64 = 5000;
/// SPEC section 9.
pub const DEFAULT_FORWARD_TIMEOUT_MS: u64 = 30_000;
/// An oAuth1 form body is read whole before its signature is checked; a caller sending it
/// slowly holds that memory, so the read is bounded. Forms are small: 10 s is generous.
pub const DEFAULT_OAUTH1_FORM_READ_TIMEOUT_MS: u64 = 10_000;
/// SPEC section 9: 10 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// The default per-request KDF budget is this many times `MTLS_P12_MAX_ITERATIONS` (3,000,000 by
/// default): a file at the cap in each of its three usual KDF runs (MAC, key, certificates) fits,
/// so every file rule 7 accepts uploads on its own, and so do 100 files as keytool writes them
/// (10,000 iterations per run); one request costs a few core-seconds of KDF, not minutes.
pub const DEFAULT_P12_REQUEST_BUDGET_FACTOR: u64 = 3;

/// The default number of concurrent P12 inspections: one per core but one, at least one, so that
/// KDF work never takes every core from forwarding.
pub fn default_p12_inspection_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

/// SPEC section 3: `FAAS` is the name LivePerson's Functions client sends.
pub const DEFAULT_SERVICES: &str = "TEST_SERVICE=0,IDP=1,WEBHOOKS=2,FAAS=3";

/// Variables whose values are never printed, even in `--help` defaults.
const SECRET_VARIABLES: &[&str] =
    &[ENV_ADMIN_TOKEN, ENV_DATA_KEY, ENV_VAULT_TOKEN, ENV_VAULT_SECRET_ID];

// === the settings ===

/// Validated settings.
#[derive(Clone)]
pub struct Config {
    /// `MTLS_LISTEN`.
    pub listen: SocketAddr,
    /// `MTLS_TLS_CERT` / `MTLS_TLS_KEY`: serve HTTPS when both are set.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `MTLS_ALLOW_INSECURE_HTTP`.
    pub allow_insecure_http: bool,
    /// `MTLS_ADMIN_TOKEN` (secret); `None` turns the admin API off.
    pub admin_token: Option<String>,
    /// `MTLS_STORE` and its settings.
    pub store: StoreConfig,
    /// `MTLS_RATE_LIMIT_PER_SECOND`.
    pub rate_limit_per_second: u32,
    /// `MTLS_RATE_LIMIT_BURST`.
    pub rate_limit_burst: u32,
    /// `MTLS_TRUSTED_PROXIES`.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `MTLS_RUNTIME_CACHE_TTL_SECONDS` (0 = entries expire at once).
    pub runtime_cache_ttl: Duration,
    /// `MTLS_ALLOWED_TARGET_CIDRS`.
    pub allowed_target_cidrs: Vec<ipnet::IpNet>,
    /// `MTLS_EXTRA_TARGET_CA_FILE`.
    pub extra_target_ca_file: Option<PathBuf>,
    /// `MTLS_ALLOW_PLAIN_HTTP_TARGETS`.
    pub allow_plain_http_targets: bool,
    /// `MTLS_FORWARD_CONNECT_TIMEOUT_MS`.
    pub forward_connect_timeout: Duration,
    /// `MTLS_FORWARD_TIMEOUT_MS`: the longest wait for the target's response head once the
    /// request stopped moving, and for the next bytes of either body; never a stream's length.
    pub forward_timeout: Duration,
    /// `MTLS_OAUTH1_FORM_READ_TIMEOUT_MS`.
    pub oauth1_form_read_timeout: Duration,
    /// `MTLS_MAX_BODY_BYTES`.
    pub max_body_bytes: usize,
    /// `MTLS_P12_MAX_ITERATIONS`.
    pub p12_max_iterations: u64,
    /// `MTLS_P12_REQUEST_ITERATION_BUDGET`: iterations the KDF runs of all files of one request
    /// may take together.
    pub p12_request_iteration_budget: u64,
    /// `MTLS_P12_INSPECTION_WORKERS`: inspections running at once; more answer 503.
    pub p12_inspection_workers: usize,
    /// `MTLS_SERVICES`: name and numeric code of each service.
    pub services: Vec<(String, u32)>,
    /// `MTLS_JWKS_FILE`.
    pub jwks_file: Option<PathBuf>,
    /// `MTLS_LOG_FORMAT`.
    pub log_format: LogFormat,
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

/// Which store, and how to reach it.
#[derive(Clone)]
pub enum StoreConfig {
    /// `MTLS_STORE=embedded`.
    Embedded {
        /// `MTLS_DATA_DIR`.
        data_dir: PathBuf,
        /// `MTLS_DATA_KEY` (secret, base64 of 32 bytes, checked); a key file is generated in
        /// the data dir when absent.
        data_key: Option<String>,
    },
    /// `MTLS_STORE=vault`.
    Vault {
        /// `VAULT_ADDR`: one or more nodes of one cluster, comma-separated in the variable
        /// (each an `http` or `https` URL, checked; no trailing `/`).
        addresses: Vec<String>,
        /// `VAULT_TOKEN` or AppRole.
        auth: VaultAuth,
        /// `MTLS_VAULT_MOUNT` (no surrounding `/`).
        mount: String,
        /// `MTLS_VAULT_PREFIX` (no surrounding `/`; may be empty).
        prefix: String,
        /// `VAULT_CACERT`: extra CA to verify an HTTPS Vault.
        ca_cert: Option<PathBuf>,
        /// `VAULT_NAMESPACE`.
        namespace: Option<String>,
    },
}

/// How to log in to Vault.
#[derive(Clone)]
pub enum VaultAuth {
    /// `VAULT_TOKEN`.
    Token(String),
    /// `VAULT_ROLE_ID` and `VAULT_SECRET_ID`, against the AppRole method at `mount`.
    AppRole {
        /// Role id.
        role_id: String,
        /// Secret id (secret).
        secret_id: String,
        /// `VAULT_APPROLE_MOUNT` (default `approle`).
        mount: String,
    },
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets are omitted on purpose: only their presence is shown.
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("tls", &self.tls)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<set>"))
            .field("store", &self.store)
            .field("rate_limit_per_second", &self.rate_limit_per_second)
            .field("rate_limit_burst", &self.rate_limit_burst)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("runtime_cache_ttl", &self.runtime_cache_ttl)
            .field("allowed_target_cidrs", &self.allowed_target_cidrs)
            .field("extra_target_ca_file", &self.extra_target_ca_file)
            .field("allow_plain_http_targets", &self.allow_plain_http_targets)
            .field("forward_connect_timeout", &self.forward_connect_timeout)
            .field("forward_timeout", &self.forward_timeout)
            .field("oauth1_form_read_timeout", &self.oauth1_form_read_timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("p12_max_iterations", &self.p12_max_iterations)
            .field("p12_request_iteration_budget", &self.p12_request_iteration_budget)
            .field("p12_inspection_workers", &self.p12_inspection_workers)
            .field("services", &self.services)
            .field("jwks_file", &self.jwks_file)
            .field("log_format", &self.log_format)
            .field("expiry_warning_days", &self.expiry_warning_days)
            .finish()
    }
}

impl fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Embedded { data_dir, data_key } => f
                .debug_struct("Embedded")
                .field("data_dir", data_dir)
                .field("data_key", &data_key.as_ref().map(|_| "<set>"))
                .finish(),
            Self::Vault { addresses, auth, mount, prefix, ca_cert, namespace } => f
                .debug_struct("Vault")
                .field("addresses", addresses)
                .field("auth", auth)
                .field("mount", mount)
                .field("prefix", prefix)
                .field("ca_cert", ca_cert)
                .field("namespace", namespace)
                .finish(),
        }
    }
}

impl fmt::Debug for VaultAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Token(_) => f.write_str("Token(<set>)"),
            Self::AppRole { role_id, mount, .. } => f
                .debug_struct("AppRole")
                .field("role_id", role_id)
                .field("secret_id", &"<set>")
                .field("mount", mount)
                .finish(),
        }
    }
}

impl Config {
    /// Reads flags from `std::env::args_os()` and the process environment.
    ///
    /// # Errors
    /// [`StartError::Usage`] for flag syntax errors, `--help` and `--version` (the caller
    /// prints it and exits with its code); [`StartError::Invalid`] with every bad setting.
    pub fn try_from_env() -> Result<Self, StartError> {
        Self::try_from_args(std::env::args_os())
    }

    /// Like [`Config::try_from_env`] with the given command line (first item: program name).
    ///
    /// # Errors
    /// As [`Config::try_from_env`].
    pub fn try_from_args<I, T>(args: I) -> Result<Self, StartError>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let lookup = Args::lookup_from(args)?;
        Self::from_lookup(&lookup).map_err(StartError::Invalid)
    }

    /// Parses and validates every setting from `lookup`, collecting every problem.
    ///
    /// # Errors
    /// [`ConfigErrors`] naming each bad variable and why (never a secret's value).
    pub fn from_lookup(lookup: &dyn Lookup) -> Result<Self, ConfigErrors> {
        let mut p = Settings { lookup, errors: Vec::new() };

        let listen = p.listen();
        let tls = p.tls();
        let allow_insecure_http = p.boolean(ENV_ALLOW_INSECURE_HTTP, false);
        let admin_token = p.text(ENV_ADMIN_TOKEN);
        let store = p.store();
        let rate_limit_per_second =
            p.positive(ENV_RATE_LIMIT_PER_SECOND, DEFAULT_RATE_LIMIT_PER_SECOND);
        let rate_limit_burst = p.positive(ENV_RATE_LIMIT_BURST, DEFAULT_RATE_LIMIT_BURST);
        let trusted_proxies = p.cidrs(ENV_TRUSTED_PROXIES);
        let runtime_cache_ttl =
            Duration::from_secs(p.number(ENV_RUNTIME_CACHE_TTL_SECONDS, DEFAULT_RUNTIME_CACHE_TTL_SECONDS));
        let allowed_target_cidrs = p.cidrs(ENV_ALLOWED_TARGET_CIDRS);
        let extra_target_ca_file = p.file(ENV_EXTRA_TARGET_CA_FILE);
        let allow_plain_http_targets = p.boolean(ENV_ALLOW_PLAIN_HTTP_TARGETS, false);
        let forward_connect_timeout = Duration::from_millis(
            p.positive(ENV_FORWARD_CONNECT_TIMEOUT_MS, DEFAULT_FORWARD_CONNECT_TIMEOUT_MS),
        );
        let forward_timeout =
            Duration::from_millis(p.positive(ENV_FORWARD_TIMEOUT_MS, DEFAULT_FORWARD_TIMEOUT_MS));
        let oauth1_form_read_timeout = Duration::from_millis(
            p.positive(ENV_OAUTH1_FORM_READ_TIMEOUT_MS, DEFAULT_OAUTH1_FORM_READ_TIMEOUT_MS),
        );
        let max_body_bytes = p.positive(ENV_MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES);
        let p12_max_iterations = p.positive(ENV_P12_MAX_ITERATIONS, mtls_sdk::DEFAULT_MAX_ITERATIONS);
        let p12_request_iteration_budget = p.positive(
            ENV_P12_REQUEST_ITERATION_BUDGET,
            p12_max_iterations.saturating_mul(DEFAULT_P12_REQUEST_BUDGET_FACTOR),
        );
        let p12_inspection_workers =
            p.positive(ENV_P12_INSPECTION_WORKERS, default_p12_inspection_workers());
        let services = p.services();
        let jwks_file = p.file(ENV_JWKS_FILE);
        let log_format = p.log_format();
        let expiry_warning_days = p.number(ENV_EXPIRY_WARNING_DAYS, DEFAULT_EXPIRY_WARNING_DAYS);
        if expiry_warning_days > MAX_EXPIRY_WARNING_DAYS {
            p.error(
                ENV_EXPIRY_WARNING_DAYS,
                format!("{expiry_warning_days} is more than {MAX_EXPIRY_WARNING_DAYS} days"),
            );
        }

        // Cross-field rule: a budget under the cap would refuse files that rule 7 accepts.
        if p12_request_iteration_budget < p12_max_iterations {
            p.error(
                ENV_P12_REQUEST_ITERATION_BUDGET,
                format!(
                    "{p12_request_iteration_budget} is below {ENV_P12_MAX_ITERATIONS} \
                     ({p12_max_iterations}); a file at the cap could never be uploaded"
                ),
            );
        }

        // Cross-field rule: plain HTTP only on loopback unless explicitly allowed.
        if let Some(addr) = listen
            && matches!(tls, Some(None))
            && !addr.ip().is_loopback()
            && !allow_insecure_http
        {
            p.error(
                ENV_LISTEN,
                format!(
                    "plain HTTP on non-loopback address {addr} is refused; set {ENV_TLS_CERT} and \
                     {ENV_TLS_KEY} to serve HTTPS, or {ENV_ALLOW_INSECURE_HTTP}=true"
                ),
            );
        }

        let (Some(listen), Some(store), Some(services)) = (listen, store, services) else {
            return Err(ConfigErrors(p.errors));
        };
        if !p.errors.is_empty() {
            return Err(ConfigErrors(p.errors));
        }
        Ok(Self {
            listen,
            tls: tls.flatten(),
            allow_insecure_http,
            admin_token,
            store,
            rate_limit_per_second,
            rate_limit_burst,
            trusted_proxies,
            runtime_cache_ttl,
            allowed_target_cidrs,
            extra_target_ca_file,
            allow_plain_http_targets,
            forward_connect_timeout,
            forward_timeout,
            oauth1_form_read_timeout,
            max_body_bytes,
            p12_max_iterations,
            p12_request_iteration_budget,
            p12_inspection_workers,
            services,
            jwks_file,
            log_format,
            expiry_warning_days,
        })
    }

    /// Defaults of SPEC section 9 on an embedded store in `data_dir` (for tests).
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            tls: None,
            allow_insecure_http: false,
            admin_token: Some("test-admin-token".to_owned()),
            store: StoreConfig::Embedded { data_dir, data_key: None },
            rate_limit_per_second: DEFAULT_RATE_LIMIT_PER_SECOND,
            rate_limit_burst: DEFAULT_RATE_LIMIT_BURST,
            trusted_proxies: Vec::new(),
            runtime_cache_ttl: Duration::from_secs(DEFAULT_RUNTIME_CACHE_TTL_SECONDS),
            allowed_target_cidrs: Vec::new(),
            extra_target_ca_file: None,
            allow_plain_http_targets: false,
            forward_connect_timeout: Duration::from_millis(DEFAULT_FORWARD_CONNECT_TIMEOUT_MS),
            forward_timeout: Duration::from_millis(DEFAULT_FORWARD_TIMEOUT_MS),
            oauth1_form_read_timeout: Duration::from_millis(DEFAULT_OAUTH1_FORM_READ_TIMEOUT_MS),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            p12_max_iterations: mtls_sdk::DEFAULT_MAX_ITERATIONS,
            p12_request_iteration_budget: mtls_sdk::DEFAULT_MAX_ITERATIONS
                * DEFAULT_P12_REQUEST_BUDGET_FACTOR,
            p12_inspection_workers: default_p12_inspection_workers(),
            services: vec![
                ("TEST_SERVICE".to_owned(), 0),
                ("IDP".to_owned(), 1),
                ("WEBHOOKS".to_owned(), 2),
                ("FAAS".to_owned(), 3),
            ],
            jwks_file: None,
            log_format: LogFormat::Text,
            expiry_warning_days: DEFAULT_EXPIRY_WARNING_DAYS,
        }
    }
}

// === errors ===

/// One bad setting: the variable and what is wrong with it (never its value when secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The environment variable name (the flag is derived from it, see [`flag_for`]).
    pub variable: &'static str,
    /// What was found and what was expected.
    pub reason: String,
}

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

/// The command-line flag of an environment variable: `MTLS_TLS_CERT` → `--tls-cert`,
/// `VAULT_ROLE_ID` → `--vault-role-id`.
pub fn flag_for(variable: &str) -> String {
    let base = variable.strip_prefix("MTLS_").unwrap_or(variable);
    format!("--{}", base.to_ascii_lowercase().replace('_', "-"))
}

// === raw input ===

/// Where raw settings come from: the command line and environment ([`Args`]), or a map in tests.
pub trait Lookup {
    /// The raw value of `variable` (an environment variable name), if set.
    fn get(&self, variable: &str) -> Option<String>;
}

impl Lookup for HashMap<String, String> {
    fn get(&self, variable: &str) -> Option<String> {
        HashMap::get(self, variable).cloned()
    }
}

impl Lookup for BTreeMap<&str, &str> {
    fn get(&self, variable: &str) -> Option<String> {
        BTreeMap::get(self, variable).map(|v| (*v).to_owned())
    }
}

impl Lookup for BTreeMap<String, String> {
    fn get(&self, variable: &str) -> Option<String> {
        BTreeMap::get(self, variable).cloned()
    }
}

/// The command line of `mtls-server`: every setting is a flag and an environment variable.
/// Values stay raw text here; [`Config::from_lookup`] parses them so that every bad one is
/// reported at once.
#[derive(Debug, Parser)]
#[command(name = "mtls-server", version, about = "The mTLS gateway: certificate and mapping API, wrap-and-forward over mutual TLS.")]
pub struct Args {
    /// Listen address, IP:PORT (or localhost:PORT). Plain HTTP only on loopback unless allowed.
    #[arg(long, env = ENV_LISTEN, default_value = DEFAULT_LISTEN)]
    listen: Option<String>,
    /// PEM certificate chain for HTTPS (with --tls-key).
    #[arg(long, env = ENV_TLS_CERT)]
    tls_cert: Option<String>,
    /// PEM private key for HTTPS (with --tls-cert).
    #[arg(long, env = ENV_TLS_KEY)]
    tls_key: Option<String>,
    /// Allow plain HTTP on a non-loopback address (true/false).
    #[arg(long, env = ENV_ALLOW_INSECURE_HTTP, num_args = 0..=1, default_missing_value = "true")]
    allow_insecure_http: Option<String>,
    /// Token for the admin API (/admin/*); unset turns the admin API off.
    #[arg(long, env = ENV_ADMIN_TOKEN, hide_env_values = true)]
    admin_token: Option<String>,
    /// Store: embedded or vault.
    #[arg(long, env = ENV_STORE, default_value = "embedded")]
    store: Option<String>,
    /// Embedded store directory.
    #[arg(long, env = ENV_DATA_DIR, default_value = DEFAULT_DATA_DIR)]
    data_dir: Option<String>,
    /// Embedded store key: base64 of 32 random bytes (`head -c 32 /dev/urandom | base64`);
    /// unset: a key file `data.key` (mode 0600) is generated in the data dir.
    #[arg(long, env = ENV_DATA_KEY, hide_env_values = true)]
    data_key: Option<String>,
    /// Vault/OpenBao address (http or https URL).
    #[arg(long, env = ENV_VAULT_ADDR)]
    vault_addr: Option<String>,
    /// Vault token (or use AppRole).
    #[arg(long, env = ENV_VAULT_TOKEN, hide_env_values = true)]
    vault_token: Option<String>,
    /// AppRole role id (with --vault-secret-id); takes precedence over --vault-token.
    #[arg(long, env = ENV_VAULT_ROLE_ID)]
    vault_role_id: Option<String>,
    /// AppRole secret id.
    #[arg(long, env = ENV_VAULT_SECRET_ID, hide_env_values = true)]
    vault_secret_id: Option<String>,
    /// Mount path of the AppRole auth method.
    #[arg(long, env = ENV_VAULT_APPROLE_MOUNT, default_value = DEFAULT_VAULT_APPROLE_MOUNT)]
    vault_approle_mount: Option<String>,
    /// Extra CA certificate (PEM) to verify Vault's HTTPS certificate.
    #[arg(long, env = ENV_VAULT_CACERT)]
    vault_cacert: Option<String>,
    /// Vault Enterprise namespace.
    #[arg(long, env = ENV_VAULT_NAMESPACE)]
    vault_namespace: Option<String>,
    /// KV v2 mount.
    #[arg(long, env = ENV_VAULT_MOUNT, default_value = DEFAULT_VAULT_MOUNT)]
    vault_mount: Option<String>,
    /// Key prefix inside the mount.
    #[arg(long, env = ENV_VAULT_PREFIX, default_value = DEFAULT_VAULT_PREFIX)]
    vault_prefix: Option<String>,
    /// Requests per second per client IP.
    #[arg(long, env = ENV_RATE_LIMIT_PER_SECOND, default_value = "10")]
    rate_limit_per_second: Option<String>,
    /// Burst per client IP.
    #[arg(long, env = ENV_RATE_LIMIT_BURST, default_value = "10")]
    rate_limit_burst: Option<String>,
    /// Proxies (CIDRs or IPs, comma separated) whose X-Forwarded-For is believed.
    #[arg(long, env = ENV_TRUSTED_PROXIES)]
    trusted_proxies: Option<String>,
    /// Runtime cache TTL in seconds (0: entries expire at once).
    #[arg(long, env = ENV_RUNTIME_CACHE_TTL_SECONDS, default_value = "300")]
    runtime_cache_ttl_seconds: Option<String>,
    /// Target ranges (CIDRs) allowed although loopback, private or link-local.
    #[arg(long, env = ENV_ALLOWED_TARGET_CIDRS)]
    allowed_target_cidrs: Option<String>,
    /// Extra CA file (PEM) trusted for target server certificates, besides Mozilla's roots.
    #[arg(long, env = ENV_EXTRA_TARGET_CA_FILE)]
    extra_target_ca_file: Option<String>,
    /// Allow plain http:// targets (true/false).
    #[arg(long, env = ENV_ALLOW_PLAIN_HTTP_TARGETS, num_args = 0..=1, default_missing_value = "true")]
    allow_plain_http_targets: Option<String>,
    /// Forward connect timeout in milliseconds.
    #[arg(long, env = ENV_FORWARD_CONNECT_TIMEOUT_MS, default_value = "5000")]
    forward_connect_timeout_ms: Option<String>,
    /// Forward idle timeout in milliseconds: the longest wait for the target's response head, or
    /// for the next bytes of the request or response body (a steady stream is never cut).
    #[arg(long, env = ENV_FORWARD_TIMEOUT_MS, default_value = "30000")]
    forward_timeout_ms: Option<String>,
    /// Time allowed to read an oAuth1 form body on forward, in milliseconds.
    #[arg(long, env = ENV_OAUTH1_FORM_READ_TIMEOUT_MS, default_value = "10000")]
    oauth1_form_read_timeout_ms: Option<String>,
    /// Request body limit in bytes.
    #[arg(long, env = ENV_MAX_BODY_BYTES, default_value = "10485760")]
    max_body_bytes: Option<String>,
    /// Cap on PKCS#12 MAC and KDF iteration counts.
    #[arg(long, env = ENV_P12_MAX_ITERATIONS, default_value = "1000000")]
    p12_max_iterations: Option<String>,
    /// Budget of KDF iterations over all P12 files of one request, checked before any KDF runs
    /// (default: 3 times --p12-max-iterations).
    #[arg(long, env = ENV_P12_REQUEST_ITERATION_BUDGET)]
    p12_request_iteration_budget: Option<String>,
    /// P12 inspections (uploads, replacements, the tester) running at once; more answer 503
    /// (default: the number of cores minus one, at least 1).
    #[arg(long, env = ENV_P12_INSPECTION_WORKERS)]
    p12_inspection_workers: Option<String>,
    /// Services as NAME=code pairs, comma separated; names and codes unique.
    #[arg(long, env = ENV_SERVICES, default_value = DEFAULT_SERVICES)]
    services: Option<String>,
    /// JWKS file of an external token issuer.
    #[arg(long, env = ENV_JWKS_FILE)]
    jwks_file: Option<String>,
    /// Log line format: text or json.
    #[arg(long, env = ENV_LOG_FORMAT)]
    log_format: Option<String>,
    /// Days before expiry from which a certificate is flagged expiringSoon (0 to 3650).
    #[arg(long, env = ENV_EXPIRY_WARNING_DAYS, default_value = "30")]
    expiry_warning_days: Option<String>,
}

impl Args {
    /// Parses the command line (and environment, through clap's `env`) into a lookup by
    /// environment variable name.
    ///
    /// # Errors
    /// [`StartError::Usage`] when the flags themselves do not parse, or for `--help`.
    pub fn lookup_from<I, T>(args: I) -> Result<BTreeMap<String, String>, StartError>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let command = Self::command();
        let matches = command.clone().try_get_matches_from(args).map_err(StartError::Usage)?;
        // Validate the derive once (types match); the values are read by name below.
        Self::from_arg_matches(&matches).map_err(StartError::Usage)?;
        let mut lookup = BTreeMap::new();
        for arg in command.get_arguments() {
            let Some(variable) = arg.get_env().and_then(|v| v.to_str()) else { continue };
            if let Ok(Some(value)) = matches.try_get_one::<String>(arg.get_id().as_str()) {
                lookup.insert(variable.to_owned(), value.clone());
            }
        }
        Ok(lookup)
    }
}

// === parsing ===

struct Settings<'a> {
    lookup: &'a dyn Lookup,
    errors: Vec<ConfigError>,
}

impl Settings<'_> {
    fn error(&mut self, variable: &'static str, reason: impl Into<String>) {
        self.errors.push(ConfigError { variable, reason: reason.into() });
    }

    /// The trimmed value, `None` when unset or empty.
    fn text(&self, variable: &str) -> Option<String> {
        self.lookup.get(variable).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// A value for messages: quoted, or hidden for secrets, and cut short.
    fn shown(variable: &str, value: &str) -> String {
        if SECRET_VARIABLES.contains(&variable) {
            "the value".to_owned()
        } else {
            let short: String = value.chars().take(80).collect();
            format!("{short:?}")
        }
    }

    fn log_format(&mut self) -> LogFormat {
        match self.text(ENV_LOG_FORMAT).map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                let shown = Self::shown(ENV_LOG_FORMAT, other);
                self.error(ENV_LOG_FORMAT, format!("{shown} is not a log format; use text or json"));
                LogFormat::Text
            }
        }
    }

    fn boolean(&mut self, variable: &'static str, default: bool) -> bool {
        let Some(value) = self.text(variable) else { return default };
        match value.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => {
                let shown = Self::shown(variable, &value);
                self.error(variable, format!("{shown} is not a boolean; use true or false"));
                default
            }
        }
    }

    fn number<T: std::str::FromStr + Copy>(&mut self, variable: &'static str, default: T) -> T {
        let Some(value) = self.text(variable) else { return default };
        match value.replace('_', "").parse::<T>() {
            Ok(n) => n,
            Err(_) => {
                let shown = Self::shown(variable, &value);
                self.error(variable, format!("{shown} is not a whole number in range"));
                default
            }
        }
    }

    fn positive<T>(&mut self, variable: &'static str, default: T) -> T
    where
        T: std::str::FromStr + Copy + PartialOrd + Default,
    {
        let n = self.number(variable, default);
        if n <= T::default() {
            self.error(variable, "must be greater than 0");
            return default;
        }
        n
    }

    fn listen(&mut self) -> Option<SocketAddr> {
        let value = self.text(ENV_LISTEN).unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        if let Ok(addr) = value.parse::<SocketAddr>() {
            return Some(addr);
        }
        // Host names other than localhost would make the bind address depend on DNS.
        if let Some(port) = value.strip_prefix("localhost:")
            && let Ok(port) = port.parse::<u16>()
        {
            return Some(SocketAddr::from(([127, 0, 0, 1], port)));
        }
        let shown = Self::shown(ENV_LISTEN, &value);
        self.error(ENV_LISTEN, format!("{shown} is not an address; expected IP:PORT such as 127.0.0.1:8080"));
        None
    }

    /// `Some(None)`: plain HTTP; `Some(Some(..))`: HTTPS; `None`: invalid.
    fn tls(&mut self) -> Option<Option<(PathBuf, PathBuf)>> {
        let cert = self.file(ENV_TLS_CERT);
        let key = self.file(ENV_TLS_KEY);
        match (self.text(ENV_TLS_CERT), self.text(ENV_TLS_KEY)) {
            (None, None) => Some(None),
            (Some(_), None) => {
                self.error(ENV_TLS_KEY, format!("missing: {ENV_TLS_CERT} is set, HTTPS needs both"));
                None
            }
            (None, Some(_)) => {
                self.error(ENV_TLS_CERT, format!("missing: {ENV_TLS_KEY} is set, HTTPS needs both"));
                None
            }
            (Some(_), Some(_)) => Some(cert.zip(key)),
        }
    }

    /// A path that must name a readable regular file.
    fn file(&mut self, variable: &'static str) -> Option<PathBuf> {
        let value = self.text(variable)?;
        let path = PathBuf::from(&value);
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => match std::fs::File::open(&path) {
                Ok(_) => Some(path),
                Err(e) => {
                    self.error(variable, format!("cannot read {}: {e}", path.display()));
                    None
                }
            },
            Ok(_) => {
                self.error(variable, format!("{} is not a regular file", path.display()));
                None
            }
            Err(e) => {
                self.error(variable, format!("cannot read {}: {e}", path.display()));
                None
            }
        }
    }

    fn cidrs(&mut self, variable: &'static str) -> Vec<ipnet::IpNet> {
        let Some(value) = self.text(variable) else { return Vec::new() };
        let mut nets = Vec::new();
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if let Ok(net) = item.parse::<ipnet::IpNet>() {
                nets.push(net);
            } else if let Ok(ip) = item.parse::<IpAddr>() {
                nets.push(ipnet::IpNet::from(ip));
            } else {
                let shown = Self::shown(variable, item);
                self.error(variable, format!("{shown} is not a CIDR (such as 10.0.0.0/8) or an IP address"));
            }
        }
        nets
    }

    fn services(&mut self) -> Option<Vec<(String, u32)>> {
        let value = self.text(ENV_SERVICES).unwrap_or_else(|| DEFAULT_SERVICES.to_owned());
        let mut services = Vec::new();
        let mut names = HashSet::new();
        let mut codes = HashSet::new();
        let mut ok = true;
        for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((name, code)) = item.split_once('=') else {
                self.error(ENV_SERVICES, format!("{item:?} is not NAME=code"));
                ok = false;
                continue;
            };
            let (name, code) = (name.trim(), code.trim());
            if name.is_empty()
                || name.len() > 64
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
            {
                self.error(
                    ENV_SERVICES,
                    format!("service name {name:?} must be 1-64 letters, digits, '_', '-' or '.'"),
                );
                ok = false;
                continue;
            }
            if name.chars().all(|c| c.is_ascii_digit()) {
                // A service is given by name or code; an all-digit name would be ambiguous.
                self.error(ENV_SERVICES, format!("service name {name:?} must not be all digits"));
                ok = false;
                continue;
            }
            let Ok(code) = code.parse::<u32>() else {
                self.error(ENV_SERVICES, format!("service code {code:?} of {name} is not a whole number"));
                ok = false;
                continue;
            };
            if !names.insert(name.to_ascii_uppercase()) {
                self.error(ENV_SERVICES, format!("service name {name} appears twice"));
                ok = false;
            }
            if !codes.insert(code) {
                self.error(ENV_SERVICES, format!("service code {code} appears twice"));
                ok = false;
            }
            services.push((name.to_owned(), code));
        }
        if services.is_empty() && ok {
            self.error(ENV_SERVICES, "no service given; expected NAME=code,...");
            ok = false;
        }
        ok.then_some(services)
    }

    fn store(&mut self) -> Option<StoreConfig> {
        let kind = self.text(ENV_STORE).unwrap_or_else(|| "embedded".to_owned());
        match kind.to_ascii_lowercase().as_str() {
            "embedded" => self.embedded(),
            "vault" | "openbao" => self.vault(),
            _ => {
                let shown = Self::shown(ENV_STORE, &kind);
                self.error(ENV_STORE, format!("{shown} is not a store; use embedded or vault"));
                None
            }
        }
    }

    fn embedded(&mut self) -> Option<StoreConfig> {
        let data_dir = PathBuf::from(self.text(ENV_DATA_DIR).unwrap_or_else(|| DEFAULT_DATA_DIR.to_owned()));
        if data_dir.exists() && !data_dir.is_dir() {
            self.error(ENV_DATA_DIR, format!("{} exists and is not a directory", data_dir.display()));
            return None;
        }
        let data_key = self.text(ENV_DATA_KEY);
        if let Some(key) = &data_key
            && decode_data_key(key).is_none()
        {
            self.error(
                ENV_DATA_KEY,
                "must be standard base64 of exactly 32 bytes (make one with \
                 `head -c 32 /dev/urandom | base64`)",
            );
            return None;
        }
        Some(StoreConfig::Embedded { data_dir, data_key })
    }

    fn vault(&mut self) -> Option<StoreConfig> {
        let mut ok = true;
        let addresses = match self.text(ENV_VAULT_ADDR) {
            None => {
                self.error(ENV_VAULT_ADDR, format!("missing: {ENV_STORE}=vault needs the Vault address"));
                ok = false;
                Vec::new()
            }
            Some(text) => match parse_vault_addresses(&text) {
                Ok(addresses) => addresses,
                Err(reason) => {
                    let shown = Self::shown(ENV_VAULT_ADDR, &text);
                    self.error(ENV_VAULT_ADDR, format!("{shown} {reason}"));
                    ok = false;
                    Vec::new()
                }
            },
        };
        let token = self.text(ENV_VAULT_TOKEN);
        let role_id = self.text(ENV_VAULT_ROLE_ID);
        let secret_id = self.text(ENV_VAULT_SECRET_ID);
        let approle_mount = self.path_setting(ENV_VAULT_APPROLE_MOUNT, DEFAULT_VAULT_APPROLE_MOUNT, false);
        // AppRole wins over a token: an ambient VAULT_TOKEN (from a developer's shell) must not
        // silently replace the role the deployment configured.
        let auth = match (role_id, secret_id, token) {
            (Some(role_id), Some(secret_id), _) => approle_mount.clone().map(|mount| VaultAuth::AppRole {
                role_id,
                secret_id,
                mount,
            }),
            (Some(_), None, _) => {
                self.error(ENV_VAULT_SECRET_ID, format!("missing: {ENV_VAULT_ROLE_ID} is set, AppRole needs both"));
                None
            }
            (None, Some(_), _) => {
                self.error(ENV_VAULT_ROLE_ID, format!("missing: {ENV_VAULT_SECRET_ID} is set, AppRole needs both"));
                None
            }
            (None, None, Some(token)) => Some(VaultAuth::Token(token)),
            (None, None, None) => {
                self.error(
                    ENV_VAULT_TOKEN,
                    format!("missing: {ENV_STORE}=vault needs {ENV_VAULT_TOKEN}, or {ENV_VAULT_ROLE_ID} and {ENV_VAULT_SECRET_ID}"),
                );
                None
            }
        };
        let mount = self.path_setting(ENV_VAULT_MOUNT, DEFAULT_VAULT_MOUNT, false);
        let prefix = self.path_setting(ENV_VAULT_PREFIX, DEFAULT_VAULT_PREFIX, true);
        let ca_cert = self.file(ENV_VAULT_CACERT);
        if self.text(ENV_VAULT_CACERT).is_some() && ca_cert.is_none() {
            ok = false;
        }
        let namespace = self.text(ENV_VAULT_NAMESPACE);
        let (Some(auth), Some(mount), Some(prefix), true) = (auth, mount, prefix, ok) else {
            return None;
        };
        Some(StoreConfig::Vault { addresses, auth, mount, prefix, ca_cert, namespace })
    }

    /// A Vault path such as a mount or prefix: segments of letters, digits, `_`, `-`, `.`,
    /// without surrounding `/`. The empty string is only allowed when `may_be_empty` (a prefix
    /// given as `/` means "the mount's root").
    fn path_setting(&mut self, variable: &'static str, default: &str, may_be_empty: bool) -> Option<String> {
        let raw = self.lookup.get(variable).map(|v| v.trim().to_owned());
        let value = match raw {
            None => default.to_owned(),
            Some(v) if v.is_empty() => default.to_owned(),
            Some(v) => v.trim_matches('/').to_owned(),
        };
        let valid_segment =
            |s: &str| !s.is_empty() && s != "." && s != ".." && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        if (value.is_empty() && may_be_empty) || (!value.is_empty() && value.split('/').all(valid_segment)) {
            Some(value)
        } else {
            let shown = Self::shown(variable, &value);
            self.error(variable, format!("{shown} is not a path of letters, digits, '_', '-', '.' separated by '/'"));
            None
        }
    }
}

// === VAULT_ADDR with several nodes ===

/// Splits `VAULT_ADDR` into node addresses: one or more `http(s)` URLs of one cluster,
/// comma-separated (spaces around commas allowed), each without a trailing `/`, all with the same
/// scheme (one TLS setting, `VAULT_CACERT`, serves them all), none repeated. `Err` is the reason,
/// to follow the shown value in the start-up message.
pub fn parse_vault_addresses(text: &str) -> Result<Vec<String>, String> {
    let mut addresses: Vec<String> = Vec::new();
    for part in text.split(',').map(str::trim) {
        let url = reqwest::Url::parse(part)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
            .ok_or_else(|| {
                "is not an http(s) URL such as https://vault:8200, or several of them separated by \
                 commas (nodes of one cluster)"
                    .to_owned()
            })?;
        if let Some(first) = addresses.first()
            && !first.starts_with(&format!("{}:", url.scheme()))
        {
            return Err("mixes http and https nodes; use one scheme for every node".to_owned());
        }
        let address = part.trim_end_matches('/').to_owned();
        if addresses.contains(&address) {
            return Err("names a node twice".to_owned());
        }
        addresses.push(address);
    }
    Ok(addresses)
}

/// Decodes `MTLS_DATA_KEY`: standard base64 (padding optional) of exactly 32 bytes.
pub fn decode_data_key(text: &str) -> Option<zeroize::Zeroizing<[u8; 32]>> {
    let text = text.trim();
    let bytes = zeroize::Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .ok()?,
    );
    let array: [u8; 32] = bytes.as_slice().try_into().ok()?;
    Some(zeroize::Zeroizing::new(array))
}

#[cfg(test)]
mod tests;
