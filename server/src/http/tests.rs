//! `/openapi.json` against the routes `configure` registers, in both directions, with no list
//! kept by hand: every resource of the API answers an unregistered method with 405 and an
//! `Allow` header naming the methods it serves (`ops::method_not_allowed`), so the route table
//! can be read from the running app and compared with the document.

use std::collections::BTreeSet;
use std::sync::Arc;

use actix_web::http::Method;
use actix_web::{App, middleware::from_fn, test, web};
use serde_json::Value;

use crate::config::Config;
use crate::mappings::fakes::TestStore;
use crate::state::AppState;

/// A documented path with each `{parameter}` replaced by a value every route accepts.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| if segment.starts_with('{') { "1" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

fn methods(list: &str) -> BTreeSet<String> {
    list.split(',')
        .map(|method| method.trim().to_ascii_lowercase())
        .filter(|method| !method.is_empty())
        .collect()
}

/// The production routes over an in-memory store, and the data directory to remove after.
async fn production_routes() -> (
    impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    std::path::PathBuf,
) {
    let dir = std::env::temp_dir().join(format!("mtls-route-tests-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = web::Data::new(AppState::new(
        Config::for_tests(dir.clone()),
        Arc::new(TestStore::default()),
    ));
    let app = test::init_service(
        App::new()
            .app_data(state)
            .wrap(from_fn(crate::http::request_id::middleware))
            .configure(crate::http::configure),
    )
    .await;
    (app, dir)
}

#[actix_web::test]
async fn openapi_documents_exactly_the_methods_each_route_serves() {
    let (app, dir) = production_routes().await;
    let doc: Value = serde_json::from_str(crate::http::ops::OPENAPI_JSON).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "the document lists the API");

    for (path, operations) in paths {
        let documented: BTreeSet<String> = operations
            .as_object()
            .unwrap()
            .keys()
            .filter(|key| {
                ["get", "put", "post", "delete", "patch", "head", "options"].contains(&key.as_str())
            })
            .cloned()
            .collect();
        let uri = concrete(path);

        // What the route table serves for this path: the Allow header of its 405.
        let response = test::call_service(
            &app,
            test::TestRequest::default().method(Method::TRACE).uri(&uri).to_request(),
        )
        .await;
        assert_eq!(response.status().as_u16(), 405, "TRACE {uri}: {path} is not a route");
        let allow = response
            .headers()
            .get("allow")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let mut served = methods(&allow);
        // HEAD is served wherever GET is (actix answers it from the GET route); the document
        // lists it only where it says something of its own.
        if !documented.contains("head") {
            served.remove("head");
        }
        assert_eq!(served, documented, "{path}: Allow {allow:?} against the document");

        // And each method the Allow header names is routed to a handler (not the unknown-route
        // 404, not a 405): the header cannot claim a method the routes do not have.
        for method in &served {
            let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            let response = test::call_service(
                &app,
                test::TestRequest::default().method(method.clone()).uri(&uri).to_request(),
            )
            .await;
            let status = response.status().as_u16();
            let body: Value = serde_json::from_slice(&test::read_body(response).await)
                .unwrap_or(Value::Null);
            assert_ne!(status, 405, "{method} {uri}");
            assert!(
                !(status == 404 && body["error"]["code"] == "not_found"),
                "{method} {uri} reached the unknown-route handler"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[actix_web::test]
async fn a_path_outside_the_route_table_is_the_unknown_route() {
    let (app, dir) = production_routes().await;
    // The check above would pass vacuously if every path answered 405: this one must not.
    let response = test::call_service(
        &app,
        test::TestRequest::default().method(Method::TRACE).uri("/mtls/no-such-thing").to_request(),
    )
    .await;
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = serde_json::from_slice(&test::read_body(response).await).unwrap();
    assert_eq!(body["error"]["code"], "not_found");
    let _ = std::fs::remove_dir_all(&dir);
}
