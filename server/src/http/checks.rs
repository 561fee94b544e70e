//! Runtime checks (SPEC section 5), oAuth1 only, read through the runtime cache:
//!
//! - `POST /mtls/mapping?v=1` (the default): body `[{serviceName, accountId, url}]`, answer an
//!   object keyed by the Java `toString` of each item,
//!   `CertificateMappingParamters{serviceName='S', accountId='A', url='U'}` (LivePerson's
//!   spelling), with the values as the caller sent them, mapped to a boolean.
//! - `POST /mtls/mapping?v=2`: the same body, answer the items each with `doExist`.
//! - `POST /api/account/{account}/checks/serviceUrlMappings`: body `[{serviceName, url}]`,
//!   answer the items each with `exist`.
//!
//! "Exists" means an enabled mapping whose certificate is Available. An item whose service is
//! not configured or whose URL is not a valid target URL cannot have a mapping: it answers false.
//!
//! Account scope: every item's account must be one the app key may act on. When any item names
//! another account the whole request is refused with 403 and no answer for any item, so a caller
//! learns nothing about accounts it may not see (not even which of its items were the problem).

use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::{stream, StreamExt, TryStreamExt};
use serde_json::{Map, Value};

use crate::http::error_code::ErrorCode;
use crate::auth::{self, Caller, Scheme};
use crate::http::error::ApiError;
use crate::http::{json_body, ops};
use crate::services;
use crate::state::AppState;

/// Most items answered in one check request.
pub const MAX_CHECK_ITEMS: usize = 1000;
/// Lookups in flight at once for one request (each a cache hit or a few store reads).
const CONCURRENT_LOOKUPS: usize = 16;
const SCHEMES: &[Scheme] = &[Scheme::OAuth1];

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/mtls/mapping")
            .route(web::post().to(check_mapping))
            .default_service(ops::method_not_allowed("POST")),
    )
    .service(
        web::resource("/api/account/{account}/checks/serviceUrlMappings")
            .route(web::post().to(check_service_url_mappings))
            .default_service(ops::method_not_allowed("POST")),
    );
}

/// One item to check, as the caller wrote it.
pub(crate) struct Item {
    /// The item object, echoed back in v2 and the account-scoped form.
    object: Map<String, Value>,
    service_name: String,
    account: String,
    url: String,
}

/// `POST /mtls/mapping?v=1|2`.
async fn check_mapping(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = auth::authorize(&req, &state.auth, SCHEMES, None, None).await?;
    let version = version(&req)?;
    let items = parse_items(json_body::read(body).await?, None)?;
    require_access(&caller, &items)?;
    let found = exist_all(&state, &items).await?;
    match version {
        Version::V1 => {
            let answer: Map<String, Value> = items
                .iter()
                .zip(found)
                .map(|(item, exists)| (java_key(item), Value::Bool(exists)))
                .collect();
            Ok(HttpResponse::Ok().json(answer))
        }
        Version::V2 => Ok(HttpResponse::Ok().json(echo(items, found, "doExist"))),
    }
}

/// `POST /api/account/{account}/checks/serviceUrlMappings`.
async fn check_service_url_mappings(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    auth::authorize(&req, &state.auth, SCHEMES, Some(&account), None).await?;
    crate::http::check_account(&account)?;
    let items = parse_items(json_body::read(body).await?, Some(&account))?;
    let found = exist_all(&state, &items).await?;
    Ok(HttpResponse::Ok().json(echo(items, found, "exist")))
}

enum Version {
    V1,
    V2,
}

/// `v` is optional: 1 (default) or 2, also written `1.0` / `2.0`.
fn version(req: &HttpRequest) -> Result<Version, ApiError> {
    let query = web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .map_err(|_| ApiError::bad_request(ErrorCode::MalformedRequest, "the query string could not be read"))?;
    match query.get("v").map(String::as_str) {
        None | Some("1" | "1.0") => Ok(Version::V1),
        Some("2" | "2.0") => Ok(Version::V2),
        Some(_) => Err(ApiError::bad_request(ErrorCode::UnsupportedVersion, "v must be 1 or 2")),
    }
}

/// Reads the items; `account` is the path account of the account-scoped form (its items carry
/// no `accountId`).
pub(crate) fn parse_items(body: Value, account: Option<&str>) -> Result<Vec<Item>, ApiError> {
    let Value::Array(values) = body else {
        return Err(ApiError::bad_request(ErrorCode::MalformedRequest, "expected a JSON array of items"));
    };
    if values.len() > MAX_CHECK_ITEMS {
        return Err(ApiError::unprocessable(
            ErrorCode::TooManyItems,
            format!("at most {MAX_CHECK_ITEMS} items may be checked at once"),
        ));
    }
    values
        .into_iter()
        .enumerate()
        .map(|(index, value)| {
            let Value::Object(object) = value else {
                return Err(malformed(index, "an object"));
            };
            // Java clients send service codes and account ids as integers; a URL is text only.
            let text_or_number = |field: &str| match object.get(field) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some(n.to_string()),
                _ => None,
            };
            let service_name =
                text_or_number("serviceName").ok_or_else(|| malformed(index, "serviceName"))?;
            let url = match object.get("url") {
                Some(Value::String(url)) => url.clone(),
                _ => return Err(malformed(index, "url")),
            };
            let account = match account {
                Some(account) => account.to_owned(),
                None => text_or_number("accountId").ok_or_else(|| malformed(index, "accountId"))?,
            };
            Ok(Item { object, service_name, account, url })
        })
        .collect()
}

fn malformed(index: usize, what: &str) -> ApiError {
    ApiError::bad_request(ErrorCode::MalformedRequest, format!("item {index}: expected {what} (a string)"))
        .with_details(serde_json::json!({ "index": index }))
}

/// One forbidden item refuses the whole request (see the module docs).
fn require_access(caller: &Caller, items: &[Item]) -> Result<(), ApiError> {
    if items.iter().all(|item| caller.may_access(&item.account)) {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

async fn exist_all(state: &AppState, items: &[Item]) -> Result<Vec<bool>, ApiError> {
    stream::iter(items)
        .map(|item| exists(state, item))
        .buffered(CONCURRENT_LOOKUPS)
        .try_collect()
        .await
}

async fn exists(state: &AppState, item: &Item) -> Result<bool, ApiError> {
    let Some(service) = services::resolve(&state.config.services, &item.service_name) else {
        return Ok(false);
    };
    let Ok(url) = mtls_sdk::normalize_url(&item.url, state.config.allow_plain_http_targets) else {
        return Ok(false);
    };
    Ok(state.runtime.find(&item.account, Some(service.code), &url).await?.is_some())
}

/// The Java `toString` of LivePerson's parameter class, spelling included.
pub(crate) fn java_key(item: &Item) -> String {
    format!(
        "CertificateMappingParamters{{serviceName='{}', accountId='{}', url='{}'}}",
        item.service_name, item.account, item.url
    )
}

pub(crate) fn echo(items: Vec<Item>, found: Vec<bool>, field: &str) -> Vec<Value> {
    items
        .into_iter()
        .zip(found)
        .map(|(mut item, exists)| {
            item.object.insert(field.to_owned(), Value::Bool(exists));
            Value::Object(item.object)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn java_keys_are_exactly_livepersons() {
        let items = parse_items(json!([{"serviceName": "IDP", "accountId": "123", "url": "https://A.com/x?y=1"}]), None).unwrap();
        assert_eq!(
            java_key(&items[0]),
            "CertificateMappingParamters{serviceName='IDP', accountId='123', url='https://A.com/x?y=1'}"
        );
        let numeric = parse_items(json!([{"serviceName": "IDP", "accountId": 123, "url": "u"}]), None).unwrap();
        assert_eq!(numeric[0].account, "123");
    }

    #[test]
    fn malformed_items_are_400_with_their_index() {
        for body in [json!({}), json!([1]), json!([{"serviceName": "IDP", "url": "u"}]), json!([{"serviceName": null, "accountId": "a", "url": "u"}]), json!([{"serviceName": "IDP", "accountId": "a", "url": 0}]), json!([{"serviceName": "IDP", "accountId": 2.5, "url": "u"}])] {
            let error = parse_items(body.clone(), None).err().unwrap();
            assert_eq!((error.status.as_u16(), error.code.as_str()), (400, "malformed_request"), "{body}");
        }
        let scoped = parse_items(json!([{"serviceName": "IDP", "url": "u"}]), Some("acc")).unwrap();
        assert_eq!(scoped[0].account, "acc");
        let many: Vec<Value> = (0..=MAX_CHECK_ITEMS).map(|_| json!({"serviceName": "IDP", "url": "u"})).collect();
        assert_eq!(parse_items(Value::Array(many), Some("a")).err().unwrap().code, "too_many_items");
    }

    #[test]
    fn echo_adds_the_answer_to_each_item() {
        let items = parse_items(json!([{"serviceName": "IDP", "url": "u", "extra": 1}]), Some("a")).unwrap();
        assert_eq!(echo(items, vec![true], "exist"), vec![json!({"serviceName": "IDP", "url": "u", "extra": 1, "exist": true})]);
    }
}

#[cfg(test)]
mod route_tests {
    use std::sync::Arc;

    use actix_web::{middleware::from_fn, test, web, App};

    use crate::config::Config;
    use crate::state::AppState;
    use crate::store::memory::MemoryStore;

    #[actix_web::test]
    async fn checks_need_oauth1_and_say_so() {
        let state = web::Data::new(AppState::new(
            Config::for_tests(std::env::temp_dir()),
            Arc::new(MemoryStore::default()),
        ));
        let app = test::init_service(
            App::new()
                .app_data(state)
                .wrap(from_fn(crate::http::request_id::middleware))
                .configure(crate::http::configure),
        )
        .await;
        for uri in ["/mtls/mapping?v=1", "/mtls/mapping?v=2", "/api/account/a/checks/serviceUrlMappings"] {
            let req = test::TestRequest::post()
                .uri(uri)
                .insert_header(("Authorization", "Bearer abc"))
                .set_json(serde_json::json!([]))
                .to_request();
            let resp = test::call_service(&app, req).await;
            assert_eq!(resp.status(), 401, "{uri}");
            let challenge = resp.headers().get("WWW-Authenticate").unwrap().to_str().unwrap();
            assert!(challenge.contains("OAuth") && !challenge.contains("Bearer"), "{challenge}");
        }
    }
}
