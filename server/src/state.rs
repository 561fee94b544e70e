//! Application state, built once before `HttpServer::new` and shared as `web::Data`.

use std::sync::Arc;

use crate::audit::AuditLog;
use crate::auth::{AuthState, Listener};
use crate::certificate_requests::CertificateRequestService;
use crate::certificates::{CertificateService, P12Inspector};
use crate::config::Config;
use crate::forward::Forwarder;
use crate::store::readiness::ReadinessProbe;
use crate::mappings::MappingService;
use crate::metrics::Metrics;
use crate::runtime::{ReadCounter, RuntimeCache};
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
    /// Certificates (shared with the runtime cache and the mapping service).
    pub certificates: Arc<CertificateService>,
    /// Mappings.
    pub mappings: MappingService,
    /// Runtime lookups for forwarding and checks.
    pub runtime: RuntimeCache,
    /// Credentials: token issuer, external keys, app keys, nonces.
    pub auth: AuthState,
    /// Wrap-and-forward: target guard and the client pools per certificate version.
    pub forwarder: Forwarder,
    /// `/readyz`'s shared store probe.
    pub readiness: ReadinessProbe,
    /// P12 inspections of uploads, replacements and the tester: KDF budget and workers.
    pub p12_inspector: P12Inspector,
    /// The audit trail every change is recorded in first.
    pub audit: AuditLog,
    /// Gateway-held keys and their CSRs (SPEC section 12).
    pub certificate_requests: CertificateRequestService,
}

impl AppState {
    /// Builds the state from the configuration over an opened store: every service, in one
    /// place.
    ///
    /// # Errors
    /// A configured file (`MTLS_JWKS_FILE`, `MTLS_EXTRA_TARGET_CA_FILE`) cannot be used; the
    /// message names the variable.
    pub fn try_new(config: Config, store: Arc<dyn Store>) -> Result<Self, String> {
        let metrics: Arc<Metrics> = Arc::default();
        let listener = Listener {
            https: config.tls.is_some(),
            address: config.listen,
            trusted_proxies: config.throttle.trusted_proxies.clone(),
        };
        let auth = AuthState::new(&config.auth, listener, metrics.clone(), store.clone())?;
        let forwarder = Forwarder::new(&config.forward, config.max_body_bytes)?;
        // Every store operation is timed and its failures counted (SPEC 13).
        let store = crate::store::instrumented::InstrumentedStore::wrap(store, metrics.clone());
        let expiry = metrics.certificate_expiry.clone();
        let certificates = Arc::new(
            CertificateService::with_expiry_warning_days(store.clone(), config.expiry_warning_days)
                .with_expiry(expiry.clone()),
        );
        let mappings = MappingService::new(
            store.clone(),
            certificates.clone(),
            config.services.clone(),
            config.allow_plain_http_targets,
        );
        // The runtime reads through a counter so its metrics show real store round trips.
        let runtime_store = ReadCounter::wrap(store.clone(), metrics.clone());
        let runtime = RuntimeCache::new(
            runtime_store.clone(),
            Arc::new(CertificateService::new(runtime_store).with_expiry(expiry)),
            &config.services,
            config.runtime_cache_ttl,
            metrics.clone(),
        );
        let p12_inspector = P12Inspector::new(&config.p12);
        let certificate_requests = CertificateRequestService::new(store.clone(), certificates.clone());
        Ok(Self {
            config: Arc::new(config),
            store: store.clone(),
            metrics,
            certificates,
            mappings,
            runtime,
            auth,
            forwarder,
            readiness: ReadinessProbe::default(),
            p12_inspector,
            audit: AuditLog::new(store),
            certificate_requests,
        })
    }

    /// [`AppState::try_new`] for tests, whose configurations name no file or only good ones.
    ///
    /// # Panics
    /// When [`AppState::try_new`] fails.
    #[cfg(any(test, feature = "test-support"))]
    pub fn new(config: Config, store: Arc<dyn Store>) -> Self {
        match Self::try_new(config, store) {
            Ok(state) => state,
            Err(error) => panic!("test state refused: {error}"),
        }
    }

    /// Called after a certificate of `account` was replaced or deleted through this instance:
    /// the runtime cache and the forwarding pools drop what they hold for it at once.
    pub fn certificate_changed(&self, account: &str, id: u64) {
        self.runtime.invalidate_certificate(account, id);
        self.forwarder.certificate_changed(id);
    }

    /// Called after a mapping of `account` changed through this instance.
    pub fn mappings_changed(&self, account: &str) {
        self.runtime.invalidate_mappings(account);
    }
}
