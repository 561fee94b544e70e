//! Why a certificate-request operation failed, and its HTTP answer.

use serde_json::json;

use crate::http::error_code::ErrorCode;
use crate::error::ApiError;
use crate::store::StoreError;

/// Why a certificate-request operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum RequestError {
    /// No request with this id in this account (also another account's id).
    NotFound,
    /// The request was completed already; `certificate_id` is what it made.
    AlreadyCompleted {
        /// The certificate the first completion made.
        certificate_id: Option<u64>,
    },
    /// Another completion of the request is under way.
    CompletionInProgress,
    /// The name breaks the certificate name rules.
    InvalidName {
        /// What is wrong.
        problem: String,
    },
    /// The subject, subjectAltNames or key type were refused by the SDK.
    Csr(mtls_sdk::CsrError),
    /// The certificate text holds no usable certificate (no PEM block, bad base64, not X.509).
    InvalidCertificatePem {
        /// What the SDK found wrong.
        problem: String,
    },
    /// No certificate given carries the request's public key.
    KeyCertificateMismatch {
        /// How many certificates were given.
        certificates: usize,
    },
    /// A certificate after the leaf is not the issuer of the one before it.
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
    NotUsable(Box<mtls_sdk::P12Report>),
    /// An answer of the certificate service or the inspector (a taken name, an unknown
    /// `replaceCertificateId`, every worker busy), already in its HTTP form.
    Certificate(Box<ApiError>),
    /// The store failed.
    Store(StoreError),
    /// A bug or a failing random generator.
    Internal(&'static str),
}

impl From<StoreError> for RequestError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<ApiError> for RequestError {
    fn from(error: ApiError) -> Self {
        Self::Certificate(Box::new(error))
    }
}

/// The HTTP form of each [`RequestError`]: the one place its codes are chosen.
pub fn api_error(error: RequestError) -> ApiError {
    match error {
        RequestError::NotFound => ApiError::not_found(
            ErrorCode::CertificateRequestNotFound,
            "no certificate request with this id in this account",
        ),
        RequestError::AlreadyCompleted { certificate_id } => ApiError::conflict(
            ErrorCode::CertificateRequestCompleted,
            "this certificate request was completed already; create a new request to renew",
        )
        .with_details(json!({ "certificateId": certificate_id })),
        RequestError::CompletionInProgress => ApiError::conflict(
            ErrorCode::CertificateRequestCompleting,
            "another completion of this certificate request is under way; reload it and retry",
        ),
        RequestError::InvalidName { problem } => ApiError::unprocessable(ErrorCode::InvalidCertificateRequest, problem),
        RequestError::Csr(error) => ApiError::unprocessable(ErrorCode::from(&error), error.to_string()),
        RequestError::InvalidCertificatePem { problem } => ApiError::unprocessable(
            ErrorCode::InvalidCertificatePem,
            format!("{problem}; send the certificate the CA issued for this request's CSR, then its chain, as PEM"),
        ),
        RequestError::KeyCertificateMismatch { certificates } => ApiError::unprocessable(
            ErrorCode::KeyCertificateMismatch,
            format!(
                "none of the {certificates} certificate(s) given carries this request's public key; \
                 send the certificate the CA issued for this request's CSR"
            ),
        ),
        RequestError::InvalidChain { position, expected_subject, found_subject } => ApiError::unprocessable(
            ErrorCode::InvalidCertificateChain,
            format!(
                "certificate {position} of the chain is {found_subject:?}, but the certificate before it \
                 was issued by {expected_subject:?}; send the leaf, then each issuer in order"
            ),
        )
        .with_details(json!({ "position": position, "expectedSubject": expected_subject, "foundSubject": found_subject })),
        RequestError::NotUsable(report) => crate::certificates::not_usable(&report),
        RequestError::Certificate(error) => *error,
        RequestError::Store(error) => error.into(),
        RequestError::Internal(what) => ApiError::internal().with_cause(what),
    }
}
