//! The audit trail's HTTP side (SPEC section 12): `GET /mtls/account/{account}/audit` (Bearer
//! or oAuth1 on the account) and `GET /admin/audit` (the admin token), both
//! `?since=&limit=&cursor=`, newest first; and the helpers every changing handler uses to record
//! its change before making it (`record`, `made`), with the one mapping of
//! `AuditError` to HTTP.
//!
//! A handler that changes something: authorizes, parses, calls `record` (503
//! `audit_unavailable` when the record cannot be written: the change is then not attempted),
//! makes the change, and passes the result through `made`, which withdraws the record when the
//! change failed. A create adds the new id with `crate::audit::AuditLog::complete`.

use actix_web::{HttpMessage as _, HttpRequest, HttpResponse, web};

use crate::http::error_code::ErrorCode;
use crate::audit::{Actor, AuditError, Change, Recorded, Resource, Trail, DEFAULT_LIMIT, MAX_LIMIT};
use crate::auth::{self, Caller, Scheme, CONFIGURATION};
use crate::clock;
use crate::http::error::ApiError;
use crate::http::request_id::RequestId;
use crate::http::{check_account, ops};
use crate::state::AppState;
use crate::store::StoreError;

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/mtls/account/{account}/audit")
            .route(web::get().to(account_trail))
            .default_service(ops::method_not_allowed("GET")),
    )
    .service(
        web::resource("/admin/audit")
            .route(web::get().to(admin_trail))
            .default_service(ops::method_not_allowed("GET")),
    );
}

/// `GET /mtls/account/{account}/audit`: the account's records, newest first.
async fn account_trail(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    auth::authorize(&req, &state.auth, CONFIGURATION, Some(&account), None).await?;
    check_account(&account)?;
    let query = PageQuery::parse(req.query_string())?;
    let page = state
        .audit
        .page(Trail::Account(&account), query.since, query.limit, query.cursor.as_deref())
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// `GET /admin/audit`: every record, newest first.
async fn admin_trail(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    auth::authorize_admin(&req, &state.auth)?;
    let query = PageQuery::parse(req.query_string())?;
    let page = state.audit.page(Trail::All, query.since, query.limit, query.cursor.as_deref()).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Who `caller` is, as the trail shows it.
pub(crate) fn actor(caller: &Caller) -> Actor {
    let scheme = match caller.scheme {
        Scheme::Bearer => "bearer",
        Scheme::OAuth1 => "oauth1",
    };
    Actor { scheme: scheme.to_owned(), subject: caller.subject().to_owned() }
}

/// The resource of kind `kind` with `id` and `name`, as a record names it.
pub(crate) fn resource(kind: &str, id: Option<String>, name: Option<String>) -> Resource {
    Resource { kind: kind.to_owned(), id, name }
}

/// The holder of `MTLS_ADMIN_TOKEN`.
pub(crate) fn admin() -> Actor {
    Actor { scheme: "admin".to_owned(), subject: "admin".to_owned() }
}

/// Records a change about to be made to `resource` of `account` (`None`: admin) by `actor`,
/// with the request's id.
///
/// # Errors
/// 503 `store_unavailable` (the store is down) or `audit_unavailable` (the record could not be
/// written otherwise): nothing was recorded and the change must not be made.
pub(crate) async fn record(
    state: &AppState,
    req: &HttpRequest,
    actor: &Actor,
    account: Option<&str>,
    action: &'static str,
    resource: Resource,
) -> Result<Recorded, ApiError> {
    let request_id = req.extensions().get::<RequestId>().map(|r| r.as_str().to_owned()).unwrap_or_default();
    let change = Change {
        account: account.map(str::to_owned),
        actor: actor.clone(),
        action,
        resource,
        request_id,
    };
    Ok(state.audit.record(change).await?)
}

/// Passes the outcome of a recorded change through, withdrawing the records when it failed.
///
/// # Errors
/// The change's own error.
pub(crate) async fn made<T, E>(
    state: &AppState,
    recorded: Vec<Recorded>,
    outcome: Result<T, E>,
) -> Result<T, E> {
    if outcome.is_err() {
        for recorded in recorded {
            state.audit.withdraw(recorded).await;
        }
    }
    outcome
}

impl From<AuditError> for ApiError {
    fn from(error: AuditError) -> Self {
        match error {
            // The store as a whole is down: the same 503 as every other operation gives then.
            AuditError::Unavailable(cause @ StoreError::Unavailable(_)) => ApiError::from(cause),
            AuditError::Unavailable(cause) => ApiError::new(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::AuditUnavailable,
                "the audit trail could not be written or read, so nothing was changed; retry later",
            )
            .with_cause(cause)
            .with_header("Retry-After", "1"),
            AuditError::BadCursor => ApiError::bad_request(
                ErrorCode::InvalidCursor,
                "cursor must be a nextCursor value from an earlier page",
            ),
        }
    }
}

/// `?since=&limit=&cursor=`.
struct PageQuery {
    since: Option<i64>,
    limit: usize,
    cursor: Option<String>,
}

impl PageQuery {
    #[allow(clippy::result_large_err, reason = "ApiError is the one error the HTTP layer answers with; these checks run once per request")]
    fn parse(query: &str) -> Result<Self, ApiError> {
        let mut parsed = Self { since: None, limit: DEFAULT_LIMIT, cursor: None };
        let pairs = web::Query::<std::collections::HashMap<String, String>>::from_query(query)
            .map_err(|_| ApiError::bad_request(ErrorCode::MalformedRequest, "the query string cannot be read"))?
            .into_inner();
        for (name, value) in pairs {
            match name.as_str() {
                "since" => {
                    parsed.since = Some(clock::parse_rfc3339_millis(&value).ok_or_else(|| {
                        ApiError::bad_request(ErrorCode::InvalidSince, "since must be an RFC 3339 date-time such as 2030-01-31T12:00:00Z")
                    })?);
                }
                "limit" => {
                    parsed.limit = value.parse::<usize>().ok().filter(|l| (1..=MAX_LIMIT).contains(l)).ok_or_else(|| {
                        ApiError::bad_request(ErrorCode::InvalidLimit, format!("limit must be an integer from 1 to {MAX_LIMIT}"))
                    })?;
                }
                "cursor" => parsed.cursor = Some(value),
                _ => {}
            }
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_errors_map_to_the_spec_codes_without_internals() {
        let down = ApiError::from(AuditError::Unavailable(StoreError::Unavailable("vault at 10.0.0.1 refused".into())));
        assert_eq!((down.status.as_u16(), down.code.as_str()), (503, "store_unavailable"));
        let corrupt = ApiError::from(AuditError::Unavailable(StoreError::Corrupt("audit record 7".into())));
        assert_eq!((corrupt.status.as_u16(), corrupt.code.as_str()), (503, "audit_unavailable"));
        assert!(!corrupt.body().to_string().contains("record 7"), "the cause is logged, not sent");
        let cursor = ApiError::from(AuditError::BadCursor);
        assert_eq!((cursor.status.as_u16(), cursor.code.as_str()), (400, "invalid_cursor"));
    }
}
