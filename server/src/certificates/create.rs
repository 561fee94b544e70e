//! Creating certificates: every upload of a request is checked before the first write, then
//! each is saved with its id, name, secrets and metadata claimed create-only, undoing its own
//! claims when a later write fails.

use serde_json::json;

use super::stored::{StoredCertificate, meta_key, secrets_key};
use super::upload::{Opened, facts_into, open};
use super::{
    Certificate, CertificateError, CertificateService, CertificateStatus, CreateOutcome,
    FailedSave, MAX_ID, P12Inspector, Upload, check_name,
};
use crate::clock;
use crate::store::{Expect, StoreError};

/// Most certificates accepted in one create request.
pub const MAX_BATCH: usize = 100;

impl CertificateService {
    /// Validates every upload (the name rules first, then SPEC section 2 on `inspector`),
    /// then stores them one by one. Nothing is written unless every item is valid and every
    /// name is free.
    ///
    /// # Errors
    /// [`CertificateError::Item`] around [`CertificateError::NotUsable`] (the report),
    /// [`CertificateError::InvalidName`] or [`CertificateError::DuplicateName`];
    /// [`CertificateError::Inspection`] from [`P12Inspector::admit`]; a store failure before
    /// anything was saved (after that, failed saves are in the outcome).
    pub async fn create_many(
        &self,
        account: &str,
        uploads: Vec<Upload>,
        inspector: &P12Inspector,
    ) -> Result<CreateOutcome, CertificateError> {
        self.create_many_then(account, uploads, inspector, |_| async { Ok(()) }).await
    }

    /// [`Self::create_many`], calling `before_write` with the names to create once everything
    /// is checked and before anything is written; its error fails the request with nothing
    /// written. The audit trail records the creates there (only valid ones reach it).
    ///
    /// The answer is in the caller's error type `E`, which holds this service's errors and
    /// `before_write`'s as they are.
    ///
    /// # Errors
    /// As [`Self::create_many`], and `before_write`'s.
    pub async fn create_many_then<F, Fut, E>(
        &self,
        account: &str,
        uploads: Vec<Upload>,
        inspector: &P12Inspector,
        before_write: F,
    ) -> Result<CreateOutcome, E>
    where
        F: FnOnce(Vec<String>) -> Fut,
        Fut: std::future::Future<Output = Result<(), E>>,
        E: From<CertificateError>,
    {
        let mut names = std::collections::HashSet::new();
        for (index, upload) in uploads.iter().enumerate() {
            let name = upload.name.clone().unwrap_or_default();
            check_name(&name).map_err(|e| CertificateError::from(e).at_item(index))?;
            if !names.insert(name.clone()) {
                return Err(CertificateError::DuplicateName { name }.at_item(index).into());
            }
        }
        let files: Vec<&[u8]> = uploads.iter().map(|u| u.p12.as_slice()).collect();
        let admission = inspector.admit(&files).map_err(CertificateError::from)?;
        let mut opened = Vec::with_capacity(uploads.len());
        for (index, upload) in uploads.into_iter().enumerate() {
            opened.push(open(&admission, index, upload).await.map_err(|e| e.at_item(index))?);
        }
        drop(admission);
        for (index, item) in opened.iter().enumerate() {
            let name = item.name.as_deref().unwrap_or_default();
            if self.name_taken(account, name).await.map_err(CertificateError::from)? {
                let name = name.to_owned();
                return Err(CertificateError::DuplicateName { name }.at_item(index).into());
            }
        }
        before_write(opened.iter().map(|item| item.name.clone().unwrap_or_default()).collect()).await?;
        let mut outcome = CreateOutcome {
            saved: Vec::new(),
            failed: Vec::new(),
        };
        for item in opened {
            let name = item.name.clone().unwrap_or_default();
            match self.insert(account, item).await {
                Ok(certificate) => outcome.saved.push(certificate),
                // Nothing saved yet: the request fails as a whole, with the item's reason.
                Err(error)
                    if outcome.saved.is_empty()
                        && outcome.failed.is_empty()
                        && error.fails_whole_create() =>
                {
                    return Err(error.into());
                }
                Err(error) => outcome.failed.push(FailedSave { name, error }),
            }
        }
        Ok(outcome)
    }

    async fn insert(&self, account: &str, item: Opened) -> Result<Certificate, CertificateError> {
        let id = self.claim_id(account).await?;
        let name = item.name.clone().unwrap_or_default();
        if !self.claim_name(account, &name, id).await? {
            return Err(CertificateError::DuplicateName { name });
        }
        let secrets = serde_json::to_value(&item.secrets)
            .map_err(|_| CertificateError::Internal("encoding the secrets of a certificate"))?;
        if let Err(error) = self
            .store
            .write(&secrets_key(account, id, 1), &secrets, Expect::Absent)
            .await
        {
            self.release_new_name(account, Some(&name), id).await;
            return Err(error.into());
        }
        let now = clock::format_rfc3339(clock::now_unix());
        let blank = Certificate {
            id,
            name: name.clone(),
            display_name: item.display_name.clone().unwrap_or_else(|| name.clone()),
            site_id: account.to_owned(),
            status: CertificateStatus::Available,
            expiration_date: String::new(),
            deleted: false,
            subject: String::new(),
            issuer: String::new(),
            serial_number: String::new(),
            fingerprint_sha256: String::new(),
            key_algorithm: String::new(),
            version: 1,
            created_at: now.clone(),
            updated_at: now,
            pending: None,
            days_to_expiry: 0,
            expiring_soon: false,
            warnings: None,
        };
        let stored = StoredCertificate {
            certificate: facts_into(&item.facts, blank),
            not_after_unix: item.facts.not_after_unix,
            deleting: false,
            staged: None,
        };
        let value = serde_json::to_value(&stored)
            .map_err(|_| CertificateError::Internal("encoding a certificate"))?;
        if let Err(error) = self
            .store
            .write(&meta_key(account, id), &value, Expect::Absent)
            .await
        {
            self.forget(&secrets_key(account, id, 1)).await;
            self.release_new_name(account, Some(&name), id).await;
            return Err(error.into());
        }
        self.expiry.observe(account, id, stored.not_after_unix);
        Ok(Certificate { warnings: Some(item.warnings), ..self.present(stored) })
    }

    async fn claim_id(&self, account: &str) -> Result<u64, CertificateError> {
        for _ in 0..8 {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes)
                .map_err(|_| CertificateError::Internal("the random generator failed"))?;
            let id = u64::from_le_bytes(bytes) & MAX_ID;
            if id == 0 {
                continue;
            }
            match self
                .store
                .write(
                    &format!("certificate-ids/{id}"),
                    &json!({ "account": account }),
                    Expect::Absent,
                )
                .await
            {
                Ok(_) => return Ok(id),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(CertificateError::Internal("no free certificate id after 8 tries"))
    }
}
