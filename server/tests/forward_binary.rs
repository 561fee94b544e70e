//! The built `mtls-server` binary, configured only through the SPEC's environment variables,
//! forwarding to a real mTLS target (rustls echo server) on both stores: the mapped certificate
//! is presented, loopback is refused without `MTLS_ALLOWED_TARGET_CIDRS`, the throttle follows
//! `MTLS_RATE_LIMIT_*`, and no secret reaches the logs.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod mtls_targets;
mod support;

use base64::Engine as _;
use mtls_targets::{ClientAuth, EchoTarget, Pki};
use serde_json::{json, Value};
use support::{Gateway, OpenBao, StoreKind};

async fn call(req: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn bearer(gw: &Gateway, account: &str) -> String {
    let (status, _, body) = call(
        support::client()
            .post(format!("{}/admin/tokens", gw.base_url()))
            .bearer_auth(gw.admin_token())
            .header("content-type", "application/json")
            .body(json!({"sub": "fwd", "accounts": [account], "ttlSeconds": 600}).to_string()),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["accessToken"].as_str().unwrap().to_owned()
}

async fn forward_through_binary(store: StoreKind<'_>) {
    let pki = Pki::new();
    let target = EchoTarget::start(&pki.server_cert, &pki.server_key, &pki.ca_pem, ClientAuth::Required);
    let ca = pki.ca_pem.display().to_string();
    let gw = Gateway::spawn_on(store, &[("MTLS_ALLOWED_TARGET_CIDRS", "127.0.0.0/8"), ("MTLS_EXTRA_TARGET_CA_FILE", &ca)]);
    let token = bearer(&gw, "acc").await;
    let cert = pki.client("binary-client", false);
    let (status, _, body) = call(
        support::client()
            .post(format!("{}/mtls/account/acc/certificates", gw.base_url()))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(json!([{"name": "c", "p12": base64::engine::general_purpose::STANDARD.encode(&cert.p12), "password": cert.password}]).to_string()),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["successfulySavedCertificates"][0]["id"].as_u64().unwrap();
    let url = target.url("/hook?q=1");
    let (status, _, body) = call(
        support::client()
            .post(format!("{}/api/account/acc/configuration/ac-common/mtls?v=3.0", gw.base_url()))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(json!([{"certificationId": id, "serviceId": "2", "url": url, "name": "m", "enable": true}]).to_string()),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, headers, echo) = call(
        support::client()
            .put(format!("{}/mtls/account/acc", gw.base_url()))
            .bearer_auth(&token)
            .header("LP-forward-url", &url)
            .header("LP-service-name", "WEBHOOKS")
            .header("LP-authorization-override", "Bearer for-the-target")
            .body("payload"),
    )
    .await;
    assert_eq!(status, 200, "{echo}");
    assert_eq!(headers["lp-certificate-id"], id.to_string().as_str());
    assert_eq!(echo["clientCertSha256"], cert.fingerprint.as_str());
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["bodySample"], "payload");
    assert_eq!(echo["headers"]["authorization"], json!(["Bearer for-the-target"]));
    let logs = gw.logs();
    assert!(!logs.contains(&token) && !logs.contains(&cert.password) && !logs.contains("for-the-target"), "secret in logs");
}

#[tokio::test]
async fn binary_forwards_with_the_mapped_certificate_on_the_embedded_store() {
    forward_through_binary(StoreKind::Embedded).await;
}

#[tokio::test]
async fn binary_forwards_with_the_mapped_certificate_on_openbao() {
    let bao = OpenBao::start();
    forward_through_binary(StoreKind::Vault(&bao)).await;
}

#[tokio::test]
async fn binary_refuses_loopback_without_allowed_cidrs_and_throttles_by_env() {
    let pki = Pki::new();
    let target = EchoTarget::start(&pki.server_cert, &pki.server_key, &pki.ca_pem, ClientAuth::Optional);
    let gw = Gateway::spawn(&[("MTLS_RATE_LIMIT_PER_SECOND", "1"), ("MTLS_RATE_LIMIT_BURST", "4")]);
    // Counted from before the first request: one token refills per second, so on a slow
    // machine a late request may find one more (the bound below allows for exactly that).
    let started = std::time::Instant::now();
    let token = bearer(&gw, "acc").await; // admin endpoints count too: 1 of 4 used
    let (status, _, body) = call(
        support::client().get(format!("{}/mtls/account/acc", gw.base_url())).bearer_auth(&token).header("LP-forward-url", target.url("/")),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "target_not_allowed");
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(support::client().get(format!("{}/mtls/account/acc", gw.base_url())).send().await.unwrap().status().as_u16());
    }
    let refilled = started.elapsed().as_secs() as usize;
    let passed = statuses.iter().filter(|status| **status == 401).count();
    assert!(statuses.iter().all(|status| [401, 429].contains(status)), "{statuses:?}");
    assert_eq!(statuses[..2], [401, 401], "a burst of 4 with two used lets two through");
    assert!(passed <= 2 + refilled, "{statuses:?}: at most {refilled} more refilled");
    if refilled == 0 {
        assert_eq!(statuses, [401, 401, 429, 429], "burst of 4, two already used");
    }
    // A refusal says when to come back (a few tries: a slow machine may refill between them).
    let mut refused = None;
    for _ in 0..5 {
        let resp = support::client().get(format!("{}/mtls/account/acc", gw.base_url())).send().await.unwrap();
        if resp.status() == 429 {
            refused = Some(resp);
            break;
        }
    }
    assert!(refused.expect("one of five calls in a row refused").headers().contains_key("retry-after"));
    for _ in 0..10 {
        assert_eq!(support::client().get(format!("{}/healthz", gw.base_url())).send().await.unwrap().status(), 200);
    }
}
