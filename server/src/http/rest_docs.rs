//! The interactive REST reference at `/docs`: Swagger UI over `/openapi.json`.
//!
//! The page and its starter script are part of the binary; Swagger UI's own files come from
//! `server/rest-docs/node_modules/swagger-ui-dist`, installed at build time from the npm registry
//! through `server/rest-docs/package-lock.json` (`scripts/install-build-deps.sh`). Nothing is
//! fetched at run time, and the Content-Security-Policy keeps the page to this origin. The assets
//! directory is looked up like the portal's: under the working directory, else beside this crate.

use std::path::{Path, PathBuf};

use actix_web::{HttpResponse, http::header, web};

use crate::http::error_code::ErrorCode;
use crate::http::error::ApiError;
use crate::http::ops;

/// Where the vendored Swagger UI lives, relative to the repository root.
const ASSETS_DIR: &str = "server/rest-docs/node_modules/swagger-ui-dist";

/// Swagger UI sets inline `style` attributes and draws icons as data URIs; it loads scripts only
/// from this origin and talks only to it ("Try it out" calls the API here).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const PAGE: &str = include_str!("rest_docs/index.html");
const STARTER: &str = include_str!("rest_docs/rest-docs.js");

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(ops::get_only("/docs", web::get().to(page)))
        .service(ops::get_only("/docs/{file}", web::get().to(asset)));
}

/// `GET /docs`: the page.
async fn page() -> HttpResponse {
    respond("text/html; charset=utf-8", PAGE.as_bytes().to_vec())
}

/// `GET /docs/{file}`: the starter script or one of the two vendored Swagger UI files.
async fn asset(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (name, content_type) = match file.as_str() {
        "rest-docs.js" => return Ok(respond("text/javascript; charset=utf-8", STARTER.as_bytes().to_vec())),
        "swagger-ui-bundle.js" => ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
        "swagger-ui.css" => ("swagger-ui.css", "text/css; charset=utf-8"),
        _ => return Err(ApiError::not_found(ErrorCode::NotFound, "no such file of the REST reference")),
    };
    vendored(&assets_dir(), name, content_type).await
}

/// `name` from the vendored assets in `dir`; 404 naming the install step when it is missing.
async fn vendored(dir: &Path, name: &str, content_type: &'static str) -> Result<HttpResponse, ApiError> {
    let path = dir.join(name);
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok(respond(content_type, bytes)),
        Err(error) => {
            tracing::warn!(file = %path.display(), %error, "REST reference asset missing");
            Err(ApiError::not_found(
                ErrorCode::NotFound,
                "the REST reference's assets are not installed on this gateway (scripts/install-build-deps.sh)",
            ))
        }
    }
}

fn respond(content_type: &'static str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .body(body)
}

/// `./server/rest-docs/...` under the working directory when present, else beside this crate.
fn assets_dir() -> PathBuf {
    let here = Path::new(ASSETS_DIR);
    if here.is_dir() {
        return here.to_path_buf();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(ASSETS_DIR)
}

#[cfg(test)]
mod tests {
    use actix_web::http::StatusCode;

    use super::*;

    #[actix_web::test]
    async fn missing_vendored_assets_are_not_found_naming_the_install_step() {
        let nowhere = std::env::temp_dir().join(format!("no-rest-docs-{}", std::process::id()));
        let error = vendored(&nowhere, "swagger-ui.css", "text/css").await.expect_err("no file");
        assert_eq!(error.status, StatusCode::NOT_FOUND);
        assert!(error.message.contains("scripts/install-build-deps.sh"), "{}", error.message);
    }
}
