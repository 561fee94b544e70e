//! `POST /mtls/account/{account}/probe`: the handshake probe (SPEC section 12).
//!
//! Extracts: the account from the path, the caller's credential (Bearer or oAuth1, as certificate
//! JSON CRUD), and the JSON body `{url, serviceName?, certificationId?}`. Then chooses the
//! certificate as forwarding does (the runtime cache's mapping for account, service and URL;
//! without a service, the one enabled mapping of the URL), or takes the certificate the caller
//! named, and calls `probe::probe`. 200 with the report whatever the target did; the guard's
//! refusal is forwarding's 403 `target_not_allowed`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

use crate::http::error_code::ErrorCode;
use crate::auth::{self, CONFIGURATION};
use crate::http::error::ApiError;
use crate::forward::probe::{self, ProbeError};
use crate::forward::ForwardError;
use crate::http::{check_account, json_body, ops};
use crate::state::AppState;

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/mtls/account/{account}/probe")
            .route(web::post().to(run))
            .default_service(ops::method_not_allowed("POST")),
    );
}

/// What the body asks for.
struct ProbeRequest {
    url: mtls_sdk::NormalizedUrl,
    service: Option<u32>,
    certificate_id: Option<u64>,
}

/// `POST /mtls/account/{account}/probe`.
async fn run(
    req: HttpRequest,
    state: web::Data<AppState>,
    account: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let account = account.into_inner();
    auth::authorize(&req, &state.auth, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let request = parse(&json_body::read(body).await?, &state)?;
    let material = match request.certificate_id {
        Some(id) => Some(
            state
                .certificates
                .client_material(&account, id)
                .await?
                .ok_or_else(crate::http::certificates::not_found)?,
        ),
        None => state
            .runtime
            .find(&account, request.service, request.url.as_str())
            .await?
            .map(|found| (*found.material).clone()),
    };
    let settings = state.forwarder.pool().settings();
    let report = probe::probe(settings, &request.url, material.as_ref()).await.map_err(api_error)?;
    Ok(HttpResponse::Ok().json(report))
}

/// What is wrong with a probe body.
#[derive(Debug, PartialEq, Eq)]
enum InvalidBody {
    /// Not the expected shape (400 `malformed_request`); says which field.
    Malformed(&'static str),
    /// The URL is no target URL (422 `invalid_url`); says why, never quoting it.
    Url(String),
    /// `serviceName` names no configured service (422 `unknown_service`).
    UnknownService,
}

impl From<InvalidBody> for ApiError {
    fn from(invalid: InvalidBody) -> Self {
        match invalid {
            InvalidBody::Malformed(message) => ApiError::bad_request(ErrorCode::MalformedRequest, message),
            InvalidBody::Url(message) => ApiError::unprocessable(ErrorCode::InvalidUrl, message),
            InvalidBody::UnknownService => ApiError::unprocessable(
                ErrorCode::UnknownService,
                "serviceName names no configured service; use a service name or code",
            ),
        }
    }
}

fn parse(body: &Value, state: &AppState) -> Result<ProbeRequest, InvalidBody> {
    let Some(object) = body.as_object() else {
        return Err(InvalidBody::Malformed("expected a JSON object {url, serviceName?, certificationId?}"));
    };
    let url = match object.get("url") {
        Some(Value::String(url)) => url,
        Some(_) => return Err(InvalidBody::Malformed("url must be a string")),
        None => return Err(InvalidBody::Malformed("url is required")),
    };
    let url = mtls_sdk::parse_url(url.trim(), state.config.allow_plain_http_targets)
        .map_err(|e| InvalidBody::Url(format!("url: {e}")))?;
    // The request-target of HEAD: refused here, as forwarding refuses it, rather than reported.
    if http::Uri::try_from(url.path_and_query()).is_err() {
        return Err(InvalidBody::Url("url: the path or query holds characters HTTP does not allow".into()));
    }
    let service = match object.get("serviceName") {
        None | Some(Value::Null) => None,
        Some(given @ (Value::String(_) | Value::Number(_))) => Some(
            crate::services::resolve_json(&state.config.services, given).ok_or(InvalidBody::UnknownService)?.code,
        ),
        Some(_) => return Err(InvalidBody::Malformed("serviceName must be a service name or code")),
    };
    let certificate_id = match object.get("certificationId") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_u64()
                .filter(|id| *id <= crate::certificates::MAX_ID)
                .ok_or(InvalidBody::Malformed("certificationId must be a certificate id"))?,
        ),
        Some(_) => return Err(InvalidBody::Malformed("certificationId must be a certificate id")),
    };
    Ok(ProbeRequest { url, service, certificate_id })
}

/// The probe's refusals, answered as forwarding answers the same ones.
fn api_error(error: ProbeError) -> ApiError {
    match error {
        ProbeError::TargetNotAllowed { origin } => ApiError::from(ForwardError::TargetNotAllowed { origin }),
        ProbeError::BadClientMaterial { certificate_id } => {
            ApiError::from(ForwardError::BadClientMaterial { certificate_id })
        }
        ProbeError::TlsSettings { reason } => {
            ApiError::internal().with_cause(format_args!("probe TLS settings refused: {reason}"))
        }
    }
}
