//! `/healthz` and `/readyz` of the built binary on the embedded store and on a real OpenBao; also
//! proves the test harness (`support`) starts, reaches and stops both.

mod support;

use support::{Gateway, OpenBao, StoreKind};

async fn get_status(url: String) -> u16 {
    support::client().get(url).send().await.expect("request").status().as_u16()
}

#[tokio::test]
async fn healthz_and_readyz_answer_on_embedded_store() {
    let gateway = Gateway::spawn_on(StoreKind::Embedded, &[]);
    assert_eq!(get_status(format!("{}/healthz", gateway.base_url())).await, 200);
    assert_eq!(get_status(format!("{}/readyz", gateway.base_url())).await, 200);
}

#[tokio::test]
async fn healthz_and_readyz_answer_on_openbao() {
    let bao = OpenBao::start();
    let gateway = Gateway::spawn_on(StoreKind::Vault(&bao), &[]);
    assert_eq!(get_status(format!("{}/healthz", gateway.base_url())).await, 200);
    assert_eq!(get_status(format!("{}/readyz", gateway.base_url())).await, 200);
}

#[tokio::test]
async fn openbao_stop_refuses_connections_and_start_again_serves() {
    let mut bao = OpenBao::start();
    let health = format!("{}/v1/sys/health", bao.addr());
    assert_eq!(get_status(health.clone()).await, 200);
    bao.stop();
    assert!(support::client().get(&health).send().await.is_err(), "stopped server still answers");
    bao.start_again();
    assert_eq!(get_status(health).await, 200);
}

/// Sends `method path` with `X-Request-Id: id` and the admin token; returns the status.
async fn send_with_id(gateway: &Gateway, method: reqwest::Method, path: &str, id: &str, body: Option<serde_json::Value>) -> u16 {
    let mut request = support::client()
        .request(method, format!("{}{path}", gateway.base_url()))
        .header("X-Request-Id", id)
        .bearer_auth(gateway.admin_token());
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    request.send().await.expect("request").status().as_u16()
}

/// The gateway's log lines that mention `id`, once the line with `needle` has arrived (the
/// edge writes its line after the response is sent).
async fn lines_with(gateway: &Gateway, id: &str, needle: &str) -> Vec<String> {
    for _ in 0..100 {
        let lines: Vec<String> = gateway.logs().lines().filter(|l| l.contains(id)).map(str::to_owned).collect();
        if lines.iter().any(|l| l.contains(needle)) {
            return lines;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no log line with {id} and {needle:?}:\n{}", gateway.logs());
}

#[tokio::test]
async fn json_log_lines_carry_the_request_id_and_failed_requests_get_one_line() {
    let gateway = Gateway::spawn_on(StoreKind::Embedded, &[("MTLS_LOG_FORMAT", "json"), ("RUST_LOG", "info")]);
    // A handler's own line (app key created) carries the request's id.
    let created = format!("log-created-{}", support::random_token());
    let body = serde_json::json!({"name": "logs", "accounts": ["a1"]});
    assert_eq!(send_with_id(&gateway, reqwest::Method::POST, "/admin/app-keys", &created, Some(body)).await, 201);
    let lines = lines_with(&gateway, &created, "app key created").await;
    let line: serde_json::Value = serde_json::from_str(&lines[0]).expect("a JSON log line");
    assert_eq!(line["span"]["request_id"], created.as_str(), "{line}");
    assert_eq!(line["fields"]["message"], "app key created", "{line}");
    // A failed request: exactly one line at the edge, with route template, status and code.
    let failed = format!("log-failed-{}", support::random_token());
    let path = "/mtls/account/secret-account-name/certificates/123";
    assert_eq!(send_with_id(&gateway, reqwest::Method::GET, path, &failed, None).await, 401);
    let lines = lines_with(&gateway, &failed, "request failed").await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line: serde_json::Value = serde_json::from_str(&lines[0]).expect("a JSON log line");
    assert_eq!(line["span"]["request_id"], failed.as_str(), "{line}");
    assert_eq!(line["fields"]["status"], 401, "{line}");
    assert_eq!(line["fields"]["code"], "unauthenticated", "{line}");
    assert_eq!(line["fields"]["method"], "GET", "{line}");
    assert_eq!(line["fields"]["route"], "/mtls/account/{account}/certificates/{id}", "{line}");
    assert!(!lines[0].contains("secret-account-name"), "the raw path reached the log: {line}");
    // Every line of the log is JSON.
    for line in gateway.logs().lines().filter(|l| !l.trim().is_empty()) {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
}

#[tokio::test]
async fn store_failures_are_logged_once_at_the_edge_with_their_cause() {
    let mut bao = OpenBao::start();
    let gateway = Gateway::spawn_on(StoreKind::Vault(&bao), &[("RUST_LOG", "info")]);
    bao.stop();
    let id = format!("log-down-{}", support::random_token());
    let body = serde_json::json!({"sub": "logs", "accounts": ["a1"], "ttlSeconds": 60});
    // Issuing a token reads the signing key from the store: unavailable.
    let status = send_with_id(&gateway, reqwest::Method::POST, "/admin/tokens", &id, Some(body)).await;
    assert_eq!(status, 503);
    let lines = lines_with(&gateway, &id, "request failed").await;
    let failed: Vec<&String> = lines.iter().filter(|l| l.contains("request failed")).collect();
    assert_eq!(failed.len(), 1, "{lines:?}");
    let line = failed[0];
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains(&format!("request{{request_id={id}}}")), "{line}");
    assert!(line.contains("status=503") && line.contains("code=\"store_unavailable\""), "{line}");
    assert!(line.contains("cause=\"store unavailable:"), "{line}");
}
