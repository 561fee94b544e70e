//! Forwarding clients, one per certificate version (SPEC section 6: "connections to a target are
//! pooled per certificate version and reused").
//!
//! A `reqwest::Client` holds its TLS identity and its own connection pool, so presenting a
//! different certificate means a different client. Clients are built once per (certificate id,
//! version) from a prebuilt root store, kept in a bounded map, and dropped when the certificate
//! is replaced or deleted; a newer version of the same id also evicts the older one, so a
//! rotation seen through the runtime cache of another instance takes effect here too. Requests
//! without a mapped certificate share a client that presents none.
//!
//! Clients are also per worker thread: hyper drives each pooled connection from a task on the
//! runtime that opened it, so a connection shared between actix workers costs two cross-thread
//! wake-ups per request. Measured in `tests/bench/forward`: per-thread clients cut the kernel's
//! scheduling share and raised throughput (see the commit message for figures).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::Duration;

use rustls::RootCertStore;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::guard::{GuardResolver, TargetGuard};
use super::transport_error::ForwardError;
use crate::certificates::ClientMaterial;

/// Certificate versions kept at most; the least recently inserted goes first.
pub const DEFAULT_CAPACITY: usize = 1024;
/// Idle connections per target and certificate version.
const MAX_IDLE_PER_HOST: usize = 64;
/// How long an idle pooled connection is kept.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Settings every client shares.
#[derive(Clone)]
pub struct ClientSettings {
    /// Mozilla roots plus `MTLS_EXTRA_TARGET_CA_FILE`.
    pub roots: Arc<RootCertStore>,
    /// The target guard (the clients resolve through it).
    pub guard: Arc<TargetGuard>,
    /// `MTLS_FORWARD_CONNECT_TIMEOUT_MS`.
    pub connect_timeout: Duration,
    /// `MTLS_FORWARD_TIMEOUT_MS`.
    pub total_timeout: Duration,
}

/// The clients, keyed by certificate version.
pub struct ClientPool {
    settings: ClientSettings,
    clients: Mutex<Clients>,
    capacity: usize,
}

/// (worker thread, certificate id, version); id 0 with version 0 is "no certificate" (real
/// certificate ids start at 1).
type Key = (ThreadId, u64, u32);

#[derive(Default)]
struct Clients {
    by_version: HashMap<Key, reqwest::Client>,
    /// Insertion order, for the bound.
    order: Vec<Key>,
}

impl ClientPool {
    /// A pool with the given settings.
    ///
    /// # Errors
    /// The HTTP client cannot be built (a bug or an unusable TLS configuration).
    pub fn new(settings: ClientSettings) -> Result<Self, String> {
        // Build one now so a configuration rustls refuses stops the server at start.
        build_client(&settings, None).map_err(|e| format!("forwarding client: {e}"))?;
        Ok(Self { settings, clients: Mutex::default(), capacity: DEFAULT_CAPACITY })
    }

    /// The client presenting `material`, or none.
    ///
    /// # Errors
    /// [`ForwardError::BadClientMaterial`] when the key or chain cannot be used by rustls.
    pub fn client(&self, material: Option<&ClientMaterial>) -> Result<reqwest::Client, ForwardError> {
        let thread = std::thread::current().id();
        let key = material.map_or((thread, 0, 0), |m| (thread, m.certificate_id, m.version));
        if let Some(client) = self.lock().by_version.get(&key) {
            return Ok(client.clone());
        }
        // Built outside the lock: parsing the key takes a moment, and racing builders only waste
        // one client.
        let client = build_client(&self.settings, material).map_err(|reason| {
            let certificate_id = material.map_or(0, |m| m.certificate_id);
            tracing::error!(certificate_id, %reason, "unusable client certificate");
            ForwardError::BadClientMaterial { certificate_id }
        })?;
        let mut clients = self.lock();
        if let Some(existing) = clients.by_version.get(&key) {
            return Ok(existing.clone());
        }
        // A newer version replaces the older ones of the same certificate.
        if let Some(material) = material {
            let (id, version) = (material.certificate_id, material.version);
            clients.by_version.retain(|(_, cert, v), _| *cert != id || *v == version);
            clients.order.retain(|(_, cert, v)| *cert != id || *v == version);
        }
        while clients.by_version.len() >= self.capacity && !clients.order.is_empty() {
            let oldest = clients.order.remove(0);
            clients.by_version.remove(&oldest);
        }
        clients.by_version.insert(key, client.clone());
        clients.order.push(key);
        Ok(client)
    }

    /// Drops every client (and so every pooled connection) of certificate `id`.
    pub fn forget_certificate(&self, id: u64) {
        self.lock().remove_certificate(id);
    }

    /// Number of certificate versions with a client, over all worker threads (tests, metrics).
    pub fn len(&self) -> usize {
        let clients = self.lock();
        let mut versions: Vec<(u64, u32)> =
            clients.by_version.keys().filter(|(_, id, _)| *id != 0).map(|(_, id, v)| (*id, *v)).collect();
        versions.sort_unstable();
        versions.dedup();
        versions.len()
    }

    /// True when no certificate has a client.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Clients> {
        self.clients.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Clients {
    fn remove_certificate(&mut self, id: u64) {
        self.by_version.retain(|(_, cert, _), _| *cert != id);
        self.order.retain(|(_, cert, _)| *cert != id);
    }
}

fn build_client(settings: &ClientSettings, material: Option<&ClientMaterial>) -> Result<reqwest::Client, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(settings.roots.clone());
    let tls = match material {
        None => builder.with_no_client_auth(),
        Some(material) => {
            let chain: Vec<CertificateDer<'static>> =
                material.certificate_chain.iter().map(|der| CertificateDer::from(der.clone())).collect();
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(material.private_key_pkcs8.to_vec()));
            // rustls's message names the problem (key type, mismatch), never key bytes.
            builder.with_client_auth_cert(chain, key).map_err(|e| e.to_string())?
        }
    };
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .dns_resolver(GuardResolver::new(settings.guard.clone()))
        // The gateway is the proxy: environment proxies must not reroute target traffic, and
        // redirects are the caller's to follow (the target's answer goes back unchanged).
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .http1_only()
        .tcp_nodelay(true)
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.total_timeout)
        .pool_max_idle_per_host(MAX_IDLE_PER_HOST)
        .pool_idle_timeout(IDLE_TIMEOUT)
        .build()
        .map_err(|e| e.to_string())
}

/// Mozilla's roots (webpki-roots) plus the certificates of `extra_ca_pem` (PEM text).
///
/// # Errors
/// The PEM holds no certificate or one rustls refuses.
pub fn root_store(extra_ca_pem: Option<&[u8]>) -> Result<RootCertStore, String> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(pem) = extra_ca_pem {
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| format!("not a PEM certificate list ({e})"))?;
            roots.add(cert).map_err(|e| format!("certificate refused: {e}"))?;
            added += 1;
        }
        if added == 0 {
            return Err("no certificate found; expected PEM \"BEGIN CERTIFICATE\" blocks".into());
        }
    }
    Ok(roots)
}
