//! Ordering a certificate chain given in any order: leaf first, then each issuer up to the root.
//!
//! The leaf is the certificate whose public key matches the private key (compared as keys, not
//! names). From it, the next certificate is the one whose subject equals the current one's
//! issuer (compared as DER, which is how issuers copy subjects); the walk stops at a
//! self-issued certificate or when no issuer is among the rest. Certificates outside that path
//! (a cross-signed root, an unrelated CA) are kept after it in their given order, so nothing
//! the user pasted is dropped; exact duplicates are dropped.

use der::{Decode, Encode};
use x509_cert::Certificate;

use super::P12BuildError;
use crate::pem_bundle::{PemBundleError, pem_blocks};
use spki::SubjectPublicKeyInfoOwned;

/// A certificate and its DER encoding as given.
pub(crate) struct ChainCertificate {
    pub(crate) certificate: Certificate,
    pub(crate) der: Vec<u8>,
}

/// Parses every `CERTIFICATE` block of `pem` and orders them leaf first; `is_key_of` says
/// whether a certificate's public key is the private key's.
///
/// # Errors
/// [`P12BuildError::NoCertificate`], [`P12BuildError::InvalidCertificate`] or
/// [`P12BuildError::KeyCertificateMismatch`].
pub(crate) fn ordered_chain(
    pem: &str,
    is_key_of: &dyn Fn(&SubjectPublicKeyInfoOwned) -> bool,
) -> Result<Vec<ChainCertificate>, P12BuildError> {
    let blocks = pem_blocks(pem).map_err(|error| match error {
        PemBundleError::Unterminated => P12BuildError::InvalidCertificate {
            position: 1,
            reason: "a BEGIN line has no END line",
        },
        PemBundleError::Malformed { index } => P12BuildError::InvalidCertificate {
            position: index + 1,
            reason: "invalid base64 or PEM framing",
        },
    })?;
    let mut given: Vec<ChainCertificate> = Vec::new();
    for (index, block) in blocks.iter().enumerate() {
        if block.label != "CERTIFICATE" {
            continue;
        }
        let certificate =
            Certificate::from_der(&block.der).map_err(|_| P12BuildError::InvalidCertificate {
                position: index + 1,
                reason: "DER decoding failed",
            })?;
        if !given.iter().any(|known| known.der == block.der.as_slice()) {
            given.push(ChainCertificate {
                certificate,
                der: block.der.to_vec(),
            });
        }
    }
    if given.is_empty() {
        let labels: Vec<&str> = blocks.iter().map(|block| block.label.as_str()).collect();
        let found = if labels.is_empty() {
            "nothing".to_owned()
        } else {
            labels.join(", ")
        };
        return Err(P12BuildError::NoCertificate { found });
    }

    let leaf = given
        .iter()
        .position(|candidate| {
            is_key_of(
                candidate
                    .certificate
                    .tbs_certificate()
                    .subject_public_key_info(),
            )
        })
        .ok_or(P12BuildError::KeyCertificateMismatch {
            certificates: given.len(),
        })?;
    let mut ordered = vec![given.remove(leaf)];
    while let Some(current) = ordered.last() {
        let tbs = current.certificate.tbs_certificate();
        if tbs.issuer() == tbs.subject() {
            break;
        }
        let issuer = tbs.issuer().to_der().ok();
        let next = given.iter().position(|candidate| {
            candidate
                .certificate
                .tbs_certificate()
                .subject()
                .to_der()
                .ok()
                == issuer
        });
        match next {
            Some(index) => ordered.push(given.remove(index)),
            None => break,
        }
    }
    ordered.append(&mut given);
    Ok(ordered)
}
