//! One configuration struct, read from environment variables and command-line flags and
//! validated at start (SPEC section 9). A bad value stops the server with a message naming the
//! variable; secret values (`VAULT_TOKEN`, `MTLS_DATA_KEY`, ...) are never echoed.
//!
//! Skeleton: the fields every module reads. Parsing and validation are filled in by the
//! configuration work (issue 3).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Validated settings.
#[derive(Clone)]
pub struct Config {
    /// `MTLS_LISTEN`.
    pub listen: SocketAddr,
    /// `MTLS_TLS_CERT` / `MTLS_TLS_KEY`: serve HTTPS when both are set.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `MTLS_ALLOW_INSECURE_HTTP`.
    pub allow_insecure_http: bool,
    /// `MTLS_ADMIN_TOKEN` (secret).
    pub admin_token: Option<String>,
    /// `MTLS_STORE` and its settings.
    pub store: StoreConfig,
    /// `MTLS_RATE_LIMIT_PER_SECOND`.
    pub rate_limit_per_second: u32,
    /// `MTLS_RATE_LIMIT_BURST`.
    pub rate_limit_burst: u32,
    /// `MTLS_TRUSTED_PROXIES`.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `MTLS_RUNTIME_CACHE_TTL_SECONDS`.
    pub runtime_cache_ttl: Duration,
    /// `MTLS_ALLOWED_TARGET_CIDRS`.
    pub allowed_target_cidrs: Vec<ipnet::IpNet>,
    /// `MTLS_EXTRA_TARGET_CA_FILE`.
    pub extra_target_ca_file: Option<PathBuf>,
    /// `MTLS_ALLOW_PLAIN_HTTP_TARGETS`.
    pub allow_plain_http_targets: bool,
    /// `MTLS_FORWARD_CONNECT_TIMEOUT_MS`.
    pub forward_connect_timeout: Duration,
    /// `MTLS_FORWARD_TIMEOUT_MS`.
    pub forward_timeout: Duration,
    /// `MTLS_MAX_BODY_BYTES`.
    pub max_body_bytes: usize,
    /// `MTLS_P12_MAX_ITERATIONS`.
    pub p12_max_iterations: u64,
    /// `MTLS_SERVICES`: name and numeric code of each service.
    pub services: Vec<(String, u32)>,
    /// `MTLS_JWKS_FILE`.
    pub jwks_file: Option<PathBuf>,
}

/// Which store, and how to reach it.
#[derive(Clone)]
pub enum StoreConfig {
    /// `MTLS_STORE=embedded`.
    Embedded {
        /// `MTLS_DATA_DIR`.
        data_dir: PathBuf,
        /// `MTLS_DATA_KEY` (secret); a key file is generated when absent.
        data_key: Option<String>,
    },
    /// `MTLS_STORE=vault`.
    Vault {
        /// `VAULT_ADDR`.
        address: String,
        /// `VAULT_TOKEN` or AppRole.
        auth: VaultAuth,
        /// `MTLS_VAULT_MOUNT`.
        mount: String,
        /// `MTLS_VAULT_PREFIX`.
        prefix: String,
    },
}

/// How to log in to Vault.
#[derive(Clone)]
pub enum VaultAuth {
    /// `VAULT_TOKEN`.
    Token(String),
    /// `VAULT_ROLE_ID` and `VAULT_SECRET_ID`.
    AppRole {
        /// Role id.
        role_id: String,
        /// Secret id (secret).
        secret_id: String,
    },
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are omitted on purpose.
        f.debug_struct("Config").field("listen", &self.listen).finish_non_exhaustive()
    }
}

impl Config {
    /// Defaults of SPEC section 9 on an embedded store in `data_dir` (for tests).
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            tls: None,
            allow_insecure_http: false,
            admin_token: Some("test-admin-token".to_owned()),
            store: StoreConfig::Embedded { data_dir, data_key: None },
            rate_limit_per_second: 10,
            rate_limit_burst: 10,
            trusted_proxies: Vec::new(),
            runtime_cache_ttl: Duration::from_secs(300),
            allowed_target_cidrs: Vec::new(),
            extra_target_ca_file: None,
            allow_plain_http_targets: false,
            forward_connect_timeout: Duration::from_millis(5000),
            forward_timeout: Duration::from_millis(30_000),
            max_body_bytes: 10 * 1024 * 1024,
            p12_max_iterations: mtls_sdk::DEFAULT_MAX_ITERATIONS,
            services: vec![
                ("TEST_SERVICE".to_owned(), 0),
                ("IDP".to_owned(), 1),
                ("WEBHOOKS".to_owned(), 2),
                ("FAAS".to_owned(), 3),
            ],
            jwks_file: None,
        }
    }
}
