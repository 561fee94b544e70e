//! Prometheus counters, rendered as text at `/metrics`. Names and label values are fixed
//! strings chosen by the code, never request data, so no secret can reach a metric.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// A set of monotonically increasing counters keyed by name and label set.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

impl Metrics {
    /// Adds one to counter `name` with the label set `labels` (for example `kind="hit"`, or "").
    pub fn inc(&self, name: &'static str, labels: &'static str) {
        self.add(name, labels, 1);
    }

    /// Adds `n` to counter `name` with the label set `labels`.
    pub fn add(&self, name: &'static str, labels: &'static str, n: u64) {
        let mut counters = self.counters.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *counters.entry((name, labels)).or_insert(0) += n;
    }

    /// Current value (tests).
    pub fn get(&self, name: &'static str, labels: &'static str) -> u64 {
        let counters = self.counters.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        counters.get(&(name, labels)).copied().unwrap_or(0)
    }

    /// Prometheus text exposition format.
    pub fn render(&self) -> String {
        let counters = self.counters.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut out = String::new();
        let mut last_name = "";
        for ((name, labels), value) in counters.iter() {
            if *name != last_name {
                out.push_str(&format!("# TYPE {name} counter\n"));
                last_name = name;
            }
            if labels.is_empty() {
                out.push_str(&format!("{name} {value}\n"));
            } else {
                out.push_str(&format!("{name}{{{labels}}} {value}\n"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_with_labels() {
        let m = Metrics::default();
        m.inc("mtls_runtime_cache_total", "result=\"hit\"");
        m.add("mtls_runtime_cache_total", "result=\"miss\"", 2);
        let text = m.render();
        assert!(text.contains("# TYPE mtls_runtime_cache_total counter\n"));
        assert!(text.contains("mtls_runtime_cache_total{result=\"hit\"} 1\n"));
        assert!(text.contains("mtls_runtime_cache_total{result=\"miss\"} 2\n"));
    }
}
