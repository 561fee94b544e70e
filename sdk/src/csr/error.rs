//! Errors of CSR generation (`sdk::Error::Csr`).

use crate::private_key::PrivateKeyError;

/// Why a CSR could not be made. Messages name the field and the rule, never a key or passphrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CsrError {
    /// A subject field breaks a rule; `field` is the request's name for it (`commonName`,
    /// `country`, ...).
    #[error("subject {field} {problem}")]
    InvalidSubject {
        /// The field, as named in the request.
        field: &'static str,
        /// What is wrong, for example `must be two letters (ISO 3166-1), for example US`.
        problem: String,
    },
    /// A subjectAltName entry is not a valid DNS name, IP address, email address or URI.
    #[error("subjectAltName {value:?} {problem}")]
    InvalidSubjectAltName {
        /// The entry as given.
        value: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A key type other than P-256, P-384, RSA-2048, RSA-3072 or RSA-4096.
    #[error(
        "unsupported key type {key_type:?}; expected P-256, P-384, RSA-2048, RSA-3072 or \
             RSA-4096"
    )]
    UnsupportedKeyType {
        /// The key type as given.
        key_type: String,
    },
    /// The public key given for a CSR ([`crate::unsigned_csr`]) is not the DER
    /// `SubjectPublicKeyInfo` of a key type CSRs are made for.
    #[error(
        "the public key is not a SubjectPublicKeyInfo of an RSA, EC (P-256, P-384, P-521) or \
             Ed25519 key"
    )]
    UnsupportedPublicKey,
    /// The key handed in to sign the CSR could not be read.
    #[error(transparent)]
    Key(#[from] PrivateKeyError),
    /// The system random number generator failed (key generation, salt or IV).
    #[error("the system random number generator failed")]
    Random,
    /// Encoding or signing failed: a bug, not bad input.
    #[error("internal error while {stage}")]
    Internal {
        /// What was being done.
        stage: &'static str,
    },
}

impl CsrError {
    /// The stable snake_case code of this error, shared with the server and the npm package.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidSubject { .. } => "invalid_subject",
            Self::InvalidSubjectAltName { .. } => "invalid_subject_alt_name",
            Self::UnsupportedKeyType { .. } | Self::UnsupportedPublicKey => "unsupported_key_type",
            Self::Key(error) => error.code(),
            Self::Random => "random_failure",
            Self::Internal { .. } => "internal_error",
        }
    }
}
