//! Reads a JSON request body with a size limit, turning every failure into the SPEC error body
//! (actix's own extractor errors have another shape, and serde's text can quote the input).

use actix_web::http::StatusCode;
use actix_web::web;
use futures_util::StreamExt;
use serde_json::Value;

use crate::http::error_code::ErrorCode;
use crate::http::error::ApiError;

/// Largest JSON body accepted by the configuration and check endpoints.
pub const MAX_JSON_BODY_BYTES: usize = 1024 * 1024;

/// Why a body could not be read whole; each caller words its own answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyReadError {
    /// The connection failed while the body was read.
    Unreadable,
    /// The body is longer than the limit (reading stopped there).
    TooLarge,
}

/// The whole body, refused as soon as it passes `limit` bytes.
///
/// # Errors
/// [`BodyReadError`].
pub async fn read_limited(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, BodyReadError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| BodyReadError::Unreadable)?;
        if body.len() + chunk.len() > limit {
            return Err(BodyReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// The body as JSON.
///
/// # Errors
/// 413 `payload_too_large` over [`MAX_JSON_BODY_BYTES`]; 400 `malformed_request` when the body
/// is not JSON (the message says where, never what).
pub async fn read(payload: web::Payload) -> Result<Value, ApiError> {
    let body = read_limited(payload, MAX_JSON_BODY_BYTES).await.map_err(|e| match e {
        BodyReadError::Unreadable => {
            ApiError::bad_request(ErrorCode::MalformedRequest, "request body could not be read")
        }
        BodyReadError::TooLarge => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("request body is larger than {MAX_JSON_BODY_BYTES} bytes"),
        ),
    })?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(ErrorCode::MalformedRequest, "expected a JSON body"));
    }
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            ErrorCode::MalformedRequest,
            format!(
                "request body is not valid JSON ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            )
            .to_lowercase(),
        )
    })
}
