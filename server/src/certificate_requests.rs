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
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroizing;

use crate::certificates::{CertificateService, CreateOutcome, P12Inspector, Upload};
use crate::clock;
use crate::error::ApiError;
use crate::store::{Expect, Store, StoreError, claim, segment};

/// The key type when the request names none (SPEC section 12).
pub const DEFAULT_KEY_TYPE: mtls_sdk::KeyType = mtls_sdk::KeyType::Rsa2048;

/// A certificate request as the API shows it. Never holds the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateRequest {
    /// Unique in the account, below 2^53.
    pub id: u64,
    /// The name the certificate gets when the request completes without `replaceCertificateId`.
    pub name: String,
    /// The certificate's display name; defaults to the name.
    pub display_name: String,
    /// The account id.
    pub site_id: String,
    /// `Pending` until completed.
    pub status: RequestStatus,
    /// The key type: `RSA-2048`, `RSA-3072`, `RSA-4096`, `P-256` or `P-384`.
    pub key_algorithm: String,
    /// The subject as the issued certificate shows it: RFC 4514, most specific first (like
    /// [`crate::certificates::Certificate::subject`]).
    pub subject: String,
    /// The subjectAltNames as requested.
    pub subject_alt_names: Vec<String>,
    /// The PKCS#10 CSR to give the CA.
    pub csr_pem: String,
    /// The certificate made from it, once completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_id: Option<u64>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, once completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<String>,
}

/// Where a request is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestStatus {
    /// Waiting for the signed certificate.
    Pending,
    /// A certificate was made from it; its key was handed to that certificate.
    Completed,
}

/// The subject fields of a request, as `generateCsr` takes them (SPEC section 10).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestSubject {
    /// CN (required).
    pub common_name: String,
    /// O.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// OU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organizational_unit: Option<String>,
    /// C, two letters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// ST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// L.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    /// emailAddress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// What a caller asks for when creating a request.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// The certificate's name (checked like a certificate name).
    pub name: String,
    /// The certificate's display name.
    pub display_name: Option<String>,
    /// The subject.
    pub subject: RequestSubject,
    /// subjectAltNames (`DNS:`, `IP:`, `email:`, `URI:` or bare).
    pub subject_alt_names: Vec<String>,
    /// The key type as given (`RSA-2048` when absent).
    pub key_type: Option<String>,
}

/// The CA's answer to a request.
pub struct Completion {
    /// The signed certificate and its chain, PEM (leaf first by convention; any order is read).
    pub certificate_pem: String,
    /// Make the certificate the new version of this one instead of a new certificate.
    pub replace_certificate_id: Option<u64>,
}

/// Why a certificate-request operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum RequestError {
    /// No request with this id in this account (also another account's id).
    NotFound,
    /// The request was completed already; `certificate_id` is what it made.
    AlreadyCompleted {
        /// The certificate the first completion made.
        certificate_id: Option<u64>,
    },
    /// Another completion of the request is under way.
    CompletionInProgress,
    /// The name breaks the certificate name rules.
    InvalidName {
        /// What is wrong.
        problem: String,
    },
    /// The subject, subjectAltNames or key type were refused by the SDK.
    Csr(mtls_sdk::CsrError),
    /// The certificate text holds no usable certificate (no PEM block, bad base64, not X.509).
    InvalidCertificatePem {
        /// What the SDK found wrong.
        problem: String,
    },
    /// No certificate given carries the request's public key.
    KeyCertificateMismatch {
        /// How many certificates were given.
        certificates: usize,
    },
    /// A certificate after the leaf is not the issuer of the one before it.
    InvalidChain {
        /// 1-based position in the ordered chain (the leaf is 1).
        position: usize,
        /// The issuer the certificate before it names.
        expected_subject: String,
        /// The subject found instead.
        found_subject: String,
    },
    /// The assembled P12 broke a rule of SPEC section 2 (for example an expired certificate or
    /// one without clientAuth).
    NotUsable(Box<mtls_sdk::P12Report>),
    /// An answer of the certificate service or the inspector (a taken name, an unknown
    /// `replaceCertificateId`, every worker busy), already in its HTTP form.
    Certificate(Box<ApiError>),
    /// The store failed.
    Store(StoreError),
    /// A bug or a failing random generator.
    Internal(&'static str),
}

impl From<StoreError> for RequestError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<ApiError> for RequestError {
    fn from(error: ApiError) -> Self {
        Self::Certificate(Box::new(error))
    }
}

/// What is kept under `certificate-requests/{a}/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredRequest {
    #[serde(flatten)]
    request: CertificateRequest,
    /// Unix seconds at which a completion marked the request as its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    completing_since: Option<i64>,
}

/// What is kept under `certificate-request-keys/{a}/{id}`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredKey {
    private_key_pkcs8: Zeroizing<String>,
    /// Unix seconds of the write, so a sweep never takes the key of a create in flight.
    #[serde(default)]
    stored_at: i64,
}

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
    /// [`RequestError::Certificate`] when every worker is busy; store errors.
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
    /// certificate to replace, a busy inspector), store errors.
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

/// The HTTP form of each [`RequestError`]: the one place its codes are chosen.
pub fn api_error(error: RequestError) -> ApiError {
    match error {
        RequestError::NotFound => ApiError::not_found(
            "certificate_request_not_found",
            "no certificate request with this id in this account",
        ),
        RequestError::AlreadyCompleted { certificate_id } => ApiError::conflict(
            "certificate_request_completed",
            "this certificate request was completed already; create a new request to renew",
        )
        .with_details(json!({ "certificateId": certificate_id })),
        RequestError::CompletionInProgress => ApiError::conflict(
            "certificate_request_completing",
            "another completion of this certificate request is under way; reload it and retry",
        ),
        RequestError::InvalidName { problem } => ApiError::unprocessable("invalid_certificate_request", problem),
        RequestError::Csr(error) => ApiError::unprocessable(error.code(), error.to_string()),
        RequestError::InvalidCertificatePem { problem } => ApiError::unprocessable(
            "invalid_certificate_pem",
            format!("{problem}; send the certificate the CA issued for this request's CSR, then its chain, as PEM"),
        ),
        RequestError::KeyCertificateMismatch { certificates } => ApiError::unprocessable(
            "key_certificate_mismatch",
            format!(
                "none of the {certificates} certificate(s) given carries this request's public key; \
                 send the certificate the CA issued for this request's CSR"
            ),
        ),
        RequestError::InvalidChain { position, expected_subject, found_subject } => ApiError::unprocessable(
            "invalid_certificate_chain",
            format!(
                "certificate {position} of the chain is {found_subject:?}, but the certificate before it \
                 was issued by {expected_subject:?}; send the leaf, then each issuer in order"
            ),
        )
        .with_details(json!({ "position": position, "expectedSubject": expected_subject, "foundSubject": found_subject })),
        RequestError::NotUsable(report) => crate::certificates::not_usable(&report),
        RequestError::Certificate(error) => *error,
        RequestError::Store(error) => error.into(),
        RequestError::Internal(what) => ApiError::internal().with_cause(what),
    }
}

/// Builds the P12 from the held key and `certificate_pem` and inspects it, on one inspector
/// worker; answers the P12 and its random password.
async fn assemble(
    key_pkcs8: Zeroizing<Vec<u8>>,
    certificate_pem: String,
    inspector: &P12Inspector,
) -> Result<(Zeroizing<Vec<u8>>, Zeroizing<String>), RequestError> {
    let mut secret = Zeroizing::new([0u8; 24]);
    getrandom::fill(secret.as_mut())
        .map_err(|_| RequestError::Internal("the random generator failed"))?;
    // Base64 is printable ASCII: the only passwords the JDK opens a PKCS#12 file with.
    let password = Zeroizing::new(STANDARD.encode(secret.as_ref()));
    let key_pem = der_to_pem(&key_pkcs8)?;
    let build_password = password.clone();
    let worker = inspector.admit(&[])?;
    let p12 = actix_web::rt::task::spawn_blocking(move || {
        mtls_sdk::build_p12(&mtls_sdk::P12BuildRequest {
            private_key_pem: &key_pem,
            certificate_pem: &certificate_pem,
            password: &build_password,
            profile: mtls_sdk::P12Profile::Modern,
            ..mtls_sdk::P12BuildRequest::default()
        })
    })
    .await
    .map_err(|_| RequestError::Internal("the P12 assembly task failed"))?
    .map_err(build_error)?;
    drop(worker);
    let p12 = Zeroizing::new(p12);
    let admission = inspector.admit(&[p12.as_slice()])?;
    let (report, _) = admission.inspect(0, p12.clone(), password.clone()).await?;
    drop(admission);
    if !report.usable {
        return Err(RequestError::NotUsable(Box::new(report)));
    }
    check_chain(&report)?;
    Ok((p12, password))
}

/// The P12 holds the leaf first, then each issuer the SDK found, then whatever else was given:
/// each certificate after the leaf must be the issuer of the one before it.
fn check_chain(report: &mtls_sdk::P12Report) -> Result<(), RequestError> {
    let Some(leaf) = &report.certificate else {
        return Err(RequestError::Internal(
            "a usable report without its certificate",
        ));
    };
    let mut expected = &leaf.issuer;
    for (index, certificate) in report.chain.iter().enumerate() {
        if certificate.subject != *expected {
            return Err(RequestError::InvalidChain {
                position: index + 2,
                expected_subject: expected.clone(),
                found_subject: certificate.subject.clone(),
            });
        }
        expected = &certificate.issuer;
    }
    Ok(())
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
        problem: error.message,
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

fn build_error(error: mtls_sdk::Error) -> RequestError {
    let mtls_sdk::Error::P12Build(error) = error else {
        return RequestError::Internal("an unexpected SDK error while building the P12");
    };
    match error {
        mtls_sdk::P12BuildError::NoCertificate { .. }
        | mtls_sdk::P12BuildError::InvalidCertificate { .. } => {
            RequestError::InvalidCertificatePem {
                problem: error.to_string(),
            }
        }
        mtls_sdk::P12BuildError::KeyCertificateMismatch { certificates } => {
            RequestError::KeyCertificateMismatch { certificates }
        }
        // The key is ours and the password our own printable ASCII: anything else is a bug.
        _ => RequestError::Internal("building the P12 of a certificate request"),
    }
}

/// The DER of the one PEM block of `pem` (the SDK's PKCS#8 key).
fn pem_body(pem: &str) -> Result<Zeroizing<Vec<u8>>, RequestError> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD
        .decode(body.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| RequestError::Internal("reading the generated key"))
}

fn der_to_pem(der: &[u8]) -> Result<Zeroizing<String>, RequestError> {
    let body = Zeroizing::new(STANDARD.encode(der));
    let mut pem = Zeroizing::new(String::with_capacity(body.len() + 64));
    pem.push_str("-----BEGIN PRIVATE KEY-----\n");
    for chunk in body.as_bytes().chunks(64) {
        pem.push_str(
            std::str::from_utf8(chunk).map_err(|_| RequestError::Internal("encoding the key"))?,
        );
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    Ok(pem)
}

const RECORDS: &str = "certificate-requests";
const KEYS: &str = "certificate-request-keys";

fn record_key(account: &str, id: u64) -> String {
    format!("{RECORDS}/{}/{id}", segment(account))
}

fn key_key(account: &str, id: u64) -> String {
    format!("{KEYS}/{}/{id}", segment(account))
}

#[cfg(test)]
mod tests;
