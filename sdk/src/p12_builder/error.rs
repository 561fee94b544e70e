//! Errors of P12 building (`sdk::Error::P12Build`).

use crate::private_key::PrivateKeyError;

/// Why a P12 could not be built. Messages never contain the password, key or file bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum P12BuildError {
    /// The private key could not be read.
    #[error(transparent)]
    Key(#[from] PrivateKeyError),
    /// The certificate text holds no `CERTIFICATE` PEM block; `found` lists what it holds.
    #[error(
        "no certificate found in the certificate PEM (found: {found}); expected the \
             certificate the CA issued, as -----BEGIN CERTIFICATE----- blocks"
    )]
    NoCertificate {
        /// The PEM labels present, comma-separated, or `nothing`.
        found: String,
    },
    /// A certificate block is not a valid X.509 certificate; `position` counts blocks from 1.
    #[error("certificate {position} of the PEM is not a valid X.509 certificate: {reason}")]
    InvalidCertificate {
        /// 1-based position among the PEM blocks.
        position: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// No certificate carries the private key's public key.
    #[error(
        "the private key does not match any of the {certificates} certificate(s) given; \
             expected the certificate issued for this key's CSR"
    )]
    KeyCertificateMismatch {
        /// How many certificates were given.
        certificates: usize,
    },
    /// The P12 password is empty or uses characters a PKCS#12 password cannot hold.
    #[error("the P12 password {problem}")]
    InvalidPassword {
        /// What is wrong, for example `is empty`.
        problem: &'static str,
    },
    /// The friendly name (the JDK's alias) is too long or has control characters.
    #[error("the friendly name {problem}")]
    InvalidFriendlyName {
        /// What is wrong.
        problem: &'static str,
    },
    /// A profile other than `modern` or `legacy`.
    #[error("unknown P12 profile {profile:?}; expected modern or legacy")]
    UnsupportedProfile {
        /// The profile as given.
        profile: String,
    },
    /// The system random number generator failed (salts, IVs).
    #[error("the system random number generator failed")]
    Random,
    /// Encoding failed: a bug, not bad input.
    #[error("internal error while {stage}")]
    Internal {
        /// What was being done.
        stage: &'static str,
    },
}

impl P12BuildError {
    /// The stable snake_case code of this error, shared with the server and the npm package.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Key(error) => error.code(),
            Self::NoCertificate { .. } => "no_certificate",
            Self::InvalidCertificate { .. } => "invalid_certificate",
            Self::KeyCertificateMismatch { .. } => "key_certificate_mismatch",
            Self::InvalidPassword { .. } => "invalid_password",
            Self::InvalidFriendlyName { .. } => "invalid_friendly_name",
            Self::UnsupportedProfile { .. } => "unsupported_profile",
            Self::Random => "random_failure",
            Self::Internal { .. } => "internal_error",
        }
    }
}
