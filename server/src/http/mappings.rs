//! Mapping CRUD (SPEC section 5) on `/api/account/{account}/configuration/ac-common/mtls`:
//! Bearer or oAuth1, never cached.
//!
//! Each handler extracts the path (`account`, and `id` as text so a bad id is a SPEC 404),
//! authorizes the caller for the account, reads the JSON body, calls one [`MappingService`]
//! method, tells the state the mappings changed, and answers. `ETag` carries the revision as a
//! bare number (SPEC: "ETag = revision"); `If-Match` accepts it bare, quoted or weak.
//!
//! [`MappingService`]: crate::mappings::MappingService

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::http::error_code::ErrorCode;
use crate::auth::{self, Scheme};
use crate::http::error::ApiError;
use crate::http::check_account;
use crate::http::{audit, json_body, ops};
use crate::mappings::{InvalidUrl, Mapping, MappingError};
use crate::state::AppState;

const SCHEMES: &[Scheme] = &[Scheme::Bearer, Scheme::OAuth1];
const COLLECTION: &str = "/api/account/{account}/configuration/ac-common/mtls";
const ITEM: &str = "/api/account/{account}/configuration/ac-common/mtls/{id}";

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
            .route(web::put().to(update))
            .route(web::delete().to(delete))
            .default_service(ops::method_not_allowed("GET, PUT, DELETE")),
    );
}

/// `POST ...?v=3.0`: body an array of mappings; 201 with the created mappings.
async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    let caller = auth::authorize(&req, &state.auth, SCHEMES, Some(&account), None).await?;
    check_account(&account)?;
    let body = json_body::read(body).await?;
    // One record per mapping of a body that passes the checks without the store, written
    // before anything is created.
    let actor = audit::actor(&caller);
    let names = state.mappings.names_to_create(&account, &body)?;
    let mut recorded = Vec::with_capacity(names.len());
    for name in names {
        match audit::record(&state, &req, &actor, Some(&account), "mapping.create", audit::resource("mapping", None, Some(name))).await {
            Ok(record) => recorded.push(record),
            Err(error) => return audit::made(&state, recorded, Err(error)).await,
        }
    }
    let outcome = state.mappings.create(&account, &body).await;
    let created = audit::made(&state, recorded.clone(), outcome).await?;
    for mut record in recorded {
        let name = record.record().resource.name.clone();
        match created.iter().find(|m| Some(&m.name) == name.as_ref()) {
            Some(mapping) => state.audit.complete(&mut record, mapping.id.to_string()).await,
            None => state.audit.withdraw(record).await,
        }
    }
    state.mappings_changed(&account);
    Ok(HttpResponse::Created().json(created))
}

/// `GET`: every mapping of the account.
async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    auth::authorize(&req, &state.auth, SCHEMES, Some(&account), None).await?;
    check_account(&account)?;
    Ok(HttpResponse::Ok().json(state.mappings.list(&account).await?))
}

/// `GET .../{id}`: one mapping, `ETag` = revision.
async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    auth::authorize(&req, &state.auth, SCHEMES, Some(&account), None).await?;
    check_account(&account)?;
    let mapping = state.mappings.get(&account, parse_id(&id)?).await?;
    Ok(with_etag(StatusCode::OK, &mapping))
}

/// `PUT .../{id}`: the fields given change; optional `If-Match`.
async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let caller = auth::authorize(&req, &state.auth, SCHEMES, Some(&account), None).await?;
    check_account(&account)?;
    let id = parse_id(&id)?;
    let body = json_body::read(body).await?;
    let name = body.get("name").and_then(|n| n.as_str()).map(str::to_owned);
    let recorded = audit::record(&state, &req, &audit::actor(&caller), Some(&account), "mapping.update", audit::resource("mapping", Some(id.to_string()), name)).await?;
    let outcome = state.mappings.update(&account, id, &body, if_match(&req)).await;
    let mapping = audit::made(&state, vec![recorded], outcome).await?;
    state.mappings_changed(&account);
    Ok(with_etag(StatusCode::OK, &mapping))
}

/// `DELETE .../{id}`: optional `If-Match`; 200 with the mapping, `deleted: true`.
async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = path.into_inner();
    let caller = auth::authorize(&req, &state.auth, SCHEMES, Some(&account), None).await?;
    check_account(&account)?;
    let id = parse_id(&id)?;
    let recorded = audit::record(&state, &req, &audit::actor(&caller), Some(&account), "mapping.delete", audit::resource("mapping", Some(id.to_string()), None)).await?;
    let outcome = state.mappings.delete(&account, id, if_match(&req)).await;
    let mapping = audit::made(&state, vec![recorded], outcome).await?;
    state.mappings_changed(&account);
    Ok(HttpResponse::Ok().json(mapping))
}

fn with_etag(status: StatusCode, mapping: &Mapping) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("ETag", mapping.revision.to_string()))
        .json(mapping)
}

/// A path id that is not a number names no mapping: 404, like an unknown number.
fn parse_id(text: &str) -> Result<u64, ApiError> {
    text.parse::<u64>()
        .ok()
        .filter(|id| (1..=crate::mappings::MAX_ID).contains(id))
        .ok_or_else(|| MappingError::NotFound.into())
}

impl From<MappingError> for ApiError {
    fn from(error: MappingError) -> Self {
        use MappingError as E;
        let message = error.to_string();
        match error {
            E::NotABatch
            | E::BatchSize { .. }
            | E::NotAnObject
            | E::InvalidField { .. }
            | E::NameLength { .. }
            | E::MissingFields { .. }
            | E::ConflictingServices
            | E::IdMismatch => Self::unprocessable(ErrorCode::InvalidMapping, message),
            E::UnknownService { .. } => Self::unprocessable(ErrorCode::UnknownService, message),
            E::InvalidUrl(invalid) => invalid.into(),
            E::SiteIdMismatch => Self::unprocessable(ErrorCode::SiteIdMismatch, message),
            E::CertificateNotFound { .. } => Self::unprocessable(ErrorCode::CertificateNotFound, message),
            E::DuplicateName { name } => {
                Self::conflict(ErrorCode::DuplicateMappingName, message).with_details(json!({ "name": name }))
            }
            E::DuplicateRoute { service_code, service_name, url } => {
                Self::conflict(ErrorCode::DuplicateMappingUrl, message).with_details(json!({
                    "serviceId": service_code.to_string(),
                    "serviceName": service_name,
                    "url": url,
                }))
            }
            E::NotFound => Self::not_found(ErrorCode::MappingNotFound, message),
            E::StaleRevision => Self::new(StatusCode::PRECONDITION_FAILED, ErrorCode::StaleRevision, message),
            E::ConcurrentUpdate | E::IdCollision => Self::conflict(ErrorCode::ConcurrentUpdate, message),
            E::InItem { index, source } => in_item(Self::from(*source), index),
            E::Store(store) => store.into(),
            E::NoRandomness { .. } | E::Encode { .. } => Self::internal().with_cause(message),
        }
    }
}

impl From<InvalidUrl> for ApiError {
    fn from(error: InvalidUrl) -> Self {
        Self::unprocessable(ErrorCode::InvalidUrl, error.to_string())
    }
}

/// `error` about item `index` of a batch: the caller's mistakes name the item (message prefix
/// and `details.index`); failures of the store or the server are the same for every item.
fn in_item(mut error: ApiError, index: usize) -> ApiError {
    if error.status.is_client_error() {
        let mut details = error.details.take().unwrap_or_else(|| json!({}));
        if let Some(object) = details.as_object_mut() {
            object.insert("index".to_owned(), json!(index));
        }
        error.details = Some(details);
        error.message = format!("item {index}: {}", error.message);
    }
    error
}

/// The revision in `If-Match` (`3`, `"3"` or `W/"3"`); `None` when absent, empty or `*`.
///
/// A value that is no revision of ours can never match: it becomes [`NO_REVISION`], so the
/// service answers 412 `stale_revision`, but only after the checks that come first (RFC 9110
/// 13.2.1: a request that would fail without its preconditions fails the same way with them,
/// so an unknown mapping is still 404 and a malformed body 400).
fn if_match(req: &HttpRequest) -> Option<u64> {
    let Ok(text) = req.headers().get("If-Match")?.to_str() else { return Some(NO_REVISION) };
    let text = text.trim();
    if text.is_empty() || text == "*" {
        return None;
    }
    let bare = text.strip_prefix("W/").unwrap_or(text);
    let bare = bare.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(bare);
    Some(bare.parse::<u64>().unwrap_or(NO_REVISION))
}

/// A revision no mapping has (store versions start at 1 and stay far below it).
const NO_REVISION: u64 = u64::MAX;

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn if_match_forms() {
        let parse = |v: &str| if_match(&TestRequest::default().insert_header(("If-Match", v)).to_http_request());
        assert_eq!(parse("3"), Some(3));
        assert_eq!(parse("\"3\""), Some(3));
        assert_eq!(parse("W/\"12\""), Some(12));
        assert_eq!(parse("*"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("abc"), Some(NO_REVISION));
        assert_eq!(if_match(&TestRequest::default().to_http_request()), None);
    }

    #[test]
    fn bad_path_ids_are_not_found() {
        for id in ["x", "0", "-1", "9007199254740992", ""] {
            assert_eq!(parse_id(id).unwrap_err().code, "mapping_not_found", "{id}");
        }
        assert_eq!(parse_id("42").unwrap(), 42);
    }

    /// Every mapping error as the caller sees it: status, code and message, to review the wording
    /// in one place; store and system failures say nothing of their cause.
    #[test]
    fn every_mapping_error_answers_its_status_code_and_message() {
        use crate::store::StoreError;
        let cases: Vec<(MappingError, u16, &str, &str)> = vec![
            (MappingError::NotABatch, 422, "invalid_mapping", "expected a JSON array of mappings"),
            (MappingError::BatchSize { max: 100 }, 422, "invalid_mapping", "expected 1 to 100 mappings"),
            (MappingError::NotAnObject, 422, "invalid_mapping", "a mapping must be a JSON object"),
            (MappingError::InvalidField { field: "url", rule: "must be a string" }, 422, "invalid_mapping", "url must be a string"),
            (MappingError::NameLength { max: 128 }, 422, "invalid_mapping", "name must have 1 to 128 characters"),
            (MappingError::MissingFields { fields: vec!["name", "url"] }, 422, "invalid_mapping", "missing required field(s): name, url"),
            (MappingError::ConflictingServices, 422, "invalid_mapping", "serviceId and serviceName name different services"),
            (MappingError::IdMismatch, 422, "invalid_mapping", "id in the body differs from the id in the path"),
            (
                MappingError::UnknownService { field: "serviceId", known: vec!["IDP".to_owned()] },
                422,
                "unknown_service",
                "serviceId names no configured service; expected one of [\"IDP\"] or its code",
            ),
            (InvalidUrl::TooLong { max: 2048 }.into(), 422, "invalid_url", "url is longer than 2048 bytes"),
            (InvalidUrl::Refused { reason: "no host".to_owned() }.into(), 422, "invalid_url", "url: no host"),
            (MappingError::SiteIdMismatch, 422, "site_id_mismatch", "siteId must be the account of the request path (or be left out)"),
            (MappingError::CertificateNotFound { certificate_id: 7 }, 422, "certificate_not_found", "certificationId 7 is not a certificate of this account"),
            (MappingError::DuplicateName { name: "m".to_owned() }, 409, "duplicate_mapping_name", "a mapping named \"m\" already exists in this account"),
            (
                MappingError::DuplicateRoute { service_code: 1, service_name: "IDP".to_owned(), url: "https://a.com/".to_owned() },
                409,
                "duplicate_mapping_url",
                "service IDP already has a mapping for https://a.com/ in this account",
            ),
            (MappingError::NotFound, 404, "mapping_not_found", "no such mapping in this account"),
            (MappingError::StaleRevision, 412, "stale_revision", "the mapping has changed since that revision; read it again and retry"),
            (MappingError::ConcurrentUpdate, 409, "concurrent_update", "the mapping changed while this update ran; read it again and retry"),
            (MappingError::IdCollision, 409, "concurrent_update", "a concurrent change won; retry the request"),
            (MappingError::NotFound.in_item(2), 404, "mapping_not_found", "item 2: no such mapping in this account"),
            (StoreError::Unavailable("secret-ish cause".to_owned()).into(), 503, "store_unavailable", "the certificate store is unavailable; retry later"),
            (StoreError::Corrupt("secret-ish cause".to_owned()).into(), 500, "internal", "internal error"),
            (MappingError::NoRandomness { reason: "secret-ish cause".to_owned() }, 500, "internal", "internal error"),
            (MappingError::Encode { reason: "secret-ish cause".to_owned() }, 500, "internal", "internal error"),
            (MappingError::from(StoreError::Unavailable("down".to_owned())).in_item(1), 503, "store_unavailable", "the certificate store is unavailable; retry later"),
        ];
        for (error, status, code, message) in cases {
            let answer = ApiError::from(error.clone());
            assert_eq!((answer.status.as_u16(), answer.code.as_str(), answer.message.as_str()), (status, code, message), "{error:?}");
            let index = answer.details.as_ref().and_then(|d| d.get("index"));
            let in_item = matches!(error, MappingError::InItem { .. }) && status < 500;
            assert_eq!(index.is_some(), in_item, "{error:?}");
        }
        let duplicate = ApiError::from(MappingError::DuplicateRoute { service_code: 1, service_name: "IDP".to_owned(), url: "u".to_owned() }.in_item(3));
        assert_eq!(duplicate.details, Some(json!({"serviceId": "1", "serviceName": "IDP", "url": "u", "index": 3})));
    }
}
