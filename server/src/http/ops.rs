//! Operations endpoints: `/healthz`, `/readyz`, `/metrics`, `/openapi.json` (no credential,
//! never throttled).

use actix_web::{HttpResponse, web};

use crate::http::error_code::ErrorCode;
use crate::http::error::ApiError;
use crate::state::AppState;

/// The OpenAPI 3 description of every endpoint of SPEC section 5, written by hand and checked
/// against the route table by tests.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(get_only("/healthz", web::get().to(healthz)))
        .service(get_only("/readyz", web::get().to(readyz)))
        .service(get_only("/metrics", web::get().to(metrics)))
        .service(get_only("/openapi.json", web::get().to(openapi)));
}

/// A resource at `path` serving only `route` (a GET route); other methods get
/// [`method_not_allowed`].
pub fn get_only(path: &str, route: actix_web::Route) -> actix_web::Resource {
    web::resource(path).route(route).default_service(method_not_allowed("GET"))
}

/// Any path no route matches: 404 `not_found` in the SPEC error body (actix's own is empty).
pub async fn unknown_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(
        ErrorCode::NotFound,
        "no such endpoint; /openapi.json lists them",
    ))
}

/// The default service of a resource that serves the methods `allow` (for example `"GET, POST"`):
/// 405 `method_not_allowed` in the SPEC error body (actix's own 405 has none) with the `Allow`
/// header RFC 9110 section 15.5.6 requires. Every resource of the API registers it:
/// `.default_service(ops::method_not_allowed("GET, POST"))`.
pub fn method_not_allowed(allow: &'static str) -> actix_web::Route {
    web::to(move || async move { Err::<HttpResponse, _>(method_not_allowed_error(allow)) })
}

/// The error [`method_not_allowed`] answers, for a handler that checks the method itself.
pub fn method_not_allowed_error(allow: &'static str) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        format!("this endpoint accepts {allow}"),
    )
    .with_header("Allow", allow)
}

/// `GET /healthz`: the process is up.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: the store answers; 503 `store_unavailable` otherwise. The probe is shared and
/// reused for a second ([`crate::store::readiness`]).
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.readiness.check(state.store.as_ref()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })))
}

/// `GET /metrics`: the OpenMetrics text format, which Prometheus scrapes natively.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}

/// `GET /openapi.json`.
async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI_JSON)
}
