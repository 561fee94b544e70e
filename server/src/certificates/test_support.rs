//! Fixtures shared by the unit tests of the certificate and certificate-request endpoints: a
//! fresh [`AppState`] over an in-memory store with a Bearer token for `acc1`, the production
//! routes ([`app!`]), one call helper and multipart bodies. Each suite adds its own fixture
//! methods (P12 files, CAs) in an `impl Fixture` block of its own.

use std::sync::Arc;

use actix_web::{test, web};
use serde_json::Value;

use crate::config::Config;
use crate::mappings::fakes::TestStore;
use crate::state::AppState;

/// One test's state: its own store, temporary directory (removed on drop) and token.
pub(crate) struct Fixture {
    pub(crate) state: web::Data<AppState>,
    pub(crate) store: Arc<TestStore>,
    pub(crate) dir: std::path::PathBuf,
    pub(crate) bearer: String,
}

impl Fixture {
    pub(crate) async fn new() -> Self {
        Self::with_config(|_| {}).await
    }

    /// A fixture whose configuration `edit` changes from the test defaults.
    pub(crate) async fn with_config(edit: impl FnOnce(&mut Config)) -> Self {
        let dir = std::env::temp_dir().join(format!("mtls-cert-tests-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Arc::new(TestStore::default());
        let mut config = Config::for_tests(dir.clone());
        edit(&mut config);
        let state = web::Data::new(AppState::new(config, store.clone()));
        let token = state
            .auth
            .issue_token("tester", &["acc1".to_owned()], 600)
            .await
            .unwrap();
        Self {
            state,
            store,
            dir,
            bearer: format!("Bearer {token}"),
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The production routes behind the request-id middleware, over `$fixture`'s state.
macro_rules! app {
    ($fixture:expr) => {
        actix_web::test::init_service(
            actix_web::App::new()
                .app_data($fixture.state.clone())
                .wrap(actix_web::middleware::from_fn(crate::http::request_id::middleware))
                .configure(crate::http::configure),
        )
        .await
    };
}
pub(crate) use app;

/// Sends `req`; answers the status, the body as JSON (`Null` when it is not JSON) and as text.
pub(crate) async fn call(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    req: test::TestRequest,
) -> (u16, Value, String) {
    let resp = test::call_service(app, req.to_request()).await;
    let status = resp.status().as_u16();
    let body = test::read_body(resp).await;
    let text = String::from_utf8_lossy(&body).into_owned();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
        text,
    )
}

/// A `multipart/form-data` body of `parts` whose `file` part is a P12; answers the content type
/// and the body.
pub(crate) fn multipart(parts: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    multipart_with_file(parts, "client.p12", "application/x-pkcs12")
}

/// A `multipart/form-data` body of `parts` whose `file` part is named `file_name` and typed
/// `file_type`; answers the content type and the body.
pub(crate) fn multipart_with_file(
    parts: &[(&str, &[u8])],
    file_name: &str,
    file_type: &str,
) -> (String, Vec<u8>) {
    let boundary = "----mtlsboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, data) in parts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes(),
        );
        if *name == "file" {
            body.extend_from_slice(
                format!("; filename=\"{file_name}\"\r\nContent-Type: {file_type}").as_bytes(),
            );
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
