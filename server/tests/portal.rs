//! The portal routes on the production route table: `/` is `www/index.html`, `/portal/` serves
//! `www/`, `/pkg/` serves the built npm package, with the portal's Content-Security-Policy, and no
//! path leaves those directories.

use actix_web::{App, http::StatusCode, middleware, test};
use mtls_server::http;

macro_rules! portal_app {
    () => {
        test::init_service(
            App::new()
                .wrap(middleware::from_fn(http::request_id::middleware))
                .configure(http::configure),
        )
        .await
    };
}

fn header(response: &actix_web::dev::ServiceResponse, name: &str) -> String {
    let value = response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"));
    value.to_str().expect("ascii header").to_owned()
}

#[actix_web::test]
async fn index_is_the_portal_page_with_its_security_policy() {
    let app = portal_app!();
    let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "content-type"),
        "text/html; charset=utf-8"
    );
    let csp = header(&response, "content-security-policy");
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let body = test::read_body(response).await;
    let page = std::str::from_utf8(&body).expect("utf-8 page");
    assert!(page.contains(r#"<script type="module" src="/portal/app.js">"#));
}

#[actix_web::test]
async fn portal_assets_have_their_mime_types() {
    let app = portal_app!();
    for (uri, mime, needle) in [
        (
            "/portal/app.js",
            "text/javascript; charset=utf-8",
            "from './gateway.js'",
        ),
        (
            "/portal/gateway.js",
            "text/javascript; charset=utf-8",
            "from '/pkg/client/index.js'",
        ),
        (
            "/portal/sdk.js",
            "text/javascript; charset=utf-8",
            "'/pkg/web/index.js'",
        ),
        ("/portal/style.css", "text/css; charset=utf-8", ".verdict"),
    ] {
        let response =
            test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        assert_eq!(header(&response, "content-type"), mime, "{uri}");
        let body = test::read_body(response).await;
        assert!(
            std::str::from_utf8(&body).expect("utf-8").contains(needle),
            "{uri}"
        );
    }
}

#[actix_web::test]
async fn paths_outside_the_portal_are_not_found() {
    let app = portal_app!();
    for uri in [
        "/portal/../Cargo.toml",
        "/portal/%2e%2e/Cargo.toml",
        "/portal/..%2fCargo.toml",
        "/pkg/../server/Cargo.toml",
        "/pkg/.%2e/Cargo.toml",
        "/portal/.hidden",
        "/portal/",
        "/portal/missing.js",
        "/pkg/no/such/file.wasm",
    ] {
        let response =
            test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
        let body: serde_json::Value = test::read_body_json(response).await;
        assert_eq!(body["error"]["code"], "not_found", "{uri}");
        assert!(body["requestId"].is_string(), "{uri}");
    }
}

/// `GET uri` with `headers`.
async fn get_with(
    app: &impl actix_web::dev::Service<actix_http::Request, Response = actix_web::dev::ServiceResponse, Error = actix_web::Error>,
    uri: &str,
    headers: &[(&str, &str)],
) -> actix_web::dev::ServiceResponse {
    let mut request = test::TestRequest::get().uri(uri);
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    test::call_service(app, request.to_request()).await
}

#[actix_web::test]
async fn assets_are_served_compressed_with_validators_and_revalidate_to_304() {
    use std::io::Read as _;
    let app = portal_app!();
    let original = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../www/app.js")).expect("www/app.js");

    let brotli = get_with(&app, "/portal/app.js", &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(brotli.status(), StatusCode::OK);
    assert_eq!(header(&brotli, "content-encoding"), "br");
    assert_eq!(header(&brotli, "vary"), "Accept-Encoding");
    assert_eq!(header(&brotli, "cache-control"), "no-cache");
    let brotli_tag = header(&brotli, "etag");
    let body = test::read_body(brotli).await;
    assert!(body.len() < original.len() / 2, "brotli saved too little: {} of {}", body.len(), original.len());
    let mut decoded = Vec::new();
    brotli::BrotliDecompress(&mut body.as_ref(), &mut decoded).expect("valid brotli");
    assert_eq!(decoded, original);

    // Brotli refused with q=0: gzip.
    let gzip = get_with(&app, "/portal/app.js", &[("accept-encoding", "br;q=0, gzip")]).await;
    assert_eq!(header(&gzip, "content-encoding"), "gzip");
    let gzip_tag = header(&gzip, "etag");
    let body = test::read_body(gzip).await;
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(body.as_ref()).read_to_end(&mut decoded).expect("valid gzip");
    assert_eq!(decoded, original);

    // No Accept-Encoding: the file as it is.
    let identity = get_with(&app, "/portal/app.js", &[]).await;
    assert!(identity.headers().get("content-encoding").is_none());
    let identity_tag = header(&identity, "etag");
    assert_eq!(test::read_body(identity).await.as_ref(), original.as_slice());
    // One strong tag per encoding.
    assert!(identity_tag.starts_with('"') && identity_tag.ends_with('"'), "{identity_tag}");
    assert_ne!(identity_tag, gzip_tag);
    assert_ne!(identity_tag, brotli_tag);

    // A repeat visit revalidates: 304 without a body, for the tag of any encoding.
    for tag in [&brotli_tag, &gzip_tag, &identity_tag] {
        let again = get_with(&app, "/portal/app.js", &[("accept-encoding", "br"), ("if-none-match", tag)]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{tag}");
        assert_eq!(header(&again, "etag"), brotli_tag);
        assert!(test::read_body(again).await.is_empty());
    }
    // Another file's tag (or a changed file) gets the content.
    let other = get_with(&app, "/portal/style.css", &[("accept-encoding", "br")]).await;
    let other_tag = header(&other, "etag");
    let changed = get_with(&app, "/portal/app.js", &[("if-none-match", &other_tag)]).await;
    assert_eq!(changed.status(), StatusCode::OK);
}
