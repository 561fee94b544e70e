//! Storage: a small versioned key-value trait with check-and-set, and its implementations.
//!
//! The domain services (certificates, mappings, auth) own their key layouts and build
//! uniqueness on [`Expect::Absent`] / [`Expect::Version`] writes, so the same logic runs on
//! every store and two gateway instances racing cannot both win (SPEC section 8).
//!
//! Keys are `/`-separated paths of safe segments (see [`segment`]); values are JSON objects.
//! Implementations: `vault` (HashiCorp Vault / OpenBao KV v2), `embedded` (data dir, values
//! encrypted at rest), `memory` (unit tests only).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

pub mod claim;
pub mod config;
pub mod embedded;
pub mod instrumented;
pub mod memory;
pub mod readiness;
pub mod vault;

pub use config::{StoreConfig, VaultAuth, decode_data_key};

/// A value and the version it was read at (versions start at 1 and grow on every write).
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned {
    /// The stored JSON object.
    pub value: Value,
    /// Version of this value; pass it back in [`Expect::Version`] to update it safely.
    pub version: u64,
}

/// The condition a write must meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Write whatever is there.
    Any,
    /// Create only: fail with [`StoreError::Conflict`] when the key exists.
    Absent,
    /// Update only the given version: fail with [`StoreError::Conflict`] otherwise.
    Version(u64),
}

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached or answered with a server error (503 to callers).
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A check-and-set condition failed.
    #[error("check-and-set condition failed")]
    Conflict,
    /// A stored value could not be decoded.
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
}

/// A versioned key-value store with check-and-set writes.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Reads `key`; `None` when absent (or deleted).
    async fn read(&self, key: &str) -> Result<Option<Versioned>, StoreError>;
    /// Writes `value` (a JSON object) under `key` when `expect` holds; returns the new version.
    async fn write(&self, key: &str, value: &Value, expect: Expect) -> Result<u64, StoreError>;
    /// Deletes `key` and its history; deleting an absent key succeeds.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Names directly under the folder `prefix` (no trailing `/`); sub-folders end with `/`.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
    /// Checks the store answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;
    /// True when at most one process uses the store at a time (the embedded store's lock file):
    /// then whatever an earlier process left in flight is abandoned (see [`claim`]).
    fn is_exclusive(&self) -> bool {
        false
    }
}

/// Encodes arbitrary text (a name, a URL) as one safe key segment: lower-case hex of its UTF-8.
pub fn segment(text: &str) -> String {
    hex::encode(text.as_bytes())
}

/// Opens the configured store: the embedded one in its data dir, or Vault (logging in).
///
/// # Errors
/// [`StoreError::Unavailable`] or [`StoreError::Corrupt`] with a message for the operator: the
/// data dir cannot be used, the data key does not match, Vault refused the credentials. An
/// unreachable Vault is not an error here (requests answer 503 until it is back).
pub async fn open(config: &StoreConfig) -> Result<Arc<dyn Store>, StoreError> {
    match config {
        StoreConfig::Embedded { data_dir, data_key } => {
            let key = match data_key {
                Some(text) => embedded::DataKey::Given(decode_data_key(text).ok_or_else(|| {
                    StoreError::Unavailable("MTLS_DATA_KEY is not base64 of 32 bytes".to_owned())
                })?),
                None => embedded::DataKey::File,
            };
            let dir = data_dir.clone();
            let store = tokio::task::spawn_blocking(move || embedded::EmbeddedStore::open(&dir, key))
                .await
                .map_err(|e| StoreError::Unavailable(format!("store task failed: {e}")))??;
            Ok(Arc::new(store))
        }
        StoreConfig::Vault { addresses, auth, mount, prefix, ca_cert, namespace } => {
            let settings = vault::VaultSettings {
                addresses: addresses.clone(),
                auth: auth.clone(),
                mount: mount.clone(),
                prefix: prefix.clone(),
                ca_cert: ca_cert.clone(),
                namespace: namespace.clone(),
            };
            Ok(Arc::new(vault::VaultStore::open(settings).await?))
        }
    }
}
