//! Mapping service (SPEC section 3 and 5): create many at once, list, get, update and delete
//! with revisions; uniqueness of name and of (service, normalised URL) per account built on
//! check-and-set. Owns the store keys under `mappings/`.
//!
//! Skeleton: the interface other modules rely on. Implemented by issue 4.

use crate::error::ApiError;
use crate::state::AppState;

/// A mapping that uses a certificate, as listed in a `certificate_in_use` conflict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MappingRef {
    /// Mapping id.
    pub id: u64,
    /// Mapping name.
    pub name: String,
}

/// The mappings of `account` that use certificate `certificate_id` (for the delete conflict).
///
/// # Errors
/// 503 when the store is down.
pub async fn mappings_using_certificate(
    state: &AppState,
    account: &str,
    certificate_id: u64,
) -> Result<Vec<MappingRef>, ApiError> {
    let _ = (state, account, certificate_id);
    Ok(Vec::new())
}
