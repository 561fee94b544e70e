//! Certificate service: validate uploads with `mtls_sdk::open_p12`, store metadata and secrets,
//! replace (rotation keeps the id, bumps `version`), delete, and hand the runtime the key and
//! chain to present. Owns the store keys under `certificates/`.
//!
//! Skeleton: the interface other modules rely on. Implemented by issue 3.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::ApiError;
use crate::store::Store;

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

/// Certificate operations over the store.
pub struct CertificateService {
    store: Arc<dyn Store>,
}

impl CertificateService {
    /// A service over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The certificate `id` of `account`, or `None` (also when it belongs to another account).
    ///
    /// # Errors
    /// 503 when the store is down.
    pub async fn get(&self, account: &str, id: u64) -> Result<Option<Certificate>, ApiError> {
        let _ = (&self.store, account, id);
        Ok(None)
    }

    /// The key and chain of certificate `id` of `account`: one O(1) store read.
    ///
    /// # Errors
    /// 503 when the store is down.
    pub async fn client_material(
        &self,
        account: &str,
        id: u64,
    ) -> Result<Option<ClientMaterial>, ApiError> {
        let _ = (&self.store, account, id);
        Ok(None)
    }
}
