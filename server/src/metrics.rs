//! The gateway's Prometheus metrics (SPEC 13), on the `prometheus-client` registry: every family
//! is registered with its HELP and TYPE when the server starts, so `/metrics` describes them all
//! before anything happened.
//!
//! **No lock per request.** `prometheus-client` keeps a family's series in a map behind a lock
//! and its `Histogram` behind another. Here every series whose labels are known in advance (cache
//! results, forward outcomes, store operations, ...) is created at start and its handle kept in
//! an immutable map, so counting is one atomic add; histograms are [`AtomicHistogram`]s (atomic
//! buckets, encoded through the library's own histogram encoder). The one open-ended family,
//! requests by route, method and status, is reached through a per-thread cache of handles.
//!
//! **No request data in labels.** Label values are fixed strings chosen by the code, route
//! *templates* (`/mtls/account/{account}`), methods and status codes: never an account, a path,
//! a header or anything a caller sent.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

/// Runtime cache results (`mtls_runtime_cache_total{result}`).
pub const CACHE_RESULTS: &[&str] = &["hit", "stale", "miss"];
/// Forward outcomes (`mtls_forward_total{result}` and the duration histogram).
pub const FORWARD_OUTCOMES: &[&str] = &[
    "forwarded",
    "certificate_not_found",
    "target_not_allowed",
    "too_large",
    "bad_certificate",
    "dns",
    "connect",
    "tls",
    "timeout",
    "io",
];
/// Store operations (`mtls_store_operation_duration_seconds{operation}`).
pub const STORE_OPERATIONS: &[&str] = &["read", "write", "delete", "list", "ping"];
/// Store error kinds (`mtls_store_operation_errors_total{operation,error}`).
pub const STORE_ERRORS: &[&str] = &["unavailable", "conflict", "corrupt"];
/// Certificate changes (`mtls_certificate_changes_total{op}`).
pub const CERTIFICATE_CHANGES: &[&str] = &["create", "replace", "delete"];
/// Authentication refusals (`mtls_auth_refusals_total{reason}`).
pub const AUTH_REFUSALS: &[&str] = &["unauthenticated", "forbidden", "admin"];
/// P12 tester verdicts (`mtls_p12_tests_total{usable}`).
pub const P12_VERDICTS: &[&str] = &["true", "false"];

/// Upper bounds (seconds) of the forward latency buckets: 250 µs to 30 s.
const FORWARD_BUCKETS: &[f64] =
    &[0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Upper bounds (seconds) of the store latency buckets: 100 µs to 10 s.
const STORE_BUCKETS: &[f64] = &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Every metric of the gateway; one per server (tests build as many as they like).
pub struct Metrics {
    registry: Registry,
    /// This instance's key in the per-thread request-counter caches.
    instance: u64,
    requests: Family<RequestLabels, Counter>,
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
    /// `mtls_store_operation_errors_total{operation,error}`, keyed `"operation/error"`.
    pub store_errors: Labelled<Counter>,
    /// `mtls_certificate_changes_total{op}`.
    pub certificate_changes: Labelled<Counter>,
    /// `mtls_auth_refusals_total{reason}`.
    pub auth_refusals: Labelled<Counter>,
    /// `mtls_p12_tests_total{usable}`.
    pub p12_tests: Labelled<Counter>,
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
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "mtls_http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        let runtime_cache = Labelled::counters(&mut registry, "mtls_runtime_cache", "Runtime cache lookups by result (stale: served while the store is unreachable)", "result", CACHE_RESULTS);
        let runtime_evictions = Counter::default();
        registry.register("mtls_runtime_cache_evictions", "Runtime cache entries evicted to stay within the size bound", runtime_evictions.clone());
        let runtime_store_reads = Counter::default();
        registry.register("mtls_runtime_store_reads", "Store reads made for runtime cache misses", runtime_store_reads.clone());
        let forwards = Labelled::counters(&mut registry, "mtls_forward", "Forwarded requests by outcome", "result", FORWARD_OUTCOMES);
        let forward_duration = Labelled::histograms(
            &mut registry,
            "mtls_forward_duration_seconds",
            "Time from the forward request to the target's response head (or the error), by outcome",
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
        let store_errors = Labelled::store_errors(&mut registry);
        let certificate_changes = Labelled::counters(&mut registry, "mtls_certificate_changes", "Certificates created, replaced or deleted through this instance", "op", CERTIFICATE_CHANGES);
        let auth_refusals = Labelled::counters(&mut registry, "mtls_auth_refusals", "Requests refused by authentication or authorization, by reason", "reason", AUTH_REFUSALS);
        let p12_tests = Labelled::counters(&mut registry, "mtls_p12_tests", "P12 files checked by the tester, by verdict", "usable", P12_VERDICTS);
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
        }
    }

    /// Counts one answered request. `route` is the route template (or `"unmatched"`).
    pub fn request(&self, route: &str, method: &str, status: u16) {
        thread_local! {
            static HANDLES: RefCell<HashMap<(u64, String, String, u16), Counter>> = RefCell::default();
        }
        let key = (self.instance, route.to_owned(), method.to_owned(), status);
        HANDLES.with(|handles| {
            let mut handles = handles.borrow_mut();
            let counter = handles.entry(key).or_insert_with_key(|(_, route, method, status)| {
                let labels = RequestLabels { route: route.clone(), method: method.clone(), status: *status };
                self.requests.get_or_create(&labels).clone()
            });
            counter.inc();
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
    method: String,
    status: u16,
}

/// One label name and a value, for families with a single label.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct OneLabel(&'static str, &'static str);

impl EncodeLabelSet for OneLabel {
    fn encode(&self, encoder: &mut prometheus_client::encoding::LabelSetEncoder<'_>) -> Result<(), std::fmt::Error> {
        [(self.0, self.1)].encode(encoder)
    }
}

/// Two labels, for `mtls_store_operation_errors_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreErrorLabels {
    operation: &'static str,
    error: &'static str,
}

/// The series of one family whose label values are known in advance, created at start: reaching
/// one is a lookup in an immutable map, never a lock.
pub struct Labelled<M> {
    series: HashMap<&'static str, M>,
    /// Where a value not known in advance would go; never used by the code as written.
    fallback: M,
}

impl Labelled<Counter> {
    fn counters(registry: &mut Registry, name: &str, help: &str, label: &'static str, values: &[&'static str]) -> Self {
        let family = Family::<OneLabel, Counter>::default();
        registry.register(name, help, family.clone());
        let series = values.iter().map(|v| (*v, family.get_or_create(&OneLabel(label, v)).clone())).collect();
        Self { series, fallback: family.get_or_create(&OneLabel(label, "other")).clone() }
    }

    fn store_errors(registry: &mut Registry) -> Self {
        let family = Family::<StoreErrorLabels, Counter>::default();
        registry.register("mtls_store_operation_errors", "Store operations that failed, by operation and error", family.clone());
        let mut series = HashMap::new();
        for operation in STORE_OPERATIONS {
            for error in STORE_ERRORS {
                let key: &'static str = Box::leak(format!("{operation}/{error}").into_boxed_str());
                series.insert(key, family.get_or_create(&StoreErrorLabels { operation, error }).clone());
            }
        }
        let fallback = family.get_or_create(&StoreErrorLabels { operation: "other", error: "other" }).clone();
        Self { series, fallback }
    }

    /// Adds one to the series of `value`.
    pub fn inc(&self, value: &str) {
        self.get(value).inc();
    }

    /// The current count of `value` (tests and benchmarks).
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
        let family = Family::<OneLabel, AtomicHistogram, _>::new_with_constructor(move || AtomicHistogram::new(buckets));
        // The name carries its unit already; prometheus-client adds nothing to histograms.
        registry.register(name, help, family.clone());
        let series = values.iter().map(|v| (*v, family.get_or_create(&OneLabel(label, v)).clone())).collect();
        Self { series, fallback: family.get_or_create(&OneLabel(label, "other")).clone() }
    }
}

impl<M> Labelled<M> {
    /// The series of `value`.
    pub fn get(&self, value: &str) -> &M {
        self.series.get(value).unwrap_or(&self.fallback)
    }
}

/// A histogram of atomic buckets: observing is a few atomic adds, no lock (the library's own
/// `Histogram` takes a write lock per observation). Cheap to clone: clones share the buckets.
#[derive(Clone, Debug)]
pub struct AtomicHistogram {
    inner: Arc<HistogramInner>,
}

#[derive(Debug)]
struct HistogramInner {
    bounds: &'static [f64],
    /// Non-cumulative counts, one per bound, plus the `+Inf` bucket.
    counts: Vec<AtomicU64>,
    /// Sum of observations in nanoseconds-of-a-second units (1e-9), kept as an integer.
    sum_nanos: AtomicU64,
}

impl AtomicHistogram {
    fn new(bounds: &'static [f64]) -> Self {
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Self { inner: Arc::new(HistogramInner { bounds, counts, sum_nanos: AtomicU64::new(0) }) }
    }

    /// Records one observation of `seconds`.
    pub fn observe(&self, seconds: f64) {
        let index = self.inner.bounds.iter().position(|bound| seconds <= *bound).unwrap_or(self.inner.bounds.len());
        self.inner.counts[index].fetch_add(1, Ordering::Relaxed);
        let nanos = (seconds.max(0.0) * 1e9) as u64;
        self.inner.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// How many observations so far (tests).
    pub fn count(&self) -> u64 {
        self.inner.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

impl TypedMetric for AtomicHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for AtomicHistogram {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(self.inner.counts.len());
        for (index, count) in self.inner.counts.iter().enumerate() {
            cumulative += count.load(Ordering::Relaxed);
            let bound = self.inner.bounds.get(index).copied().unwrap_or(f64::MAX);
            buckets.push((bound, cumulative));
        }
        let sum = self.inner.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, cumulative, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_described_before_anything_happened() {
        let text = Metrics::new().render();
        for family in [
            "mtls_http_requests",
            "mtls_runtime_cache",
            "mtls_runtime_cache_evictions",
            "mtls_runtime_store_reads",
            "mtls_forward",
            "mtls_forward_duration_seconds",
            "mtls_store_operation_duration_seconds",
            "mtls_store_operation_errors",
            "mtls_certificate_changes",
            "mtls_auth_refusals",
            "mtls_p12_tests",
        ] {
            assert!(text.contains(&format!("# HELP {family} ")), "{family} has no HELP:\n{text}");
            assert!(text.contains(&format!("# TYPE {family} ")), "{family} has no TYPE:\n{text}");
        }
        assert!(text.contains("mtls_runtime_cache_total{result=\"hit\"} 0\n"), "{text}");
        assert!(text.contains("mtls_forward_duration_seconds_bucket{le=\"+Inf\",result=\"forwarded\"} 0\n")
            || text.contains("mtls_forward_duration_seconds_bucket{result=\"forwarded\",le=\"+Inf\"} 0\n"), "{text}");
    }

    #[test]
    fn counts_and_histograms_render_their_values() {
        let metrics = Metrics::new();
        metrics.runtime_cache.inc("hit");
        metrics.runtime_cache.inc("miss");
        metrics.runtime_cache.inc("miss");
        metrics.forward("forwarded", Duration::from_micros(800));
        metrics.forward("forwarded", Duration::from_secs(2));
        metrics.request("/mtls/account/{account}", "GET", 200);
        metrics.request("/mtls/account/{account}", "GET", 200);
        let text = metrics.render();
        assert!(text.contains("mtls_runtime_cache_total{result=\"hit\"} 1\n"), "{text}");
        assert!(text.contains("mtls_runtime_cache_total{result=\"miss\"} 2\n"), "{text}");
        assert!(text.contains("mtls_forward_total{result=\"forwarded\"} 2\n"), "{text}");
        assert!(
            text.contains("mtls_http_requests_total{route=\"/mtls/account/{account}\",method=\"GET\",status=\"200\"} 2\n"),
            "{text}"
        );
        let bucket = |le: &str| {
            let needle = format!("mtls_forward_duration_seconds_bucket{{result=\"forwarded\",le=\"{le}\"}} ");
            text.lines().find_map(|l| l.strip_prefix(needle.as_str())).unwrap_or_else(|| panic!("no {le} bucket:\n{text}")).to_owned()
        };
        assert_eq!(bucket("0.0005"), "0");
        assert_eq!(bucket("0.001"), "1");
        assert_eq!(bucket("2.5"), "2");
        assert_eq!(bucket("+Inf"), "2");
        assert!(text.contains("mtls_forward_duration_seconds_count{result=\"forwarded\"} 2\n"), "{text}");
        assert!(text.contains("mtls_forward_duration_seconds_sum{result=\"forwarded\"} 2.0008\n"), "{text}");
    }

    #[test]
    fn two_instances_count_apart_on_one_thread() {
        let (a, b) = (Metrics::new(), Metrics::new());
        a.request("/x", "GET", 404);
        assert!(a.render().contains("status=\"404\"} 1"));
        assert!(!b.render().contains("status=\"404\""));
    }
}
