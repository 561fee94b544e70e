//! Admin endpoints (SPEC section 5), `Authorization: Bearer $MTLS_ADMIN_TOKEN` only:
//! `POST /admin/app-keys`, `DELETE /admin/app-keys/{consumerKey}`, `POST /admin/tokens`.
//! The admin token is accepted nowhere else, and the credentials made here never on `/admin/*`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::http::error_code::ErrorCode;
use crate::auth;
use crate::http::error::ApiError;
use crate::http::{audit, json_body, ops};
use crate::state::AppState;

/// Longest accepted token lifetime: one year.
pub const MAX_TOKEN_TTL_SECONDS: i64 = 366 * 24 * 3600;
/// Lifetime when `ttlSeconds` is not given: one hour.
pub const DEFAULT_TOKEN_TTL_SECONDS: i64 = 3600;
/// Most accounts one credential may name. An app key is one store value, and OpenBao refuses
/// a request body of more than 1,000 JSON strings (`max_request_json_strings`), so 1,000
/// accounts made the store answer 400 and the caller 503.
pub const MAX_CREDENTIAL_ACCOUNTS: usize = 500;

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let resource = |path, allow| web::resource(path).default_service(ops::method_not_allowed(allow));
    cfg.service(resource("/admin/app-keys", "POST").route(web::post().to(create_app_key)))
        .service(
            resource("/admin/app-keys/{consumer_key}", "DELETE")
                .route(web::delete().to(delete_app_key)),
        )
        .service(resource("/admin/tokens", "POST").route(web::post().to(issue_token)));
}

/// `{name, accounts}` → 201 `{consumerKey, consumerSecret, token, tokenSecret, accounts, name}`.
async fn create_app_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth::authorize_admin(&req, &state.auth)?;
    let body = json_body::read(payload).await?;
    let name = text(&body, "name")?;
    let accounts = accounts(&body)?;
    let mut recorded = audit::record(&state, &req, &audit::admin(), None, "app_key.create", audit::resource("app_key", None, Some(name.clone()))).await?;
    let outcome = state.auth.create_app_key(&name, &accounts).await.map_err(ApiError::from);
    let key = audit::made(&state, vec![recorded.clone()], outcome).await?;
    state.audit.complete(&mut recorded, key.consumer_key.clone()).await;
    tracing::info!(consumer_key = %key.consumer_key, "app key created");
    Ok(HttpResponse::Created().json(json!({
        "consumerKey": key.consumer_key,
        "consumerSecret": key.consumer_secret,
        "token": key.token,
        "tokenSecret": key.token_secret,
        "accounts": key.accounts,
        "name": key.name,
    })))
}

/// 204 when deleted; 404 `app_key_not_found`.
async fn delete_app_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth::authorize_admin(&req, &state.auth)?;
    let consumer_key = path.into_inner();
    let recorded = audit::record(&state, &req, &audit::admin(), None, "app_key.delete", audit::resource("app_key", Some(consumer_key.clone()), None)).await?;
    let outcome = match state.auth.delete_app_key(&consumer_key).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(ApiError::not_found(ErrorCode::AppKeyNotFound, "no app key with this consumer key")),
        Err(error) => Err(error.into()),
    };
    audit::made(&state, vec![recorded], outcome).await?;
    tracing::info!(%consumer_key, "app key deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// `{sub, accounts, ttlSeconds}` → 201 `{accessToken, tokenType: "Bearer", expiresIn}`.
async fn issue_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    auth::authorize_admin(&req, &state.auth)?;
    let body = json_body::read(payload).await?;
    let sub = text(&body, "sub")?;
    let accounts = accounts(&body)?;
    let ttl = match body.get("ttlSeconds") {
        None | Some(Value::Null) => DEFAULT_TOKEN_TTL_SECONDS,
        Some(value) => value
            .as_i64()
            .filter(|ttl| (1..=MAX_TOKEN_TTL_SECONDS).contains(ttl))
            .ok_or_else(|| {
                invalid(&format!(
                    "ttlSeconds must be an integer from 1 to {MAX_TOKEN_TTL_SECONDS}"
                ))
            })?,
    };
    let recorded = audit::record(&state, &req, &audit::admin(), None, "token.issue", audit::resource("token", None, Some(sub.clone()))).await?;
    let outcome = state.auth.issue_token(&sub, &accounts, ttl).await.map_err(ApiError::from);
    let token = audit::made(&state, vec![recorded], outcome).await?;
    tracing::info!(%sub, ttl, "bearer token issued");
    Ok(HttpResponse::Created()
        .json(json!({ "accessToken": token, "tokenType": "Bearer", "expiresIn": ttl })))
}

pub(crate) fn text(body: &Value, field: &str) -> Result<String, ApiError> {
    let value = body
        .get(field)
        .ok_or_else(|| ApiError::bad_request(ErrorCode::MalformedRequest, format!("{field} is missing")))?
        .as_str()
        .ok_or_else(|| {
            ApiError::bad_request(ErrorCode::MalformedRequest, format!("{field} must be a string"))
        })?;
    if value.trim().is_empty() || value.chars().count() > 128 || value.chars().any(char::is_control)
    {
        return Err(invalid(&format!(
            "{field} must be 1 to 128 printable characters"
        )));
    }
    Ok(value.to_owned())
}

/// `accounts`: a non-empty array of account ids, or `["*"]` for all.
pub(crate) fn accounts(body: &Value) -> Result<Vec<String>, ApiError> {
    let list = body
        .get("accounts")
        .ok_or_else(|| ApiError::bad_request(ErrorCode::MalformedRequest, "accounts is missing"))?
        .as_array()
        .ok_or_else(|| {
            ApiError::bad_request(
                ErrorCode::MalformedRequest,
                "accounts must be an array of account ids or [\"*\"]",
            )
        })?;
    if list.is_empty() || list.len() > MAX_CREDENTIAL_ACCOUNTS {
        return Err(invalid(&format!(
            "accounts must name 1 to {MAX_CREDENTIAL_ACCOUNTS} accounts, or be [\"*\"]"
        )));
    }
    list.iter()
        .map(|v| {
            v.as_str()
                .filter(|s| {
                    !s.is_empty()
                        && s.len() <= 128
                        && !s.chars().any(|c| c.is_control() || c == '/')
                })
                .map(str::to_owned)
                .ok_or_else(|| invalid("each account must be a non-empty string without '/'"))
        })
        .collect()
}

fn invalid(message: &str) -> ApiError {
    ApiError::unprocessable(ErrorCode::InvalidRequest, message)
}
