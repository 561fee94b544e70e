//! Certificate-request endpoints (SPEC section 12) under
//! `/mtls/account/{account}/certificate-requests`: Bearer or oAuth1, like certificate JSON CRUD.
//!
//! Each handler authorizes first, so a caller without rights learns nothing (not even whether an
//! id exists), then reads and checks the body and calls one `CertificateRequestService`
//! method, whose errors become HTTP in `From<RequestError> for ApiError` below. The completion takes
//! JSON `{certificatePem, replaceCertificateId?}` or a multipart form with the chain as `file`
//! (PEM, or one DER certificate) and an optional `replaceCertificateId` part.

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::error_code::ErrorCode;
use crate::auth::{self, CONFIGURATION};
use crate::certificate_requests::{Completion, NewRequest, RequestError, RequestSubject};
use crate::http::error::ApiError;
use crate::http::audit;
use crate::http::certificates::{SaveWrapper, p12_not_usable, read_body};
use crate::http::{check_account, multipart_form, ops};
use crate::state::AppState;

const COLLECTION: &str = "/mtls/account/{account}/certificate-requests";
const ITEM: &str = "/mtls/account/{account}/certificate-requests/{id}";
const CERTIFICATE: &str = "/mtls/account/{account}/certificate-requests/{id}/certificate";

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(COLLECTION)
            .route(web::post().to(create))
            .route(web::get().to(list))
            .default_service(ops::method_not_allowed("GET, POST")),
    )
    .service(
        web::resource(ITEM)
            .route(web::get().to(get))
            .route(web::delete().to(delete))
            .default_service(ops::method_not_allowed("GET, DELETE")),
    )
    .service(
        web::resource(CERTIFICATE)
            .route(web::post().to(complete))
            .default_service(ops::method_not_allowed("POST")),
    );
}

/// The create body: as `generateCsr` takes it, plus the certificate's names.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateBody {
    name: String,
    display_name: Option<String>,
    subject: RequestSubject,
    subject_alt_names: Option<Vec<String>>,
    key_type: Option<String>,
}

/// The JSON completion body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CompleteBody {
    certificate_pem: String,
    replace_certificate_id: Option<Value>,
}

/// `POST .../certificate-requests`: `{name, displayName?, subject, subjectAltNames?, keyType?}`;
/// 201 with the request (its `csrPem` for the CA).
async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    let caller = auth::authorize(&req, &state.auth, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let body = read_body(payload, state.config.max_body_bytes).await?;
    let body: CreateBody = serde_json::from_slice(&body).map_err(invalid_json)?;
    let mut recorded = audit::record(
        &state,
        &req,
        &audit::actor(&caller),
        Some(&account),
        "certificate_request.create",
        audit::resource("certificate_request", None, Some(body.name.clone())),
    )
    .await?;
    let new = NewRequest {
        name: body.name,
        display_name: body.display_name,
        subject: body.subject,
        subject_alt_names: body.subject_alt_names.unwrap_or_default(),
        key_type: body.key_type,
    };
    let outcome = state
        .certificate_requests
        .create(&account, new, &state.p12_inspector)
        .await
        .map_err(ApiError::from);
    let request = audit::made(&state, vec![recorded.clone()], outcome).await?;
    state.audit.complete(&mut recorded, request.id.to_string()).await;
    tracing::info!(account, id = request.id, key = %request.key_algorithm, "certificate request created");
    Ok(HttpResponse::Created().json(request))
}

/// `GET .../certificate-requests`: every request of the account.
async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    auth::authorize(&req, &state.auth, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let requests = state
        .certificate_requests
        .list(&account)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::Ok().json(requests))
}

/// `GET .../certificate-requests/{id}`.
async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    auth::authorize(&req, &state.auth, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let id = parse_id(&id).map_err(|e| *e)?;
    let request = state
        .certificate_requests
        .get(&account, id)
        .await
        .map_err(ApiError::from)?;
    Ok(HttpResponse::Ok().json(request))
}

/// `DELETE .../certificate-requests/{id}`: 200 with the request; its key is destroyed.
async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let caller = auth::authorize(&req, &state.auth, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let id = parse_id(&id).map_err(|e| *e)?;
    let recorded = audit::record(
        &state,
        &req,
        &audit::actor(&caller),
        Some(&account),
        "certificate_request.delete",
        audit::resource("certificate_request", Some(id.to_string()), None),
    )
    .await?;
    let outcome = state
        .certificate_requests
        .delete(&account, id)
        .await
        .map_err(ApiError::from);
    let request = audit::made(&state, vec![recorded], outcome).await?;
    tracing::info!(account, id, "certificate request deleted");
    Ok(HttpResponse::Ok().json(request))
}

/// `POST .../certificate-requests/{id}/certificate`: the signed chain as JSON or a form; 201
/// with the certificate-create wrapper.
async fn complete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let caller = auth::authorize(&req, &state.auth, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let id = parse_id(&id).map_err(|e| *e)?;
    let completion = if is_form(&req) {
        let form = multipart_form::read(&req, payload, state.config.max_body_bytes).await?;
        let file = form.bytes("file").ok_or_else(|| {
            malformed("the form lacks the file part (the signed certificate and its chain)")
        })?;
        let replace = match form.text("replaceCertificateId")? {
            Some(text) => Some(replace_id(&Value::String(text.to_string())).map_err(|e| *e)?),
            None => None,
        };
        Completion {
            certificate_pem: certificate_text(file),
            replace_certificate_id: replace,
        }
    } else {
        let body = read_body(payload, state.config.max_body_bytes).await?;
        let body: CompleteBody = serde_json::from_slice(&body).map_err(invalid_json)?;
        let replace = match &body.replace_certificate_id {
            None | Some(Value::Null) => None,
            Some(value) => Some(replace_id(value).map_err(|e| *e)?),
        };
        Completion {
            certificate_pem: body.certificate_pem,
            replace_certificate_id: replace,
        }
    };
    let replaced = completion.replace_certificate_id;
    // Two changes: the request completes, and a certificate is created (or gets a version).
    let actor = audit::actor(&caller);
    let request_record = audit::record(
        &state,
        &req,
        &actor,
        Some(&account),
        "certificate_request.complete",
        audit::resource("certificate_request", Some(id.to_string()), None),
    )
    .await?;
    let (action, certificate_id) = match replaced {
        Some(replaced) => ("certificate.replace", Some(replaced.to_string())),
        None => ("certificate.create", None),
    };
    let certificate_record = match audit::record(
        &state,
        &req,
        &actor,
        Some(&account),
        action,
        audit::resource("certificate", certificate_id, None),
    )
    .await
    {
        Ok(recorded) => recorded,
        Err(error) => return audit::made(&state, vec![request_record], Err(error)).await,
    };
    let mut recorded = vec![request_record, certificate_record];
    let outcome = state
        .certificate_requests
        .complete(&account, id, completion, &state.p12_inspector)
        .await
        .map_err(ApiError::from);
    let outcome = audit::made(&state, recorded.clone(), outcome).await?;
    if let (None, Some(saved)) = (replaced, outcome.saved.first()) {
        state.audit.complete(&mut recorded[1], saved.id.to_string()).await;
    }
    for certificate in &outcome.saved {
        let op = if replaced.is_some() { "replace" } else { "create" };
        state.metrics.certificate_changes.inc(op);
        if replaced.is_some() {
            state.certificate_changed(&account, certificate.id);
        }
        tracing::info!(
            account,
            request = id,
            certificate = certificate.id,
            version = certificate.version,
            "certificate request completed"
        );
    }
    Ok(HttpResponse::Created().json(SaveWrapper::from(outcome)))
}

fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        })
}

/// The uploaded file as PEM text: PEM as is; anything else is taken for one DER certificate
/// (a `.cer`/`.crt` as many CAs hand it out) and wrapped, so the SDK judges it either way.
fn certificate_text(file: &[u8]) -> String {
    match std::str::from_utf8(file) {
        Ok(text) if text.contains("-----BEGIN") => text.to_owned(),
        _ => {
            let body = base64::engine::general_purpose::STANDARD.encode(file);
            let lines: Vec<&str> = body
                .as_bytes()
                .chunks(64)
                .filter_map(|chunk| std::str::from_utf8(chunk).ok())
                .collect();
            format!(
                "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                lines.join("\n")
            )
        }
    }
}

/// `replaceCertificateId`: a number, or a string of digits (forms carry text); 400 otherwise.
fn replace_id(value: &Value) -> Result<u64, Box<ApiError>> {
    let id = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    id.ok_or_else(|| {
        Box::new(malformed(
            "replaceCertificateId must be a certificate id (a whole number)",
        ))
    })
}

/// A path id that is not a number cannot name a request: 404, like an unknown one.
fn parse_id(text: &str) -> Result<u64, Box<ApiError>> {
    text.parse::<u64>()
        .map_err(|_| Box::new(ApiError::from(RequestError::NotFound)))
}

/// Where and what serde found wrong (bodies here hold no secrets: names, subjects, PEM).
fn invalid_json(error: serde_json::Error) -> ApiError {
    let what = error.to_string();
    malformed(&format!("request body is not the expected JSON: {what}"))
}

fn malformed(message: &str) -> ApiError {
    ApiError::bad_request(ErrorCode::MalformedRequest, message)
}

/// The HTTP answer of each [`RequestError`]: the one place its codes are chosen.
impl From<RequestError> for ApiError {
    fn from(error: RequestError) -> Self {
        match error {
            RequestError::NotFound => ApiError::not_found(
                ErrorCode::CertificateRequestNotFound,
                "no certificate request with this id in this account",
            ),
            RequestError::AlreadyCompleted { certificate_id } => ApiError::conflict(
                ErrorCode::CertificateRequestCompleted,
                "this certificate request was completed already; create a new request to renew",
            )
            .with_details(json!({ "certificateId": certificate_id })),
            RequestError::CompletionInProgress => ApiError::conflict(
                ErrorCode::CertificateRequestCompleting,
                "another completion of this certificate request is under way; reload it and retry",
            ),
            RequestError::InvalidName { problem } => ApiError::unprocessable(ErrorCode::InvalidCertificateRequest, problem),
            RequestError::Csr(error) => ApiError::unprocessable(ErrorCode::from(&error), error.to_string()),
            RequestError::InvalidCertificatePem { problem } => ApiError::unprocessable(
                ErrorCode::InvalidCertificatePem,
                format!("{problem}; send the certificate the CA issued for this request's CSR, then its chain, as PEM"),
            ),
            RequestError::KeyCertificateMismatch { certificates } => ApiError::unprocessable(
                ErrorCode::KeyCertificateMismatch,
                format!(
                    "none of the {certificates} certificate(s) given carries this request's public key; \
                     send the certificate the CA issued for this request's CSR"
                ),
            ),
            RequestError::InvalidChain { position, expected_subject, found_subject } => ApiError::unprocessable(
                ErrorCode::InvalidCertificateChain,
                format!(
                    "certificate {position} of the chain is {found_subject:?}, but the certificate before it \
                     was issued by {expected_subject:?}; send the leaf, then each issuer in order"
                ),
            )
            .with_details(json!({ "position": position, "expectedSubject": expected_subject, "foundSubject": found_subject })),
            RequestError::NotUsable(report) => p12_not_usable(&report),
            RequestError::Certificate(error) => error.into(),
            RequestError::Inspection(error) => error.into(),
            RequestError::Store(error) => error.into(),
            RequestError::Internal(what) => ApiError::internal().with_cause(what),
        }
    }
}
