//! The REST reference at `/docs` on the production route table: the page, its starter script and
//! the vendored Swagger UI files, each with a policy that keeps the page to this origin; anything
//! else under `/docs/` is not found. (tests/browser/rest-docs.test.mjs renders it in Chromium.)

use actix_web::{App, http::StatusCode, middleware, test};
use mtls_server::http;

macro_rules! docs_app {
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
    let value = response.headers().get(name).unwrap_or_else(|| panic!("no {name} header"));
    value.to_str().expect("ascii header").to_owned()
}

#[actix_web::test]
async fn docs_page_loads_swagger_ui_from_this_origin_only() {
    let app = docs_app!();
    let response = test::call_service(&app, test::TestRequest::get().uri("/docs").to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "text/html; charset=utf-8");
    let csp = header(&response, "content-security-policy");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    let body = test::read_body(response).await;
    let page = std::str::from_utf8(&body).expect("utf-8 page");
    for script in ["/docs/swagger-ui-bundle.js", "/docs/rest-docs.js"] {
        assert!(page.contains(&format!(r#"<script src="{script}">"#)), "{page}");
    }
    assert!(!page.contains("http"), "no absolute URL in the page: {page}");
}

#[actix_web::test]
async fn docs_assets_are_served_with_their_types() {
    let app = docs_app!();
    for (uri, content_type, needle) in [
        ("/docs/rest-docs.js", "text/javascript; charset=utf-8", "url: '/openapi.json'"),
        ("/docs/swagger-ui-bundle.js", "text/javascript; charset=utf-8", "SwaggerUIBundle"),
        ("/docs/swagger-ui.css", "text/css; charset=utf-8", ".swagger-ui"),
    ] {
        let response = test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(response.status(), StatusCode::OK, "{uri} (are the assets vendored? scripts/install-build-deps.sh)");
        assert_eq!(header(&response, "content-type"), content_type, "{uri}");
        assert_eq!(header(&response, "x-content-type-options"), "nosniff", "{uri}");
        let body = test::read_body(response).await;
        assert!(String::from_utf8_lossy(&body).contains(needle), "{uri}");
    }
}

#[actix_web::test]
async fn other_docs_paths_are_not_found_and_only_get_is_allowed() {
    let app = docs_app!();
    for uri in ["/docs/index.html", "/docs/swagger-ui-bundle.js.map", "/docs/..%2fCargo.toml", "/docs/package.json"] {
        let response = test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
    }
    let response = test::call_service(&app, test::TestRequest::post().uri("/docs").to_request()).await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}
