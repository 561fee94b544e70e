//! The built binary against its own `/openapi.json`, driven by schemathesis (PyPI, installed by
//! `scripts/install-test-deps.sh`): every operation with generated valid and invalid requests,
//! undeclared methods, missing credentials and stateful sequences, checking for server errors,
//! undocumented status codes, response schema and header conformance, rejection of
//! schema-violating input, and that a request without its credential is refused.
//!
//! On both stores. Bounded and deterministic: a fixed seed, a few examples per operation and a time budget.
//! `positive_data_acceptance` is left out: a schema-valid upload is still refused when its bytes
//! are no usable P12 (422), and a schema-valid forward fails at the unreachable target (424),
//! which the schema cannot express. Credentials per operation come from `schemathesis/hooks.py`.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: failing loudly is right")]

mod support;

use std::process::Command;
use std::time::Instant;

use serde_json::{json, Value};
use support::{Gateway, OpenBao, StoreKind};

/// Fixed so a failure reproduces; change it only on purpose.
const SEED: &str = "20261129";
/// Test cases per operation and phase.
const EXAMPLES: &str = "12";
/// Budget for the whole run, well under the suite's patience.
const MAX_SECONDS: &str = "90";

#[tokio::test]
async fn every_operation_conforms_to_openapi_json_on_the_embedded_store() {
    conforms(StoreKind::Embedded).await;
}

#[tokio::test]
async fn every_operation_conforms_to_openapi_json_on_openbao() {
    let bao = OpenBao::start();
    conforms(StoreKind::Vault(&bao)).await;
}

async fn conforms(store: StoreKind<'_>) {
    let gateway = Gateway::spawn_on(store, &[]);
    let base = gateway.base_url();
    let admin = gateway.admin_token().to_owned();
    let token = admin_post(&base, &admin, "/admin/tokens", json!({"sub": "schemathesis", "accounts": ["*"], "ttlSeconds": 3600})).await;
    let key = admin_post(&base, &admin, "/admin/app-keys", json!({"name": "schemathesis", "accounts": ["*"]})).await;
    let text = |v: &Value| v.as_str().unwrap().to_owned();

    let started = Instant::now();
    let output = Command::new("schemathesis")
        .args(["run", &format!("{base}/openapi.json")])
        .args(["--checks", "all", "--exclude-checks", "positive_data_acceptance"])
        .args(["--seed", SEED, "--max-examples", EXAMPLES, "--max-time", MAX_SECONDS])
        .args(["--workers", "1", "--no-color", "--generation-database", "none"])
        .args(["--request-timeout", "20", "--suppress-health-check", "all"])
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("MTLS_ST_ADMIN_TOKEN", &admin)
        .env("MTLS_ST_BEARER", text(&token["accessToken"]))
        .env("MTLS_ST_CONSUMER_KEY", text(&key["consumerKey"]))
        .env("MTLS_ST_CONSUMER_SECRET", text(&key["consumerSecret"]))
        .env("MTLS_ST_TOKEN", text(&key["token"]))
        .env("MTLS_ST_TOKEN_SECRET", text(&key["tokenSecret"]))
        .current_dir(support::TempDir::new("schemathesis").path())
        .output()
        .expect("run schemathesis (scripts/install-test-deps.sh installs it)");
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    eprintln!("schemathesis ran {:.0?}", started.elapsed());
    assert!(output.status.success(), "schemathesis found failures:\n{report}");
    assert!(report.contains("Test cases:"), "schemathesis ran no test case:\n{report}");
    let logs = gateway.logs();
    assert!(!logs.contains("panicked"), "the gateway panicked:\n{logs}");
    let secrets = [admin, text(&token["accessToken"]), text(&key["consumerSecret"]), text(&key["tokenSecret"])];
    for secret in secrets {
        assert!(!logs.contains(&secret), "a credential reached the gateway's log");
    }
}

async fn admin_post(base: &str, admin: &str, path: &str, body: Value) -> Value {
    let response = support::client()
        .post(format!("{base}{path}"))
        .header("Authorization", format!("Bearer {admin}"))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{path}");
    serde_json::from_str(&response.text().await.unwrap()).unwrap()
}
