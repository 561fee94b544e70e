//! Operations endpoints: `/healthz`, `/readyz`, `/metrics`, `/openapi.json` (no credential,
//! never throttled).

use actix_web::{HttpResponse, web};

use crate::error::ApiError;
use crate::state::AppState;

/// The OpenAPI 3 description of every endpoint of SPEC section 5, written by hand and checked
/// against the route table by tests.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .route("/openapi.json", web::get().to(openapi));
}

/// Any path no route matches: 404 `not_found` in the SPEC error body (actix's own is empty).
pub async fn unknown_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(
        "not_found",
        "no such endpoint; /openapi.json lists them",
    ))
}

/// A known path with a method it does not serve: 405 `method_not_allowed` in the SPEC error
/// body. Resources opt in with `.default_service(web::to(ops::method_not_allowed))`.
pub async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not serve that method; /openapi.json lists the methods",
    ))
}

/// `GET /healthz`: the process is up.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: the store answers; 503 `store_unavailable` otherwise.
async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.store.ping().await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ready" })))
}

/// `GET /metrics`: Prometheus text exposition format 0.0.4.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}

/// `GET /openapi.json`.
async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI_JSON)
}
