//! The gateway's Prometheus metrics (SPEC 13) on the `prometheus-client` registry. Every family
//! is registered with its HELP and TYPE when the state is built, so the first scrape describes
//! them all, and `/metrics` answers the OpenMetrics text that Prometheus scrapes natively.
//!
//! **Why prometheus-client, not `metrics` + `metrics-exporter-prometheus`.** The `metrics`
//! facade records through a global recorder by name and label strings; a family only appears
//! once something was recorded, descriptions are a separate side channel, and every call
//! resolves its key (hashing the name and labels) in the recorder's map. prometheus-client is
//! the Prometheus project's own Rust client: families are typed values registered with their
//! HELP up front, series are handles the code can create at start and keep, custom metric types
//! (the lock-free histogram, the expiry gauge computed at scrape time) plug into its encoder,
//! and there is no global state, so each test builds its own registry.
//!
//! **No lock per forwarded request.** prometheus-client keeps a family's series in a map behind
//! a lock and its `Histogram` behind another. Here every series whose labels are known in
//! advance (cache results, forward outcomes, store operations, ...) is created at start and its
//! handle kept in an immutable map, so counting is one atomic add; histograms are
//! [`AtomicHistogram`]s. The one open-ended family, requests by route, method and status, is
//! reached through a per-thread cache of handles: a hit is a lookup by `&str` in a map only this
//! thread touches (no lock, no allocation); the family's lock is taken once per thread and
//! series.
//!
//! **No request data in labels.** Label values are fixed strings chosen by the code, route
//! *templates* (`/mtls/account/{account}`), the standard methods (anything else is `other`) and
//! status codes; the expiry gauge adds account and certificate ids ([`expiry`] says why).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, LabelSetEncoder, MetricEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

pub(crate) use expiry::CertificateExpiry;
pub(crate) use histogram::AtomicHistogram;

pub(crate) mod expiry;
mod histogram;

/// Runtime cache results (`mtls_runtime_cache_total{result}`).
pub(crate) const CACHE_RESULTS: &[&str] = &["hit", "stale", "miss"];
/// Forward outcomes (`mtls_forward_total{result}` and the duration histogram).
pub(crate) const FORWARD_OUTCOMES: &[&str] = &[
    "forwarded",
    "certificate_not_found",
    "target_not_allowed",
    "too_large",
    "request_body_timeout",
    "bad_certificate",
    "dns",
    "connect",
    "tls",
    "timeout",
    "io",
];
/// Store operations (`mtls_store_operation_duration_seconds{operation}`).
pub(crate) const STORE_OPERATIONS: &[&str] = &["read", "write", "delete", "list", "ping"];
/// Store error kinds (`mtls_store_operation_errors_total{operation,error}`).
pub(crate) const STORE_ERRORS: &[&str] = &["unavailable", "conflict", "corrupt"];
/// Certificate changes (`mtls_certificate_changes_total{op}`).
pub(crate) const CERTIFICATE_CHANGES: &[&str] = &["create", "replace", "stage", "delete"];
/// Authentication refusals (`mtls_auth_refusals_total{reason}`).
pub(crate) const AUTH_REFUSALS: &[&str] = &["unauthenticated", "forbidden", "admin"];
/// P12 tester verdicts (`mtls_p12_tests_total{usable}`).
pub(crate) const P12_VERDICTS: &[&str] = &["true", "false"];
/// Methods named in `mtls_http_requests_total{method}`; any other is `other`, since a method is
/// caller text.
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
/// The route label of requests that matched no route (their path is caller text).
pub(crate) const UNMATCHED_ROUTE: &str = "unmatched";

/// Upper bounds (seconds) of the forward latency buckets: 250 µs to 30 s.
const FORWARD_BUCKETS: &[f64] = &[
    0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    30.0,
];
/// Upper bounds (seconds) of the store latency buckets: 100 µs to 10 s.
const STORE_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0,
];

/// Every metric of the gateway; one per server (tests build as many as they like).
pub struct Metrics {
    registry: Registry,
    /// This instance's key in the per-thread request-counter caches.
    instance: u64,
    requests: Described<Family<RequestLabels, Counter>>,
    /// `mtls_runtime_cache_total{result}`.
    pub runtime_cache: Labelled<Counter>,
    /// `mtls_runtime_cache_evictions_total`.
    pub runtime_evictions: Counter,
    /// `mtls_runtime_store_reads_total`: store round trips behind runtime cache misses.
    pub runtime_store_reads: Counter,
    /// `mtls_forward_total{result}`.
    pub forwards: Labelled<Counter>,
    /// `mtls_forward_duration_seconds{result}`: until the target's response head (or the error).
    pub forward_duration: Labelled<AtomicHistogram>,
    /// `mtls_store_operation_duration_seconds{operation}`.
    pub store_duration: Labelled<AtomicHistogram>,
    /// `mtls_store_operation_errors_total{operation,error}`.
    pub store_errors: StoreErrors,
    /// `mtls_certificate_changes_total{op}`.
    pub certificate_changes: Labelled<Counter>,
    /// `mtls_auth_refusals_total{reason}`.
    pub auth_refusals: Labelled<Counter>,
    /// `mtls_p12_tests_total{usable}`.
    pub p12_tests: Labelled<Counter>,
    /// `mtls_certificate_expiry_seconds{account,certificate}`.
    pub certificate_expiry: CertificateExpiry,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("instance", &self.instance).finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every family of SPEC 13 and creates the series known in advance.
    pub fn new() -> Self {
        static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(0);
        let mut registry = Registry::default();
        let requests = Described(Family::<RequestLabels, Counter>::default());
        registry.register(
            "mtls_http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let runtime_cache = Labelled::counters(
            &mut registry,
            "mtls_runtime_cache",
            "Runtime cache lookups by result (stale: served while the store is unreachable)",
            "result",
            CACHE_RESULTS,
        );
        let runtime_evictions = Counter::default();
        registry.register(
            "mtls_runtime_cache_evictions",
            "Runtime cache entries evicted to stay within the size bound",
            runtime_evictions.clone(),
        );
        let runtime_store_reads = Counter::default();
        registry.register(
            "mtls_runtime_store_reads",
            "Store reads made for runtime cache misses",
            runtime_store_reads.clone(),
        );
        let forwards = Labelled::counters(
            &mut registry,
            "mtls_forward",
            "Forward requests by outcome",
            "result",
            FORWARD_OUTCOMES,
        );
        let forward_duration = Labelled::histograms(
            &mut registry,
            "mtls_forward_duration_seconds",
            "Time from sending the forward request to the target's response head or the error, by \
             outcome (0 when nothing was sent: certificate_not_found)",
            "result",
            FORWARD_OUTCOMES,
            FORWARD_BUCKETS,
        );
        let store_duration = Labelled::histograms(
            &mut registry,
            "mtls_store_operation_duration_seconds",
            "Store operation latency, by operation",
            "operation",
            STORE_OPERATIONS,
            STORE_BUCKETS,
        );
        let store_errors = StoreErrors::new(&mut registry);
        let certificate_changes = Labelled::counters(
            &mut registry,
            "mtls_certificate_changes",
            "Certificates created, replaced, staged for rotation (or cancelled) or deleted through this instance",
            "op",
            CERTIFICATE_CHANGES,
        );
        let auth_refusals = Labelled::counters(
            &mut registry,
            "mtls_auth_refusals",
            "Requests refused by authentication or authorization, by reason",
            "reason",
            AUTH_REFUSALS,
        );
        let p12_tests = Labelled::counters(
            &mut registry,
            "mtls_p12_tests",
            "P12 files checked by the tester, by verdict",
            "usable",
            P12_VERDICTS,
        );
        let certificate_expiry = CertificateExpiry::default();
        registry.register(
            "mtls_certificate_expiry_seconds",
            "Seconds until the certificate's notAfter (negative once expired), by account and \
             certificate id",
            certificate_expiry.clone(),
        );
        Self {
            registry,
            instance: NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed),
            requests,
            runtime_cache,
            runtime_evictions,
            runtime_store_reads,
            forwards,
            forward_duration,
            store_duration,
            store_errors,
            certificate_changes,
            auth_refusals,
            p12_tests,
            certificate_expiry,
        }
    }

    /// Counts one answered request. `route` is the route template or [`UNMATCHED_ROUTE`].
    pub fn request(&self, route: &str, method: &actix_web::http::Method, status: u16) {
        type Handles = HashMap<(u64, &'static str, u16), HashMap<String, Counter>>;
        thread_local! {
            static HANDLES: RefCell<Handles> = RefCell::default();
        }
        let method = METHODS.iter().copied().find(|m| *m == method.as_str()).unwrap_or("other");
        HANDLES.with(|handles| {
            let mut handles = handles.borrow_mut();
            let by_route = handles.entry((self.instance, method, status)).or_default();
            if let Some(counter) = by_route.get(route) {
                counter.inc();
                return;
            }
            let labels = RequestLabels { route: route.to_owned(), method, status };
            let counter = self.requests.0.get_or_create(&labels).clone();
            counter.inc();
            by_route.insert(labels.route, counter);
        });
    }

    /// Counts a forward and its time to the response head.
    pub fn forward(&self, outcome: &'static str, elapsed: Duration) {
        self.forwards.inc(outcome);
        self.forward_duration.get(outcome).observe(elapsed.as_secs_f64());
    }

    /// The OpenMetrics text of every family.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail; the encoder's errors are fmt errors only.
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

/// Labels of `mtls_http_requests_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: &'static str,
    status: u16,
}

/// A family described (HELP and TYPE) before its first series exists; prometheus-client leaves
/// empty families out of the text.
#[derive(Clone, Debug)]
struct Described<M>(M);

impl<M: TypedMetric> TypedMetric for Described<M> {
    const TYPE: MetricType = M::TYPE;
}

impl<M: EncodeMetric> EncodeMetric for Described<M> {
    fn encode(&self, encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        self.0.encode(encoder)
    }

    fn metric_type(&self) -> MetricType {
        self.0.metric_type()
    }

    fn is_empty(&self) -> bool {
        false
    }
}

/// One label name and a value, for families with a single label.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct OneLabel(&'static str, &'static str);

impl EncodeLabelSet for OneLabel {
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) -> Result<(), std::fmt::Error> {
        [(self.0, self.1)].encode(encoder)
    }
}

/// The series of one family whose label values are known in advance, created at start: reaching
/// one is a lookup in an immutable map, never a lock.
pub struct Labelled<M> {
    series: HashMap<&'static str, M>,
    /// Where a value not known in advance goes (`other`); the code passes known values only.
    fallback: M,
}

impl Labelled<Counter> {
    fn counters(
        registry: &mut Registry,
        name: &str,
        help: &str,
        label: &'static str,
        values: &[&'static str],
    ) -> Self {
        let family = Family::<OneLabel, Counter>::default();
        registry.register(name, help, family.clone());
        let series =
            values.iter().map(|v| (*v, family.get_or_create(&OneLabel(label, v)).clone())).collect();
        Self { series, fallback: family.get_or_create(&OneLabel(label, "other")).clone() }
    }

    /// Adds one to the series of `value`.
    pub fn inc(&self, value: &str) {
        self.get(value).inc();
    }

    /// The current count of `value`.
    pub fn value(&self, value: &str) -> u64 {
        self.get(value).get()
    }
}

impl Labelled<AtomicHistogram> {
    fn histograms(
        registry: &mut Registry,
        name: &str,
        help: &str,
        label: &'static str,
        values: &[&'static str],
        buckets: &'static [f64],
    ) -> Self {
        let family = Family::<OneLabel, AtomicHistogram, _>::new_with_constructor(move || {
            AtomicHistogram::new(buckets)
        });
        // The name carries its unit already; prometheus-client adds nothing to histograms.
        registry.register(name, help, family.clone());
        let series =
            values.iter().map(|v| (*v, family.get_or_create(&OneLabel(label, v)).clone())).collect();
        Self { series, fallback: family.get_or_create(&OneLabel(label, "other")).clone() }
    }
}

impl<M> Labelled<M> {
    /// The series of `value`.
    pub fn get(&self, value: &str) -> &M {
        self.series.get(value).unwrap_or(&self.fallback)
    }
}

/// `mtls_store_operation_errors_total{operation,error}`, every pair created at start.
pub struct StoreErrors {
    series: HashMap<(&'static str, &'static str), Counter>,
    fallback: Counter,
}

/// Labels of `mtls_store_operation_errors_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreErrorLabels {
    operation: &'static str,
    error: &'static str,
}

impl StoreErrors {
    fn new(registry: &mut Registry) -> Self {
        let family = Family::<StoreErrorLabels, Counter>::default();
        registry.register(
            "mtls_store_operation_errors",
            "Store operations that failed, by operation and error",
            family.clone(),
        );
        let mut series = HashMap::new();
        for operation in STORE_OPERATIONS {
            for error in STORE_ERRORS {
                let labels = StoreErrorLabels { operation, error };
                series.insert((*operation, *error), family.get_or_create(&labels).clone());
            }
        }
        let other = StoreErrorLabels { operation: "other", error: "other" };
        Self { series, fallback: family.get_or_create(&other).clone() }
    }

    /// Adds one failed `operation` that ended in `error`.
    pub fn inc(&self, operation: &'static str, error: &'static str) {
        self.series.get(&(operation, error)).unwrap_or(&self.fallback).inc();
    }

    /// The current count of `operation` failing with `error`.
    pub fn value(&self, operation: &'static str, error: &'static str) -> u64 {
        self.series.get(&(operation, error)).unwrap_or(&self.fallback).get()
    }
}

#[cfg(test)]
mod tests;
