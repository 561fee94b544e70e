//! The brand portal (SPEC section 1): the static page of `www/` at `/`, its assets under
//! `/portal/`, and the built npm package under `/pkg/` (the page imports `/pkg/web/index.js`).
//!
//! Files are read from disk on each request, so a rebuilt `pkg/` or an edited page shows on the
//! next reload. The directories are `www/` and `pkg/` under the working directory (how
//! `scripts/start.sh` runs the server), else beside this crate (how `cargo test` runs it).
//! Only plain file names are served: every path segment must be `[A-Za-z0-9_-]` words joined by
//! dots and not start with a dot, so no request can leave those directories.

use std::path::{Path, PathBuf};

use actix_web::{HttpResponse, http::header, web};

use crate::error::ApiError;
use crate::http::ops;

/// What the page may load: itself, the package (its `.wasm` needs `wasm-unsafe-eval`) and the
/// API on the same origin. No inline script, so an injected string cannot run.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'none'";

/// Routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(ops::get_only("/", web::get().to(index)))
        .service(ops::get_only("/portal/{file:.*}", web::get().to(portal_file)))
        .service(ops::get_only("/pkg/{file:.*}", web::get().to(package_file)));
}

/// `GET /`: the portal page.
async fn index() -> Result<HttpResponse, ApiError> {
    serve(StaticDir::Www, "index.html").await
}

/// `GET /portal/{file}`: a file of `www/`.
async fn portal_file(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve(StaticDir::Www, &file).await
}

/// `GET /pkg/{file}`: a file of the built npm package.
async fn package_file(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve(StaticDir::Pkg, &file).await
}

/// The two directories this module serves.
#[derive(Clone, Copy)]
enum StaticDir {
    Www,
    Pkg,
}

impl StaticDir {
    fn name(self) -> &'static str {
        match self {
            Self::Www => "www",
            Self::Pkg => "pkg",
        }
    }

    /// `./www` (or `./pkg`) when it exists, else the one at the repository root.
    fn root(self) -> PathBuf {
        let here = Path::new(self.name()).to_path_buf();
        if here.is_dir() {
            return here;
        }
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(self.name())
    }
}

async fn serve(dir: StaticDir, relative: &str) -> Result<HttpResponse, ApiError> {
    let not_found =
        || ApiError::not_found("not_found", format!("no file `{relative}` in the portal"));
    if !is_safe_relative_path(relative) {
        return Err(not_found());
    }
    let path = dir.root().join(relative);
    let body = match tokio::fs::read(&path).await {
        Ok(body) => body,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(error) if error.kind() == std::io::ErrorKind::IsADirectory => return Err(not_found()),
        Err(error) => {
            tracing::warn!(file = %path.display(), %error, "cannot read a portal file");
            return Err(not_found());
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type(relative)))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .body(body))
}

/// True for `a/b.c` shapes only: no empty, dot-leading or exotic segment.
fn is_safe_relative_path(relative: &str) -> bool {
    !relative.is_empty()
        && relative.split('/').all(|segment| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        })
}

/// MIME type by extension; `application/wasm` lets browsers compile while downloading.
fn content_type(relative: &str) -> &'static str {
    match relative.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("wasm") => "application/wasm",
        Some("svg") => "image/svg+xml",
        Some("ts" | "md") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_paths_are_plain_file_names() {
        for good in [
            "index.html",
            "app.js",
            "web/index.js",
            "node/mtls_sdk_bg.wasm",
        ] {
            assert!(is_safe_relative_path(good), "{good}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../Cargo.toml",
            "web/../../x",
            ".env",
            "a//b",
            "a/",
            "a\\b",
            "a%2fb",
            "é",
        ] {
            assert!(!is_safe_relative_path(bad), "{bad}");
        }
    }

    #[test]
    fn wasm_and_modules_get_their_mime_types() {
        assert_eq!(content_type("web/mtls_sdk_bg.wasm"), "application/wasm");
        assert_eq!(
            content_type("web/index.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }
}
