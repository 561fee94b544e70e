//! Why a request was refused. The HTTP status, code and headers are chosen in one place,
//! `crate::http::error`.

use crate::store::StoreError;

use super::Scheme;

/// A refused request. For refusals `Display` is the message the caller reads, which never echoes
/// a credential; for the store it is the cause for the operator's log line, never sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No credential, several, one of a scheme the endpoint does not take, or one that does not
    /// verify. `accepted` are the endpoint's schemes, named in the challenge.
    #[error("{reason}")]
    Unauthenticated {
        /// The schemes the endpoint accepts.
        accepted: Vec<Scheme>,
        /// What was wrong, for the caller.
        reason: String,
    },
    /// A valid credential that may not act on the addressed account; the same whether or not
    /// the addressed resource exists.
    #[error("this credential may not act on this account")]
    Forbidden,
    /// An oAuth1 consumer sent more signed requests within the replay window than its share of
    /// the nonce memory holds.
    #[error(
        "too many signed requests from this app key within the {window_seconds} s replay window; retry in {retry_after_seconds} s"
    )]
    NonceShareExceeded {
        /// [`super::TIMESTAMP_WINDOW_SECONDS`].
        window_seconds: i64,
        /// When the oldest of its nonces leaves the window.
        retry_after_seconds: u64,
    },
    /// The store holding app keys or the issuer key failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AuthError {
    /// A refusal naming the `accepted` schemes.
    pub(crate) fn unauthenticated(accepted: &[Scheme], reason: impl Into<String>) -> Self {
        Self::Unauthenticated { accepted: accepted.to_vec(), reason: reason.into() }
    }
}
