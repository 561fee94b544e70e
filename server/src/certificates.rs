//! Certificate service (SPEC sections 3 and 5): validate uploads with [`mtls_sdk::open_p12`],
//! store metadata and secrets, list, replace (rotation keeps the id and bumps `version`),
//! delete, and hand the runtime the key and chain to present.
//!
//! Store layout (all keys owned here; `{a}` is the account as a hex [`segment`]):
//! - `certificates/{a}/{id}`: the metadata ([`Certificate`] plus the leaf's notAfter). Writing it
//!   is the commit point of a create or a replace. A delete first marks it `deleting` (see
//!   [`CertificateService::delete_unless_used`]); a marked certificate takes no new mapping and no
//!   replacement.
//! - `certificate-secrets/{a}/{id}/{version}`: P12 bytes, password, PKCS#8 key and chain. One key
//!   per version, created before the metadata that points at it, so a reader never sees new
//!   metadata with old secrets, and two racing replacements cannot both write version n+1.
//!   Secrets a crash left without metadata (or superseded ones a crash kept) are deleted by
//!   [`CertificateService::sweep_orphan_secrets`] once older than [`claim::CLAIM_GRACE`].
//! - `certificate-names/{a}/{hex name}`: [`claim`] of a name for an id. Of two racing creates
//!   (or renames) exactly one claim succeeds; the other answers 409. A claim whose certificate
//!   does not use it (a crash between claim and metadata) is taken over once abandoned.
//! - `certificate-ids/{id}`: create-only claim of the id, so ids are unique across accounts and
//!   never reused.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroizing;

pub use inspector::{Admission, InspectorConfig, P12Inspector};

use crate::clock;
use crate::error::ApiError;
use crate::metrics::CertificateExpiry;
use crate::runtime::rotation_notices;
use crate::store::{Expect, Store, StoreError, claim, segment};
/// Longest certificate name, in characters (SPEC section 3).
pub const MAX_NAME_CHARS: usize = 128;
/// Ids stay below 2^53 so JavaScript numbers hold them exactly (SPEC section 3).
pub const MAX_ID: u64 = (1 << 53) - 1;
/// Most certificates accepted in one create request.
pub const MAX_BATCH: usize = 100;

/// Certificate as the API shows it (SPEC section 3). Never holds the P12, password or key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    /// Unique, below 2^53.
    pub id: u64,
    /// Unique per account, 1-128 characters.
    pub name: String,
    /// Free text shown to people.
    pub display_name: String,
    /// The account id.
    pub site_id: String,
    /// `Available`, `UnAvailable` or `Expired`.
    pub status: CertificateStatus,
    /// Leaf notAfter, RFC 3339.
    pub expiration_date: String,
    /// Always false in answers except the one to a delete.
    pub deleted: bool,
    /// Leaf subject.
    pub subject: String,
    /// Leaf issuer.
    pub issuer: String,
    /// Leaf serial number, hex.
    pub serial_number: String,
    /// SHA-256 of the leaf DER, hex.
    pub fingerprint_sha256: String,
    /// `RSA`, `EC`, `Ed25519`.
    pub key_algorithm: String,
    /// 1 at creation, +1 on every replacement.
    pub version: u32,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    // --- expiry (SPEC section 12): recomputed from the clock on every answer ---
    /// Whole days from now to notAfter, rounded down: negative once expired.
    #[serde(default)]
    pub days_to_expiry: i64,
    /// True when notAfter is at most `MTLS_EXPIRY_WARNING_DAYS` days away, or past: a warning
    /// never disappears as it becomes urgent.
    #[serde(default)]
    pub expiring_soon: bool,
    /// The P12 report's warnings (for example `expires_soon`); only in the answer to the upload
    /// or replacement that saved this version, never stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<mtls_sdk::Finding>>,
    /// The staged next version, until its `activateAt` (SPEC section 12); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingVersion>,
}

/// A replacement stored ahead of time: presented from `activate_at` on (SPEC section 12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingVersion {
    /// The version it becomes (the current one plus one).
    pub version: u32,
    /// RFC 3339 UTC, milliseconds when given.
    pub activate_at: String,
    /// Its leaf's notAfter, RFC 3339.
    pub expiration_date: String,
    /// SHA-256 of its leaf DER, hex.
    pub fingerprint_sha256: String,
    /// Its leaf subject.
    pub subject: String,
}

/// Certificate status as LivePerson names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CertificateStatus {
    /// Stored and not expired.
    Available,
    /// Stored but not usable (for example its secret is missing).
    UnAvailable,
    /// Past its notAfter.
    Expired,
}

/// What a TLS client needs to present a certificate.
#[derive(Clone)]
pub struct ClientMaterial {
    /// Certificate id.
    pub certificate_id: u64,
    /// Certificate version: pools are keyed by (id, version).
    pub version: u32,
    /// PKCS#8 DER private key.
    pub private_key_pkcs8: Zeroizing<Vec<u8>>,
    /// Leaf DER first, then the chain.
    pub certificate_chain: Vec<Vec<u8>>,
}

impl std::fmt::Debug for ClientMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientMaterial")
            .field("certificate_id", &self.certificate_id)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// One certificate to create or the replacement of one: the P12, its password, and names.
pub struct Upload {
    /// Name (required to create; optional on replace, where it renames).
    pub name: Option<String>,
    /// Display name; defaults to the name.
    pub display_name: Option<String>,
    /// The PKCS#12 file.
    pub p12: Zeroizing<Vec<u8>>,
    /// Its password.
    pub password: Zeroizing<String>,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The answer to a create: what was saved and what could not be (after validation passed).
#[derive(Debug, Clone, Serialize)]
pub struct CreateOutcome {
    /// Saved certificates (the wire name keeps LivePerson's spelling).
    #[serde(rename = "successfulySavedCertificates")]
    pub saved: Vec<Certificate>,
    /// Certificates that could not be saved, with the reason.
    #[serde(rename = "failedSaveToVaultCertificates")]
    pub failed: Vec<FailedSave>,
}

/// A certificate of a create request that was valid but could not be saved.
#[derive(Debug, Clone, Serialize)]
pub struct FailedSave {
    /// Its name.
    pub name: String,
    /// Stable code (`duplicate_certificate_name`, `store_unavailable`, ...).
    pub code: String,
    /// Human message.
    pub message: String,
}

/// What is kept under `certificates/{a}/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredCertificate {
    #[serde(flatten)]
    certificate: Certificate,
    not_after_unix: i64,
    /// Set by a delete before its last look for users; cleared when that delete is undone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    deleting: bool,
    /// A staged replacement: becomes the certificate at `activate_at_millis`. No instance
    /// rewrites the record at that moment; every reader promotes it ([`StoredCertificate::at`]),
    /// and the next write of the record persists the promotion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    staged: Option<Staged>,
}

/// The next version of a certificate, whole, and when it takes over.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Staged {
    activate_at_millis: i64,
    certificate: Certificate,
    not_after_unix: i64,
}

impl StoredCertificate {
    /// The record as it stands at `now_millis`: a staged version whose time has come is the
    /// certificate.
    fn at(self, now_millis: i64) -> Self {
        match self.staged {
            Some(staged) if now_millis >= staged.activate_at_millis => Self {
                certificate: staged.certificate,
                not_after_unix: staged.not_after_unix,
                deleting: self.deleting,
                staged: None,
            },
            staged => Self { staged, ..self },
        }
    }
}

/// The key material of a staged version and when to present it, for the runtime.
#[derive(Debug, Clone)]
pub struct StagedMaterial {
    /// Unix milliseconds from which `material` is presented instead of the current version.
    pub activate_at_millis: i64,
    /// The staged version's key and chain.
    pub material: ClientMaterial,
}

/// What is kept under `certificate-secrets/{a}/{id}/{version}`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredSecrets {
    p12: Zeroizing<String>,
    password: Zeroizing<String>,
    private_key_pkcs8: Zeroizing<String>,
    chain: Vec<String>,
    /// Unix seconds of the upload, so a sweep never takes the secrets of a create in flight.
    /// Absent in secrets written before it existed (old enough to sweep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stored_at: Option<i64>,
}

/// A validated upload: the report's facts and the decrypted material.
struct Opened {
    name: Option<String>,
    display_name: Option<String>,
    facts: Facts,
    secrets: StoredSecrets,
    warnings: Vec<mtls_sdk::Finding>,
}

struct Facts {
    subject: String,
    issuer: String,
    serial_number: String,
    fingerprint_sha256: String,
    key_algorithm: String,
    not_after: String,
    not_after_unix: i64,
}

/// Checks a certificate name: 1-128 characters, not blank, no control characters.
///
/// # Errors
/// 422 `invalid_certificate`.
pub fn check_name(name: &str) -> Result<(), ApiError> {
    let chars = name.chars().count();
    if chars == 0 || name.trim().is_empty() || chars > MAX_NAME_CHARS {
        return Err(ApiError::unprocessable(
            "invalid_certificate",
            format!("name must be 1 to {MAX_NAME_CHARS} characters and not blank"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(
            "invalid_certificate",
            "name must not contain control characters",
        ));
    }
    Ok(())
}

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

    /// Walks every certificate in the store and makes the expiry gauge hold exactly those:
    /// certificates created, replaced or deleted by other instances appear, change or go.
    /// Answers how many certificates the gauge now holds.
    ///
    /// # Errors
    /// The store's error; the gauge then keeps what it had.
    pub async fn refresh_expiry(&self) -> Result<usize, StoreError> {
        let mut all = std::collections::HashMap::new();
        for folder in folders(self.store.list("certificates").await?) {
            let Some(account) = hex::decode(&folder).ok().and_then(|b| String::from_utf8(b).ok())
            else {
                continue;
            };
            for name in self.store.list(&format!("certificates/{folder}")).await? {
                let Ok(id) = name.parse::<u64>() else { continue };
                let Some(found) = self.store.read(&meta_key(&account, id)).await? else { continue };
                let Ok(stored) = serde_json::from_value::<StoredCertificate>(found.value) else {
                    continue;
                };
                if stored.certificate.site_id == account && stored.certificate.id == id {
                    all.insert((account.clone(), id), stored.not_after_unix);
                }
            }
        }
        let count = all.len();
        self.expiry.replace_all(all);
        Ok(count)
    }

    /// The certificate `id` of `account`, or `None` (also when it belongs to another account).
    ///
    /// # Errors
    /// 503 when the store is down.
    pub async fn get(&self, account: &str, id: u64) -> Result<Option<Certificate>, ApiError> {
        Ok(self
            .read_meta(account, id)
            .await?
            .map(|(stored, _)| self.present(stored)))
    }

    /// The key and chain of certificate `id` of `account`: two O(1) store reads (the metadata
    /// names the version whose secrets to read).
    ///
    /// # Errors
    /// 503 when the store is down.
    pub async fn client_material(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<ClientMaterial>, ApiError> {
        let Some((stored, _)) = self.read_meta(account, id).await? else {
            return Ok(None);
        };
        self.material(account, id, stored.certificate.version).await
    }

    /// The key and chain of the staged version of certificate `id` of `account` and its
    /// activation time; `None` when nothing is staged.
    ///
    /// # Errors
    /// 503 when the store is down.
    pub async fn staged_material(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<StagedMaterial>, ApiError> {
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
    ) -> Result<Option<ClientMaterial>, ApiError> {
        let Some(secrets) = self.store.read(&secrets_key(account, id, version)).await? else {
            tracing::warn!(id, version, "certificate metadata without its secrets");
            return Ok(None);
        };
        let secrets: StoredSecrets = serde_json::from_value(secrets.value)
            .map_err(|_| StoreError::Corrupt(format!("secrets of certificate {id}")))?;
        let corrupt =
            || ApiError::from(StoreError::Corrupt(format!("secrets of certificate {id}")));
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
    /// 503 when the store is down.
    pub async fn accepts_users(&self, account: &str, id: u64) -> Result<bool, ApiError> {
        Ok(self
            .read_meta(account, id)
            .await?
            .is_some_and(|(stored, _)| !stored.deleting))
    }

    /// Every certificate of `account`, by id.
    ///
    /// # Errors
    /// 503 when the store is down.
    pub async fn list(&self, account: &str) -> Result<Vec<Certificate>, ApiError> {
        self.list_where(account, |_| true).await
    }

    /// The certificates of `account` whose notAfter is at most `days` days away, or past
    /// (`?expiringWithinDays=`), by id.
    ///
    /// # Errors
    /// 503 when the store is down.
    pub async fn list_expiring_within(&self, account: &str, days: u32) -> Result<Vec<Certificate>, ApiError> {
        let horizon = clock::now_unix().saturating_add(i64::from(days) * SECONDS_PER_DAY);
        self.list_where(account, |stored| stored.not_after_unix <= horizon).await
    }

    async fn list_where(
        &self,
        account: &str,
        keep: impl Fn(&StoredCertificate) -> bool,
    ) -> Result<Vec<Certificate>, ApiError> {
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

    /// Validates every upload (the name rules first, then SPEC section 2 on `inspector`),
    /// then stores them one by one. Nothing is written unless every item is valid and every
    /// name is free.
    ///
    /// # Errors
    /// 422 `p12_not_usable` (details: the report) or `invalid_certificate`; 409
    /// `duplicate_certificate_name`; 413 `p12_iteration_budget_exceeded` and 503
    /// `p12_inspections_busy` from [`P12Inspector::admit`]; 503 when the store is down before
    /// anything was saved.
    pub async fn create_many(
        &self,
        account: &str,
        uploads: Vec<Upload>,
        inspector: &P12Inspector,
    ) -> Result<CreateOutcome, ApiError> {
        self.create_many_then(account, uploads, inspector, |_| async { Ok(()) }).await
    }

    /// [`Self::create_many`], calling `before_write` with the names to create once everything
    /// is checked and before anything is written; its error fails the request with nothing
    /// written. The audit trail records the creates there (only valid ones reach it).
    ///
    /// # Errors
    /// As [`Self::create_many`], and `before_write`'s.
    pub async fn create_many_then<F, Fut>(
        &self,
        account: &str,
        uploads: Vec<Upload>,
        inspector: &P12Inspector,
        before_write: F,
    ) -> Result<CreateOutcome, ApiError>
    where
        F: FnOnce(Vec<String>) -> Fut,
        Fut: std::future::Future<Output = Result<(), ApiError>>,
    {
        let mut names = std::collections::HashSet::new();
        for (index, upload) in uploads.iter().enumerate() {
            let at = |e: ApiError| at_item(e, index);
            let name = upload.name.clone().unwrap_or_default();
            check_name(&name).map_err(at)?;
            if !names.insert(name.clone()) {
                return Err(at(duplicate_name(&name)));
            }
        }
        let files: Vec<&[u8]> = uploads.iter().map(|u| u.p12.as_slice()).collect();
        let admission = inspector.admit(&files)?;
        let mut opened = Vec::with_capacity(uploads.len());
        for (index, upload) in uploads.into_iter().enumerate() {
            opened.push(open(&admission, index, upload).await.map_err(|e| at_item(e, index))?);
        }
        drop(admission);
        for (index, item) in opened.iter().enumerate() {
            let name = item.name.as_deref().unwrap_or_default();
            if self.name_taken(account, name).await? {
                return Err(at_item(duplicate_name(name), index));
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
                        && is_whole_failure(&error) =>
                {
                    return Err(error);
                }
                Err(error) => outcome.failed.push(FailedSave {
                    name,
                    code: error.code.to_owned(),
                    message: error.message.clone(),
                }),
            }
        }
        Ok(outcome)
    }

    /// Replaces certificate `id` of `account` with `upload` (rotation: the id stays, `version`
    /// grows by one, an optional new name is claimed).
    ///
    /// With `activate_at_millis` the replacement is staged instead: checked and stored exactly
    /// the same way, shown as `pending`, and presented from that instant on (SPEC section 12).
    /// A new name or display name applies at once either way (it is not what targets see).
    /// While a version is staged, every replacement, staged or not, is refused: the caller
    /// cancels the staged one first, so no staged rotation is ever dropped silently.
    ///
    /// # Errors
    /// 404 `certificate_not_found`; 400 `invalid_activate_at` when the instant is not in the
    /// future; 409 `rotation_pending` while a version is staged; 422; 413 and 503 from
    /// [`P12Inspector::admit`]; 409 on a taken name or a concurrent replacement; 503 when the
    /// store is down.
    pub async fn replace(
        &self,
        account: &str,
        id: u64,
        upload: Upload,
        activate_at_millis: Option<i64>,
        inspector: &P12Inspector,
    ) -> Result<Certificate, ApiError> {
        let Some((current, store_version)) = self.read_meta(account, id).await? else {
            return Err(not_found());
        };
        if current.deleting {
            return Err(concurrent(StoreError::Conflict));
        }
        if let Some(pending) = &current.staged {
            return Err(rotation_pending(&pending.certificate, pending.activate_at_millis));
        }
        if let Some(at) = activate_at_millis
            && at <= clock::now_unix_millis()
        {
            return Err(ApiError::bad_request(
                "invalid_activate_at",
                "activateAt must be in the future; send the replacement without it to rotate now",
            ));
        }
        let current_not_after_unix = current.not_after_unix;
        if let Some(name) = &upload.name {
            check_name(name)?;
        }
        let admission = inspector.admit(&[upload.p12.as_slice()])?;
        let opened = open(&admission, 0, upload).await?;
        drop(admission);
        let old = current.certificate;
        let new_name = opened.name.clone().filter(|n| *n != old.name);
        if let Some(name) = &new_name
            && (self.name_taken(account, name).await?
                || !self.claim_name(account, name, id).await?)
        {
            return Err(duplicate_name(name));
        }
        let version = old.version.saturating_add(1);
        let secrets_key = secrets_key(account, id, version);
        let secrets = serde_json::to_value(&opened.secrets).map_err(|_| ApiError::internal())?;
        if let Err(error) = self
            .store
            .write(&secrets_key, &secrets, Expect::Absent)
            .await
        {
            self.release_new_name(account, new_name.as_deref(), id)
                .await;
            return Err(concurrent(error));
        }
        let now = clock::format_rfc3339(clock::now_unix());
        let display_name = opened
            .display_name
            .clone()
            .or_else(|| new_name.clone())
            .unwrap_or_else(|| old.display_name.clone());
        let next = Certificate {
            name: new_name.clone().unwrap_or_else(|| old.name.clone()),
            display_name,
            version,
            updated_at: now.clone(),
            ..facts_into(&opened.facts, old.clone())
        };
        let stored = match activate_at_millis {
            None => StoredCertificate {
                certificate: next,
                not_after_unix: opened.facts.not_after_unix,
                deleting: false,
                staged: None,
            },
            Some(activate_at_millis) => StoredCertificate {
                certificate: Certificate {
                    name: next.name.clone(),
                    display_name: next.display_name.clone(),
                    updated_at: now,
                    ..old.clone()
                },
                not_after_unix: current_not_after_unix,
                deleting: false,
                staged: Some(Staged {
                    activate_at_millis,
                    certificate: next,
                    not_after_unix: opened.facts.not_after_unix,
                }),
            },
        };
        let value = serde_json::to_value(&stored).map_err(|_| ApiError::internal())?;
        if let Err(error) = self
            .store
            .write(
                &meta_key(account, id),
                &value,
                Expect::Version(store_version),
            )
            .await
        {
            let _ = self.store.delete(&secrets_key).await;
            self.release_new_name(account, new_name.as_deref(), id)
                .await;
            return Err(concurrent(error));
        }
        if activate_at_millis.is_some() {
            self.tell_other_instances(account).await;
        }
        // `stored.not_after_unix` is the presented version's (the current one while a switch is
        // staged).
        self.expiry.observe(account, id, stored.not_after_unix);
        // The new version is committed; the old secrets (unless they are presented until a
        // staged switch) and the old name are garbage now.
        if activate_at_millis.is_none() {
            self.forget(&self::secrets_key(account, id, old.version)).await;
        }
        if new_name.is_some() {
            self.forget(&name_key(account, &old.name)).await;
        }
        Ok(Certificate { warnings: Some(opened.warnings), ..self.present(stored) })
    }

    /// Cancels the staged version of certificate `id` of `account` and answers the certificate
    /// without it; its secrets are deleted.
    ///
    /// # Errors
    /// 404 `certificate_not_found`, or `pending_version_not_found` when nothing is staged
    /// (also once the staged version has become current); 409 `concurrent_change`; 503.
    pub async fn cancel_pending(&self, account: &str, id: u64) -> Result<Certificate, ApiError> {
        let Some((stored, store_version)) = self.read_meta(account, id).await? else {
            return Err(not_found());
        };
        if stored.deleting {
            return Err(concurrent(StoreError::Conflict));
        }
        let Some(staged) = stored.staged.clone() else {
            return Err(ApiError::not_found(
                "pending_version_not_found",
                "this certificate has no staged version (none was staged, or it is active already)",
            ));
        };
        let unstaged = StoredCertificate {
            certificate: Certificate {
                updated_at: clock::format_rfc3339(clock::now_unix()),
                ..stored.certificate
            },
            staged: None,
            ..stored
        };
        let value = serde_json::to_value(&unstaged).map_err(|_| ApiError::internal())?;
        self.store
            .write(&meta_key(account, id), &value, Expect::Version(store_version))
            .await
            .map_err(concurrent)?;
        self.tell_other_instances(account).await;
        self.forget(&secrets_key(account, id, staged.certificate.version)).await;
        Ok(self.present(unstaged))
    }

    /// Deletes certificate `id` of `account` unless `users` (the mappings using it) is
    /// non-empty, and answers it with `deleted: true`.
    ///
    /// A mapping that starts using the certificate while the delete runs is caught without a
    /// lock, on any number of instances: the delete marks the metadata `deleting` (a versioned
    /// write) and only then asks `users` a second time; a mapping writes its record first and
    /// only then asks [`Self::accepts_users`]. Whichever of the two comes second sees the
    /// other: the delete answers 409 with the users and clears its mark, or the mapping is
    /// rolled back and refused. Both may lose; both never win.
    ///
    /// # Errors
    /// 404 `certificate_not_found`; 409 `certificate_in_use` listing the users, or
    /// `concurrent_change` when the certificate changed meanwhile; 503.
    pub async fn delete_unless_used<F, Fut, U>(
        &self,
        account: &str,
        id: u64,
        users: F,
    ) -> Result<Certificate, ApiError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<U>, ApiError>>,
        U: Serialize,
    {
        let Some((stored, store_version)) = self.read_meta(account, id).await? else {
            return Err(not_found());
        };
        let before = users().await?;
        if !before.is_empty() {
            return Err(in_use(&before));
        }
        let marked = StoredCertificate {
            deleting: true,
            ..stored.clone()
        };
        let marked = serde_json::to_value(&marked).map_err(|_| ApiError::internal())?;
        let marked_version = self
            .store
            .write(&meta_key(account, id), &marked, Expect::Version(store_version))
            .await
            .map_err(concurrent)?;
        let after = match users().await {
            Ok(after) => after,
            Err(error) => {
                self.unmark(account, id, &stored, marked_version).await;
                return Err(error);
            }
        };
        if !after.is_empty() {
            self.unmark(account, id, &stored, marked_version).await;
            return Err(in_use(&after));
        }
        self.store.delete(&meta_key(account, id)).await?;
        self.expiry.forget(account, id);
        self.forget(&secrets_key(account, id, stored.certificate.version))
            .await;
        if let Some(staged) = &stored.staged {
            self.forget(&secrets_key(account, id, staged.certificate.version)).await;
        }
        self.forget(&name_key(account, &stored.certificate.name))
            .await;
        let mut certificate = self.present(stored);
        certificate.deleted = true;
        Ok(certificate)
    }

    /// Clears the `deleting` mark of a delete that had to be undone. Should that fail, the mark
    /// stays: the certificate keeps working for its mappings, and a later delete finishes it.
    async fn unmark(&self, account: &str, id: u64, stored: &StoredCertificate, marked_version: u64) {
        let unmarked = StoredCertificate {
            deleting: false,
            ..stored.clone()
        };
        let restored = match serde_json::to_value(&unmarked) {
            Ok(value) => self
                .store
                .write(&meta_key(account, id), &value, Expect::Version(marked_version))
                .await
                .map(|_| ()),
            Err(e) => Err(StoreError::Corrupt(e.to_string())),
        };
        if let Err(error) = restored {
            tracing::error!(%error, account, id, "could not clear the deleting mark of a certificate whose delete was undone");
        }
    }

    /// Deletes the secrets of every account that no certificate points at: left by a crash
    /// between the secrets and the metadata of a create (never acknowledged), or kept by a crash
    /// after a replacement or a delete. Only secrets older than [`claim::CLAIM_GRACE`] go, so a
    /// create in flight keeps its own; versions above the current one are kept (a replacement
    /// in flight writes those). Answers how many were deleted.
    ///
    /// # Errors
    /// The store's error; what was deleted before it stays deleted.
    pub async fn sweep_orphan_secrets(&self) -> Result<usize, StoreError> {
        let grace = i64::try_from(claim::CLAIM_GRACE.as_secs()).unwrap_or(i64::MAX);
        let now = clock::now_unix();
        let mut deleted = 0;
        for account in folders(self.store.list(SECRETS).await?) {
            let account_folder = format!("{SECRETS}/{account}");
            for id in folders(self.store.list(&account_folder).await?) {
                let current = match self.store.read(&format!("certificates/{account}/{id}")).await? {
                    Some(found) => serde_json::from_value::<StoredCertificate>(found.value)
                        .map_err(|_| StoreError::Corrupt(format!("certificate {id}")))?
                        .at(clock::now_unix_millis())
                        .certificate
                        .version,
                    None => u32::MAX,
                };
                let id_folder = format!("{account_folder}/{id}");
                for name in self.store.list(&id_folder).await? {
                    let Ok(version) = name.parse::<u32>() else { continue };
                    if version >= current && current != u32::MAX {
                        continue;
                    }
                    let key = format!("{id_folder}/{name}");
                    let Some(found) = self.store.read(&key).await? else { continue };
                    let stored_at = found.value.get("storedAt").and_then(serde_json::Value::as_i64).unwrap_or(0);
                    if now.saturating_sub(stored_at) >= grace {
                        self.store.delete(&key).await?;
                        deleted += 1;
                    }
                }
            }
        }
        Ok(deleted)
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
    ) -> Result<Option<(StoredCertificate, u64)>, ApiError> {
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

    /// True when a live certificate or an in-flight create holds `name`.
    async fn name_taken(&self, account: &str, name: &str) -> Result<bool, ApiError> {
        let uses = |holder| self.uses_name(account, holder, name);
        Ok(claim::holder(self.store.as_ref(), &name_key(account, name), 0, uses).await?.taken)
    }

    /// Claims `name` for `id`; `false` when a live certificate or an in-flight create holds it.
    async fn claim_name(&self, account: &str, name: &str, id: u64) -> Result<bool, ApiError> {
        let uses = |holder| self.uses_name(account, holder, name);
        claim::claim(self.store.as_ref(), &name_key(account, name), id, uses).await
    }

    /// True when certificate `id` exists and is named `name`.
    async fn uses_name(&self, account: &str, id: u64, name: &str) -> Result<bool, ApiError> {
        Ok(self
            .read_meta(account, id)
            .await?
            .is_some_and(|(s, _)| s.certificate.name == name))
    }

    async fn insert(&self, account: &str, item: Opened) -> Result<Certificate, ApiError> {
        let id = self.claim_id(account).await?;
        let name = item.name.clone().unwrap_or_default();
        if !self.claim_name(account, &name, id).await? {
            return Err(duplicate_name(&name));
        }
        let secrets = serde_json::to_value(&item.secrets).map_err(|_| ApiError::internal())?;
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
        let value = serde_json::to_value(&stored).map_err(|_| ApiError::internal())?;
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

    async fn claim_id(&self, account: &str) -> Result<u64, ApiError> {
        for _ in 0..8 {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).map_err(|_| ApiError::internal())?;
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
        Err(ApiError::internal())
    }

    /// Releases a name claim we made for `id` (after a failed write); best effort.
    async fn release_new_name(&self, account: &str, name: Option<&str>, id: u64) {
        if let Some(name) = name {
            claim::release(self.store.as_ref(), &name_key(account, name), id).await;
        }
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

/// Validates one upload: runs the P12 rules and keeps what is needed.
/// Inspects `upload`, admitted file `index` of `admission`, and keeps what a usable one holds.
async fn open(admission: &Admission, index: usize, upload: Upload) -> Result<Opened, ApiError> {
    let Upload {
        name,
        display_name,
        p12,
        password,
    } = upload;
    let (report, contents) = admission.inspect(index, p12.clone(), password.clone()).await?;
    let (true, Some(contents), Some(leaf), Some(key)) = (
        report.usable,
        contents,
        report.certificate.as_ref(),
        report.key.as_ref(),
    ) else {
        return Err(not_usable(&report));
    };
    let not_after_unix = clock::parse_rfc3339(&leaf.not_after).unwrap_or(i64::MAX);
    let facts = Facts {
        subject: leaf.subject.clone(),
        issuer: leaf.issuer.clone(),
        serial_number: leaf.serial_number.clone(),
        fingerprint_sha256: leaf.fingerprint_sha256.clone(),
        key_algorithm: key.algorithm.clone(),
        not_after: leaf.not_after.clone(),
        not_after_unix,
    };
    let secrets = StoredSecrets {
        p12: Zeroizing::new(STANDARD.encode(p12.as_slice())),
        password,
        private_key_pkcs8: Zeroizing::new(STANDARD.encode(contents.private_key_pkcs8.as_slice())),
        chain: contents
            .certificate_chain
            .iter()
            .map(|c| STANDARD.encode(c))
            .collect(),
        stored_at: Some(clock::now_unix()),
    };
    Ok(Opened {
        name,
        display_name,
        facts,
        secrets,
        warnings: report.warnings.clone(),
    })
}

/// 422 `p12_not_usable` with the report as details (SPEC section 5).
pub fn not_usable(report: &mtls_sdk::P12Report) -> ApiError {
    let reasons: Vec<&str> = report.problems.iter().map(|p| p.message.as_str()).collect();
    let message = if reasons.is_empty() {
        "the P12 file is not usable".to_owned()
    } else {
        format!("the P12 file is not usable: {}", reasons.join("; "))
    };
    ApiError::unprocessable("p12_not_usable", message)
        .with_details(serde_json::to_value(report).unwrap_or(serde_json::Value::Null))
}

fn facts_into(facts: &Facts, certificate: Certificate) -> Certificate {
    Certificate {
        subject: facts.subject.clone(),
        issuer: facts.issuer.clone(),
        serial_number: facts.serial_number.clone(),
        fingerprint_sha256: facts.fingerprint_sha256.clone(),
        key_algorithm: facts.key_algorithm.clone(),
        expiration_date: facts.not_after.clone(),
        ..certificate
    }
}

const SECONDS_PER_DAY: i64 = 86_400;

/// Whole days from `now` to `not_after` (Unix seconds), rounded down: -1 within the first day
/// after expiry.
pub fn days_to_expiry(not_after: i64, now: i64) -> i64 {
    not_after.saturating_sub(now).div_euclid(SECONDS_PER_DAY)
}

/// 409 `certificate_in_use` listing the mappings.
fn in_use<U: Serialize>(users: &[U]) -> ApiError {
    ApiError::conflict(
        "certificate_in_use",
        format!(
            "{} mapping(s) use this certificate; delete or repoint them first",
            users.len()
        ),
    )
    .with_details(json!({ "mappings": users }))
}

fn at_item(error: ApiError, index: usize) -> ApiError {
    let message = format!("certificate {index}: {}", error.message);
    ApiError { message, ..error }
}

fn is_whole_failure(error: &ApiError) -> bool {
    error.status.is_server_error() || error.status == actix_web::http::StatusCode::CONFLICT
}

fn concurrent(error: StoreError) -> ApiError {
    match error {
        StoreError::Conflict => ApiError::conflict(
            "concurrent_change",
            "the certificate was changed by another request at the same time; reload and retry",
        ),
        other => other.into(),
    }
}

/// 409 `rotation_pending`: a staged version must be cancelled before another replacement.
fn rotation_pending(staged: &Certificate, activate_at_millis: i64) -> ApiError {
    ApiError::conflict(
        "rotation_pending",
        "a replacement is staged for this certificate; cancel it (DELETE .../pending) before replacing again",
    )
    .with_details(json!({
        "pendingVersion": staged.version,
        "activateAt": clock::format_rfc3339_millis(activate_at_millis),
    }))
}

/// 404 `certificate_not_found`: also the answer for another account's id.
pub fn not_found() -> ApiError {
    ApiError::not_found(
        "certificate_not_found",
        "no certificate with this id in this account",
    )
}

fn duplicate_name(name: &str) -> ApiError {
    ApiError::conflict(
        "duplicate_certificate_name",
        format!("a certificate named {name:?} already exists in this account"),
    )
    .with_details(json!({ "name": name }))
}

fn meta_key(account: &str, id: u64) -> String {
    format!("certificates/{}/{id}", segment(account))
}

const SECRETS: &str = "certificate-secrets";

fn secrets_key(account: &str, id: u64, version: u32) -> String {
    format!("{SECRETS}/{}/{id}/{version}", segment(account))
}

/// The sub-folders of a listing, without their trailing `/`.
fn folders(names: Vec<String>) -> impl Iterator<Item = String> {
    names.into_iter().filter_map(|n| n.strip_suffix('/').map(str::to_owned))
}

fn name_key(account: &str, name: &str) -> String {
    format!("certificate-names/{}/{}", segment(account), segment(name))
}

pub mod expiry_warning;
mod inspector;
#[cfg(test)]
mod tests;
