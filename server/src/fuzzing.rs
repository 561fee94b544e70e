//! Entry points for the fuzz targets (`server/fuzz/`) and for their corpus replay test
//! (`server/tests/fuzz_corpus.rs`). Each takes raw bytes, runs one parser of outside input
//! through the code its handler uses, and checks what must hold whatever the input; a panic is
//! the finding. Not part of the server's API.

use std::sync::Arc;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{FromRequest as _, HttpRequest, dev, test, web};
use bytes::Bytes;
use serde_json::Value;

use crate::auth::oauth1;
use crate::config::Config;
use crate::forward::headers;
use crate::http::{admin, certificates, checks, forward, json_body, multipart_form};
use crate::mappings::model::{FieldRules, MappingFields};
use crate::state::AppState;
use crate::store::memory::MemoryStore;

/// Boundary of the multipart target's bodies (the seeds use it).
pub const MULTIPART_BOUNDARY: &str = "fuzzboundary";

/// Account of the JSON targets' paths.
const ACCOUNT: &str = "fuzz-account";

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    /// Test configuration (four services, HTTPS only) and the same with plain HTTP allowed.
    static STATES: [AppState; 2] = RUNTIME.with(|runtime| {
        let _entered = runtime.enter();
        [false, true].map(|allow_http| {
            let mut config = Config::for_tests(std::env::temp_dir());
            config.allow_plain_http_targets = allow_http;
            AppState::new(config, Arc::new(MemoryStore::default()))
        })
    });
}

fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME.with(|runtime| runtime.block_on(future))
}

/// `web::Payload` of `body`, delivered in chunks of `chunk` bytes (0: one chunk), as a
/// connection delivers it.
fn payload(req: &HttpRequest, body: &[u8], chunk: usize) -> web::Payload {
    let chunks: Vec<Result<Bytes, actix_web::error::PayloadError>> = if chunk == 0 || body.is_empty() {
        vec![Ok(Bytes::copy_from_slice(body))]
    } else {
        body.chunks(chunk).map(|c| Ok(Bytes::copy_from_slice(c))).collect()
    };
    let stream: std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, actix_web::error::PayloadError>>>> =Box::pin(futures_util::stream::iter(chunks));
    let mut dev_payload = dev::Payload::Stream { payload: stream };
    block_on(web::Payload::from_request(req, &mut dev_payload)).expect("web::Payload is infallible")
}

/// The oAuth1 `Authorization` header: input is `header \n query \n form body`. The header goes
/// through the scheme split of `auth::authenticate` and [`oauth1::parse_header`]; a parsed header
/// then through the base string and both signatures.
pub fn oauth1_header(data: &[u8]) {
    let mut parts = data.splitn(3, |b| *b == b'\n');
    let header = parts.next().unwrap_or_default();
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let body = parts.next().unwrap_or_default();
    let Ok(value) = std::str::from_utf8(header) else { return };
    let (_scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    let Ok(params) = oauth1::parse_header(rest) else { return };
    for (name, value) in &params.signed {
        // Encoding is the inverse of decoding: the base string carries exactly what was signed.
        for text in [name, value] {
            assert_eq!(oauth1::percent_decode(&mtls_sdk::oauth1::percent_encode(text)).as_deref(), Some(text.as_str()));
        }
    }
    let base = oauth1::base_string("POST", "https://127.0.0.1/mtls/mapping", &query, Some(body), &params.signed);
    let expected = oauth1::sign(params.signature_method, &base, "consumer-secret", params.token.as_deref().unwrap_or(""));
    oauth1::signatures_match(&expected, &params.signature);
}

/// The `LP-*` headers of a forward request: input is a flags byte (bit 0: plain HTTP targets
/// allowed; bits 1-3: the request method) and `name: value` lines. They go through the forward
/// handler's `instructions` and the request and response header filters of `forward::headers`.
pub fn forward_headers(data: &[u8]) {
    let Some((&flags, lines)) = data.split_first() else { return };
    let method = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"][usize::from(flags >> 1) & 7];
    let mut request = test::TestRequest::default()
        .method(actix_web::http::Method::from_bytes(method.as_bytes()).expect("a known method"))
        .uri("/mtls/account/fuzz-account");
    let mut target = http::HeaderMap::new();
    for line in lines.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else { continue };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            request = request.append_header((name, value));
        }
        if let (Ok(name), Ok(value)) = (http::HeaderName::from_bytes(name), http::HeaderValue::from_bytes(value)) {
            target.append(name, value);
        }
    }
    let req = request.to_http_request();
    STATES.with(|states| {
        let _ = forward::instructions(&req, &states[usize::from(flags & 1)]);
    });
    let forwarded = headers::request_headers(req.headers(), None, None);
    for name in forwarded.keys() {
        let name = name.as_str();
        assert!(
            !name.starts_with(headers::LP_PREFIX) && !matches!(name, "authorization" | "host" | "connection" | "transfer-encoding"),
            "{name} reached the target"
        );
    }
    for (name, _) in headers::response_headers(&target) {
        assert!(!matches!(name.as_str(), "connection" | "content-length" | "transfer-encoding"), "{name} reached the caller");
    }
}

/// A `multipart/form-data` body with boundary [`MULTIPART_BOUNDARY`]: input is a byte choosing
/// the delivery (chunk size, and a small limit on odd values) and the body. It goes through
/// `multipart_form::read` and the by-file handlers' `file_and_fields`.
pub fn multipart_form(data: &[u8]) {
    let Some((&delivery, body)) = data.split_first() else { return };
    let limit = if delivery & 1 == 1 { 256 } else { STATES.with(|states| states[0].config.max_body_bytes) };
    let chunk = usize::from(delivery >> 1);
    let req = test::TestRequest::post()
        .uri("/api/account/fuzz-account/certificates/by-file")
        .insert_header(("content-type", format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}")))
        .to_http_request();
    let payload = payload(&req, body, chunk);
    let Ok(form) = block_on(multipart_form::read(&req, payload, limit)) else { return };
    let _ = certificates::file_and_fields(&form);
}

/// A JSON request body: input is a byte choosing the endpoint, then the body, which goes through
/// the body reader and the item parsing of that endpoint's handler.
pub fn json_body(data: &[u8]) {
    let Some((&endpoint, body)) = data.split_first() else { return };
    let req = test::TestRequest::post().to_http_request();
    let payload = payload(&req, body, 0);
    STATES.with(|states| block_on(json_endpoint(&states[0], endpoint % 8, payload)));
}

async fn json_endpoint(state: &AppState, endpoint: u8, payload: web::Payload) {
    let limit = state.config.max_body_bytes;
    match endpoint {
        // Certificates: create (an array of items), replace (one item).
        0 | 1 => {
            let Ok(body) = certificates::read_body(payload, limit).await else { return };
            if endpoint == 0 {
                if let Ok(crate::http::upload_body::CreateBody::Items(items)) =
                    crate::http::upload_body::parse_create(&body, 100)
                {
                    for item in items {
                        let _ = certificates::upload_from_item(item, true);
                    }
                }
            } else if let Ok(item) = crate::http::upload_body::parse_item(&body) {
                let _ = certificates::upload_from_item(item, false);
            }
        }
        _ => {
            let Ok(body) = json_body::read(payload).await else { return };
            json_items(state, endpoint, body).await;
        }
    }
}

async fn json_items(state: &AppState, endpoint: u8, body: Value) {
    match endpoint {
        // Mappings create, over an empty store (no certificate: nothing is written).
        2 => {
            let store = Arc::new(MemoryStore::default());
            let certificates = Arc::new(crate::certificates::CertificateService::new(store.clone()));
            let mappings = crate::mappings::MappingService::new(
                store,
                certificates,
                state.config.services.clone(),
                state.config.allow_plain_http_targets,
            );
            let _ = mappings.create(ACCOUNT, &body).await;
        }
        // Mappings update: the fields of the body against a mapping of service 0.
        3 => {
            let rules = FieldRules {
                account: ACCOUNT,
                services: &state.config.services,
                allow_http: state.config.allow_plain_http_targets,
                current_service: Some(0),
            };
            let _ = MappingFields::parse(&body, &rules);
            if let Some(id) = body.get("id") {
                crate::mappings::model::parse_id(id);
            }
        }
        // Checks: `/mtls/mapping` (v1 keys, v2 echo) and the account-scoped form.
        4 | 5 => {
            let account = (endpoint == 5).then_some(ACCOUNT);
            if let Ok(items) = checks::parse_items(body, account) {
                items.iter().for_each(|item| drop(checks::java_key(item)));
                let found = vec![false; items.len()];
                checks::echo(items, found, "exist");
            }
        }
        // Admin: app keys (`name`) and tokens (`sub`), both with `accounts`.
        _ => {
            let _ = admin::text(&body, if endpoint == 6 { "name" } else { "sub" });
            let _ = admin::accounts(&body);
        }
    }
}
