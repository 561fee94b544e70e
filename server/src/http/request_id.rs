//! The edge of every request: gives every response an `X-Request-Id` (the caller's, when sane,
//! or a new one), runs the request inside a `request` tracing span carrying that id (so every
//! log line of the request names it), completes error bodies with `"requestId"`, and writes the
//! one log line of a failed request. The one place that sees every response, so no handler has
//! to thread the id through.

use std::borrow::Cow;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse};
use tracing::Instrument as _;

use crate::http::error::{ErrorBody, ErrorLog};
use crate::metrics::UNMATCHED_ROUTE;

// The header carrying the request id both ways (`X-Request-Id`, named by the SDK), as a
// `HeaderName`: a lookup by a non-standard `&str` name allocates one on every call.
const REQUEST_ID: HeaderName = HeaderName::from_static(mtls_sdk::wire::REQUEST_ID);

/// The request id, available to handlers through request extensions (the audit trail records
/// it); kept as the header value it goes out as.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

impl RequestId {
    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or_default()
    }
}

/// Middleware function; wrap with `actix_web::middleware::from_fn(request_id::middleware)`.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // The id is kept as the header value it goes out as: the caller's is shared, not copied, and
    // a new one is formatted once, without an intermediate `String` (the forward hot path).
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.as_bytes().iter().all(u8::is_ascii_graphic))
        .cloned()
        .unwrap_or_else(new_id);
    let span = tracing::info_span!("request", request_id = %id.to_str().unwrap_or_default());
    req.extensions_mut().insert(RequestId(id));
    let started = std::time::Instant::now();
    // Handler and extractor errors arrive here already turned into responses (actix converts a
    // handler's `Err` inside the route service), so `Err` is rare and passed through unchanged.
    let response = next.call(req).instrument(span.clone()).await?.map_into_boxed_body();
    // Taken back rather than cloned before: cloning a freshly made value allocates.
    let id = response.request().extensions_mut().remove::<RequestId>().map_or_else(new_id, |id| id.0);
    let route = route_template(response.request());
    span.in_scope(|| log_failure(&response, &route, started));
    count(&response, &route);
    Ok(finish(response, id))
}

/// A new random id (UUID v4, lower-case hyphenated).
fn new_id() -> HeaderValue {
    let mut buffer = uuid::Uuid::encode_buffer();
    let text = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buffer);
    HeaderValue::from_str(text).expect("a UUID is a valid header value")
}

/// The template of the route that answered (`/mtls/account/{account}`), never the raw path,
/// which carries caller data; [`UNMATCHED_ROUTE`] when no route matched. A resource named after
/// its template (the forward route, the hot path) costs no allocation; others build the
/// template from actix's resource map.
fn route_template(request: &actix_web::HttpRequest) -> Cow<'_, str> {
    match request.match_name() {
        Some(name) => Cow::Borrowed(name),
        None => request.match_pattern().map_or(Cow::Borrowed(UNMATCHED_ROUTE), Cow::Owned),
    }
}

/// `mtls_http_requests_total{route,method,status}`.
fn count(response: &ServiceResponse<BoxBody>, route: &str) {
    let request = response.request();
    if let Some(state) = request.app_data::<actix_web::web::Data<crate::state::AppState>>() {
        state.metrics.request(route, request.method(), response.status().as_u16());
    }
}

/// One line per failed request (status 400 and up), at the edge: route template (never the raw
/// path or query, which carry caller data), method, status, error code and internal cause.
/// 5xx are the operator's business (warn); 4xx are the caller's (info).
fn log_failure(response: &ServiceResponse<BoxBody>, route: &str, started: std::time::Instant) {
    let status = response.status();
    if status.as_u16() < 400 {
        return;
    }
    let request = response.request();
    let method = request.method().as_str();
    let extensions = response.response().extensions();
    let log = extensions.get::<ErrorLog>();
    let code = log.map_or("-", |log| log.code.as_str());
    let cause = log.and_then(|log| log.cause.as_deref()).unwrap_or("-");
    let status = status.as_u16();
    let elapsed_ms = started.elapsed().as_millis() as u64;
    if status >= 500 {
        tracing::warn!(method, route, status, code, cause, elapsed_ms, "request failed");
    } else {
        tracing::info!(method, route, status, code, elapsed_ms, "request failed");
    }
}

fn finish(response: ServiceResponse<BoxBody>, id: HeaderValue) -> ServiceResponse<BoxBody> {
    let error_body = response.response().extensions().get::<ErrorBody>().cloned();
    let mut response = match error_body {
        Some(ErrorBody(mut body)) => {
            body["requestId"] = serde_json::Value::String(id.to_str().unwrap_or_default().to_owned());
            response.map_body(|head, _| {
                let mut rebuilt = HttpResponse::build(head.status);
                for (name, value) in head.headers.iter() {
                    if name != actix_web::http::header::CONTENT_LENGTH {
                        rebuilt.append_header((name.clone(), value.clone()));
                    }
                }
                rebuilt.json(&body).into_body().boxed()
            })
        }
        None => response,
    };
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

#[cfg(test)]
mod tests {
    use actix_web::{middleware::from_fn, test, web, App, HttpResponse};

    use crate::http::error::ApiError;
    use crate::http::error_code::ErrorCode;

    async fn fails() -> Result<HttpResponse, ApiError> {
        Err(ApiError::not_found(ErrorCode::CertificateNotFound, "no such certificate"))
    }

    #[actix_web::test]
    async fn error_body_carries_the_callers_request_id() {
        let app = test::init_service(
            App::new().wrap(from_fn(super::middleware)).route("/x", web::get().to(fails)),
        )
        .await;
        let req = test::TestRequest::get().uri("/x").insert_header(("X-Request-Id", "abc-1")).to_request();
        let resp = test::call_service(&app, req).await;
        assert_eq!(resp.status(), 404);
        assert_eq!(resp.headers().get("x-request-id").unwrap(), "abc-1");
        let body: serde_json::Value = test::read_body_json(resp).await;
        assert_eq!(body["requestId"], "abc-1");
        assert_eq!(body["error"]["code"], "certificate_not_found");
    }

    #[actix_web::test]
    async fn a_new_request_id_when_the_caller_sends_none_or_a_bad_one() {
        let app = test::init_service(
            App::new().wrap(from_fn(super::middleware)).route("/x", web::get().to(fails)),
        )
        .await;
        let req = test::TestRequest::get().uri("/x").insert_header(("X-Request-Id", "a b")).to_request();
        let resp = test::call_service(&app, req).await;
        let id = resp.headers().get("x-request-id").unwrap().to_str().unwrap().to_owned();
        assert_ne!(id, "a b");
        let body: serde_json::Value = test::read_body_json(resp).await;
        assert_eq!(body["requestId"], id.as_str());
    }
}
