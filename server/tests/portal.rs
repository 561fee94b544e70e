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
            "from '/pkg/web/index.js'",
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
