//! The P12 of a completed request: assembled from the held key and the chain the CA signed,
//! then judged by the same SPEC section 2 rules as an upload, and the chain's order checked.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::RequestError;
use crate::certificates::P12Inspector;

/// Builds the P12 from the held key and `certificate_pem` and inspects it, on one inspector
/// worker; answers the P12 and its random password.
pub(super) async fn assemble(
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
pub(super) fn pem_body(pem: &str) -> Result<Zeroizing<Vec<u8>>, RequestError> {
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
