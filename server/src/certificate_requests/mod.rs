//! Gateway-held keys (SPEC section 12): a certificate request makes a key that never leaves the
//! gateway and a CSR for it; completing the request with the chain a CA signed assembles a P12
//! (the SDK's `modern` profile, a random password the gateway keeps) and stores it through the
//! [`CertificateService`] exactly like an upload, or as the new version of an existing
//! certificate (renewal).
//!
//! Store layout (`{a}` is the account as a hex [`segment`]):
//! - `certificate-request-keys/{a}/{id}`: the PKCS#8 key. Written create-only before the record
//!   (so an id is taken by the key first), deleted when the request completes (the key then
//!   lives in the certificate's secrets) or is deleted; a delete is acknowledged only after the
//!   key is gone.
//! - `certificate-requests/{a}/{id}`: the record ([`CertificateRequest`] plus the completion
//!   claim). A completion first marks the record `completing` with a versioned write: of two
//!   racing completions (on any number of instances) exactly one wins that write and makes the
//!   certificate; the other answers 409. A mark whose completion crashed is taken over after
//!   [`claim::CLAIM_GRACE`].
//!
//! Key generation and P12 assembly are CPU work: they run on blocking threads and hold one of
//! the [`P12Inspector`] workers, so they never take every core from forwarding.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::certificates::{CertificateService, CreateOutcome, P12Inspector, Upload};
use crate::clock;
use crate::store::{Expect, Store, StoreError, claim, segment};

pub(crate) use error::RequestError;
pub(crate) use model::{
    CertificateRequest, Completion, DEFAULT_KEY_TYPE, NewRequest, RequestStatus, RequestSubject,
};
use assembly::{assemble, pem_body};
use stored::{KEYS, RECORDS, StoredKey, StoredRequest, key_key, record_key};

/// Certificate-request operations over the store.
pub struct CertificateRequestService {
    store: Arc<dyn Store>,
    certificates: Arc<CertificateService>,
}

impl CertificateRequestService {
    /// A service over `store` that saves certificates through `certificates`.
    pub fn new(store: Arc<dyn Store>, certificates: Arc<CertificateService>) -> Self {
        Self {
            store,
            certificates,
        }
    }

    /// Checks `new`, makes a key from the OS random source and a CSR for it, and stores both.
    ///
    /// # Errors
    /// [`RequestError::InvalidName`], [`RequestError::Csr`] (before any key is made);
    /// [`RequestError::Inspection`] when every worker is busy; store errors.
    pub async fn create(
        &self,
        account: &str,
        new: NewRequest,
        inspector: &P12Inspector,
    ) -> Result<CertificateRequest, RequestError> {
        check_name(&new.name)?;
        let key_type = match &new.key_type {
            Some(text) => text
                .parse::<mtls_sdk::KeyType>()
                .map_err(RequestError::Csr)?,
            None => DEFAULT_KEY_TYPE,
        };
        let csr_request = mtls_sdk::CsrRequest {
            subject: sdk_subject(&new.subject),
            subject_alt_names: new.subject_alt_names.clone(),
            key_type,
            private_key_passphrase: None,
        };
        mtls_sdk::validate_csr_request(&csr_request).map_err(csr_error)?;
        let subject = csr_request.subject.distinguished_name().map_err(RequestError::Csr)?;
        let worker = inspector.admit(&[])?;
        let generated =
            actix_web::rt::task::spawn_blocking(move || mtls_sdk::generate_csr(&csr_request))
                .await
                .map_err(|_| RequestError::Internal("the key generation task failed"))?
                .map_err(csr_error)?;
        drop(worker);
        let pkcs8 = pem_body(&generated.private_key_pem)?;
        let stored_key = serde_json::to_value(StoredKey {
            private_key_pkcs8: Zeroizing::new(STANDARD.encode(pkcs8.as_slice())),
            stored_at: clock::now_unix(),
        })
        .map_err(|_| RequestError::Internal("encoding the key record"))?;
        let id = self.claim_id_with_key(account, &stored_key).await?;
        let request = CertificateRequest {
            id,
            display_name: new
                .display_name
                .clone()
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| new.name.clone()),
            name: new.name,
            site_id: account.to_owned(),
            status: RequestStatus::Pending,
            key_algorithm: key_type.name().to_owned(),
            subject,
            subject_alt_names: new.subject_alt_names,
            csr_pem: generated.csr_pem,
            certificate_id: None,
            created_at: clock::format_rfc3339(clock::now_unix()),
            completed_at: None,
        };
        let record = StoredRequest {
            request: request.clone(),
            completing_since: None,
        };
        let value = serde_json::to_value(&record)
            .map_err(|_| RequestError::Internal("encoding the request"))?;
        if let Err(error) = self
            .store
            .write(&record_key(account, id), &value, Expect::Absent)
            .await
        {
            self.forget_key(account, id).await;
            return Err(error.into());
        }
        Ok(request)
    }

    /// Every request of `account`, by id.
    ///
    /// # Errors
    /// Store errors.
    pub async fn list(&self, account: &str) -> Result<Vec<CertificateRequest>, RequestError> {
        let mut out = Vec::new();
        for name in self
            .store
            .list(&format!("{RECORDS}/{}", segment(account)))
            .await?
        {
            let Ok(id) = name.parse::<u64>() else {
                continue;
            };
            if let Some((stored, _)) = self.read(account, id).await? {
                out.push(stored.request);
            }
        }
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    /// Request `id` of `account`.
    ///
    /// # Errors
    /// [`RequestError::NotFound`]; store errors.
    pub async fn get(&self, account: &str, id: u64) -> Result<CertificateRequest, RequestError> {
        Ok(self
            .read(account, id)
            .await?
            .ok_or(RequestError::NotFound)?
            .0
            .request)
    }

    /// Deletes request `id`: its key first (destroyed for good), then the record.
    ///
    /// # Errors
    /// [`RequestError::NotFound`]; [`RequestError::CompletionInProgress`] while a completion
    /// runs; store errors (the key may be gone already: a retry finishes the delete).
    pub async fn delete(&self, account: &str, id: u64) -> Result<CertificateRequest, RequestError> {
        let (stored, _) = self
            .read(account, id)
            .await?
            .ok_or(RequestError::NotFound)?;
        if completion_is_live(&stored) {
            return Err(RequestError::CompletionInProgress);
        }
        self.store.delete(&key_key(account, id)).await?;
        self.store.delete(&record_key(account, id)).await?;
        Ok(stored.request)
    }

    /// Completes request `id` with the chain the CA signed: assembles a P12 from the held key
    /// and the chain, checks it by SPEC section 2, and saves it as a new certificate (named as
    /// the request) or as the new version of `replace_certificate_id`. The answer is the
    /// certificate service's; the request becomes `Completed` and its key record is deleted.
    ///
    /// # Errors
    /// [`RequestError::NotFound`], [`RequestError::AlreadyCompleted`],
    /// [`RequestError::CompletionInProgress`], [`RequestError::InvalidCertificatePem`],
    /// [`RequestError::KeyCertificateMismatch`], [`RequestError::InvalidChain`],
    /// [`RequestError::NotUsable`], [`RequestError::Certificate`] (a taken name, an unknown
    /// certificate to replace), [`RequestError::Inspection`] (a busy inspector), store errors.
    pub async fn complete(
        &self,
        account: &str,
        id: u64,
        completion: Completion,
        inspector: &P12Inspector,
    ) -> Result<CreateOutcome, RequestError> {
        let (stored, record_version) = self
            .read(account, id)
            .await?
            .ok_or(RequestError::NotFound)?;
        refuse_unless_completable(&stored)?;
        let key = self
            .read_key(account, id)
            .await?
            .ok_or(RequestError::NotFound)?;
        let (p12, password) = assemble(key, completion.certificate_pem, inspector).await?;

        // The one completion that wins this versioned write makes the certificate.
        let mut claimed = stored.clone();
        claimed.completing_since = Some(clock::now_unix());
        let value = serde_json::to_value(&claimed)
            .map_err(|_| RequestError::Internal("encoding the request"))?;
        let claim_version = match self
            .store
            .write(
                &record_key(account, id),
                &value,
                Expect::Version(record_version),
            )
            .await
        {
            Ok(version) => version,
            Err(StoreError::Conflict) => return Err(self.lost_race(account, id).await),
            Err(error) => return Err(error.into()),
        };

        let upload = |name: Option<String>, display_name: Option<String>| Upload {
            name,
            display_name,
            p12: p12.clone(),
            password: password.clone(),
        };
        let saved = match completion.replace_certificate_id {
            None => {
                let request = &stored.request;
                let upload = upload(
                    Some(request.name.clone()),
                    Some(request.display_name.clone()),
                );
                self.certificates
                    .create_many(account, vec![upload], inspector)
                    .await
                    .map_err(RequestError::from)
                    .and_then(only_saved)
            }
            Some(replaced) => self
                .certificates
                .replace(account, replaced, upload(None, None), None, inspector)
                .await
                .map(|certificate| CreateOutcome {
                    saved: vec![certificate],
                    failed: Vec::new(),
                })
                .map_err(RequestError::from),
        };
        let outcome = match saved {
            Ok(outcome) => outcome,
            Err(error) => {
                self.release(account, id, &stored, claim_version).await;
                return Err(error);
            }
        };
        let certificate_id = outcome.saved.first().map(|c| c.id);
        let mut completed = stored;
        completed.completing_since = None;
        completed.request.status = RequestStatus::Completed;
        completed.request.certificate_id = certificate_id;
        completed.request.completed_at = Some(clock::format_rfc3339(clock::now_unix()));
        let value = serde_json::to_value(&completed)
            .map_err(|_| RequestError::Internal("encoding the request"))?;
        // Should this write fail, the certificate exists and the mark stays: the request
        // answers 409 until the mark is stale, and a retry then finds the name taken.
        self.store
            .write(
                &record_key(account, id),
                &value,
                Expect::Version(claim_version),
            )
            .await?;
        self.forget_key(account, id).await;
        Ok(outcome)
    }

    async fn read(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<(StoredRequest, u64)>, RequestError> {
        if id == 0 || id > crate::certificates::MAX_ID {
            return Ok(None);
        }
        let Some(found) = self.store.read(&record_key(account, id)).await? else {
            return Ok(None);
        };
        let stored: StoredRequest = serde_json::from_value(found.value)
            .map_err(|_| StoreError::Corrupt(format!("certificate request {id}")))?;
        // Defence in depth: the key already scopes by account.
        if stored.request.site_id != account || stored.request.id != id {
            return Ok(None);
        }
        Ok(Some((stored, found.version)))
    }

    async fn read_key(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, RequestError> {
        let Some(found) = self.store.read(&key_key(account, id)).await? else {
            return Ok(None);
        };
        let corrupt = || StoreError::Corrupt(format!("key of certificate request {id}"));
        let stored: StoredKey = serde_json::from_value(found.value).map_err(|_| corrupt())?;
        let der = STANDARD
            .decode(stored.private_key_pkcs8.as_bytes())
            .map_err(|_| corrupt())?;
        Ok(Some(Zeroizing::new(der)))
    }

    /// Writes the key under a fresh random id; that create-only write claims the id.
    async fn claim_id_with_key(
        &self,
        account: &str,
        key: &serde_json::Value,
    ) -> Result<u64, RequestError> {
        for _ in 0..8 {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes)
                .map_err(|_| RequestError::Internal("the random generator failed"))?;
            let id = u64::from_le_bytes(bytes) & crate::certificates::MAX_ID;
            if id == 0 {
                continue;
            }
            match self
                .store
                .write(&key_key(account, id), key, Expect::Absent)
                .await
            {
                Ok(_) => return Ok(id),
                Err(StoreError::Conflict) => continue,
                Err(error) => return Err(error.into()),
            }
        }
        Err(RequestError::Internal("no free request id after 8 tries"))
    }

    /// Why a completion lost its claim write: the request completed, is being completed, or
    /// went away meanwhile.
    async fn lost_race(&self, account: &str, id: u64) -> RequestError {
        match self.read(account, id).await {
            Ok(Some((stored, _))) => match refuse_unless_completable(&stored) {
                Err(error) => error,
                Ok(()) => RequestError::CompletionInProgress,
            },
            Ok(None) => RequestError::NotFound,
            Err(error) => error,
        }
    }

    /// Clears our completion mark after the certificate could not be saved; should that fail,
    /// the mark goes stale and a later completion takes over.
    async fn release(&self, account: &str, id: u64, stored: &StoredRequest, claim_version: u64) {
        let released = match serde_json::to_value(stored) {
            Ok(value) => self
                .store
                .write(
                    &record_key(account, id),
                    &value,
                    Expect::Version(claim_version),
                )
                .await
                .map(|_| ()),
            Err(error) => Err(StoreError::Corrupt(error.to_string())),
        };
        if let Err(error) = released {
            tracing::warn!(%error, account, id, "could not clear the completion mark of a certificate request");
        }
    }

    /// Deletes the keys no pending request holds: left by a crash between a create's key and
    /// its record (never acknowledged; only once older than [`claim::CLAIM_GRACE`], so a create
    /// in flight keeps its own), or kept by a crash or store failure after a completion (the key
    /// lives in the certificate) or in the middle of a delete. Answers how many were deleted.
    ///
    /// # Errors
    /// The store's error; what was deleted before it stays deleted.
    pub async fn sweep_orphan_keys(&self) -> Result<usize, StoreError> {
        let grace = i64::try_from(claim::CLAIM_GRACE.as_secs()).unwrap_or(i64::MAX);
        let now = clock::now_unix();
        let mut deleted = 0;
        for account in self.store.list(KEYS).await? {
            let Some(account) = account.strip_suffix('/') else {
                continue;
            };
            for id in self.store.list(&format!("{KEYS}/{account}")).await? {
                let key = format!("{KEYS}/{account}/{id}");
                let pending = match self
                    .store
                    .read(&format!("{RECORDS}/{account}/{id}"))
                    .await?
                {
                    Some(record) => {
                        record
                            .value
                            .get("status")
                            .and_then(serde_json::Value::as_str)
                            == Some("Pending")
                    }
                    None => false,
                };
                if pending {
                    continue;
                }
                let Some(found) = self.store.read(&key).await? else {
                    continue;
                };
                let stored_at = found
                    .value
                    .get("storedAt")
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(0);
                if now.saturating_sub(stored_at) >= grace {
                    self.store.delete(&key).await?;
                    deleted += 1;
                }
            }
        }
        Ok(deleted)
    }

    /// Deletes the key record once its key lives in a certificate (or after a failed create).
    async fn forget_key(&self, account: &str, id: u64) {
        if let Err(error) = self.store.delete(&key_key(account, id)).await {
            tracing::warn!(%error, account, id, "could not delete the key record of a certificate request; it stays as garbage");
        }
    }
}

fn refuse_unless_completable(stored: &StoredRequest) -> Result<(), RequestError> {
    if stored.request.status == RequestStatus::Completed {
        return Err(RequestError::AlreadyCompleted {
            certificate_id: stored.request.certificate_id,
        });
    }
    if completion_is_live(stored) {
        return Err(RequestError::CompletionInProgress);
    }
    Ok(())
}

/// A completion mark younger than [`claim::CLAIM_GRACE`] belongs to a completion still running.
fn completion_is_live(stored: &StoredRequest) -> bool {
    let grace = i64::try_from(claim::CLAIM_GRACE.as_secs()).unwrap_or(i64::MAX);
    stored
        .completing_since
        .is_some_and(|since| clock::now_unix().saturating_sub(since) < grace)
}

/// One item was saved, or the create failed: a request never completes without its
/// certificate. (With one item the service answers every failure as an error; this is a guard.)
fn only_saved(outcome: CreateOutcome) -> Result<CreateOutcome, RequestError> {
    if outcome.saved.is_empty() {
        return Err(RequestError::Internal(
            "a one-certificate create saved nothing",
        ));
    }
    Ok(outcome)
}

fn check_name(name: &str) -> Result<(), RequestError> {
    crate::certificates::check_name(name).map_err(|error| RequestError::InvalidName {
        problem: error.to_string(),
    })
}

fn sdk_subject(subject: &RequestSubject) -> mtls_sdk::CsrSubject {
    mtls_sdk::CsrSubject {
        common_name: subject.common_name.clone(),
        organization: subject.organization.clone(),
        organizational_unit: subject.organizational_unit.clone(),
        country: subject.country.clone(),
        state: subject.state.clone(),
        locality: subject.locality.clone(),
        email: subject.email.clone(),
    }
}

fn csr_error(error: mtls_sdk::Error) -> RequestError {
    match error {
        mtls_sdk::Error::Csr(mtls_sdk::CsrError::Random) => {
            RequestError::Internal("the random generator failed")
        }
        mtls_sdk::Error::Csr(mtls_sdk::CsrError::Internal { stage }) => {
            RequestError::Internal(stage)
        }
        mtls_sdk::Error::Csr(error) => RequestError::Csr(error),
        _ => RequestError::Internal("an unexpected SDK error while making the CSR"),
    }
}

mod assembly;
mod error;
mod model;
mod stored;
#[cfg(test)]
mod tests;
