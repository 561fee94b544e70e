//! Authentication and authorization (SPEC section 4): Bearer JWTs (ES256, our own issuer and an
//! optional JWKS), oAuth1 (RFC 5849) app keys, the admin token, and the per-endpoint scheme
//! matrix. Handlers call [`authorize`] first.
//!
//! Skeleton: the interface other modules rely on. Implemented by issue 3.

use actix_web::HttpRequest;

use crate::error::ApiError;
use crate::state::AppState;

/// A credential scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Authorization: Bearer <JWT>`.
    Bearer,
    /// `Authorization: OAuth ...` (RFC 5849).
    OAuth1,
}

/// The accounts a credential may act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountScope {
    /// `["*"]`.
    All,
    /// The listed account ids.
    Only(Vec<String>),
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// JWT `sub`, or the oAuth1 consumer key.
    pub subject: String,
    /// Which scheme authenticated the request.
    pub scheme: Scheme,
    /// The accounts it may act on.
    pub accounts: AccountScope,
}

impl Caller {
    /// True when this caller may act on `account`.
    pub fn may_access(&self, account: &str) -> bool {
        match &self.accounts {
            AccountScope::All => true,
            AccountScope::Only(ids) => ids.iter().any(|id| id == account),
        }
    }
}

/// Authenticates `req` with one of `accepted` schemes and, when `account` is given, checks the
/// caller may act on it (403 otherwise, with nothing about the account revealed).
///
/// For oAuth1 the signature base string needs the form parameters of an
/// `application/x-www-form-urlencoded` body; callers that have such a body pass it in `form_body`.
///
/// # Errors
/// 401 with `WWW-Authenticate` naming `accepted`; 403 `forbidden`; 503 when the store is down.
pub async fn authorize(
    req: &HttpRequest,
    state: &AppState,
    accepted: &[Scheme],
    account: Option<&str>,
    form_body: Option<&[u8]>,
) -> Result<Caller, ApiError> {
    let _ = (req, state, form_body, account);
    let names: Vec<&str> = accepted
        .iter()
        .map(|s| match s {
            Scheme::Bearer => "Bearer",
            Scheme::OAuth1 => "OAuth",
        })
        .collect();
    Err(ApiError::unauthorized(&names, "authentication is not implemented yet"))
}
