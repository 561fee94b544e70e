//! What the API shows of a certificate request and what a caller sends to create or complete
//! one. Nothing here holds the key.

use serde::{Deserialize, Serialize};

/// The key type when the request names none (SPEC section 12).
pub(crate) const DEFAULT_KEY_TYPE: mtls_sdk::KeyType = mtls_sdk::KeyType::Rsa2048;

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
