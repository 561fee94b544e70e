//! What mappings and the runtime need to know about certificates, as a trait so the services
//! can be unit-tested over a fake while the real [`CertificateService`] serves production.

use async_trait::async_trait;

use crate::certificates::{Certificate, CertificateService, ClientMaterial, StagedMaterial};
use crate::error::ApiError;

/// Certificate lookups by account and id; another account's id is simply absent.
#[async_trait]
pub trait CertificateSource: Send + Sync + 'static {
    /// The certificate `id` of `account`, or `None`.
    ///
    /// # Errors
    /// 503 when the store is down.
    async fn certificate(&self, account: &str, id: u64) -> Result<Option<Certificate>, ApiError>;

    /// The key and chain of certificate `id` of `account`, or `None`.
    ///
    /// # Errors
    /// 503 when the store is down.
    async fn client_material(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<ClientMaterial>, ApiError>;

    /// The staged version of certificate `id` of `account` and its activation time, or `None`
    /// (SPEC section 12). Sources without staged rotations keep the default.
    ///
    /// # Errors
    /// 503 when the store is down.
    async fn staged_material(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<StagedMaterial>, ApiError> {
        let _ = (account, id);
        Ok(None)
    }

    /// True when certificate `id` of `account` exists and is not being deleted: a mapping may
    /// point at it (see [`CertificateService::accepts_users`]).
    ///
    /// # Errors
    /// 503 when the store is down.
    async fn accepts_users(&self, account: &str, id: u64) -> Result<bool, ApiError>;
}

#[async_trait]
impl CertificateSource for CertificateService {
    async fn certificate(&self, account: &str, id: u64) -> Result<Option<Certificate>, ApiError> {
        self.get(account, id).await.map_err(ApiError::from)
    }

    async fn client_material(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<ClientMaterial>, ApiError> {
        CertificateService::client_material(self, account, id).await.map_err(ApiError::from)
    }

    async fn staged_material(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<StagedMaterial>, ApiError> {
        CertificateService::staged_material(self, account, id).await.map_err(ApiError::from)
    }

    async fn accepts_users(&self, account: &str, id: u64) -> Result<bool, ApiError> {
        CertificateService::accepts_users(self, account, id).await.map_err(ApiError::from)
    }
}
