//! What the service keeps in the store, and under which keys (all keys owned here; `{a}` is the
//! account as a hex [`segment`]):
//! - `certificates/{a}/{id}`: the metadata ([`StoredCertificate`]: the certificate plus the
//!   leaf's notAfter). Writing it is the commit point of a create or a replace. A delete first
//!   marks it `deleting` (see [`CertificateService::delete_unless_used`]); a marked certificate
//!   takes no new mapping and no replacement.
//! - `certificate-secrets/{a}/{id}/{version}`: P12 bytes, password, PKCS#8 key and chain
//!   ([`StoredSecrets`]). One key per version, created before the metadata that points at it,
//!   so a reader never sees new metadata with old secrets, and two racing replacements cannot
//!   both write version n+1. Secrets a crash left without metadata (or superseded ones a crash
//!   kept) are deleted by [`CertificateService::sweep_orphan_secrets`] once older than
//!   [`claim::CLAIM_GRACE`].
//! - `certificate-names/{a}/{hex name}`: [`claim`] of a name for an id. Of two racing creates
//!   (or renames) exactly one claim succeeds; the other answers 409. A claim whose certificate
//!   does not use it (a crash between claim and metadata) is taken over once abandoned.
//! - `certificate-ids/{id}`: create-only claim of the id, so ids are unique across accounts and
//!   never reused.
//!
//! [`CertificateService`]: super::CertificateService
//! [`CertificateService::delete_unless_used`]: super::CertificateService::delete_unless_used
//! [`CertificateService::sweep_orphan_secrets`]: super::CertificateService::sweep_orphan_secrets
//! [`claim`]: crate::store::claim
//! [`claim::CLAIM_GRACE`]: crate::store::claim::CLAIM_GRACE

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::Certificate;
use crate::store::segment;

/// What is kept under `certificates/{a}/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StoredCertificate {
    #[serde(flatten)]
    pub(super) certificate: Certificate,
    pub(super) not_after_unix: i64,
    /// Set by a delete before its last look for users; cleared when that delete is undone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(super) deleting: bool,
    /// A staged replacement: becomes the certificate at `activate_at_millis`. No instance
    /// rewrites the record at that moment; every reader promotes it ([`StoredCertificate::at`]),
    /// and the next write of the record persists the promotion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) staged: Option<Staged>,
}

/// The next version of a certificate, whole, and when it takes over.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Staged {
    pub(super) activate_at_millis: i64,
    pub(super) certificate: Certificate,
    pub(super) not_after_unix: i64,
}

impl StoredCertificate {
    /// The record as it stands at `now_millis`: a staged version whose time has come is the
    /// certificate.
    pub(super) fn at(self, now_millis: i64) -> Self {
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

/// What is kept under `certificate-secrets/{a}/{id}/{version}`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StoredSecrets {
    pub(super) p12: Zeroizing<String>,
    pub(super) password: Zeroizing<String>,
    pub(super) private_key_pkcs8: Zeroizing<String>,
    pub(super) chain: Vec<String>,
    /// Unix seconds of the upload, so a sweep never takes the secrets of a create in flight.
    /// Absent in secrets written before it existed (old enough to sweep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) stored_at: Option<i64>,
}

pub(super) fn meta_key(account: &str, id: u64) -> String {
    format!("certificates/{}/{id}", segment(account))
}

pub(super) const SECRETS: &str = "certificate-secrets";

pub(super) fn secrets_key(account: &str, id: u64, version: u32) -> String {
    format!("{SECRETS}/{}/{id}/{version}", segment(account))
}

/// The sub-folders of a listing, without their trailing `/`.
pub(super) fn folders(names: Vec<String>) -> impl Iterator<Item = String> {
    names.into_iter().filter_map(|n| n.strip_suffix('/').map(str::to_owned))
}

pub(super) fn name_key(account: &str, name: &str) -> String {
    format!("certificate-names/{}/{}", segment(account), segment(name))
}
