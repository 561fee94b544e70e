//! What mappings and the runtime need to know about certificates, as a trait so the services
//! can be unit-tested over a fake while the real [`CertificateService`] serves production.
//!
//! Every lookup here is a store read, so its only failure is the store's.

use async_trait::async_trait;

use crate::certificates::{Certificate, CertificateService, ClientMaterial, StagedMaterial};
use crate::store::StoreError;

/// Certificate lookups by account and id; another account's id is simply absent.
#[async_trait]
pub trait CertificateSource: Send + Sync + 'static {
    /// The certificate `id` of `account`, or `None`.
    ///
    /// # Errors
    /// The store's error.
    async fn certificate(&self, account: &str, id: u64) -> Result<Option<Certificate>, StoreError>;

    /// The key and chain of certificate `id` of `account`, or `None`.
    ///
    /// # Errors
    /// The store's error.
    async fn client_material(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<ClientMaterial>, StoreError>;

    /// The staged version of certificate `id` of `account` and its activation time, or `None`
    /// (SPEC section 12). Sources without staged rotations keep the default.
    ///
    /// # Errors
    /// The store's error.
    async fn staged_material(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<StagedMaterial>, StoreError> {
        let _ = (account, id);
        Ok(None)
    }

    /// True when certificate `id` of `account` exists and is not being deleted: a mapping may
    /// point at it (see [`CertificateService::accepts_users`]).
    ///
    /// # Errors
    /// The store's error.
    async fn accepts_users(&self, account: &str, id: u64) -> Result<bool, StoreError>;
}

#[async_trait]
impl CertificateSource for CertificateService {
    async fn certificate(&self, account: &str, id: u64) -> Result<Option<Certificate>, StoreError> {
        self.get(account, id).await
    }

    async fn client_material(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<ClientMaterial>, StoreError> {
        CertificateService::client_material(self, account, id).await
    }

    async fn staged_material(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<StagedMaterial>, StoreError> {
        CertificateService::staged_material(self, account, id).await
    }

    async fn accepts_users(&self, account: &str, id: u64) -> Result<bool, StoreError> {
        CertificateService::accepts_users(self, account, id).await
    }
}
