//! A [`Store`] wrapper that times every operation and counts its failures by kind, into
//! `mtls_store_operation_duration_seconds{operation}` and
//! `mtls_store_operation_errors_total{operation,error}`. Keys and values never reach a label.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use serde_json::Value;

use crate::metrics::Metrics;
use crate::store::{Expect, Store, StoreError, Versioned};

/// Times and counts the operations of the store it wraps.
pub struct InstrumentedStore {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl InstrumentedStore {
    /// `inner`, measured into `metrics`.
    pub fn wrap(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Arc<dyn Store> {
        Arc::new(Self { inner, metrics })
    }

    fn record<T>(&self, operation: &'static str, started: Instant, result: &Result<T, StoreError>) {
        self.metrics.store_duration.get(operation).observe(started.elapsed().as_secs_f64());
        if let Err(error) = result {
            let kind = match error {
                StoreError::Unavailable(_) => "unavailable",
                StoreError::Conflict => "conflict",
                StoreError::Corrupt(_) => "corrupt",
            };
            self.metrics.store_errors.inc(operation, kind);
        }
    }
}

#[async_trait]
impl Store for InstrumentedStore {
    async fn read(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        let started = Instant::now();
        let result = self.inner.read(key).await;
        self.record("read", started, &result);
        result
    }

    async fn write(&self, key: &str, value: &Value, expect: Expect) -> Result<u64, StoreError> {
        let started = Instant::now();
        let result = self.inner.write(key, value, expect).await;
        self.record("write", started, &result);
        result
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.delete(key).await;
        self.record("delete", started, &result);
        result
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let started = Instant::now();
        let result = self.inner.list(prefix).await;
        self.record("list", started, &result);
        result
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.inner.ping().await;
        self.record("ping", started, &result);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[tokio::test]
    async fn operations_are_timed_and_failures_counted_by_kind() {
        let metrics = Arc::new(Metrics::new());
        let store = InstrumentedStore::wrap(Arc::new(MemoryStore::default()), metrics.clone());
        store.write("k", &serde_json::json!(1), Expect::Absent).await.unwrap();
        assert!(store.write("k", &serde_json::json!(2), Expect::Absent).await.is_err());
        store.read("k").await.unwrap();
        assert_eq!(metrics.store_duration.get("write").count(), 2);
        assert_eq!(metrics.store_duration.get("read").count(), 1);
        assert_eq!(metrics.store_errors.value("write", "conflict"), 1);
        assert_eq!(metrics.store_errors.value("read", "conflict"), 0);
        let text = metrics.render();
        assert!(text.contains("mtls_store_operation_errors_total{operation=\"write\",error=\"conflict\"} 1"), "{text}");
    }
}
