//! Runtime cache (SPEC section 7): forward and check-mapping read mappings and certificates
//! through it.
//!
//! - **TTL** (`MTLS_RUNTIME_CACHE_TTL_SECONDS`, 300 s): an entry younger than the TTL answers
//!   without touching the store; other instances therefore see a change within the TTL.
//! - **Immediate invalidation on this instance**: every configuration change made here calls
//!   [`RuntimeCache::invalidate_mappings`] or [`RuntimeCache::invalidate_certificate`], which mark
//!   every entry of the account invalidated (a certificate change can turn a negative answer
//!   positive, so per account, not per certificate). An invalidated entry never answers while
//!   the store answers: the next lookup asks the store. It is kept only as the stale fallback of
//!   the next point, so an outage right after a change does not turn the account's traffic into
//!   503 (SPEC section 7). A lookup that started before an invalidation does not store its
//!   (possibly old) result: each fill checks an epoch.
//! - **One load per key at a time**: requests that miss the same key while its load is under
//!   way wait for that load instead of starting their own, so a burst of requests on a cold
//!   or expired key costs the store one lookup, not one per request. An invalidation also
//!   forgets the account's loads under way, so a later request starts a fresh one.
//! - **O(1) store reads per miss**: with a service, the route key and the record (2 reads; 1
//!   when there is no route), then the certificate's metadata and its key material (3 reads with
//!   the certificate service); without a service, one route key per configured service
//!   first. Never a scan (see `crate::mappings::keys`). Counted by [`ReadCounter`].
//! - **Stale entries while the store is down**: an expired or invalidated entry is kept until
//!   evicted; when the refresh fails because the store is unavailable, the old answer is served
//!   (and for [`STORE_RETRY_AFTER`] further stale answers skip the store). A fresh miss then
//!   answers 503. An invalidation ends that pause: the change it follows was just written, so
//!   the store answered, and the next lookup asks it again.
//! - **Bounded memory**: at most `capacity` entries (first in, first out); "no mapping" answers
//!   are cached too, and URLs longer than any mapping URL are answered without a lookup.
//! - **Staged rotations switch by themselves** (SPEC section 12): a match loaded while a
//!   replacement is staged carries the staged key material and its instant, and every answer
//!   from then on presents it, hit or stale alike, without waiting for the TTL or the store.
//!   The forwarding pools are keyed by certificate version, so no connection opened with the old
//!   version is reused after the switch. Other instances learn of a staging through
//!   [`rotation_notices`] within a poll interval, well before a second passes.
//! - **Metrics**: `mtls_runtime_cache_total{result="hit"|"miss"|"stale"}`,
//!   `mtls_runtime_store_reads_total`, `mtls_runtime_cache_evictions_total`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

// tokio's clock (the monotonic clock at run time), so tests can pause time and step past a TTL
// instead of sleeping against it.
use tokio::time::Instant;

use futures_util::future::{BoxFuture, FutureExt as _, Shared};

use crate::certificates::{CertificateStatus, ClientMaterial};
use crate::mappings::{self, CertificateSource, StoredMapping, MAX_ACCOUNT_BYTES, MAX_URL_BYTES};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};

/// Entries kept at most, by default: a few MB even with long URLs.
pub const DEFAULT_CAPACITY: usize = 10_000;
/// After a failed refresh, stale answers are served without asking the store for this long,
/// so a hung store does not add its timeout to every request.
pub const STORE_RETRY_AFTER: Duration = Duration::from_secs(5);

mod read_counter;
pub mod rotation_notices;

pub use read_counter::ReadCounter;


/// The mapping a runtime request resolved to.
#[derive(Debug, Clone)]
pub struct RuntimeMatch {
    /// Mapping id.
    pub mapping_id: u64,
    /// The certificate to present, with its version.
    pub material: Arc<ClientMaterial>,
    /// A staged version of that certificate and when it takes over; [`RuntimeCache::find`]
    /// answers with it in `material` from then on.
    pub pending: Option<PendingSwitch>,
}

/// The staged key material of a match and the instant it is presented from.
#[derive(Debug, Clone)]
pub struct PendingSwitch {
    /// Unix milliseconds.
    pub activate_at_millis: i64,
    /// The staged version's key and chain.
    pub material: Arc<ClientMaterial>,
}

impl RuntimeMatch {
    /// The match as it stands at `now_millis`: the staged version once its time has come.
    pub fn at(self, now_millis: i64) -> Self {
        match self.pending {
            Some(pending) if now_millis >= pending.activate_at_millis => {
                Self { mapping_id: self.mapping_id, material: pending.material, pending: None }
            }
            pending => Self { pending, ..self }
        }
    }
}

/// Cached lookups for forwarding and checks.
pub struct RuntimeCache {
    loader: Loader,
    ttl: Duration,
    capacity: usize,
    metrics: Arc<Metrics>,
    state: Mutex<CacheState>,
}

#[derive(Debug, Clone)]
struct CacheKey {
    account: String,
    service: Option<u32>,
    url: String,
}

/// A cache key's parts, owned ([`CacheKey`]) or borrowed from the request ([`KeyRef`]): a hit
/// looks the entry up by the borrowed parts and allocates nothing (the forward hot path).
trait KeyParts {
    fn parts(&self) -> (&str, Option<u32>, &str);
}

type KeyRef<'a> = (&'a str, Option<u32>, &'a str);

impl KeyParts for CacheKey {
    fn parts(&self) -> (&str, Option<u32>, &str) {
        (&self.account, self.service, &self.url)
    }
}

impl KeyParts for KeyRef<'_> {
    fn parts(&self) -> (&str, Option<u32>, &str) {
        *self
    }
}

impl<'a> std::borrow::Borrow<dyn KeyParts + 'a> for CacheKey {
    fn borrow(&self) -> &(dyn KeyParts + 'a) {
        self
    }
}

// Owned and borrowed keys hash and compare by the same parts, as `Borrow` requires.
impl std::hash::Hash for dyn KeyParts + '_ {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.parts().hash(state);
    }
}

impl PartialEq for dyn KeyParts + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn KeyParts + '_ {}

impl std::hash::Hash for CacheKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.parts().hash(state);
    }
}

impl PartialEq for CacheKey {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for CacheKey {}

struct Entry {
    value: Option<RuntimeMatch>,
    /// Unix milliseconds at which the entry is due for a reload before its TTL: the instant a
    /// staged version takes over a certificate that presents nothing now (expired).
    refresh_at_millis: Option<i64>,
    fetched: Instant,
    /// Set by an invalidation: the value may be outdated and serves only while the store is down.
    invalidated: bool,
    /// Insertion number, to tell this entry from an older one under the same key in `order`.
    seq: u64,
}

/// What a miss reads from: cloned into each load, so a load is `'static` and can be shared.
#[derive(Clone)]
struct Loader {
    store: Arc<dyn Store>,
    certificates: Arc<dyn CertificateSource>,
    service_codes: Arc<[u32]>,
}

/// A load under way, awaited by every request that missed its key meanwhile.
type SharedLoad = Shared<BoxFuture<'static, Result<Loaded, LoadError>>>;

/// What a load found, and when it must be reloaded regardless of the TTL.
#[derive(Clone)]
struct Loaded {
    value: Option<RuntimeMatch>,
    refresh_at_millis: Option<i64>,
}

#[derive(Default)]
struct CacheState {
    entries: HashMap<CacheKey, Entry>,
    /// Insertion order for eviction; may hold keys already dropped (skipped when popped).
    order: VecDeque<(CacheKey, u64)>,
    next_seq: u64,
    /// Bumped by every invalidation; a fill that started in an older epoch is not stored.
    epoch: u64,
    store_down_until: Option<Instant>,
    /// Loads under way; an invalidation drops those of its account, so no later request
    /// joins a load that may have read the old data.
    loading: HashMap<CacheKey, SharedLoad>,
}

/// Why a lookup could not be answered from the store.
#[derive(Clone)]
enum LoadError {
    Unavailable(String),
    Failed(StoreError),
}

impl RuntimeCache {
    /// A cache over `store` and `certificates`; `services` is `MTLS_SERVICES` (probed for
    /// lookups without a service), `ttl` is `MTLS_RUNTIME_CACHE_TTL_SECONDS`. To count store
    /// reads, give a [`ReadCounter`] store here and to the certificate source.
    pub fn new(
        store: Arc<dyn Store>,
        certificates: Arc<dyn CertificateSource>,
        services: &[(String, u32)],
        ttl: Duration,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            loader: Loader { store, certificates, service_codes: crate::services::codes(services).into() },
            ttl,
            capacity: DEFAULT_CAPACITY,
            metrics,
            state: Mutex::default(),
        }
    }

    /// The same cache holding at most `capacity` entries (at least 1).
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// The enabled mapping of `account` for `service` (code) and the normalised `url`, with an
    /// Available certificate. Without a service, the one enabled mapping for (account, url) when
    /// exactly one exists.
    ///
    /// # Errors
    /// The store's error: [`StoreError::Unavailable`] when the store is down and nothing is
    /// cached for this key.
    pub async fn find(
        &self,
        account: &str,
        service: Option<u32>,
        normalized_url: &str,
    ) -> Result<Option<RuntimeMatch>, StoreError> {
        let found = self.find_cached(account, service, normalized_url).await?;
        Ok(found.map(|m| m.at(crate::clock::now_unix_millis())))
    }

    async fn find_cached(
        &self,
        account: &str,
        service: Option<u32>,
        normalized_url: &str,
    ) -> Result<Option<RuntimeMatch>, StoreError> {
        if normalized_url.len() > MAX_URL_BYTES || account.len() > MAX_ACCOUNT_BYTES {
            return Ok(None); // no mapping can have such a key, and it would not fit the bound
        }
        let lookup: KeyRef<'_> = (account, service, normalized_url);
        let now = Instant::now();
        let (key, stale, epoch, load) = {
            let mut state = self.lock();
            let stale = match state.entries.get(&lookup as &dyn KeyParts) {
                Some(entry)
                    if !entry.invalidated
                        && now.duration_since(entry.fetched) < self.ttl
                        && entry.refresh_at_millis.is_none_or(|at| crate::clock::now_unix_millis() < at) =>
                {
                    self.metrics.runtime_cache.inc("hit");
                    return Ok(entry.value.clone());
                }
                Some(entry) => Some(entry.value.clone()),
                None => None,
            };
            if let (Some(value), Some(until)) = (&stale, state.store_down_until)
                && now < until {
                    self.metrics.runtime_cache.inc("stale");
                    return Ok(value.clone());
                }
            let key = CacheKey { account: account.to_owned(), service, url: normalized_url.to_owned() };
            let epoch = state.epoch;
            let load = match state.loading.get(&key) {
                Some(load) => load.clone(),
                None => {
                    let loader = self.loader.clone();
                    let (account, url) = (account.to_owned(), normalized_url.to_owned());
                    let load = async move { loader.load(&account, service, &url).await }.boxed().shared();
                    state.loading.insert(key.clone(), load.clone());
                    load
                }
            };
            (key, stale, epoch, load)
        };
        self.metrics.runtime_cache.inc("miss");
        let result = load.clone().await;
        let mut state = self.lock();
        // The first waiter back (whoever started the load may have gone: its caller hung up)
        // retires the load and stores its answer, once.
        let first = state.loading.get(&key).is_some_and(|current| current.ptr_eq(&load));
        if first {
            state.loading.remove(&key);
        }
        match result {
            Ok(Loaded { value, refresh_at_millis }) => {
                state.store_down_until = None;
                if first && state.epoch == epoch {
                    self.insert(&mut state, key, value.clone(), refresh_at_millis);
                }
                Ok(value)
            }
            Err(LoadError::Unavailable(reason)) => {
                state.store_down_until = Some(Instant::now() + STORE_RETRY_AFTER);
                drop(state);
                match stale {
                    Some(value) => {
                        self.metrics.runtime_cache.inc("stale");
                        Ok(value)
                    }
                    None => Err(StoreError::Unavailable(reason)),
                }
            }
            Err(LoadError::Failed(error)) => Err(error),
        }
    }

    /// Marks everything cached about certificate `id` of `account` (replaced or deleted) as
    /// outdated: kept only as a fallback while the store is unreachable.
    pub fn invalidate_certificate(&self, account: &str, id: u64) {
        let _ = id; // see the module docs: a certificate change can affect any entry of the account
        self.invalidate_account(account);
    }

    /// Marks everything cached about mappings of `account` as outdated (see
    /// [`Self::invalidate_certificate`]).
    pub fn invalidate_mappings(&self, account: &str) {
        self.invalidate_account(account);
    }

    /// Marks everything cached as outdated: another instance changed more accounts than its
    /// notices tell (see [`rotation_notices`]).
    pub fn invalidate_all(&self) {
        let mut state = self.lock();
        for entry in state.entries.values_mut() {
            entry.invalidated = true;
        }
        state.loading.clear();
        state.epoch += 1;
    }

    /// Number of entries held (tests and diagnostics).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // === helpers ===

    fn invalidate_account(&self, account: &str) {
        let mut state = self.lock();
        for (_, entry) in state.entries.iter_mut().filter(|(key, _)| key.account == account) {
            entry.invalidated = true;
        }
        // The change being invalidated was just written: the store answers again.
        state.store_down_until = None;
        // Loads under way keep running for those awaiting them; later requests start anew.
        state.loading.retain(|key, _| key.account != account);
        state.epoch += 1;
    }

    fn lock(&self) -> MutexGuard<'_, CacheState> {
        // The state is consistent after every statement, so a panic elsewhere cannot corrupt it.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn insert(
        &self,
        state: &mut CacheState,
        key: CacheKey,
        value: Option<RuntimeMatch>,
        refresh_at_millis: Option<i64>,
    ) {
        let seq = state.next_seq;
        state.next_seq += 1;
        state.order.push_back((key.clone(), seq));
        state.entries.insert(key, Entry { value, refresh_at_millis, fetched: Instant::now(), invalidated: false, seq });
        while state.entries.len() > self.capacity {
            let Some((old, old_seq)) = state.order.pop_front() else { break };
            if state.entries.get(&old).is_some_and(|e| e.seq == old_seq) {
                state.entries.remove(&old);
                self.metrics.runtime_evictions.inc();
            }
        }
        if state.order.len() > 2 * self.capacity + 64 {
            let CacheState { entries, order, .. } = state;
            order.retain(|(k, s)| entries.get(k).is_some_and(|e| e.seq == *s));
        }
    }
}

impl Loader {
    async fn load(
        &self,
        account: &str,
        service: Option<u32>,
        url: &str,
    ) -> Result<Loaded, LoadError> {
        let nothing = Loaded { value: None, refresh_at_millis: None };
        let record = match service {
            Some(code) => self.route(account, code, url).await?.filter(|r| r.enable),
            None => {
                let probes = self.service_codes.iter().map(|&code| self.route(account, code, url));
                let mut enabled = Vec::new();
                for found in futures_util::future::join_all(probes).await {
                    if let Some(record) = found?.filter(|r| r.enable) {
                        enabled.push(record);
                    }
                }
                // Without a service the URL alone must be unambiguous (SPEC section 6).
                if enabled.len() == 1 { enabled.pop() } else { None }
            }
        };
        let Some(record) = record else { return Ok(nothing) };
        let certificate = self
            .certificates
            .certificate(account, record.certification_id)
            .await
            .map_err(LoadError::from)?;
        if !certificate.as_ref().is_some_and(|c| c.status == CertificateStatus::Available) {
            // Nothing to present now; a staged version presents from its instant on.
            let refresh_at_millis = certificate
                .and_then(|c| c.pending)
                .and_then(|p| crate::clock::parse_rfc3339_millis(&p.activate_at));
            return Ok(Loaded { value: None, refresh_at_millis });
        }
        let staged = certificate.as_ref().is_some_and(|c| c.pending.is_some());
        let material = self
            .certificates
            .client_material(account, record.certification_id)
            .await
            .map_err(LoadError::from)?;
        let pending = if staged {
            self.certificates
                .staged_material(account, record.certification_id)
                .await
                .map_err(LoadError::from)?
                .map(|s| PendingSwitch { activate_at_millis: s.activate_at_millis, material: Arc::new(s.material) })
        } else {
            None
        };
        let value = material.map(|m| RuntimeMatch { mapping_id: record.id, material: Arc::new(m), pending });
        Ok(Loaded { value, refresh_at_millis: None })
    }

    async fn route(
        &self,
        account: &str,
        code: u32,
        url: &str,
    ) -> Result<Option<StoredMapping>, LoadError> {
        let found = mappings::find_route(self.store.as_ref(), account, code, url)
            .await
            .map_err(LoadError::from)?;
        Ok(found)
    }
}

impl From<StoreError> for LoadError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(reason) => {
                tracing::warn!(%reason, "store unavailable for a runtime lookup");
                Self::Unavailable(reason)
            }
            other => Self::Failed(other),
        }
    }
}

#[cfg(test)]
mod tests;
