//! The P12 tester (SPEC section 5): `POST /mtls/account/{account}/p12-test/multipart` with the
//! form parts `file` and `password`, Bearer only. The answer is the report of SPEC section 2
//! itself: 200 when usable, 422 when not. Nothing is stored. The inspection runs on the shared
//! [`crate::certificates::P12Inspector`] (its budget and worker limits answer 413 and 503).

use actix_web::{HttpRequest, HttpResponse, web};
use zeroize::Zeroizing;

use crate::http::error_code::ErrorCode;
use crate::auth::{self, BEARER_ONLY};
use crate::error::ApiError;
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
    auth::authorize(&req, &state, BEARER_ONLY, Some(&account), None).await?;
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
