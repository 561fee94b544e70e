//! Why a certificate operation failed. Each variant carries what a caller needs to answer it;
//! the HTTP answer of each is chosen in one place, `crate::http::certificates`.

use super::InspectionError;
use super::names::NameError;
use crate::store::StoreError;

/// Why a certificate operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// No certificate with this id in this account (also another account's id).
    #[error("no certificate with this id in this account")]
    NotFound,
    /// The name breaks the name rules ([`super::check_name`]).
    #[error(transparent)]
    InvalidName(#[from] NameError),
    /// Another certificate of the account holds the name, or another item of the same request
    /// asks for it.
    #[error("a certificate named {name:?} already exists in this account")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// The P12 file broke a rule of SPEC section 2; the report says which.
    #[error("the P12 file is not usable")]
    NotUsable(Box<mtls_sdk::P12Report>),
    /// The P12 inspection could not run (budget, busy workers, or a bug).
    #[error(transparent)]
    Inspection(#[from] InspectionError),
    /// Item `index` of a create request failed with `source`.
    #[error("certificate {index}: {source}")]
    Item {
        /// The item's place in the request, from 0.
        index: usize,
        /// Why it failed.
        source: Box<CertificateError>,
    },
    /// Mappings use the certificate, so it cannot be deleted.
    #[error("{} mapping(s) use this certificate", users.len())]
    InUse {
        /// The mappings that use it, as the caller's lookup described them.
        users: Vec<serde_json::Value>,
    },
    /// The certificate changed (or a delete of it began) while this request ran.
    #[error("the certificate was changed by another request at the same time")]
    ConcurrentChange,
    /// A replacement is staged: it must be cancelled before another replacement.
    #[error("a replacement is staged for this certificate")]
    RotationPending {
        /// The staged version.
        pending_version: u32,
        /// When it becomes current, Unix milliseconds.
        activate_at_millis: i64,
    },
    /// A staged replacement's `activateAt` is not in the future.
    #[error("activateAt must be in the future")]
    ActivateAtNotFuture,
    /// Nothing is staged for this certificate (none was, or it is current already).
    #[error("this certificate has no staged version")]
    PendingVersionNotFound,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bug or a failing random generator: what failed.
    #[error("{0}")]
    Internal(&'static str),
}

impl CertificateError {
    /// Item `index` of a create request failed with this error.
    pub(super) fn at_item(self, index: usize) -> Self {
        Self::Item { index, source: Box::new(self) }
    }

    /// True when a failed save fails the whole create rather than just its item: our fault, a
    /// dependency's, or a lost race (the same item would fail again at once).
    pub(super) fn fails_whole_create(&self) -> bool {
        match self {
            Self::Item { source, .. } => source.fails_whole_create(),
            Self::Store(_)
            | Self::Internal(_)
            | Self::DuplicateName { .. }
            | Self::ConcurrentChange
            | Self::InUse { .. }
            | Self::RotationPending { .. }
            | Self::Inspection(
                InspectionError::Busy | InspectionError::NotAdmitted { .. } | InspectionError::TaskFailed,
            ) => true,
            Self::NotFound
            | Self::InvalidName(_)
            | Self::NotUsable(_)
            | Self::Inspection(_)
            | Self::ActivateAtNotFuture
            | Self::PendingVersionNotFound => false,
        }
    }
}

/// A store conflict on a versioned write means another request changed the certificate.
pub(super) fn concurrent(error: StoreError) -> CertificateError {
    match error {
        StoreError::Conflict => CertificateError::ConcurrentChange,
        other => other.into(),
    }
}
