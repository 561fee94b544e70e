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

use crate::auth::{self, Scheme};
use crate::error::ApiError;
use crate::http::check_account;
use crate::http::json_body;
use crate::mappings::Mapping;
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
            .default_service(web::to(|| method_not_allowed("GET, POST"))),
    )
    .service(
        web::resource(ITEM)
            .route(web::get().to(get))
            .route(web::put().to(update))
            .route(web::delete().to(delete))
            .default_service(web::to(|| method_not_allowed("GET, PUT, DELETE"))),
    );
}

/// 405 in the SPEC error shape (actix's own answer has no body), with `Allow`.
pub(crate) async fn method_not_allowed(allow: &'static str) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("this endpoint accepts {allow}"),
    )
    .with_header("Allow", allow))
}

/// `POST ...?v=3.0`: body an array of mappings; 201 with the created mappings.
async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    auth::authorize(&req, &state, SCHEMES, Some(&account), None).await?;
    check_account(&account)?;
    let body = json_body::read(body).await?;
    let created = state.mappings.create(&account, &body).await?;
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
    auth::authorize(&req, &state, SCHEMES, Some(&account), None).await?;
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
    auth::authorize(&req, &state, SCHEMES, Some(&account), None).await?;
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
    auth::authorize(&req, &state, SCHEMES, Some(&account), None).await?;
    check_account(&account)?;
    let id = parse_id(&id)?;
    let if_match = if_match(&req)?;
    let body = json_body::read(body).await?;
    let mapping = state.mappings.update(&account, id, &body, if_match).await?;
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
    auth::authorize(&req, &state, SCHEMES, Some(&account), None).await?;
    check_account(&account)?;
    let id = parse_id(&id)?;
    let mapping = state.mappings.delete(&account, id, if_match(&req)?).await?;
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
        .ok_or_else(|| ApiError::not_found("mapping_not_found", "no such mapping in this account"))
}

/// The revision in `If-Match` (`3`, `"3"` or `W/"3"`); `None` when absent or `*`.
///
/// # Errors
/// 412 `stale_revision` for a value that is no revision of ours: it can never match.
fn if_match(req: &HttpRequest) -> Result<Option<u64>, ApiError> {
    let Some(value) = req.headers().get("If-Match") else { return Ok(None) };
    let text = value.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    let bare = text.strip_prefix("W/").unwrap_or(text);
    let bare = bare.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(bare);
    bare.parse::<u64>().map(Some).map_err(|_| {
        ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "stale_revision",
            "If-Match must be the revision (ETag) of the mapping",
        )
    })
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn if_match_forms() {
        let parse = |v: &str| if_match(&TestRequest::default().insert_header(("If-Match", v)).to_http_request());
        assert_eq!(parse("3").unwrap(), Some(3));
        assert_eq!(parse("\"3\"").unwrap(), Some(3));
        assert_eq!(parse("W/\"12\"").unwrap(), Some(12));
        assert_eq!(parse("*").unwrap(), None);
        assert_eq!(parse("abc").unwrap_err().code, "stale_revision");
        assert_eq!(if_match(&TestRequest::default().to_http_request()).unwrap(), None);
    }

    #[actix_web::test]
    async fn other_methods_are_405_with_allow() {
        let error = method_not_allowed("GET, POST").await.unwrap_err();
        assert_eq!((error.status.as_u16(), error.code), (405, "method_not_allowed"));
        assert_eq!(error.headers, vec![("Allow", "GET, POST".to_owned())]);
    }

    #[test]
    fn bad_path_ids_are_not_found() {
        for id in ["x", "0", "-1", "9007199254740992", ""] {
            assert_eq!(parse_id(id).unwrap_err().code, "mapping_not_found", "{id}");
        }
        assert_eq!(parse_id("42").unwrap(), 42);
    }
}
