//! A [`Store`] wrapper that counts every read the runtime makes, so
//! `mtls_runtime_store_reads_total` is the real number of store round trips behind cache misses
//! (mapping keys, certificate metadata and secrets alike), not an estimate.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::metrics::Metrics;
use crate::store::{Expect, Store, StoreError, Versioned};

/// Counts reads and lists into `mtls_runtime_store_reads_total`; everything else passes through.
pub struct ReadCounter {
    inner: Arc<dyn Store>,
    metrics: Arc<Metrics>,
}

impl ReadCounter {
    /// `inner`, counted into `metrics`. Give the result to the runtime cache and to the
    /// certificate source it uses.
    pub fn wrap(inner: Arc<dyn Store>, metrics: Arc<Metrics>) -> Arc<dyn Store> {
        Arc::new(Self { inner, metrics })
    }
}

#[async_trait]
impl Store for ReadCounter {
    async fn read(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        self.metrics.runtime_store_reads.inc();
        self.inner.read(key).await
    }

    async fn write(&self, key: &str, value: &Value, expect: Expect) -> Result<u64, StoreError> {
        self.inner.write(key, value, expect).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.metrics.runtime_store_reads.inc();
        self.inner.list(prefix).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    fn is_exclusive(&self) -> bool {
        self.inner.is_exclusive()
    }
}
