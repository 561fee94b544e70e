//! `GET, POST, PUT, PATCH, DELETE /mtls/account/{a}`: wrap and forward (SPEC section 6).
//!
//! Extracts: the account from the path, the caller's credential (Bearer or oAuth1, for that
//! account), the `LP-*` headers, and the body as a stream. Then: runtime lookup of the mapping →
//! `crate::forward::Forwarder::send` → the target's status, headers and body streamed back,
//! with `LP-certificate-id` naming the certificate presented (absent when none was).
//!
//! oAuth1 callers: RFC 5849 section 3.4.1.3.1 puts the parameters of an
//! `application/x-www-form-urlencoded` body into the signature base string, so such a body is read
//! whole (within `MTLS_MAX_BODY_BYTES` and `MTLS_OAUTH1_FORM_READ_TIMEOUT_MS`) before the signature
//! is checked, and then sent from memory. Only a request whose OAuth header is well-formed, with a
//! timestamp in the window and a consumer key that exists, gets that far
//! (`auth::check_oauth1_before_body`); anyone else is refused without the body being read.
//! Every other body is streamed, never read ahead.

use std::time::Duration;

use actix_web::body::{BodyStream, SizedStream};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::http::error_code::ErrorCode;
use crate::auth::{self, Scheme};
use crate::http::error::ApiError;
use crate::http::json_body::{read_limited, BodyReadError};
use crate::forward::{headers, ForwardError, Outgoing, RequestBody, TargetResponse};
use crate::http::ops;
use mtls_sdk::wire;
use crate::state::AppState;

// The gateway's headers as `HeaderName`s: looking a header up by a `&str` that is not one of
// HTTP's standard names allocates a `HeaderName` on every call, and these are read on every
// forward.
// The names themselves are the SDK's (`mtls_sdk::wire`), shared with the npm package's client.
const CERTIFICATE_ID: HeaderName = HeaderName::from_static(wire::LP_CERTIFICATE_ID);
const FORWARD_URL: HeaderName = HeaderName::from_static(wire::LP_FORWARD_URL);
const SERVICE_NAME: HeaderName = HeaderName::from_static(wire::LP_SERVICE_NAME);
const AUTHORIZATION_OVERRIDE: HeaderName = HeaderName::from_static(wire::LP_AUTHORIZATION_OVERRIDE);
const CONTENT_TYPE_OVERRIDE: HeaderName = HeaderName::from_static(wire::LP_CONTENT_TYPE_OVERRIDE);
const METHOD_OVERRIDE: HeaderName = HeaderName::from_static(wire::LP_METHOD_OVERRIDE);
const STOP_IF_NOT_FOUND: HeaderName = HeaderName::from_static(wire::LP_STOP_IF_CERTIFICATE_NOT_FOUND);


/// The forward route's template.
pub const ROUTE: &str = "/mtls/account/{account}";

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // One resource (one pattern match per request) with one route for every method: the handler
    // checks the method itself and answers the others with 405 in the SPEC error body. actix's
    // method guards would record each method tried in the request's extensions, two
    // allocations per forward.
    cfg.service(
        web::resource(ROUTE)
            // Named after its template so the request counter reads the template without
            // building it (see `request_id::route_template`).
            .name(ROUTE)
            .route(web::route().to(forward)),
    );
}

/// The methods forwarded; [`ALLOWED_METHODS`] names them.
const FORWARDED_METHODS: [actix_web::http::Method; 5] = [
    actix_web::http::Method::GET,
    actix_web::http::Method::POST,
    actix_web::http::Method::PUT,
    actix_web::http::Method::PATCH,
    actix_web::http::Method::DELETE,
];
const ALLOWED_METHODS: &str = "GET, POST, PUT, PATCH, DELETE";

/// What the `LP-*` headers ask for.
pub(crate) struct Instructions {
    /// Normalised target URL: the runtime lookup key and the URL to send to.
    url: mtls_sdk::NormalizedUrl,
    /// Its path and query, as the request-target.
    target: http::Uri,
    service: Option<u32>,
    authorization: Option<http::HeaderValue>,
    content_type: Option<http::HeaderValue>,
    method: http::Method,
    stop_if_not_found: bool,
}

async fn forward(
    req: HttpRequest,
    payload: web::Payload,
    account: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !FORWARDED_METHODS.contains(req.method()) {
        return Err(ops::method_not_allowed_error(ALLOWED_METHODS));
    }
    let account = account.into_inner();
    let limit = state.forwarder.max_body_bytes();
    let declared_length = declared_length(&req)?;
    let (signed_form, payload) = if is_oauth1(&req) && is_form_encoded(&req) {
        if declared_length.is_some_and(|length| length > limit as u64) {
            return Err(too_large(limit));
        }
        auth::check_oauth1_before_body(&req, &state.auth, auth::CONFIGURATION).await?;
        let read_timeout = state.config.auth.oauth1_form_read_timeout;
        (Some(read_whole(payload, limit, read_timeout).await?), None)
    } else {
        (None, Some(payload))
    };
    auth::authorize(&req, &state.auth, &[Scheme::Bearer, Scheme::OAuth1], Some(&account), signed_form.as_deref())
        .await?;
    let instructions = instructions(&req, &state)?;
    if declared_length.is_some_and(|length| length > limit as u64) {
        return Err(too_large(limit));
    }

    let found = state.runtime.find(&account, instructions.service, instructions.url.as_str()).await?;
    let material = found.as_ref().map(|m| m.material.clone());
    if material.is_none() && instructions.stop_if_not_found {
        state.metrics.forward("certificate_not_found", std::time::Duration::ZERO);
        return Err(ApiError::bad_request(
            ErrorCode::CertificateNotFound,
            "no enabled mapping with an available certificate for this account, service and URL",
        ));
    }

    let has_body = declared_length.is_some_and(|n| n > 0) || req.headers().contains_key("transfer-encoding");
    let outgoing = Outgoing {
        method: instructions.method,
        url: instructions.url,
        target: instructions.target,
        headers: headers::request_headers(
            req.headers(),
            instructions.authorization.as_ref(),
            instructions.content_type.as_ref(),
        ),
        body: match (signed_form, payload) {
            (Some(form), _) => RequestBody::full(form),
            (None, Some(payload)) if has_body => state.forwarder.caller_body(payload),
            (None, _) => RequestBody::Empty,
        },
    };
    let started = std::time::Instant::now();
    let response = match state.forwarder.send(material.as_deref(), outgoing).await {
        Ok(response) => response,
        Err(error) => {
            state.metrics.forward(outcome_label(&error), started.elapsed());
            let mut error = ApiError::from(error);
            if let Some(material) = &material {
                error = error.with_header(wire::LP_CERTIFICATE_ID, material.certificate_id.to_string());
            }
            return Err(error);
        }
    };
    state.metrics.forward("forwarded", started.elapsed());
    Ok(relay(response, material.map(|m| m.certificate_id)))
}

/// The target's response, streamed to the caller.
fn relay(response: TargetResponse, certificate_id: Option<u64>) -> HttpResponse {
    let TargetResponse { head, body } = response;
    let status = StatusCode::from_u16(head.status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut builder = HttpResponse::build(status);
    for (name, value) in headers::response_headers(&head.headers) {
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name.as_str().as_bytes()), HeaderValue::from_bytes(value.as_bytes()))
        {
            builder.append_header((name, value));
        }
    }
    if let Some(id) = certificate_id {
        builder.insert_header((CERTIFICATE_ID, HeaderValue::from(id)));
    }
    match body.content_length() {
        Some(length) => builder.body(SizedStream::new(length, body)),
        None => builder.body(BodyStream::new(body)),
    }
}

pub(crate) fn instructions(req: &HttpRequest, state: &AppState) -> Result<Instructions, ApiError> {
    let headers = req.headers();
    let text = |name: &HeaderName| -> Result<Option<&str>, ApiError> {
        headers
            .get(name)
            .map(|v| {
                v.to_str().map_err(|_| {
                    ApiError::bad_request(ErrorCode::InvalidHeader, format!("{name} must be visible ASCII"))
                })
            })
            .transpose()
    };
    let invalid_url = |message: String| ApiError::bad_request(ErrorCode::InvalidForwardUrl, message);

    let Some(target) = text(&FORWARD_URL)? else {
        return Err(invalid_url("the LP-forward-url header is required".into()));
    };
    let target = target.trim();
    let allow_http = state.config.allow_plain_http_targets;
    let url = mtls_sdk::parse_url(target, allow_http).map_err(|e| invalid_url(format!("LP-forward-url: {e}")))?;
    let request_target = http::Uri::try_from(url.path_and_query())
        .map_err(|_| invalid_url("LP-forward-url: the path or query holds characters HTTP does not allow".into()))?;

    let service = match text(&SERVICE_NAME)?.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(given) => Some(
            crate::services::resolve_code(&state.config.services, given).ok_or_else(|| {
                ApiError::bad_request(
                    ErrorCode::UnknownService,
                    "LP-service-name names no configured service; use a service name or code",
                )
            })?,
        ),
    };
    let method = match text(&METHOD_OVERRIDE)?.map(str::trim).filter(|s| !s.is_empty()) {
        None => http::Method::from_bytes(req.method().as_str().as_bytes())
            .map_err(|_| ApiError::bad_request(ErrorCode::InvalidMethodOverride, "unsupported method"))?,
        Some(given) => http::Method::from_bytes(given.to_ascii_uppercase().as_bytes()).map_err(|_| {
            ApiError::bad_request(ErrorCode::InvalidMethodOverride, "LP-method-override is not an HTTP method")
        })?,
    };
    // CONNECT asks the target for a tunnel (RFC 9110 9.3.6): its 2xx has no content and takes
    // over the connection, so there is no response to relay.
    if method == http::Method::CONNECT {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidMethodOverride,
            "LP-method-override: CONNECT opens a tunnel and is not forwarded",
        ));
    }
    let passthrough = |name: &HeaderName| {
        headers.get(name).and_then(|v| http::HeaderValue::from_bytes(v.as_bytes()).ok())
    };
    Ok(Instructions {
        url,
        target: request_target,
        service,
        authorization: passthrough(&AUTHORIZATION_OVERRIDE),
        content_type: passthrough(&CONTENT_TYPE_OVERRIDE),
        method,
        stop_if_not_found: text(&STOP_IF_NOT_FOUND)?.is_some_and(|v| v.trim().eq_ignore_ascii_case("true")),
    })
}

fn is_oauth1(req: &HttpRequest) -> bool {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim_start().split_once(' '))
        .is_some_and(|(scheme, _)| scheme.eq_ignore_ascii_case("oauth"))
}

/// True for a single-part `application/x-www-form-urlencoded` body (parameters may follow `;`).
fn is_form_encoded(req: &HttpRequest) -> bool {
    req.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// Reads the caller's body into memory, refusing it with 413 once it passes `limit` and with 408
/// `request_body_timeout` when it has not all arrived within `timeout`.
async fn read_whole(payload: web::Payload, limit: usize, timeout: Duration) -> Result<bytes::Bytes, ApiError> {
    let read = tokio::time::timeout(timeout, read_limited(payload, limit)).await.map_err(|_| {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::RequestBodyTimeout,
            format!("the form-encoded body did not arrive within {} ms; send it at once", timeout.as_millis()),
        )
    })?;
    read.map_err(|e| match e {
        BodyReadError::Unreadable => ApiError::bad_request(ErrorCode::InvalidBody, "the request body could not be read"),
        BodyReadError::TooLarge => too_large(limit),
    })
}

/// The caller's `Content-Length`, when sent.
fn declared_length(req: &HttpRequest) -> Result<Option<u64>, ApiError> {
    req.headers()
        .get("content-length")
        .map(|v| {
            v.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()).ok_or_else(|| {
                ApiError::bad_request(ErrorCode::InvalidHeader, "Content-Length must be a number")
            })
        })
        .transpose()
}

fn too_large(limit: usize) -> ApiError {
    ApiError::from(ForwardError::BodyTooLarge { limit })
}

fn outcome_label(error: &ForwardError) -> &'static str {
    use crate::forward::TransportKind as K;
    match error {
        ForwardError::TargetNotAllowed { .. } => "target_not_allowed",
        ForwardError::BodyTooLarge { .. } => "too_large",
        ForwardError::RequestBodyStalled { .. } => "request_body_timeout",
        ForwardError::BadClientMaterial { .. } => "bad_certificate",
        ForwardError::Transport { kind: K::Dns, .. } => "dns",
        ForwardError::Transport { kind: K::Connect, .. } => "connect",
        ForwardError::Transport { kind: K::Tls, .. } => "tls",
        ForwardError::Transport { kind: K::Timeout, .. } => "timeout",
        ForwardError::Transport { kind: K::Io, .. } => "io",
    }
}
