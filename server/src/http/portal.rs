//! The brand portal (SPEC section 1): the static page of `www/` at `/`, its assets under
//! `/portal/`, and the built npm package under `/pkg/` (the page imports `/pkg/client/index.js`
//! at once and `/pkg/web/index.js` on first use of a certificate tool).
//!
//! Each request checks the file's length and modification time, so a rebuilt `pkg/` or an edited
//! page shows on the next reload; the bytes, a strong `ETag` (SHA-256 of the content) and the
//! gzip and brotli encodings are made once per version of a file and kept in memory. Answers
//! carry `Cache-Control: no-cache` with the `ETag`: a repeat visit revalidates every file and gets
//! `304 Not Modified` without a body. The encoding follows `Accept-Encoding` (brotli, then gzip,
//! then none), with `Vary: Accept-Encoding` and one entity tag per encoding (RFC 9110 8.8.3).
//!
//! The directories are `www/` and `pkg/` under the working directory (how `scripts/start.sh`
//! runs the server), else beside this crate (how `cargo test` runs it). Only plain file names
//! are served: every path segment must be `[A-Za-z0-9_-]` words joined by dots and not start with
//! a dot, so no request can leave those directories.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::SystemTime;

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use bytes::Bytes;
use sha2::{Digest as _, Sha256};

use crate::http::error_code::ErrorCode;
use crate::http::error::ApiError;
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
async fn index(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    serve(&request, StaticDir::Www, "index.html").await
}

/// `GET /portal/{file}`: a file of `www/`.
async fn portal_file(request: HttpRequest, file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve(&request, StaticDir::Www, &file).await
}

/// `GET /pkg/{file}`: a file of the built npm package.
async fn package_file(request: HttpRequest, file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve(&request, StaticDir::Pkg, &file).await
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

async fn serve(request: &HttpRequest, dir: StaticDir, relative: &str) -> Result<HttpResponse, ApiError> {
    let not_found =
        || ApiError::not_found(ErrorCode::NotFound, format!("no file `{relative}` in the portal"));
    if !is_safe_relative_path(relative) {
        return Err(not_found());
    }
    let path = dir.root().join(relative);
    let asset = match load(&path, compressible(content_type(relative))).await {
        Ok(Some(asset)) => asset,
        Ok(None) => return Err(not_found()),
        Err(error) => {
            tracing::warn!(file = %path.display(), %error, "cannot read a portal file");
            return Err(not_found());
        }
    };
    let accepted = request.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok());
    let (encoding, body) = asset.negotiate(accepted.unwrap_or(""));
    let etag = asset.etag(encoding);
    let not_modified = if_none_match(request, &asset);
    let mut response = if not_modified { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response
        .insert_header((header::ETAG, etag))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY));
    if not_modified {
        return Ok(response.finish());
    }
    if let Some(name) = encoding.header_value() {
        response.insert_header((header::CONTENT_ENCODING, name));
    }
    Ok(response.insert_header((header::CONTENT_TYPE, content_type(relative))).body(body))
}

/// True when `If-None-Match` names this file's current content in any of its encodings (a weak
/// comparison, RFC 9110 13.1.2: the encodings carry the same content) or is `*`.
fn if_none_match(request: &HttpRequest, asset: &Asset) -> bool {
    let Some(value) = request.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value.split(',').map(|tag| tag.trim().trim_start_matches("W/")).any(|tag| {
        tag == "*" || [Encoding::Identity, Encoding::Gzip, Encoding::Brotli].iter().any(|e| asset.etag(*e) == tag)
    })
}

// === the asset cache ===

/// A content coding the portal serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    fn header_value(self) -> Option<&'static str> {
        match self {
            Self::Identity => None,
            Self::Gzip => Some("gzip"),
            Self::Brotli => Some("br"),
        }
    }
}

/// One version of a served file: its bytes in each encoding worth having.
#[derive(Debug)]
struct Asset {
    /// Length and modification time of the file this was made from.
    version: (u64, Option<SystemTime>),
    /// Hex of the first 16 bytes of the content's SHA-256.
    content_hash: String,
    identity: Bytes,
    gzip: Option<Bytes>,
    brotli: Option<Bytes>,
}

/// Every file served so far, by path: at most the files of `www/` and `pkg/`.
static ASSETS: LazyLock<Mutex<HashMap<PathBuf, Arc<Asset>>>> = LazyLock::new(Mutex::default);

/// Brotli's best quality is worth its time on page-sized files; on the multi-megabyte
/// WebAssembly module quality 6 costs a fraction of quality 9's time for 1.6 % more bytes
/// (654 vs 643 KiB, tests/bench/portal/run.sh).
const BROTLI_BEST_QUALITY_UP_TO: usize = 1024 * 1024;

/// The file at `path` as an [`Asset`], from the cache while its length and modification time
/// are unchanged. `None` when there is no such file.
async fn load(path: &Path, compress: bool) -> std::io::Result<Option<Arc<Asset>>> {
    let metadata = match tokio::fs::metadata(path).await {
        Ok(metadata) if metadata.is_file() => metadata,
        Ok(_) => return Ok(None),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    let version = (metadata.len(), metadata.modified().ok());
    let cached = ASSETS.lock().unwrap_or_else(|p| p.into_inner()).get(path).cloned();
    if let Some(asset) = cached.filter(|asset| asset.version == version) {
        return Ok(Some(asset));
    }
    let content = match tokio::fs::read(path).await {
        Ok(content) => content,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    // Compressing a large module takes CPU time: off the async workers.
    let asset = tokio::task::spawn_blocking(move || Asset::new(content, version, compress))
        .await
        .map_err(std::io::Error::other)??;
    let asset = Arc::new(asset);
    ASSETS.lock().unwrap_or_else(|p| p.into_inner()).insert(path.to_owned(), asset.clone());
    Ok(Some(asset))
}

impl Asset {
    fn new(content: Vec<u8>, version: (u64, Option<SystemTime>), compress: bool) -> std::io::Result<Self> {
        let content_hash = hex::encode(&Sha256::digest(&content)[..16]);
        let (gzip, brotli) = if compress {
            let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gzip.write_all(&content)?;
            let gzip = gzip.finish()?;
            let quality = if content.len() <= BROTLI_BEST_QUALITY_UP_TO { 11 } else { 6 };
            let mut brotli = Vec::new();
            brotli::BrotliCompress(
                &mut content.as_slice(),
                &mut brotli,
                &brotli::enc::BrotliEncoderParams { quality, lgwin: 22, ..Default::default() },
            )?;
            // An encoding that does not save bytes is not offered.
            let smaller = |encoded: Vec<u8>| (encoded.len() < content.len()).then(|| Bytes::from(encoded));
            (smaller(gzip), smaller(brotli))
        } else {
            (None, None)
        };
        Ok(Self { version, content_hash, identity: Bytes::from(content), gzip, brotli })
    }

    /// The strong entity tag of the file in `encoding`.
    fn etag(&self, encoding: Encoding) -> String {
        match encoding {
            Encoding::Identity => format!("\"{}\"", self.content_hash),
            Encoding::Gzip => format!("\"{}-gz\"", self.content_hash),
            Encoding::Brotli => format!("\"{}-br\"", self.content_hash),
        }
    }

    /// The best encoding the caller accepts (`Accept-Encoding`, RFC 9110 12.5.3: brotli before
    /// gzip, nothing with `q=0`), and its bytes.
    fn negotiate(&self, accept_encoding: &str) -> (Encoding, Bytes) {
        let accepts = |name: &str| {
            accept_encoding.split(',').any(|item| {
                let mut parts = item.split(';').map(str::trim);
                let coding = parts.next().unwrap_or("");
                let refused = parts.any(|p| {
                    p.strip_prefix("q=").is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0))
                });
                coding.eq_ignore_ascii_case(name) && !refused
            })
        };
        match (&self.brotli, &self.gzip) {
            (Some(brotli), _) if accepts("br") => (Encoding::Brotli, brotli.clone()),
            (_, Some(gzip)) if accepts("gzip") => (Encoding::Gzip, gzip.clone()),
            _ => (Encoding::Identity, self.identity.clone()),
        }
    }
}

/// Whether files of `content_type` are worth compressing (text, JSON, WebAssembly).
fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || matches!(content_type, "application/json" | "application/wasm" | "image/svg+xml")
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
