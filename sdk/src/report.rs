//! The report of SPEC section 2: the same JSON shape from the SDK (native and WebAssembly) and
//! from the server.

use serde::{Deserialize, Serialize};

/// Whether a P12 is usable, and everything learnt while deciding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct P12Report {
    /// True only when `problems` is empty.
    pub usable: bool,
    /// Reasons the file is not usable; stable snake_case codes.
    pub problems: Vec<Finding>,
    /// Facts worth knowing that never make the file unusable.
    pub warnings: Vec<Finding>,
    /// The leaf certificate (the one matching the private key), when found.
    pub certificate: Option<CertificateInfo>,
    /// The other certificates, leaf's issuer first when it can be ordered.
    pub chain: Vec<CertificateInfo>,
    /// The private key's type and size, when the key could be decrypted.
    pub key: Option<KeyInfo>,
    /// How the container is protected, when it parsed.
    pub container: Option<ContainerInfo>,
}

/// One problem or warning: a stable code and a human message (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Finding {
    /// Stable snake_case identifier, for example `weak_key`.
    pub code: String,
    /// Lower-case English explanation, saying what was found and what is expected.
    pub message: String,
}

/// Facts about one certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct CertificateInfo {
    /// RFC 4514 string of the subject, for example `CN=client,O=Brand`.
    pub subject: String,
    /// RFC 4514 string of the issuer.
    pub issuer: String,
    /// Serial number, lower-case hex without separators.
    pub serial_number: String,
    /// Start of validity, RFC 3339 UTC.
    pub not_before: String,
    /// End of validity, RFC 3339 UTC.
    pub not_after: String,
    /// SHA-256 of the DER certificate, lower-case hex.
    pub fingerprint_sha256: String,
    /// keyUsage bits by their RFC 5280 names (`digitalSignature`, ...); empty when absent.
    pub key_usage: Vec<String>,
    /// extendedKeyUsage purposes by name (`clientAuth`, ...) or dotted OID; empty when absent.
    pub extended_key_usage: Vec<String>,
    /// subjectAltName entries as `DNS:x`, `IP:x`, `email:x`, `URI:x`.
    pub subject_alt_names: Vec<String>,
}

/// Type and size of the private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct KeyInfo {
    /// `RSA`, `EC`, `Ed25519`, `DSA`, or the dotted OID of anything else.
    pub algorithm: String,
    /// Key size in bits (RSA modulus, EC field size, 255 for Ed25519).
    pub bits: Option<u32>,
    /// Named curve for EC keys: `P-256`, `P-384`, `P-521`, or the curve OID.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub curve: Option<String>,
}

/// How the PFX is protected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ContainerInfo {
    /// MAC digest (`SHA-1`, `SHA-256`, ...), or `none` when the file has no MAC.
    pub mac_algorithm: String,
    /// MAC iteration count (1 when the field is absent, as RFC 7292 defaults it).
    #[cfg_attr(test, ts(type = "number"))]
    pub mac_iterations: u64,
    /// One entry per encrypted part.
    pub encryption: Vec<EncryptionInfo>,
}

/// One encrypted part of the PFX.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct EncryptionInfo {
    /// `key` or `certificates`.
    pub bag: String,
    /// Algorithm name, for example `PBES2/PBKDF2-HMAC-SHA256/AES-256-CBC`.
    pub algorithm: String,
    /// Iteration count of the key derivation.
    #[cfg_attr(test, ts(type = "number"))]
    pub iterations: u64,
}

impl Finding {
    /// Builds a finding from a code and a message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self { code: code.to_owned(), message: message.into() }
    }
}
