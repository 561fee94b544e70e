//! [`AtomicHistogram`]: a Prometheus histogram whose observations are atomic adds, encoded
//! through prometheus-client's own histogram encoder.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

/// A histogram of atomic buckets: observing is two atomic adds, no lock (the library's own
/// `Histogram` takes a write lock per observation, which the forward path would take per
/// request). Cheap to clone: clones share the buckets.
#[derive(Clone, Debug)]
pub struct AtomicHistogram {
    inner: Arc<Buckets>,
}

#[derive(Debug)]
struct Buckets {
    bounds: &'static [f64],
    /// Non-cumulative counts, one per bound, plus the `+Inf` bucket.
    counts: Vec<AtomicU64>,
    /// Sum of the observations in nanoseconds, kept as an integer so adding is atomic.
    sum_nanos: AtomicU64,
}

impl AtomicHistogram {
    /// An empty histogram with these upper bounds (seconds, ascending; `+Inf` is implied).
    pub fn new(bounds: &'static [f64]) -> Self {
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Self { inner: Arc::new(Buckets { bounds, counts, sum_nanos: AtomicU64::new(0) }) }
    }

    /// Records one observation of `seconds`.
    pub fn observe(&self, seconds: f64) {
        let buckets = &self.inner;
        let index = buckets.bounds.iter().position(|bound| seconds <= *bound);
        let index = index.unwrap_or(buckets.bounds.len());
        if let Some(count) = buckets.counts.get(index) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        // `as` saturates: a negative or NaN duration counts as 0, an absurd one as u64::MAX.
        let nanos = (seconds * 1e9).round() as u64;
        buckets.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// How many observations so far.
    pub fn count(&self) -> u64 {
        self.inner.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

impl TypedMetric for AtomicHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for AtomicHistogram {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        // prometheus-client's encoder takes per-bucket counts and makes them cumulative itself.
        let mut count = 0;
        let mut buckets = Vec::with_capacity(self.inner.counts.len());
        for (index, in_bucket) in self.inner.counts.iter().enumerate() {
            let in_bucket = in_bucket.load(Ordering::Relaxed);
            count += in_bucket;
            // prometheus-client writes `le="+Inf"` for f64::MAX.
            let bound = self.inner.bounds.get(index).copied().unwrap_or(f64::MAX);
            buckets.push((bound, in_bucket));
        }
        let sum = self.inner.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        static BOUNDS: &[f64] = &[0.001, 0.01];
        let histogram = AtomicHistogram::new(BOUNDS);
        for seconds in [0.0005, 0.001, 0.002, 5.0, -1.0, f64::NAN] {
            histogram.observe(seconds);
        }
        let counts: Vec<u64> = histogram.inner.counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        // -1 falls in the first bucket; NaN compares false everywhere and lands in +Inf.
        assert_eq!(counts, vec![3, 1, 2]);
        assert_eq!(histogram.count(), 6);
    }
}
