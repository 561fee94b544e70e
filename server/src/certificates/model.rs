//! What the API shows and hands out: certificates, staged versions, client material, and the
//! answer to a create. Nothing here holds a P12 or a password; [`ClientMaterial`] holds a key
//! and never prints it.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::CertificateError;

/// Ids stay below 2^53 so JavaScript numbers hold them exactly (SPEC section 3).
pub const MAX_ID: u64 = (1 << 53) - 1;

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

/// The key material of a staged version and when to present it, for the runtime.
#[derive(Debug, Clone)]
pub struct StagedMaterial {
    /// Unix milliseconds from which `material` is presented instead of the current version.
    pub activate_at_millis: i64,
    /// The staged version's key and chain.
    pub material: ClientMaterial,
}

/// The outcome of a create: what was saved and what could not be (after validation passed).
/// The HTTP layer answers it as LivePerson's save wrapper.
#[derive(Debug)]
pub struct CreateOutcome {
    /// Saved certificates.
    pub saved: Vec<Certificate>,
    /// Certificates that could not be saved, with the reason.
    pub failed: Vec<FailedSave>,
}

/// A certificate of a create request that was valid but could not be saved.
#[derive(Debug)]
pub struct FailedSave {
    /// Its name.
    pub name: String,
    /// Why it was not saved.
    pub error: CertificateError,
}

pub(super) const SECONDS_PER_DAY: i64 = 86_400;

/// Whole days from `now` to `not_after` (Unix seconds), rounded down: -1 within the first day
/// after expiry.
pub fn days_to_expiry(not_after: i64, now: i64) -> i64 {
    not_after.saturating_sub(now).div_euclid(SECONDS_PER_DAY)
}
