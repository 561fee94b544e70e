//! Certificate service (SPEC sections 3 and 5): validate uploads with [`mtls_sdk::open_p12`],
//! store metadata and secrets, list, replace (rotation keeps the id and bumps `version`),
//! delete, and hand the runtime the key and chain to present.
//!
//! One concern per file: `model` (what the API shows), `stored` (records and store keys),
//! `names` (name rules and claims), `upload` (a P12 checked into facts and secrets), and the
//! flows `create`, `replace` and `delete`, each with the undoing of its own partial writes
//! right where they happen; `maintenance` holds the walks over every account.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

pub use error::CertificateError;
pub use inspector::{
    Admission, BUSY_RETRY_AFTER_SECONDS, ENV_P12_REQUEST_ITERATION_BUDGET, InspectionError,
    InspectorConfig, P12Inspector,
};
pub use model::{
    Certificate, CertificateStatus, ClientMaterial, CreateOutcome, FailedSave, MAX_ID,
    PendingVersion, StagedMaterial, days_to_expiry,
};
pub use names::{MAX_NAME_CHARS, NameError, check_name};
pub use create::MAX_BATCH;
pub use upload::Upload;

use crate::clock;
use crate::metrics::CertificateExpiry;
use crate::runtime::rotation_notices;
use crate::store::{Store, StoreError, segment};
use model::SECONDS_PER_DAY;
use stored::{StoredCertificate, StoredSecrets, meta_key, secrets_key};

/// Certificate operations over the store.
pub struct CertificateService {
    store: Arc<dyn Store>,
    /// Told every notAfter this service reads or writes (`mtls_certificate_expiry_seconds`).
    expiry: CertificateExpiry,
    expiry_warning_seconds: i64,
}

impl CertificateService {
    /// A service over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_expiry_warning_days(store, expiry_warning::DEFAULT_EXPIRY_WARNING_DAYS)
    }

    /// A service over `store` that flags certificates `expiringSoon` within `days` days of
    /// their notAfter (`MTLS_EXPIRY_WARNING_DAYS`).
    pub fn with_expiry_warning_days(store: Arc<dyn Store>, days: u32) -> Self {
        Self {
            store,
            expiry: CertificateExpiry::default(),
            expiry_warning_seconds: i64::from(days) * SECONDS_PER_DAY,
        }
    }

    /// The same service, telling `expiry` every certificate's notAfter it reads or writes.
    #[must_use]
    pub fn with_expiry(self, expiry: CertificateExpiry) -> Self {
        Self { expiry, ..self }
    }

    /// The certificate `id` of `account`, or `None` (also when it belongs to another account).
    ///
    /// # Errors
    /// The store's error.
    pub async fn get(&self, account: &str, id: u64) -> Result<Option<Certificate>, StoreError> {
        Ok(self
            .read_meta(account, id)
            .await?
            .map(|(stored, _)| self.present(stored)))
    }

    /// The key and chain of certificate `id` of `account`: two O(1) store reads (the metadata
    /// names the version whose secrets to read).
    ///
    /// # Errors
    /// The store's error.
    pub async fn client_material(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<ClientMaterial>, StoreError> {
        let Some((stored, _)) = self.read_meta(account, id).await? else {
            return Ok(None);
        };
        self.material(account, id, stored.certificate.version).await
    }

    /// The key and chain of the staged version of certificate `id` of `account` and its
    /// activation time; `None` when nothing is staged.
    ///
    /// # Errors
    /// The store's error.
    pub async fn staged_material(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<StagedMaterial>, StoreError> {
        let Some((stored, _)) = self.read_meta(account, id).await? else {
            return Ok(None);
        };
        let Some(staged) = stored.staged else { return Ok(None) };
        let material = self.material(account, id, staged.certificate.version).await?;
        Ok(material.map(|material| StagedMaterial { activate_at_millis: staged.activate_at_millis, material }))
    }

    async fn material(
        &self,
        account: &str,
        id: u64,
        version: u32,
    ) -> Result<Option<ClientMaterial>, StoreError> {
        let Some(secrets) = self.store.read(&secrets_key(account, id, version)).await? else {
            tracing::warn!(id, version, "certificate metadata without its secrets");
            return Ok(None);
        };
        let secrets: StoredSecrets = serde_json::from_value(secrets.value)
            .map_err(|_| StoreError::Corrupt(format!("secrets of certificate {id}")))?;
        let corrupt = || StoreError::Corrupt(format!("secrets of certificate {id}"));
        let private_key_pkcs8 = Zeroizing::new(
            STANDARD
                .decode(secrets.private_key_pkcs8.as_bytes())
                .map_err(|_| corrupt())?,
        );
        let certificate_chain = secrets
            .chain
            .iter()
            .map(|c| STANDARD.decode(c).map_err(|_| corrupt()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(ClientMaterial {
            certificate_id: id,
            version,
            private_key_pkcs8,
            certificate_chain,
        }))
    }

    /// True when certificate `id` of `account` exists and no delete of it is under way, so a
    /// mapping may point at it. A mapping asks this again after writing its record (see
    /// [`Self::delete_unless_used`]).
    ///
    /// # Errors
    /// The store's error.
    pub async fn accepts_users(&self, account: &str, id: u64) -> Result<bool, StoreError> {
        Ok(self
            .read_meta(account, id)
            .await?
            .is_some_and(|(stored, _)| !stored.deleting))
    }

    /// Every certificate of `account`, by id.
    ///
    /// # Errors
    /// The store's error.
    pub async fn list(&self, account: &str) -> Result<Vec<Certificate>, StoreError> {
        self.list_where(account, |_| true).await
    }

    /// The certificates of `account` whose notAfter is at most `days` days away, or past
    /// (`?expiringWithinDays=`), by id.
    ///
    /// # Errors
    /// The store's error.
    pub async fn list_expiring_within(&self, account: &str, days: u32) -> Result<Vec<Certificate>, StoreError> {
        let horizon = clock::now_unix().saturating_add(i64::from(days) * SECONDS_PER_DAY);
        self.list_where(account, |stored| stored.not_after_unix <= horizon).await
    }

    async fn list_where(
        &self,
        account: &str,
        keep: impl Fn(&StoredCertificate) -> bool,
    ) -> Result<Vec<Certificate>, StoreError> {
        let names = self
            .store
            .list(&format!("certificates/{}", segment(account)))
            .await?;
        let mut out = Vec::new();
        for name in names {
            let Ok(id) = name.parse::<u64>() else {
                continue;
            };
            if let Some((stored, _)) = self.read_meta(account, id).await?
                && keep(&stored)
            {
                out.push(self.present(stored));
            }
        }
        out.sort_by_key(|c| c.id);
        Ok(out)
    }

    /// The certificate as shown now: status and expiry follow the clock, `pending` the staged
    /// version.
    fn present(&self, stored: StoredCertificate) -> Certificate {
        let now = clock::now_unix();
        let mut certificate = stored.certificate;
        certificate.pending = stored.staged.map(|staged| PendingVersion {
            version: staged.certificate.version,
            activate_at: clock::format_rfc3339_millis(staged.activate_at_millis),
            expiration_date: staged.certificate.expiration_date,
            fingerprint_sha256: staged.certificate.fingerprint_sha256,
            subject: staged.certificate.subject,
        });
        certificate.status = if now > stored.not_after_unix {
            CertificateStatus::Expired
        } else {
            CertificateStatus::Available
        };
        certificate.days_to_expiry = days_to_expiry(stored.not_after_unix, now);
        certificate.expiring_soon =
            stored.not_after_unix.saturating_sub(now) <= self.expiry_warning_seconds;
        certificate.warnings = None;
        certificate.deleted = false;
        certificate
    }

    async fn read_meta(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<(StoredCertificate, u64)>, StoreError> {
        if id == 0 || id > MAX_ID {
            return Ok(None);
        }
        let Some(found) = self.store.read(&meta_key(account, id)).await? else {
            self.expiry.forget(account, id);
            return Ok(None);
        };
        let stored: StoredCertificate = serde_json::from_value::<StoredCertificate>(found.value)
            .map_err(|_| StoreError::Corrupt(format!("certificate {id}")))?
            .at(clock::now_unix_millis());
        // Defence in depth: the key already scopes by account.
        if stored.certificate.site_id != account || stored.certificate.id != id {
            return Ok(None);
        }
        self.expiry.observe(account, id, stored.not_after_unix);
        Ok(Some((stored, found.version)))
    }

    /// Tells the other gateway instances that a staged version of `account` appeared or went
    /// (see [`rotation_notices`]). The change is committed already, so a failure does not undo
    /// it: those instances then learn of it when their cache entries expire (the TTL), which the
    /// error log says.
    async fn tell_other_instances(&self, account: &str) {
        if let Err(error) = rotation_notices::publish(self.store.as_ref(), account).await {
            tracing::error!(%error, account, "could not notify other instances of a staged rotation; they switch after their cache TTL");
        }
    }

    /// Deletes garbage after a committed change; a failure only leaves garbage behind.
    async fn forget(&self, key: &str) {
        if let Err(error) = self.store.delete(key).await {
            tracing::warn!(%error, "could not delete a superseded certificate entry; it stays as garbage");
        }
    }
}

mod create;
mod delete;
mod error;
pub mod expiry_warning;
mod inspector;
mod maintenance;
mod model;
mod names;
mod replace;
mod stored;
mod upload;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;
