//! The admin credential: `Authorization: Bearer $MTLS_ADMIN_TOKEN`, accepted only on `/admin/*`
//! (SPEC section 4). Without `MTLS_ADMIN_TOKEN` the admin API is off.

use actix_web::HttpRequest;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::{AuthError, AuthState, Scheme};

/// Checks the admin token.
///
/// Both sides are hashed before the constant-time comparison so that neither the content nor
/// the length of the configured token shows in the timing.
///
/// # Errors
/// [`AuthError::Unauthenticated`] naming Bearer when the token is missing, wrong, or the admin
/// API is off.
pub(crate) fn authorize_admin(req: &HttpRequest, state: &AuthState) -> Result<(), AuthError> {
    let refuse = |message: &str| AuthError::unauthenticated(&[Scheme::Bearer], message);
    let Some(expected) = state
        .admin_token
        .as_deref()
        .filter(|t| !t.is_empty())
    else {
        return Err(refuse(
            "the admin API is disabled; start the server with MTLS_ADMIN_TOKEN set",
        ));
    };
    let given = super::single_authorization(req)
        .map_err(refuse)?
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .ok_or_else(|| refuse("the admin API needs Authorization: Bearer <MTLS_ADMIN_TOKEN>"))?;
    let same: bool = Sha256::digest(given.as_bytes())
        .ct_eq(&Sha256::digest(expected.as_bytes()))
        .into();
    if !same {
        state.metrics.auth_refusals.inc("admin");
        return Err(refuse("the admin token is wrong"));
    }
    Ok(())
}
