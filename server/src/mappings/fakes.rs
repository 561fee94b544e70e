//! Test doubles for the mapping and runtime unit tests: certificates kept in a map, and a store
//! over [`MemoryStore`] that can be taken down, counts reads, and can inject a racing write.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::Value;
use zeroize::Zeroizing;

use super::CertificateSource;
use crate::certificates::{Certificate, CertificateStatus, ClientMaterial};
use crate::store::memory::MemoryStore;
use crate::store::{Expect, Store, StoreError, Versioned};

/// Certificates by (account, id) with a status; can be taken down like the store.
#[derive(Default)]
pub(crate) struct FakeCertificates {
    certificates: Mutex<HashMap<(String, u64), CertificateStatus>>,
    pub(crate) down: AtomicBool,
    /// When set to `n`, a delete of every certificate begins after `n` more
    /// [`CertificateSource::accepts_users`] answers: later ones are `false`.
    pub(crate) deletes_begin_after: Mutex<Option<usize>>,
}

impl FakeCertificates {
    pub(crate) fn add(&self, account: &str, id: u64, status: CertificateStatus) {
        self.certificates.lock().unwrap().insert((account.to_owned(), id), status);
    }

    fn status(&self, account: &str, id: u64) -> Result<Option<CertificateStatus>, StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("test certificates are down".to_owned()));
        }
        Ok(self.certificates.lock().unwrap().get(&(account.to_owned(), id)).copied())
    }
}

#[async_trait]
impl CertificateSource for FakeCertificates {
    async fn certificate(&self, account: &str, id: u64) -> Result<Option<Certificate>, StoreError> {
        Ok(self.status(account, id)?.map(|status| Certificate {
            id,
            name: format!("cert-{id}"),
            display_name: String::new(),
            site_id: account.to_owned(),
            status,
            expiration_date: "2099-01-01T00:00:00Z".to_owned(),
            deleted: false,
            subject: "CN=test".to_owned(),
            issuer: "CN=test".to_owned(),
            serial_number: "01".to_owned(),
            fingerprint_sha256: "00".to_owned(),
            key_algorithm: "EC".to_owned(),
            version: 1,
            created_at: "2026-01-01T00:00:00Z".to_owned(),
            updated_at: "2026-01-01T00:00:00Z".to_owned(),
            pending: None,
            days_to_expiry: 9000,
            expiring_soon: false,
            warnings: None,
        }))
    }

    async fn client_material(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<ClientMaterial>, StoreError> {
        Ok(self.status(account, id)?.map(|_| ClientMaterial {
            certificate_id: id,
            version: 1,
            private_key_pkcs8: Zeroizing::new(vec![1, 2, 3]),
            certificate_chain: vec![vec![4, 5, 6]],
        }))
    }

    async fn accepts_users(&self, account: &str, id: u64) -> Result<bool, StoreError> {
        let exists = self.status(account, id)?.is_some();
        let mut left = self.deletes_begin_after.lock().unwrap();
        Ok(match left.as_mut() {
            Some(0) => false,
            Some(n) => {
                *n -= 1;
                exists
            }
            None => exists,
        })
    }
}

/// A [`MemoryStore`] that can be down, counts reads, and can write a racing value just before
/// the first write it is asked to do.
#[derive(Default)]
pub(crate) struct TestStore {
    inner: MemoryStore,
    pub(crate) down: AtomicBool,
    pub(crate) reads: AtomicU64,
    pub(crate) race: Mutex<Option<(String, Value)>>,
    /// When set, every read first takes a permit: a test holds reads in flight.
    pub(crate) gate: Mutex<Option<Arc<tokio::sync::Semaphore>>>,
    /// When set, writes of keys starting with this prefix fail as if the store were down.
    pub(crate) fail_writes_under: Mutex<Option<String>>,
}

impl TestStore {
    pub(crate) fn reads(&self) -> u64 {
        self.reads.load(Ordering::SeqCst)
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("test store is down".to_owned()))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Store for TestStore {
    async fn read(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        let gate = self.gate.lock().unwrap().clone();
        if let Some(gate) = gate {
            gate.acquire().await.unwrap().forget();
        }
        self.check()?;
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.inner.read(key).await
    }

    async fn write(&self, key: &str, value: &Value, expect: Expect) -> Result<u64, StoreError> {
        self.check()?;
        if self.fail_writes_under.lock().unwrap().as_deref().is_some_and(|prefix| key.starts_with(prefix)) {
            return Err(StoreError::Unavailable("test store refuses this write".to_owned()));
        }
        let race = self.race.lock().unwrap().take();
        if let Some((race_key, race_value)) = race {
            self.inner.write(&race_key, &race_value, Expect::Any).await?;
        }
        self.inner.write(key, value, expect).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete(key).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.check()?;
        self.inner.list(prefix).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.check()
    }
}

/// A store and certificates shared by a mapping service and a runtime cache under test.
pub(crate) struct World {
    pub(crate) store: Arc<TestStore>,
    pub(crate) certificates: Arc<FakeCertificates>,
}

impl World {
    pub(crate) fn new() -> Self {
        Self { store: Arc::default(), certificates: Arc::default() }
    }

    pub(crate) fn services() -> Vec<(String, u32)> {
        vec![
            ("TEST_SERVICE".to_owned(), 0),
            ("IDP".to_owned(), 1),
            ("WEBHOOKS".to_owned(), 2),
            ("FAAS".to_owned(), 3),
        ]
    }

    pub(crate) fn mappings(&self) -> super::MappingService {
        super::MappingService::new(
            self.store.clone(),
            self.certificates.clone(),
            Self::services(),
            false,
        )
    }
}
