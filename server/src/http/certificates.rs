//! Certificate endpoints (SPEC section 5) under `/mtls/account/{account}/certificates`.
//!
//! Each handler authorizes first (JSON CRUD: Bearer or oAuth1; by-file: Bearer only), so that a
//! caller without rights learns nothing, not even whether an id exists; then reads and checks
//! the whole body; then calls one [`CertificateService`] method. After a replacement or delete
//! it tells the state, so the runtime cache and the forwarding pools drop the old material.
//!
//! Bodies are parsed by hand from `serde_json::Value` so that error messages name the field
//! and never quote a value (a password, say).
//!
//! [`CertificateService`]: crate::certificates::CertificateService

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use futures_util::StreamExt as _;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::auth::{self, BEARER_ONLY, CONFIGURATION};
use crate::certificates::{self, CreateOutcome, MAX_BATCH, Upload};
use crate::error::ApiError;
use crate::http::check_account;
use crate::http::{multipart_form, ops};
use crate::state::AppState;

const COLLECTION: &str = "/mtls/account/{account}/certificates";
const BY_FILE: &str = "/mtls/account/{account}/certificates/by-file";
const ITEM: &str = "/mtls/account/{account}/certificates/{id}";

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
    auth::authorize(&req, &state, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let body = read_json(payload, state.config.max_body_bytes).await?;
    let Value::Array(items) = body else {
        return Err(malformed("expected a JSON array of certificates"));
    };
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(malformed(&format!(
            "expected 1 to {MAX_BATCH} certificates"
        )));
    }
    let uploads = items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            upload_from_json(item, true).map_err(|e| ApiError {
                message: format!("certificate {index}: {}", e.message),
                ..e
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = state
        .certificates
        .create_many(&account, uploads, state.config.p12_max_iterations)
        .await?;
    Ok(created(&state, &account, outcome))
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
    auth::authorize(&req, &state, BEARER_ONLY, Some(&account), None).await?;
    check_account(&account)?;
    let form = multipart_form::read(&req, payload, state.config.max_body_bytes).await?;
    let (p12, fields) = file_and_fields(&form)?;
    let upload = Upload {
        name: Some(string_field(&fields, "name", true)?.unwrap_or_default()),
        display_name: string_field(&fields, "displayName", false)?,
        p12,
        password: password_field(&fields)?,
    };
    let outcome = state
        .certificates
        .create_many(&account, vec![upload], state.config.p12_max_iterations)
        .await?;
    Ok(created(&state, &account, outcome))
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
    auth::authorize(&req, &state, BEARER_ONLY, Some(&account), None).await?;
    check_account(&account)?;
    let form = multipart_form::read(&req, payload, state.config.max_body_bytes).await?;
    let (p12, fields) = file_and_fields(&form)?;
    let id = match fields.get("id") {
        Some(Value::Number(n)) => n.as_u64().ok_or_else(certificates::not_found)?,
        Some(Value::String(s)) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| certificates::not_found())?,
        Some(_) => return Err(malformed("id must be a number")),
        None => return Err(malformed("the certificate part lacks id")),
    };
    let upload = Upload {
        name: string_field(&fields, "name", false)?,
        display_name: string_field(&fields, "displayName", false)?,
        p12,
        password: password_field(&fields)?,
    };
    let certificate = state
        .certificates
        .replace(&account, id, upload, state.config.p12_max_iterations)
        .await?;
    changed(&state, &account, id, "replace");
    Ok(HttpResponse::Ok().json(CreateOutcome {
        saved: vec![certificate],
        failed: Vec::new(),
    }))
}

/// `GET .../certificates`: every certificate of the account.
async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    auth::authorize(&req, &state, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    Ok(HttpResponse::Ok().json(state.certificates.list(&account).await?))
}

/// `GET .../certificates/{id}`.
async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    auth::authorize(&req, &state, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let id = parse_id(&id)?;
    match state.certificates.get(&account, id).await? {
        Some(certificate) => Ok(HttpResponse::Ok().json(certificate)),
        None => Err(certificates::not_found()),
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
    auth::authorize(&req, &state, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let id = parse_id(&id)?;
    let body = read_json(payload, state.config.max_body_bytes).await?;
    let upload = upload_from_json(&body, false)?;
    let certificate = state
        .certificates
        .replace(&account, id, upload, state.config.p12_max_iterations)
        .await?;
    changed(&state, &account, id, "replace");
    Ok(HttpResponse::Ok().json(certificate))
}

/// `DELETE .../certificates/{id}`: 200 with `deleted: true`, or 409 `certificate_in_use`
/// listing the mappings that use it.
async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    auth::authorize(&req, &state, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let id = parse_id(&id)?;
    let users = || crate::mappings::mappings_using_certificate(&state, &account, id);
    let certificate = state
        .certificates
        .delete_unless_used(&account, id, users)
        .await?;
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
    HttpResponse::Created().json(outcome)
}

fn changed(state: &AppState, account: &str, id: u64, op: &'static str) {
    state.certificate_changed(account, id);
    state.metrics.certificate_changes.inc(if op == "delete" { "delete" } else { "replace" });
    tracing::info!(account, id, op, "certificate changed");
}

/// A path id that is not a number cannot name a certificate: 404, like an unknown one.
fn parse_id(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>().map_err(|_| certificates::not_found())
}

/// The P12 file of a form and the fields of its `certificate` JSON part.
type FileAndFields = (Zeroizing<Vec<u8>>, Map<String, Value>);

/// The `file` part and the `certificate` JSON part (older clients call it `body`).
fn file_and_fields(form: &multipart_form::FormParts) -> Result<FileAndFields, ApiError> {
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
fn upload_from_json(item: &Value, name_required: bool) -> Result<Upload, ApiError> {
    let Value::Object(fields) = item else {
        return Err(malformed("each certificate must be a JSON object"));
    };
    let p12 = match fields.get("p12") {
        Some(Value::Array(values)) => {
            let mut bytes = Zeroizing::new(Vec::with_capacity(values.len()));
            for value in values {
                let byte = value
                    .as_u64()
                    .and_then(|v| u8::try_from(v).ok())
                    .or_else(|| value.as_i64().and_then(|v| i8::try_from(v).ok()).map(|v| v.to_ne_bytes()[0]))
                    .ok_or_else(|| malformed("p12 must hold byte values (0 to 255, or -128 to 127 as Java sends them)"))?;
                bytes.push(byte);
            }
            bytes
        }
        Some(Value::String(text)) => decode_base64(text)?,
        Some(_) => {
            return Err(malformed(
                "p12 must be an array of byte values or a base64 string",
            ));
        }
        None => return Err(malformed("p12 is missing")),
    };
    if p12.is_empty() {
        return Err(malformed("p12 is empty"));
    }
    Ok(Upload {
        name: string_field(fields, "name", name_required)?,
        display_name: string_field(fields, "displayName", false)?,
        p12,
        password: password_field(fields)?,
    })
}

fn decode_base64(text: &str) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let compact: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| !c.is_ascii_whitespace()).collect());
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(compact.as_bytes()).ok())
        .map(Zeroizing::new)
        .ok_or_else(|| malformed("p12 is a string but not valid base64"))
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

/// Reads a JSON body of at most `limit` bytes.
async fn read_json(mut payload: web::Payload, limit: usize) -> Result<Value, ApiError> {
    let mut body = Zeroizing::new(Vec::new());
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| malformed("request body could not be read"))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("request body is larger than {limit} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| {
        malformed(&format!(
            "request body is not valid JSON (at line {} column {})",
            e.line(),
            e.column()
        ))
    })
}

fn malformed(message: &str) -> ApiError {
    ApiError::bad_request("malformed_request", message)
}
