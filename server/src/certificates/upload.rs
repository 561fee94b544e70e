//! An upload (a P12, its password and names) and what the service keeps of it once the P12
//! rules of SPEC section 2 passed: the leaf's facts and the secrets to store.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::stored::StoredSecrets;
use super::{Admission, Certificate, CertificateError};
use crate::clock;

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

/// A validated upload: the report's facts and the decrypted material.
pub(super) struct Opened {
    pub(super) name: Option<String>,
    pub(super) display_name: Option<String>,
    pub(super) facts: Facts,
    pub(super) secrets: StoredSecrets,
    pub(super) warnings: Vec<mtls_sdk::Finding>,
}

pub(super) struct Facts {
    pub(super) subject: String,
    pub(super) issuer: String,
    pub(super) serial_number: String,
    pub(super) fingerprint_sha256: String,
    pub(super) key_algorithm: String,
    pub(super) not_after: String,
    pub(super) not_after_unix: i64,
}

/// Validates one upload: runs the P12 rules and keeps what is needed.
/// Inspects `upload`, admitted file `index` of `admission`, and keeps what a usable one holds.
pub(super) async fn open(admission: &Admission, index: usize, upload: Upload) -> Result<Opened, CertificateError> {
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
        return Err(CertificateError::NotUsable(Box::new(report)));
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

pub(super) fn facts_into(facts: &Facts, certificate: Certificate) -> Certificate {
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
