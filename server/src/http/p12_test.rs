//! The P12 tester (SPEC section 5): `POST /mtls/account/{account}/p12-test/multipart` with the
//! form parts `file` and `password`, Bearer only. The answer is the report of SPEC section 2
//! itself: 200 when usable, 422 when not. Nothing is stored. The inspection runs on the shared
//! [`crate::certificates::P12Inspector`] (its budget and worker limits answer 413 and 503).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use zeroize::Zeroizing;

use crate::http::error_code::ErrorCode;
use crate::auth::{self, BEARER_ONLY};
use crate::certificates::{BUSY_RETRY_AFTER_SECONDS, InspectionError};
use crate::certificates::ENV_P12_REQUEST_ITERATION_BUDGET;
use crate::http::error::ApiError;
use crate::http::{multipart_form, ops};
use crate::state::AppState;

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/mtls/account/{account}/p12-test/multipart")
            .route(web::post().to(test_p12))
            .default_service(ops::method_not_allowed("POST")),
    );
}

/// Extracts the account, the `file` and `password` parts; answers the report.
async fn test_p12(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let account = path.into_inner();
    auth::authorize(&req, &state.auth, BEARER_ONLY, Some(&account), None).await?;
    crate::http::check_account(&account)?;
    let form = multipart_form::read(&req, payload, state.config.max_body_bytes).await?;
    let file = form
        .bytes("file")
        .filter(|f| !f.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(
                ErrorCode::MalformedRequest,
                "the form lacks the file part (the P12)",
            )
        })?
        .clone();
    let password = form.text("password")?.ok_or_else(|| {
        ApiError::bad_request(ErrorCode::MalformedRequest, "the form lacks the password part")
    })?;
    let password = Zeroizing::new(password.trim_end_matches(['\r', '\n']).to_owned());
    let admission = state.p12_inspector.admit(&[file.as_slice()])?;
    let (report, _contents) = admission.inspect(0, file, password).await?;
    drop(admission);
    state.metrics.p12_tests.inc(if report.usable { "true" } else { "false" });
    Ok(if report.usable {
        HttpResponse::Ok().json(report)
    } else {
        HttpResponse::UnprocessableEntity().json(report)
    })
}

/// The HTTP answer of each [`InspectionError`] (uploads, replacements, certificate requests and
/// this tester share the inspector): the one place its codes are chosen.
impl From<InspectionError> for ApiError {
    fn from(error: InspectionError) -> Self {
        match error {
            InspectionError::BudgetExceeded { total, budget, files } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::P12IterationBudgetExceeded,
                format!(
                    "the P12 files of this request ({files}) declare {total} KDF iterations in all; at most \
                     {budget} are allowed per request ({ENV_P12_REQUEST_ITERATION_BUDGET}); send fewer \
                     files per request or export them with fewer iterations"
                ),
            )
            .with_details(json!({ "iterations": total, "budget": budget })),
            InspectionError::Busy => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::P12InspectionsBusy,
                "every P12 inspection worker is busy; retry after the Retry-After seconds",
            )
            .with_header("Retry-After", BUSY_RETRY_AFTER_SECONDS.to_string()),
            error @ (InspectionError::NotAdmitted { .. } | InspectionError::TaskFailed) => {
                ApiError::internal().with_cause(error)
            }
        }
    }
}
