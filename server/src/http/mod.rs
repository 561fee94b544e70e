//! HTTP layer: one `configure` function shared by `main` and tests, per-resource handler files,
//! and the request-id middleware that completes every error body.
//!
//! Handlers are thin: authorize, parse, call one service function, serialize.

use crate::http::error_code::ErrorCode;
use actix_web::web;

use error::ApiError;

pub mod admin;
pub mod audit;
pub mod certificate_requests;
pub mod certificates;
pub mod checks;
pub mod error;
pub mod error_code;
pub mod forward;
pub mod json_body;
pub mod mappings;
pub mod multipart_form;
pub mod ops;
pub mod p12_test;
pub mod portal;
pub mod probe;
pub mod request_id;
pub mod rest_docs;
pub mod services;
pub mod upload_body;

/// Registers every route of SPEC section 5. Each resource module adds its own routes here.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // The forward route is the hot path: routes are tried in order, each dynamic one a regex
    // match, so it goes first (its one pattern cannot match any other endpoint's path).
    forward::configure(cfg);
    ops::configure(cfg);
    cfg.default_service(web::to(ops::unknown_route));
    admin::configure(cfg);
    audit::configure(cfg);
    certificates::configure(cfg);
    certificate_requests::configure(cfg);
    p12_test::configure(cfg);
    portal::configure(cfg);
    rest_docs::configure(cfg);
    mappings::configure(cfg);
    checks::configure(cfg);
    services::configure(cfg);
    probe::configure(cfg);
}

/// Account ids longer than [`MAX_ACCOUNT_BYTES`](crate::mappings::MAX_ACCOUNT_BYTES) are no
/// account of ours (and would not fit a store key). Checked after authorization, so a caller
/// learns nothing it could not already act on.
pub(crate) fn check_account(account: &str) -> Result<(), ApiError> {
    if account.is_empty() || account.len() > crate::mappings::MAX_ACCOUNT_BYTES {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidAccount,
            format!("account ids have 1 to {} bytes", crate::mappings::MAX_ACCOUNT_BYTES),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod readiness_tests;
#[cfg(test)]
mod tests;
