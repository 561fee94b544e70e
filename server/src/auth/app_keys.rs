//! oAuth1 app keys: consumer key and secret plus a token and token secret, bound to accounts,
//! created and deleted through the admin API and kept in the store under `auth/app-keys/`.
//!
//! Lookups go through a short in-memory cache ([`CACHE_TTL`]) so a request costs no store read
//! most of the time, and so that oAuth1 callers keep working from cache while the store is
//! briefly down. A delete through this instance takes effect here at once; other instances
//! stop accepting the key within [`CACHE_TTL`].
//!
//! Consumer keys the store does not hold are remembered too, for [`ABSENT_TTL`] and at most
//! [`MAX_ABSENT`] of them, so a caller repeating an unknown key costs one store read per
//! [`ABSENT_TTL`], not one per request. Creating a key on this instance forgets them all; a key
//! created on another instance can be refused here for up to [`ABSENT_TTL`] if this instance
//! was asked for it before it existed (keys are random, so only a caller that guessed it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::store::{Expect, Store, StoreError, segment};

/// How long a looked-up app key is trusted without re-reading the store.
pub(crate) const CACHE_TTL: Duration = Duration::from_secs(30);

/// How long a consumer key the store does not hold is answered from memory.
pub(crate) const ABSENT_TTL: Duration = Duration::from_secs(5);

/// Most unknown consumer keys remembered at once (about 100 bytes each).
pub(crate) const MAX_ABSENT: usize = 10_000;

/// A stored app key. The secrets never leave the store except in the creation answer.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppKey {
    /// Public identifier, sent by clients as `oauth_consumer_key`.
    pub consumer_key: String,
    /// Shared secret for signatures.
    pub consumer_secret: String,
    /// Access token, sent as `oauth_token` by clients that use one.
    pub token: String,
    /// Secret that goes with `token`.
    pub token_secret: String,
    /// Human name given at creation.
    pub name: String,
    /// Account ids, or `["*"]`.
    pub accounts: Vec<String>,
}

impl std::fmt::Debug for AppKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppKey")
            .field("consumer_key", &self.consumer_key)
            .field("name", &self.name)
            .field("accounts", &self.accounts)
            .finish_non_exhaustive()
    }
}

/// App keys over the store, with a short cache.
pub(crate) struct AppKeys {
    store: Arc<dyn Store>,
    cache: Mutex<HashMap<String, (Arc<AppKey>, Instant)>>,
    /// Consumer keys the store did not hold, and when it said so.
    absent: Mutex<HashMap<String, Instant>>,
    max_absent: usize,
}

impl AppKeys {
    /// App keys kept in `store`.
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self::with_max_absent(store, MAX_ABSENT)
    }

    /// Like [`AppKeys::new`], remembering at most `max_absent` unknown keys (tests use few).
    pub(crate) fn with_max_absent(store: Arc<dyn Store>, max_absent: usize) -> Self {
        Self {
            store,
            cache: Mutex::default(),
            absent: Mutex::default(),
            max_absent,
        }
    }

    /// Creates an app key named `name` for `accounts`.
    ///
    /// # Errors
    /// The store could not be written.
    pub(crate) async fn create(
        &self,
        name: &str,
        accounts: &[String],
    ) -> Result<AppKey, StoreError> {
        let key = AppKey {
            consumer_key: random_token(16)?,
            consumer_secret: random_token(32)?,
            token: random_token(16)?,
            token_secret: random_token(32)?,
            name: name.to_owned(),
            accounts: accounts.to_vec(),
        };
        let value = serde_json::to_value(&key).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.store
            .write(&store_key(&key.consumer_key), &value, Expect::Absent)
            .await?;
        lock(&self.absent).clear();
        Ok(key)
    }

    /// Deletes the app key; `false` when there was none.
    ///
    /// # Errors
    /// The store could not be reached.
    pub(crate) async fn delete(&self, consumer_key: &str) -> Result<bool, StoreError> {
        let key = store_key(consumer_key);
        let existed = self.store.read(&key).await?.is_some();
        if existed {
            self.store.delete(&key).await?;
        }
        self.lock().remove(consumer_key);
        Ok(existed)
    }

    /// The app key `consumer_key`, from cache when fresh. While the store is unreachable, a
    /// cached key is used however old it is.
    ///
    /// # Errors
    /// The store could not be reached and nothing is cached.
    pub(crate) async fn find(&self, consumer_key: &str) -> Result<Option<Arc<AppKey>>, StoreError> {
        let cached = self.lock().get(consumer_key).cloned();
        if let Some((key, at)) = &cached
            && at.elapsed() < CACHE_TTL
        {
            return Ok(Some(key.clone()));
        }
        if lock(&self.absent)
            .get(consumer_key)
            .is_some_and(|at| at.elapsed() < ABSENT_TTL)
        {
            return Ok(None);
        }
        match self.store.read(&store_key(consumer_key)).await {
            Ok(Some(stored)) => {
                let key: AppKey = serde_json::from_value(stored.value)
                    .map_err(|_| StoreError::Corrupt("app key".to_owned()))?;
                let key = Arc::new(key);
                self.lock()
                    .insert(consumer_key.to_owned(), (key.clone(), Instant::now()));
                Ok(Some(key))
            }
            Ok(None) => {
                self.lock().remove(consumer_key);
                self.remember_absent(consumer_key);
                Ok(None)
            }
            Err(StoreError::Unavailable(reason)) => match cached {
                Some((key, _)) => {
                    tracing::warn!(%reason, "store unavailable; using a cached app key");
                    Ok(Some(key))
                }
                None => Err(StoreError::Unavailable(reason)),
            },
            Err(e) => Err(e),
        }
    }

    /// Remembers that the store does not hold `consumer_key`. When the memory is full of
    /// entries still fresh, the key is not remembered (it costs a read next time): evicting
    /// would let a caller cycling through many keys make every entry useless anyway.
    fn remember_absent(&self, consumer_key: &str) {
        let mut absent = lock(&self.absent);
        if absent.len() >= self.max_absent {
            absent.retain(|_, at| at.elapsed() < ABSENT_TTL);
            if absent.len() >= self.max_absent {
                return;
            }
        }
        absent.insert(consumer_key.to_owned(), Instant::now());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Arc<AppKey>, Instant)>> {
        lock(&self.cache)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn store_key(consumer_key: &str) -> String {
    format!("auth/app-keys/{}", segment(consumer_key))
}

/// `bytes` random bytes as base64url: URL- and header-safe, nothing to percent-encode.
fn random_token(bytes: usize) -> Result<String, StoreError> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf)
        .map_err(|e| StoreError::Unavailable(format!("no system randomness: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[tokio::test]
    async fn created_keys_are_found_and_deleted_keys_are_gone() {
        let keys = AppKeys::new(Arc::new(MemoryStore::default()));
        let created = keys.create("ci", &["le1".to_owned()]).await.unwrap();
        assert_ne!(created.consumer_secret, created.token_secret);
        let found = keys.find(&created.consumer_key).await.unwrap().unwrap();
        assert_eq!(found.accounts, vec!["le1".to_owned()]);
        assert!(keys.delete(&created.consumer_key).await.unwrap());
        assert!(keys.find(&created.consumer_key).await.unwrap().is_none());
        assert!(!keys.delete(&created.consumer_key).await.unwrap());
        assert!(!format!("{found:?}").contains(&found.consumer_secret));
    }

    /// Unknown consumer keys are read from the store once per [`ABSENT_TTL`], at most
    /// `max_absent` of them are remembered, and creating a key on this instance forgets them.
    #[tokio::test]
    async fn unknown_keys_cost_one_store_read_and_creation_forgets_them() {
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let store =
            crate::runtime::ReadCounter::wrap(Arc::new(MemoryStore::default()), metrics.clone());
        let reads = || metrics.runtime_store_reads.get();
        let keys = AppKeys::with_max_absent(store, 2);
        for _ in 0..5 {
            assert!(keys.find("unknown-1").await.unwrap().is_none());
        }
        assert_eq!(reads(), 1);
        assert!(keys.find("unknown-2").await.unwrap().is_none());
        // Full: a third unknown key is not remembered, so each lookup reads.
        assert!(keys.find("unknown-3").await.unwrap().is_none());
        assert!(keys.find("unknown-3").await.unwrap().is_none());
        assert_eq!(reads(), 4);
        assert!(keys.find("unknown-1").await.unwrap().is_none());
        assert_eq!(reads(), 4);

        let created = keys.create("ci", &["*".to_owned()]).await.unwrap();
        assert!(keys.find("unknown-1").await.unwrap().is_none());
        assert_eq!(reads(), 5);
        assert!(keys.find(&created.consumer_key).await.unwrap().is_some());
    }
}
