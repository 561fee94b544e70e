//! Application state, built once before `HttpServer::new` and shared as `web::Data`.

use std::sync::Arc;

use crate::certificates::CertificateService;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::runtime::RuntimeCache;
use crate::store::Store;

/// Everything handlers need: configuration, the store, and the domain services.
/// Each service is added here by the module that owns it.
pub struct AppState {
    /// Validated configuration.
    pub config: Arc<Config>,
    /// The configured store (Vault or embedded).
    pub store: Arc<dyn Store>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Certificates.
    pub certificates: CertificateService,
    /// Runtime lookups for forwarding and checks.
    pub runtime: RuntimeCache,
}

impl AppState {
    /// Builds the state over an opened store.
    pub fn new(config: Config, store: Arc<dyn Store>) -> Self {
        Self {
            config: Arc::new(config),
            certificates: CertificateService::new(store.clone()),
            runtime: RuntimeCache::default(),
            metrics: Arc::default(),
            store,
        }
    }

    /// Called after a certificate of `account` was replaced or deleted through this instance:
    /// the runtime cache and the forwarding pools drop what they hold for it at once.
    pub fn certificate_changed(&self, account: &str, id: u64) {
        self.runtime.invalidate_certificate(account, id);
    }

    /// Called after a mapping of `account` changed through this instance.
    pub fn mappings_changed(&self, account: &str) {
        self.runtime.invalidate_mappings(account);
    }
}
