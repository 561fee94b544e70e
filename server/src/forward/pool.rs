//! Connections to targets, pooled per certificate version and reused (SPEC section 6).
//!
//! Two levels:
//! - [`ClientPool`] (one per server, shared) holds the TLS settings of each certificate version
//!   (an `Arc<rustls::ClientConfig>` presenting that certificate), built once, in a bounded map.
//!   A certificate replaced or deleted ([`ClientPool::forget_certificate`]), a newer version of
//!   the same id, and eviction by the bound all bump an epoch.
//! - [`WorkerPool`] (one per actix worker thread, thread-local) holds the idle connections, by
//!   certificate version and then by target (`scheme://host:port`). Actix workers are
//!   single-threaded runtimes: the pool needs no lock, and a connection is only ever driven on
//!   the worker that opened it (by the requests using it, see [`super::connect`]), so a request
//!   never wakes another thread. Each checkout compares the worker's epoch with the shared one (one atomic load); when they
//!   differ the worker drops the connections of every version no longer in the shared map.
//!
//! Bounds: [`DEFAULT_CAPACITY`] certificate versions, [`MAX_IDLE_PER_TARGET`] idle connections
//! per target and version, [`MAX_TARGETS_PER_VERSION`] targets per version and worker; idle
//! connections close after [`IDLE_TIMEOUT`] (checked on checkout and by a reaper task per worker).
//! Nothing waits on an idle connection: a target that closes one is noticed at the next checkout
//! (which drives the connection before sending on it) or by the reaper, which drives every idle
//! connection once and drops those that ended.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use hyper::client::conn::http1::SendRequest;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::body::RequestBody;
use super::connect::TargetConnection;
use super::guard::TargetGuard;
use super::transport_error::ForwardError;
use crate::certificates::ClientMaterial;

/// Certificate versions kept at most; the least recently inserted goes first.
pub(crate) const DEFAULT_CAPACITY: usize = 1024;
/// Idle connections per target and certificate version, per worker.
pub(crate) const MAX_IDLE_PER_TARGET: usize = 64;
/// Targets with idle connections per certificate version, per worker.
pub(crate) const MAX_TARGETS_PER_VERSION: usize = 1024;
/// How long an idle pooled connection is kept.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// (certificate id, version); (0, 0) is "no certificate" (real certificate ids start at 1).
pub(crate) type VersionKey = (u64, u32);
const NO_CERTIFICATE: VersionKey = (0, 0);

/// A connection's request side.
pub(crate) type Sender = SendRequest<RequestBody>;

/// Settings every connection shares.
#[derive(Clone)]
pub struct ClientSettings {
    /// Mozilla roots plus `MTLS_EXTRA_TARGET_CA_FILE`.
    pub roots: Arc<RootCertStore>,
    /// The target guard (every address connected to passes it).
    pub guard: Arc<TargetGuard>,
    /// `MTLS_FORWARD_CONNECT_TIMEOUT_MS`.
    pub connect_timeout: Duration,
    /// `MTLS_FORWARD_TIMEOUT_MS`: the longest wait for the target's response head once the
    /// request stopped moving, and for the next bytes of either body.
    pub idle_timeout: Duration,
}

/// The TLS settings per certificate version, shared by all workers; see the module docs.
pub struct ClientPool {
    /// Tells this pool's thread-local worker pools from those of other servers in the process.
    id: u64,
    settings: ClientSettings,
    versions: Mutex<Versions>,
    /// Bumped (under the `versions` lock) whenever a version leaves the map.
    epoch: AtomicU64,
    capacity: usize,
}

#[derive(Default)]
struct Versions {
    tls: HashMap<VersionKey, Arc<ClientConfig>>,
    /// Insertion order, for the bound.
    order: VecDeque<VersionKey>,
}

static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's worker pools, by [`ClientPool::id`] (one per server running on it).
    static WORKER_POOLS: RefCell<Vec<(u64, Rc<WorkerPool>)>> = const { RefCell::new(Vec::new()) };
}

impl ClientPool {
    /// A pool with the given settings.
    ///
    /// # Errors
    /// rustls refuses the TLS configuration (a bug).
    pub fn new(settings: ClientSettings) -> Result<Self, String> {
        Self::with_capacity(settings, DEFAULT_CAPACITY)
    }

    /// A pool keeping at most `capacity` certificate versions.
    ///
    /// # Errors
    /// rustls refuses the TLS configuration (a bug).
    pub fn with_capacity(settings: ClientSettings, capacity: usize) -> Result<Self, String> {
        // Build the certificate-less settings now so a configuration rustls refuses stops the
        // server at start.
        let none = build_tls(&settings.roots, None).map_err(|e| format!("forwarding TLS settings: {e}"))?;
        let mut versions = Versions::default();
        versions.tls.insert(NO_CERTIFICATE, Arc::new(none));
        Ok(Self {
            id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
            settings,
            versions: Mutex::new(versions),
            epoch: AtomicU64::new(0),
            capacity: capacity.max(1),
        })
    }

    /// The shared settings.
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// The key of the version `material` presents.
    pub fn key(material: Option<&ClientMaterial>) -> VersionKey {
        material.map_or(NO_CERTIFICATE, |m| (m.certificate_id, m.version))
    }

    /// The TLS settings presenting `material` (or none), built on first use.
    ///
    /// # Errors
    /// [`ForwardError::BadClientMaterial`] when rustls cannot use the key or chain.
    pub fn tls(&self, material: Option<&ClientMaterial>) -> Result<Arc<ClientConfig>, ForwardError> {
        let key = Self::key(material);
        if let Some(tls) = self.lock().tls.get(&key) {
            return Ok(tls.clone());
        }
        // Built outside the lock: parsing the key takes a moment, and racing builders only waste
        // one build.
        let tls = build_tls(&self.settings.roots, material).map_err(|reason| {
            let certificate_id = key.0;
            tracing::error!(certificate_id, %reason, "unusable client certificate");
            ForwardError::BadClientMaterial { certificate_id }
        })?;
        Ok(self.insert(key, Arc::new(tls)))
    }

    /// Keeps `tls` for `key` (or the settings a racing builder kept first), evicting older
    /// versions of the same certificate and the oldest versions over the bound.
    fn insert(&self, key: VersionKey, tls: Arc<ClientConfig>) -> Arc<ClientConfig> {
        let mut versions = self.lock();
        if let Some(existing) = versions.tls.get(&key) {
            return existing.clone();
        }
        let (id, version) = key;
        let before = versions.order.len();
        // A newer version replaces the older ones of the same certificate.
        versions.tls.retain(|(cert, v), _| *cert != id || *v == version);
        versions.order.retain(|(cert, v)| *cert != id || *v == version);
        while versions.order.len() >= self.capacity {
            if let Some(oldest) = versions.order.pop_front() {
                versions.tls.remove(&oldest);
            }
        }
        if versions.order.len() < before {
            self.epoch.fetch_add(1, Ordering::Release);
        }
        versions.tls.insert(key, tls.clone());
        versions.order.push_back(key);
        tls
    }

    /// Drops the TLS settings of certificate `id`; every worker drops its connections on its
    /// next checkout.
    pub fn forget_certificate(&self, id: u64) {
        let mut versions = self.lock();
        versions.tls.retain(|(cert, _), _| *cert != id);
        versions.order.retain(|(cert, _)| *cert != id);
        self.epoch.fetch_add(1, Ordering::Release);
    }

    /// Number of certificate versions with TLS settings (tests, metrics).
    pub fn len(&self) -> usize {
        self.lock().order.len()
    }

    /// True when no certificate has TLS settings.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The calling thread's connections, with the versions that left the shared map dropped.
    /// Must run on a `LocalSet` (an actix worker): it may start the worker's reaper task.
    pub fn worker(&self) -> Rc<WorkerPool> {
        let worker = WORKER_POOLS.with_borrow_mut(|pools| {
            if let Some((_, worker)) = pools.iter().find(|(id, _)| *id == self.id) {
                return worker.clone();
            }
            let worker = Rc::new(WorkerPool::new(self.epoch.load(Ordering::Acquire)));
            start_reaper(Rc::downgrade(&worker));
            pools.push((self.id, worker.clone()));
            worker
        });
        if worker.epoch.get() != self.epoch.load(Ordering::Acquire) {
            let versions = self.lock();
            worker.connections.borrow_mut().retain(|key, _| versions.tls.contains_key(key));
            worker.epoch.set(self.epoch.load(Ordering::Acquire));
        }
        worker
    }

    fn lock(&self) -> MutexGuard<'_, Versions> {
        self.versions.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One worker thread's idle connections; see the module docs.
pub struct WorkerPool {
    /// The shared epoch this pool was last brought in line with.
    epoch: Cell<u64>,
    connections: RefCell<HashMap<VersionKey, Targets>>,
}

/// Idle connections by `scheme://host:port` (the normalised URL up to its path).
type Targets = HashMap<Box<str>, Vec<Idle>>;

struct Idle {
    connection: TargetConnection,
    since: Instant,
}

impl Idle {
    fn usable(&self, now: Instant) -> bool {
        !self.connection.is_closed() && now.duration_since(self.since) < IDLE_TIMEOUT
    }
}

impl WorkerPool {
    fn new(epoch: u64) -> Self {
        Self { epoch: Cell::new(epoch), connections: RefCell::default() }
    }

    /// The most recently used idle connection to `target` for `key`, if none is known to have
    /// ended (the caller drives it before use, see [`TargetConnection::poll_ready`]).
    pub(crate) fn take(&self, key: VersionKey, target: &str) -> Option<TargetConnection> {
        let mut connections = self.connections.borrow_mut();
        let idle = connections.get_mut(&key)?.get_mut(target)?;
        let now = Instant::now();
        while let Some(connection) = idle.pop() {
            if connection.usable(now) {
                return Some(connection.connection);
            }
        }
        None
    }

    /// Keeps `connection` for reuse (dropped, which closes it, when a bound is reached or its
    /// version is gone).
    pub(crate) fn put(&self, key: VersionKey, target: &str, connection: TargetConnection) {
        if connection.is_closed() {
            return;
        }
        let mut connections = self.connections.borrow_mut();
        let targets = connections.entry(key).or_default();
        let idle = match targets.get_mut(target) {
            Some(idle) => idle,
            None => {
                if targets.len() >= MAX_TARGETS_PER_VERSION {
                    targets.retain(|_, idle| !idle.is_empty());
                    if targets.len() >= MAX_TARGETS_PER_VERSION {
                        return;
                    }
                }
                targets.entry(target.into()).or_default()
            }
        };
        if idle.len() >= MAX_IDLE_PER_TARGET {
            idle.remove(0);
        }
        idle.push(Idle { connection, since: Instant::now() });
    }

    /// Closes idle connections that timed out or were closed by the target (driven once here,
    /// since no task waits on them).
    fn prune(&self) {
        let now = Instant::now();
        for targets in self.connections.borrow_mut().values_mut() {
            targets.retain(|_, idle| {
                idle.retain_mut(|idle| !idle.connection.check_closed() && idle.usable(now));
                !idle.is_empty()
            });
        }
    }

    /// Idle connections held (tests).
    pub fn idle_count(&self) -> usize {
        self.connections.borrow().values().flat_map(|targets| targets.values()).map(Vec::len).sum()
    }
}

fn start_reaper(worker: std::rc::Weak<WorkerPool>) {
    tokio::task::spawn_local(async move {
        loop {
            tokio::time::sleep(IDLE_TIMEOUT / 2).await;
            let Some(worker) = worker.upgrade() else { return };
            worker.prune();
        }
    });
}

/// A connection in use by one exchange; goes back to its worker's pool when the response has
/// been read to its end ([`Lease::release`]), and closes when dropped before that.
pub(crate) struct Lease {
    pub(super) connection: TargetConnection,
    pub(super) worker: Rc<WorkerPool>,
    pub(super) key: VersionKey,
    pub(super) url: mtls_sdk::NormalizedUrl,
}

impl Lease {
    /// Gives the connection back for reuse.
    pub(crate) fn release(self) {
        self.worker.put(self.key, self.url.base(), self.connection);
    }
}

/// The crypto provider of every connection to a target (the probe's too).
pub(super) fn tls_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn build_tls(roots: &Arc<RootCertStore>, material: Option<&ClientMaterial>) -> Result<ClientConfig, String> {
    let provider = tls_provider();
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots.clone());
    let mut tls = match material {
        None => builder.with_no_client_auth(),
        Some(material) => {
            let chain: Vec<CertificateDer<'static>> =
                material.certificate_chain.iter().map(|der| CertificateDer::from(der.clone())).collect();
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(material.private_key_pkcs8.to_vec()));
            // rustls's message names the problem (key type, mismatch), never key bytes.
            builder.with_client_auth_cert(chain, key).map_err(|e| e.to_string())?
        }
    };
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

/// Mozilla's roots (webpki-roots) plus the certificates of `extra_ca_pem` (PEM text).
///
/// # Errors
/// The PEM holds no certificate or one rustls refuses.
pub(crate) fn root_store(extra_ca_pem: Option<&[u8]>) -> Result<RootCertStore, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use tokio::net::{TcpListener, TcpStream};

    const TARGET: &str = "https://127.0.0.1:1";

    fn settings() -> ClientSettings {
        ClientSettings {
            roots: Arc::new(root_store(None).unwrap()),
            guard: Arc::new(TargetGuard::default()),
            connect_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
        }
    }

    /// Runs `future` as an actix worker would: one thread, a `LocalSet`.
    fn on_worker<F: std::future::Future>(future: F) -> F::Output {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        tokio::task::LocalSet::new().block_on(&runtime, future)
    }

    /// A real connection to `addr` (a listener that never answers: it stays open and idle).
    async fn connection(addr: SocketAddr) -> TargetConnection {
        let tcp = TcpStream::connect(addr).await.unwrap();
        TargetConnection::plain(tcp).await.unwrap()
    }

    #[test]
    fn reuses_by_version_and_target_and_skips_closed_connections() {
        on_worker(async {
            let pool = ClientPool::new(settings()).unwrap();
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let worker = pool.worker();
            assert!(Rc::ptr_eq(&worker, &pool.worker()), "one pool per worker thread");
            assert!(worker.take((7, 1), TARGET).is_none());
            worker.put((7, 1), TARGET, connection(addr).await);
            assert!(worker.take((7, 2), TARGET).is_none(), "another version of the certificate");
            assert!(worker.take(NO_CERTIFICATE, TARGET).is_none(), "no certificate");
            assert!(worker.take((7, 1), "https://127.0.0.1:2").is_none(), "another target");
            let sender = worker.take((7, 1), TARGET).expect("the pooled connection");
            assert!(worker.take((7, 1), TARGET).is_none(), "handed out once");
            worker.put((7, 1), TARGET, sender);
            assert_eq!(worker.idle_count(), 1);

            // The target closes the connection while it is idle: the reaper's pass notices (no
            // task waits on an idle connection) and it is not handed out again.
            let (server_side, _) = listener.accept().await.unwrap();
            drop(server_side);
            for _ in 0..100 {
                tokio::time::sleep(Duration::from_millis(10)).await;
                worker.prune();
                if worker.idle_count() == 0 {
                    break;
                }
            }
            assert_eq!(worker.idle_count(), 0, "the closed connection was dropped");
            assert!(worker.take((7, 1), TARGET).is_none());
        });
    }

    #[test]
    fn a_certificate_change_reaches_every_worker_thread() {
        let pool = Arc::new(ClientPool::new(settings()).unwrap());
        let tls = pool.tls(None).unwrap();
        pool.insert((7, 1), tls.clone());
        pool.insert((8, 1), tls);
        let (to_main, from_worker) = std::sync::mpsc::channel();
        let (to_worker, from_main) = std::sync::mpsc::channel();
        let shared = pool.clone();
        let worker_thread = std::thread::spawn(move || {
            on_worker(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let worker = shared.worker();
                worker.put((7, 1), TARGET, connection(addr).await);
                worker.put((8, 1), TARGET, connection(addr).await);
                to_main.send(worker.idle_count()).unwrap();
                from_main.recv().unwrap();
                let worker = shared.worker();
                (worker.take((7, 1), TARGET).is_some(), worker.take((8, 1), TARGET).is_some())
            })
        });
        assert_eq!(from_worker.recv().unwrap(), 2);
        pool.forget_certificate(7);
        assert_eq!(pool.len(), 1);
        to_worker.send(()).unwrap();
        assert_eq!(worker_thread.join().unwrap(), (false, true), "7 dropped on the other thread, 8 kept");
    }

    #[test]
    fn versions_and_idle_connections_are_bounded() {
        on_worker(async {
            let pool = ClientPool::with_capacity(settings(), 2).unwrap();
            let tls = pool.tls(None).unwrap();
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            pool.insert((1, 1), tls.clone());
            pool.insert((2, 1), tls.clone());
            let worker = pool.worker();
            worker.put((1, 1), TARGET, connection(addr).await);
            pool.insert((3, 1), tls.clone());
            assert_eq!(pool.lock().order, [(2, 1), (3, 1)], "the oldest version left");
            assert!(pool.worker().take((1, 1), TARGET).is_none(), "and its connections with it");
            pool.insert((2, 2), tls.clone());
            assert_eq!(pool.lock().order, [(3, 1), (2, 2)], "a newer version replaces the older");
            assert_eq!(pool.len(), 2);

            for _ in 0..=MAX_IDLE_PER_TARGET {
                worker.put((3, 1), TARGET, connection(addr).await);
            }
            assert_eq!(worker.idle_count(), MAX_IDLE_PER_TARGET);
        });
    }
}
