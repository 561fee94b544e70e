//! Certificate endpoints (SPEC section 5) under `/mtls/account/{account}/certificates`.
//!
//! Each handler authorizes first (JSON CRUD: Bearer or oAuth1; by-file: Bearer only), so that a
//! caller without rights learns nothing, not even whether an id exists; then reads and checks
//! the whole body; then calls one [`CertificateService`] method. After a replacement or delete
//! it tells the state, so the runtime cache and the forwarding pools drop the old material.
//!
//! Bodies are checked by hand so that error messages name the field and never quote a value (a
//! password, say); JSON bodies are read by [`upload_body`], which streams `p12` into bytes.
//!
//! [`CertificateService`]: crate::certificates::CertificateService

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use crate::http::error_code::ErrorCode;
use crate::auth::{self, BEARER_ONLY, CONFIGURATION};
use crate::audit::{Actor, Recorded};
use crate::certificates::{Certificate, CertificateError, CreateOutcome, MAX_BATCH, Upload};
use crate::clock;
use crate::http::error::ApiError;
use crate::http::check_account;
use crate::http::json_body::{self, BodyReadError};
use crate::http::upload_body::{self, CreateBody, P12Field, UploadItem};
use crate::http::{audit, multipart_form, ops};
use crate::state::AppState;

const COLLECTION: &str = "/mtls/account/{account}/certificates";
const BY_FILE: &str = "/mtls/account/{account}/certificates/by-file";
const ITEM: &str = "/mtls/account/{account}/certificates/{id}";
const PENDING: &str = "/mtls/account/{account}/certificates/{id}/pending";

/// Routes of this module. `by-file` is registered before `{id}` so it is never read as an id.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource(COLLECTION)
            .route(web::post().to(create))
            .route(web::get().to(list))
            .default_service(ops::method_not_allowed("GET, POST")),
    )
    .service(
        web::resource(BY_FILE)
            .route(web::post().to(create_by_file))
            .route(web::put().to(update_by_file))
            .default_service(ops::method_not_allowed("POST, PUT")),
    )
    .service(
        web::resource(ITEM)
            .route(web::get().to(get))
            .route(web::put().to(update))
            .route(web::delete().to(delete))
            .default_service(ops::method_not_allowed("GET, PUT, DELETE")),
    )
    .service(
        web::resource(PENDING)
            .route(web::delete().to(cancel_pending))
            .default_service(ops::method_not_allowed("DELETE")),
    );
}

/// `POST .../certificates`: a JSON array of `{name, displayName?, p12, password}`; 201 with the
/// save wrapper.
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
    let items = match upload_body::parse_create(&body, MAX_BATCH).map_err(not_json)? {
        CreateBody::Items(items) if !items.is_empty() => items,
        CreateBody::Items(_) | CreateBody::TooMany => {
            return Err(malformed(&format!("expected 1 to {MAX_BATCH} certificates")));
        }
        CreateBody::NotArray => return Err(malformed("expected a JSON array of certificates")),
    };
    drop(body);
    let uploads = items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            upload_from_item(item, true).map_err(|e| ApiError {
                message: format!("certificate {index}: {}", e.message),
                ..e
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    create_audited(&req, &state, &audit::actor(&caller), &account, uploads).await
}

/// `POST .../certificates/by-file`: multipart `file` and `certificate` (`{name, password,
/// displayName?}`); 201 with the save wrapper.
async fn create_by_file(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    let caller = auth::authorize(&req, &state.auth, BEARER_ONLY, Some(&account), None).await?;
    check_account(&account)?;
    let form = multipart_form::read(&req, payload, state.config.max_body_bytes).await?;
    let (p12, fields) = file_and_fields(&form)?;
    let upload = Upload {
        name: Some(string_field(&fields, "name", true)?.unwrap_or_default()),
        display_name: string_field(&fields, "displayName", false)?,
        p12,
        password: password_field(&fields)?,
    };
    create_audited(&req, &state, &audit::actor(&caller), &account, vec![upload]).await
}

/// Creates the uploads, recording one `certificate.create` per upload once all passed their
/// checks; adds each saved id to its record and withdraws the records of those not saved.
async fn create_audited(
    req: &HttpRequest,
    state: &AppState,
    actor: &Actor,
    account: &str,
    uploads: Vec<Upload>,
) -> Result<HttpResponse, ApiError> {
    // Recorded once every upload passed its checks, before the first write.
    let recorded = std::cell::RefCell::new(Vec::with_capacity(uploads.len()));
    let record_all = |names: Vec<String>| async {
        for name in names {
            let record = audit::record(state, req, actor, Some(account), "certificate.create", audit::resource("certificate", None, Some(name))).await?;
            recorded.borrow_mut().push(record);
        }
        Ok::<(), ApiError>(())
    };
    let outcome = state.certificates.create_many_then(account, uploads, &state.p12_inspector, record_all).await;
    let recorded = recorded.into_inner();
    let outcome = audit::made(state, recorded.clone(), outcome).await?;
    for mut record in recorded {
        let name = record.record().resource.name.clone();
        match outcome.saved.iter().find(|c| Some(&c.name) == name.as_ref()) {
            Some(saved) => state.audit.complete(&mut record, saved.id.to_string()).await,
            None => state.audit.withdraw(record).await,
        }
    }
    Ok(created(state, account, outcome))
}

/// `PUT .../certificates/by-file`: multipart `file` and `certificate` (`{id, password, name?}`);
/// 200 with the save wrapper.
async fn update_by_file(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    let caller = auth::authorize(&req, &state.auth, BEARER_ONLY, Some(&account), None).await?;
    check_account(&account)?;
    let form = multipart_form::read(&req, payload, state.config.max_body_bytes).await?;
    let (p12, fields) = file_and_fields(&form)?;
    let id = match fields.get("id") {
        Some(Value::Number(n)) => n.as_u64().ok_or_else(not_found)?,
        Some(Value::String(s)) => s.trim().parse::<u64>().map_err(|_| not_found())?,
        Some(_) => return Err(malformed("id must be a number")),
        None => return Err(malformed("the certificate part lacks id")),
    };
    let activate_at = activate_at_field(&fields)?;
    let upload = Upload {
        name: string_field(&fields, "name", false)?,
        display_name: string_field(&fields, "displayName", false)?,
        p12,
        password: password_field(&fields)?,
    };
    let recorded = record_replace(&req, &state, &caller, &account, id, &upload, activate_at).await?;
    let outcome = state
        .certificates
        .replace(&account, id, upload, activate_at, &state.p12_inspector)
        .await
        .map_err(ApiError::from);
    let certificate = audit::made(&state, vec![recorded], outcome).await?;
    replaced(&state, &account, id, activate_at.is_some());
    Ok(HttpResponse::Ok().json(SaveWrapper::from(CreateOutcome {
        saved: vec![certificate],
        failed: Vec::new(),
    })))
}

/// `GET .../certificates[?expiringWithinDays=N]`: every certificate of the account, or those
/// expiring within N days (or expired).
async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    auth::authorize(&req, &state.auth, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let days = expiring_within_days(req.query_string()).map_err(|why| {
        ApiError::bad_request(
            ErrorCode::InvalidQueryParameter,
            format!(
                "expiringWithinDays {why}; expected a whole number of days from 0 to \
                 {MAX_EXPIRING_WITHIN_DAYS}"
            ),
        )
        .with_details(serde_json::json!({ "parameter": "expiringWithinDays" }))
    })?;
    let certificates = match days {
        Some(days) => state.certificates.list_expiring_within(&account, days).await?,
        None => state.certificates.list(&account).await?,
    };
    Ok(HttpResponse::Ok().json(certificates))
}

/// Longest `expiringWithinDays` accepted: a century covers every real certificate.
const MAX_EXPIRING_WITHIN_DAYS: u32 = 36_500;

/// The `expiringWithinDays` query parameter: absent, or a whole number of days from 0 to
/// [`MAX_EXPIRING_WITHIN_DAYS`].
///
/// # Errors
/// What is wrong with it (given twice, not a whole number, out of range), or with the query
/// string as a whole (not URL encoding).
fn expiring_within_days(query: &str) -> Result<Option<u32>, &'static str> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query)
        .map_err(|_| "cannot be read: the query string is not valid URL encoding")?;
    let mut found = None;
    for (name, value) in pairs.into_inner() {
        if name != "expiringWithinDays" {
            continue;
        }
        if found.is_some() {
            return Err("is given more than once");
        }
        let days = value
            .parse::<u32>()
            .ok()
            .filter(|days| *days <= MAX_EXPIRING_WITHIN_DAYS && value.bytes().all(|b| b.is_ascii_digit()))
            .ok_or("is not a whole number in range")?;
        found = Some(days);
    }
    Ok(found)
}

/// `GET .../certificates/{id}`.
async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    auth::authorize(&req, &state.auth, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let id = parse_id(&id)?;
    match state.certificates.get(&account, id).await? {
        Some(certificate) => Ok(HttpResponse::Ok().json(certificate)),
        None => Err(not_found()),
    }
}

/// `PUT .../certificates/{id}`: `{p12, password, name?, displayName?}`; 200 with the certificate.
async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let caller = auth::authorize(&req, &state.auth, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let id = parse_id(&id)?;
    let body = read_body(payload, state.config.max_body_bytes).await?;
    let item = upload_body::parse_item(&body).map_err(not_json)?;
    drop(body);
    let activate_at = match &item {
        UploadItem::Object { fields, .. } => activate_at_field(fields)?,
        UploadItem::NotObject => None,
    };
    let upload = upload_from_item(item, false)?;
    let recorded = record_replace(&req, &state, &caller, &account, id, &upload, activate_at).await?;
    let outcome = state
        .certificates
        .replace(&account, id, upload, activate_at, &state.p12_inspector)
        .await
        .map_err(ApiError::from);
    let certificate = audit::made(&state, vec![recorded], outcome).await?;
    replaced(&state, &account, id, activate_at.is_some());
    Ok(HttpResponse::Ok().json(certificate))
}

/// Records `certificate.replace`, or `certificate.stage` when the replacement is staged.
async fn record_replace(
    req: &HttpRequest,
    state: &AppState,
    caller: &auth::Caller,
    account: &str,
    id: u64,
    upload: &Upload,
    activate_at: Option<i64>,
) -> Result<Recorded, ApiError> {
    let action = if activate_at.is_some() { "certificate.stage" } else { "certificate.replace" };
    audit::record(state, req, &audit::actor(caller), Some(account), action, audit::resource("certificate", Some(id.to_string()), upload.name.clone())).await
}

/// `DELETE .../certificates/{id}/pending`: cancels the staged version; 200 with the certificate
/// (without `pending`), 404 `pending_version_not_found` when none is staged.
async fn cancel_pending(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let caller = auth::authorize(&req, &state.auth, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let id = parse_id(&id)?;
    let recorded = audit::record(&state, &req, &audit::actor(&caller), Some(&account), "certificate.pending.cancel", audit::resource("certificate", Some(id.to_string()), None)).await?;
    let outcome = state.certificates.cancel_pending(&account, id).await.map_err(ApiError::from);
    let certificate = audit::made(&state, vec![recorded], outcome).await?;
    replaced(&state, &account, id, true);
    Ok(HttpResponse::Ok().json(certificate))
}

/// A replacement now changes what targets see at once; a staged one (or its cancellation)
/// only what this instance's runtime must know in advance: the pooled connections of the
/// current version stay.
fn replaced(state: &AppState, account: &str, id: u64, staged: bool) {
    if staged {
        state.runtime.invalidate_certificate(account, id);
        state.metrics.certificate_changes.inc("stage");
        tracing::info!(account, id, "certificate rotation staged or cancelled");
    } else {
        changed(state, account, id, "replace");
    }
}

/// `activateAt`: absent or null for a replacement now; else RFC 3339 (checked to be in the
/// future by the service).
#[allow(clippy::result_large_err, reason = "ApiError is the one error the HTTP layer answers with; these checks run once per request")]
fn activate_at_field(fields: &Map<String, Value>) -> Result<Option<i64>, ApiError> {
    match fields.get("activateAt") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => clock::parse_rfc3339_millis(text).map(Some).ok_or_else(|| {
            ApiError::bad_request(
                ErrorCode::InvalidActivateAt,
                "activateAt must be an RFC 3339 date-time such as 2030-01-31T12:00:00Z",
            )
        }),
        Some(_) => Err(ApiError::bad_request(
            ErrorCode::InvalidActivateAt,
            "activateAt must be a string (RFC 3339 date-time)",
        )),
    }
}

/// `DELETE .../certificates/{id}`: 200 with `deleted: true`, or 409 `certificate_in_use`
/// listing the mappings that use it.
async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let caller = auth::authorize(&req, &state.auth, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let id = parse_id(&id)?;
    let users = || async {
        state.mappings.using_certificate(&account, id).await.map_err(ApiError::from)
    };
    let recorded = audit::record(&state, &req, &audit::actor(&caller), Some(&account), "certificate.delete", audit::resource("certificate", Some(id.to_string()), None)).await?;
    let outcome = state.certificates.delete_unless_used(&account, id, users).await;
    let certificate = audit::made(&state, vec![recorded], outcome).await?;
    changed(&state, &account, id, "delete");
    Ok(HttpResponse::Ok().json(certificate))
}

fn created(state: &AppState, account: &str, outcome: CreateOutcome) -> HttpResponse {
    for certificate in &outcome.saved {
        state
            .metrics
            .certificate_changes.inc("create");
        tracing::info!(
            account,
            id = certificate.id,
            version = certificate.version,
            "certificate created"
        );
    }
    HttpResponse::Created().json(SaveWrapper::from(outcome))
}

fn changed(state: &AppState, account: &str, id: u64, op: &'static str) {
    state.certificate_changed(account, id);
    state.metrics.certificate_changes.inc(if op == "delete" { "delete" } else { "replace" });
    tracing::info!(account, id, op, "certificate changed");
}

/// A path id that is not a number cannot name a certificate: 404, like an unknown one.
fn parse_id(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>().map_err(|_| not_found())
}

/// The P12 file of a form and the fields of its `certificate` JSON part.
type FileAndFields = (Zeroizing<Vec<u8>>, Map<String, Value>);

/// The `file` part and the `certificate` JSON part (older clients call it `body`).
pub(crate) fn file_and_fields(form: &multipart_form::FormParts) -> Result<FileAndFields, ApiError> {
    let file = form
        .bytes("file")
        .ok_or_else(|| malformed("the form lacks the file part (the P12)"))?;
    if file.is_empty() {
        return Err(malformed("the file part is empty"));
    }
    let text = match form.text("certificate")? {
        Some(text) => text,
        None => form
            .text("body")?
            .ok_or_else(|| malformed("the form lacks the certificate part (JSON)"))?,
    };
    let value: Value = serde_json::from_str(&text).map_err(|e| {
        malformed(&format!(
            "the certificate part is not valid JSON (at line {} column {})",
            e.line(),
            e.column()
        ))
    })?;
    let Value::Object(fields) = value else {
        return Err(malformed("the certificate part must be a JSON object"));
    };
    Ok((file.clone(), fields))
}

/// One certificate from JSON: `p12` as an array of byte values or a base64 string.
pub(crate) fn upload_from_item(item: UploadItem, name_required: bool) -> Result<Upload, ApiError> {
    let UploadItem::Object { p12, fields } = item else {
        return Err(malformed("each certificate must be a JSON object"));
    };
    let p12 = match p12 {
        Some(P12Field::Bytes(bytes)) => bytes,
        Some(P12Field::Invalid(why)) => return Err(malformed(why)),
        None => return Err(malformed("p12 is missing")),
    };
    if p12.is_empty() {
        return Err(malformed("p12 is empty"));
    }
    Ok(Upload {
        name: string_field(&fields, "name", name_required)?,
        display_name: string_field(&fields, "displayName", false)?,
        p12,
        password: password_field(&fields)?,
    })
}

fn string_field(
    fields: &Map<String, Value>,
    name: &str,
    required: bool,
) -> Result<Option<String>, ApiError> {
    match fields.get(name) {
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Null) | None if !required => Ok(None),
        Some(Value::Null) | None => Err(malformed(&format!("{name} is missing"))),
        Some(_) => Err(malformed(&format!("{name} must be a string"))),
    }
}

fn password_field(fields: &Map<String, Value>) -> Result<Zeroizing<String>, ApiError> {
    match fields.get("password") {
        Some(Value::String(s)) => Ok(Zeroizing::new(s.clone())),
        Some(Value::Null) | None => Err(malformed("password is missing")),
        Some(_) => Err(malformed("password must be a string")),
    }
}

/// Reads a body of at most `limit` bytes (wiped on drop: it holds P12 files and passwords).
pub(crate) async fn read_body(payload: web::Payload, limit: usize) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    match json_body::read_limited(payload, limit).await {
        Ok(body) => Ok(Zeroizing::new(body.into())),
        Err(BodyReadError::Unreadable) => Err(malformed("request body could not be read")),
        Err(BodyReadError::TooLarge) => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("request body is larger than {limit} bytes"),
        )),
    }
}

/// A body that is not JSON: where, never what (the message could quote a password).
fn not_json(error: serde_json::Error) -> ApiError {
    malformed(&format!(
        "request body is not valid JSON (at line {} column {})",
        error.line(),
        error.column()
    ))
}

fn malformed(message: &str) -> ApiError {
    ApiError::bad_request(ErrorCode::MalformedRequest, message)
}

/// The save wrapper: LivePerson's answer to a create or a by-file replacement (the wire names
/// keep its spelling).
#[derive(Serialize)]
pub(crate) struct SaveWrapper {
    #[serde(rename = "successfulySavedCertificates")]
    saved: Vec<Certificate>,
    #[serde(rename = "failedSaveToVaultCertificates")]
    failed: Vec<FailedSaveAnswer>,
}

/// A certificate that was valid but could not be saved: its name and the error's code and
/// message.
#[derive(Serialize)]
struct FailedSaveAnswer {
    name: String,
    code: ErrorCode,
    message: String,
}

impl From<CreateOutcome> for SaveWrapper {
    fn from(outcome: CreateOutcome) -> Self {
        let failed = outcome
            .failed
            .into_iter()
            .map(|failed| {
                let error = ApiError::from(failed.error);
                FailedSaveAnswer { name: failed.name, code: error.code, message: error.message }
            })
            .collect();
        Self { saved: outcome.saved, failed }
    }
}

/// 404 `certificate_not_found`: also the answer for another account's id and for a path id
/// that is not a number.
pub(crate) fn not_found() -> ApiError {
    CertificateError::NotFound.into()
}

/// 422 `p12_not_usable` with the report as details (SPEC section 5).
pub(crate) fn p12_not_usable(report: &mtls_sdk::P12Report) -> ApiError {
    let reasons: Vec<&str> = report.problems.iter().map(|p| p.message.as_str()).collect();
    let message = if reasons.is_empty() {
        "the P12 file is not usable".to_owned()
    } else {
        format!("the P12 file is not usable: {}", reasons.join("; "))
    };
    ApiError::unprocessable(ErrorCode::P12NotUsable, message)
        .with_details(serde_json::to_value(report).unwrap_or(Value::Null))
}

/// The HTTP answer of each [`CertificateError`]: the one place its codes are chosen.
impl From<CertificateError> for ApiError {
    fn from(error: CertificateError) -> Self {
        match error {
            CertificateError::NotFound => ApiError::not_found(
                ErrorCode::CertificateNotFound,
                "no certificate with this id in this account",
            ),
            CertificateError::InvalidName(problem) => {
                ApiError::unprocessable(ErrorCode::InvalidCertificate, problem.to_string())
            }
            CertificateError::DuplicateName { name } => ApiError::conflict(
                ErrorCode::DuplicateCertificateName,
                format!("a certificate named {name:?} already exists in this account"),
            )
            .with_details(json!({ "name": name })),
            CertificateError::NotUsable(report) => p12_not_usable(&report),
            CertificateError::Inspection(error) => error.into(),
            CertificateError::Item { index, source } => {
                let error = ApiError::from(*source);
                let message = format!("certificate {index}: {}", error.message);
                ApiError { message, ..error }
            }
            CertificateError::InUse { users } => ApiError::conflict(
                ErrorCode::CertificateInUse,
                format!(
                    "{} mapping(s) use this certificate; delete or repoint them first",
                    users.len()
                ),
            )
            .with_details(json!({ "mappings": users })),
            CertificateError::ConcurrentChange => ApiError::conflict(
                ErrorCode::ConcurrentChange,
                "the certificate was changed by another request at the same time; reload and retry",
            ),
            CertificateError::RotationPending { pending_version, activate_at_millis } => {
                ApiError::conflict(
                    ErrorCode::RotationPending,
                    "a replacement is staged for this certificate; cancel it (DELETE .../pending) before replacing again",
                )
                .with_details(json!({
                    "pendingVersion": pending_version,
                    "activateAt": clock::format_rfc3339_millis(activate_at_millis),
                }))
            }
            CertificateError::ActivateAtNotFuture => ApiError::bad_request(
                ErrorCode::InvalidActivateAt,
                "activateAt must be in the future; send the replacement without it to rotate now",
            ),
            CertificateError::PendingVersionNotFound => ApiError::not_found(
                ErrorCode::PendingVersionNotFound,
                "this certificate has no staged version (none was staged, or it is active already)",
            ),
            CertificateError::Store(error) => error.into(),
            CertificateError::Internal(what) => ApiError::internal().with_cause(what),
        }
    }
}
