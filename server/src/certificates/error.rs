//! The answers of the certificate service's failures.

use serde::Serialize;
use serde_json::json;

use super::Certificate;
use crate::http::error_code::ErrorCode;
use crate::clock;
use crate::error::ApiError;
use crate::store::StoreError;

/// 422 `p12_not_usable` with the report as details (SPEC section 5).
pub fn not_usable(report: &mtls_sdk::P12Report) -> ApiError {
    let reasons: Vec<&str> = report.problems.iter().map(|p| p.message.as_str()).collect();
    let message = if reasons.is_empty() {
        "the P12 file is not usable".to_owned()
    } else {
        format!("the P12 file is not usable: {}", reasons.join("; "))
    };
    ApiError::unprocessable(ErrorCode::P12NotUsable, message)
        .with_details(serde_json::to_value(report).unwrap_or(serde_json::Value::Null))
}

/// 409 `certificate_in_use` listing the mappings.
pub(super) fn in_use<U: Serialize>(users: &[U]) -> ApiError {
    ApiError::conflict(
        ErrorCode::CertificateInUse,
        format!(
            "{} mapping(s) use this certificate; delete or repoint them first",
            users.len()
        ),
    )
    .with_details(json!({ "mappings": users }))
}

pub(super) fn at_item(error: ApiError, index: usize) -> ApiError {
    let message = format!("certificate {index}: {}", error.message);
    ApiError { message, ..error }
}

pub(super) fn is_whole_failure(error: &ApiError) -> bool {
    error.status.is_server_error() || error.status == actix_web::http::StatusCode::CONFLICT
}

pub(super) fn concurrent(error: StoreError) -> ApiError {
    match error {
        StoreError::Conflict => ApiError::conflict(
            ErrorCode::ConcurrentChange,
            "the certificate was changed by another request at the same time; reload and retry",
        ),
        other => other.into(),
    }
}

/// 409 `rotation_pending`: a staged version must be cancelled before another replacement.
pub(super) fn rotation_pending(staged: &Certificate, activate_at_millis: i64) -> ApiError {
    ApiError::conflict(
        ErrorCode::RotationPending,
        "a replacement is staged for this certificate; cancel it (DELETE .../pending) before replacing again",
    )
    .with_details(json!({
        "pendingVersion": staged.version,
        "activateAt": clock::format_rfc3339_millis(activate_at_millis),
    }))
}

/// 404 `certificate_not_found`: also the answer for another account's id.
pub fn not_found() -> ApiError {
    ApiError::not_found(
        ErrorCode::CertificateNotFound,
        "no certificate with this id in this account",
    )
}

pub(super) fn duplicate_name(name: &str) -> ApiError {
    ApiError::conflict(
        ErrorCode::DuplicateCertificateName,
        format!("a certificate named {name:?} already exists in this account"),
    )
    .with_details(json!({ "name": name }))
}
