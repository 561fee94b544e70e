//! The server's one API error type, turned into HTTP in exactly one place (`ResponseError`).
//!
//! Bodies follow SPEC section 5: `{"error": {"code", "message", "details"}, "requestId"}`.
//! The `requestId` is filled in by [`crate::http::request_id`], which sees every response.
//! Messages never contain secrets or internal error text: store and transport failures carry
//! their cause to the edge ([`crate::http::request_id`]), which logs one line per failed request,
//! and are described to the caller in generic terms.

use crate::http::error_code::ErrorCode;
use actix_web::{http::StatusCode, HttpResponse, HttpResponseBuilder, ResponseError};
use mtls_sdk::wire;
use serde_json::Value;

/// An error answered to an API caller.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code, one of a closed set.
    pub code: ErrorCode,
    /// Human message: what was wrong, and what to do.
    pub message: String,
    /// Structured details (for example a P12 report), when useful.
    pub details: Option<Value>,
    /// Extra response headers (`WWW-Authenticate`, `Retry-After`, `LP-*-from-transport`).
    pub headers: Vec<(&'static str, String)>,
    /// What went wrong underneath (a store's or a dependency's own text), for the operator's
    /// log line at the edge; never sent to the caller.
    pub cause: Option<Box<str>>,
}

/// The body the request-id middleware completes with `requestId`; kept in response extensions.
#[derive(Debug, Clone)]
pub struct ErrorBody(pub Value);

/// What the edge logs about a failed request, kept in response extensions beside [`ErrorBody`]:
/// the error code and the internal cause, if any (never a secret: causes are our own texts and
/// dependencies' error messages, which carry no request data).
#[derive(Debug, Clone)]
pub struct ErrorLog {
    /// The error code of the body.
    pub code: ErrorCode,
    /// [`ApiError::cause`].
    pub cause: Option<Box<str>>,
}

impl ApiError {
    /// A new error with no details.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), details: None, headers: Vec::new(), cause: None }
    }
    /// Records the internal cause for the edge's log line (never sent to the caller).
    pub fn with_cause(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string().into_boxed_str());
        self
    }
    /// Attaches structured details.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
    /// Adds a response header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    /// 400 with `code`.
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 401 naming the accepted schemes in `WWW-Authenticate` (SPEC section 4).
    pub fn unauthorized(schemes: &[&str], message: impl Into<String>) -> Self {
        let challenge = schemes
            .iter()
            .map(|s| format!("{s} realm=\"{}\"", wire::GATEWAY_REALM))
            .collect::<Vec<_>>()
            .join(", ");
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, message)
            .with_header("WWW-Authenticate", challenge)
    }
    /// 403 `forbidden`: the same answer whether or not the target exists.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, "this credential may not act on this account")
    }
    /// 404 with `code`.
    pub fn not_found(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    /// 409 with `code`.
    pub fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    /// 422 with `code`.
    pub fn unprocessable(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    /// 503 `store_unavailable` with `Retry-After` (a Vault leader election takes seconds); the
    /// cause is logged by the caller, never sent.
    pub fn store_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::StoreUnavailable,
            "the certificate store is unavailable; retry later",
        )
        .with_header("Retry-After", STORE_RETRY_AFTER_SECONDS)
    }
    /// 500 `internal`; the cause is logged by the caller, never sent.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, "internal error")
    }
    /// The JSON body without `requestId`.
    pub fn body(&self) -> Value {
        let mut error = serde_json::json!({ "code": self.code, "message": self.message });
        if let Some(details) = &self.details {
            error["details"] = details.clone();
        }
        serde_json::json!({ "error": error })
    }
}

/// `Retry-After` of a 503 `store_unavailable`: about the time an OpenBao Raft cluster takes to
/// elect a new leader with production timeouts.
const STORE_RETRY_AFTER_SECONDS: &str = "2";

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            response.insert_header((*name, value.as_str()));
        }
        let body = self.body();
        let mut response = response.json(&body);
        response.extensions_mut().insert(ErrorBody(body));
        response.extensions_mut().insert(ErrorLog { code: self.code, cause: self.cause.clone() });
        response
    }
}

/// The throttle's 429, through the response builder actix-governor started.
pub(crate) fn rate_limited(refusal: crate::throttle::RateLimited, mut response: HttpResponseBuilder) -> HttpResponse {
    let body = ApiError::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyRequests, refusal.to_string()).body();
    response.insert_header(("retry-after", refusal.retry_after_seconds().to_string()));
    let mut response = response.json(&body);
    // The request-id middleware completes the body with `requestId`.
    response.extensions_mut().insert(ErrorBody(body));
    response
}

impl From<crate::auth::AuthError> for ApiError {
    fn from(error: crate::auth::AuthError) -> Self {
        use crate::auth::AuthError as A;
        let message = error.to_string();
        match error {
            A::Unauthenticated { accepted, .. } => {
                let names: Vec<&str> = accepted.iter().copied().map(crate::auth::name).collect();
                Self::unauthorized(&names, message)
            }
            A::Forbidden => Self::forbidden(),
            A::NonceShareExceeded { retry_after_seconds, .. } => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, ErrorCode::TooManyRequests, message)
                    .with_header("Retry-After", retry_after_seconds.to_string())
            }
            A::Store(error) => error.into(),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> Self {
        match error {
            crate::store::StoreError::Unavailable(reason) => {
                Self::store_unavailable().with_cause(format_args!("store unavailable: {reason}"))
            }
            crate::store::StoreError::Conflict => {
                Self::conflict(ErrorCode::Conflict, "a concurrent change won; reload and retry")
            }
            crate::store::StoreError::Corrupt(reason) => {
                Self::internal().with_cause(format_args!("store holds an unreadable value: {reason}"))
            }
        }
    }
}

impl From<crate::forward::ForwardError> for ApiError {
    fn from(error: crate::forward::ForwardError) -> Self {
        use crate::forward::ForwardError as F;
        match error {
            F::TargetNotAllowed { origin } => Self::new(
                StatusCode::FORBIDDEN,
                ErrorCode::TargetNotAllowed,
                format!(
                    "target {origin} is on a loopback, private, link-local or otherwise \
                     non-public address; allow its range with MTLS_ALLOWED_TARGET_CIDRS"
                ),
            ),
            F::Transport { kind, origin, message } => {
                let text = format!("{origin}: {message}");
                Self::new(StatusCode::FAILED_DEPENDENCY, ErrorCode::TransportError, format!("the call to the target failed: {text}"))
                    .with_details(serde_json::json!({ "errorFromTransport": kind.as_str(), "target": origin }))
                    .with_header(wire::LP_MESSAGE_FROM_TRANSPORT, text)
                    .with_header(wire::LP_ERROR_FROM_TRANSPORT, kind.as_str())
            }
            F::BodyTooLarge { limit } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                format!("request body is larger than MTLS_MAX_BODY_BYTES ({limit} bytes)"),
            ),
            F::RequestBodyStalled { timeout } => Self::new(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::RequestBodyTimeout,
                format!(
                    "the request body sent nothing for MTLS_FORWARD_TIMEOUT_MS ({} ms)",
                    timeout.as_millis()
                ),
            ),
            F::BadClientMaterial { certificate_id } => Self::internal()
                .with_cause(format_args!("certificate {certificate_id} has key material rustls cannot use")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AuthError, Scheme};
    use crate::store::StoreError;

    fn header<'a>(error: &'a ApiError, name: &str) -> Option<&'a str> {
        error.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    #[test]
    fn auth_refusals_answer_their_status_code_and_challenge() {
        let both = ApiError::from(AuthError::unauthenticated(&[Scheme::Bearer, Scheme::OAuth1], "credentials are missing"));
        assert_eq!((both.status.as_u16(), both.code.as_str(), both.message.as_str()), (401, "unauthenticated", "credentials are missing"));
        assert_eq!(header(&both, "WWW-Authenticate"), Some("Bearer realm=\"mtls-gateway\", OAuth realm=\"mtls-gateway\""));
        let oauth = ApiError::from(AuthError::unauthenticated(&[Scheme::OAuth1], "no"));
        assert_eq!(header(&oauth, "WWW-Authenticate"), Some("OAuth realm=\"mtls-gateway\""));

        let forbidden = ApiError::from(AuthError::Forbidden);
        assert_eq!((forbidden.status.as_u16(), forbidden.code.as_str()), (403, "forbidden"));
        assert_eq!(forbidden.message, AuthError::Forbidden.to_string());
        assert!(forbidden.headers.is_empty());

        let busy = ApiError::from(AuthError::NonceShareExceeded { window_seconds: 300, retry_after_seconds: 7 });
        assert_eq!((busy.status.as_u16(), busy.code.as_str()), (429, "too_many_requests"));
        assert_eq!(busy.message, "too many signed requests from this app key within the 300 s replay window; retry in 7 s");
        assert_eq!(header(&busy, "Retry-After"), Some("7"));

        let down = ApiError::from(AuthError::Store(StoreError::Unavailable("vault sealed".to_owned())));
        assert_eq!((down.status.as_u16(), down.code.as_str()), (503, "store_unavailable"));
        assert!(!down.message.contains("sealed"), "the cause is for the log only");
    }

    #[actix_web::test]
    async fn the_throttle_answers_429_with_a_retry_after_of_at_least_one_second() {
        for (wait_seconds, retry_after) in [(0, "1"), (3, "3")] {
            let response = rate_limited(crate::throttle::RateLimited { wait_seconds }, HttpResponse::TooManyRequests());
            assert_eq!(response.status().as_u16(), 429);
            assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some(retry_after));
            let body = response.extensions().get::<ErrorBody>().map(|b| b.0.clone()).unwrap();
            assert_eq!(body["error"]["code"], "too_many_requests");
            assert_eq!(body["error"]["message"], format!("too many requests from this address; retry in {wait_seconds} s"));
        }
    }
}
