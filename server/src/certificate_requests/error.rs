//! Why a certificate-request operation failed. The HTTP answer of each variant is chosen in
//! one place, `crate::http::certificate_requests`.

use crate::certificates::{CertificateError, InspectionError};
use crate::store::StoreError;

/// Why a certificate-request operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// No request with this id in this account (also another account's id).
    #[error("no certificate request with this id in this account")]
    NotFound,
    /// The request was completed already; `certificate_id` is what it made.
    #[error("this certificate request was completed already")]
    AlreadyCompleted {
        /// The certificate the first completion made.
        certificate_id: Option<u64>,
    },
    /// Another completion of the request is under way.
    #[error("another completion of this certificate request is under way")]
    CompletionInProgress,
    /// The name breaks the certificate name rules.
    #[error("{problem}")]
    InvalidName {
        /// What is wrong.
        problem: String,
    },
    /// The subject, subjectAltNames or key type were refused by the SDK.
    #[error(transparent)]
    Csr(mtls_sdk::CsrError),
    /// The certificate text holds no usable certificate (no PEM block, bad base64, not X.509).
    #[error("{problem}")]
    InvalidCertificatePem {
        /// What the SDK found wrong.
        problem: String,
    },
    /// No certificate given carries the request's public key.
    #[error("none of the {certificates} certificate(s) given carries this request's public key")]
    KeyCertificateMismatch {
        /// How many certificates were given.
        certificates: usize,
    },
    /// A certificate after the leaf is not the issuer of the one before it.
    #[error("certificate {position} of the chain is {found_subject:?}, but the certificate before it was issued by {expected_subject:?}")]
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
    #[error("the assembled P12 file is not usable")]
    NotUsable(Box<mtls_sdk::P12Report>),
    /// The certificate service refused to save the certificate (a taken name, an unknown
    /// `replaceCertificateId`).
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    /// Key generation, P12 assembly or inspection could not run (every worker busy, or a bug).
    #[error(transparent)]
    Inspection(#[from] InspectionError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bug or a failing random generator: what failed.
    #[error("{0}")]
    Internal(&'static str),
}
