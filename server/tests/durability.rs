//! What the API acknowledged is in the store: across two gateway instances sharing one OpenBao,
//! and during an OpenBao outage (503, nothing acknowledged); a killed and restarted gateway is
//! `certificates_api.rs`'s `restart_keeps_everything`. Secrets never reach responses, logs, or
//! the embedded store's disk in plain text.
//!
//! Run: `cargo test -p mtls-server --test durability`.

mod support;

use std::path::Path;

use base64::Engine;
use serde_json::{json, Value};
use support::{Gateway, OpenBao, StoreKind, TempDir};

const ACCOUNT: &str = "le-durable-1";
const P12_PASSWORD: &str = "p12-Password-4f9e";

/// A usable client-certificate P12 protected by this file's password.
fn make_p12(dir: &Path, cn: &str) -> Vec<u8> {
    support::make_client_p12(dir, cn, P12_PASSWORD)
}

/// A client of one gateway with a Bearer token for [`ACCOUNT`].
struct Api {
    base: String,
    http: reqwest::Client,
    token: String,
}

impl Api {
    async fn new(gateway: &Gateway) -> Self {
        let http = support::client();
        let response = http
            .post(format!("{}/admin/tokens", gateway.base_url()))
            .bearer_auth(gateway.admin_token())
            .header("content-type", "application/json")
            .body(json!({"sub": "durability-test", "accounts": [ACCOUNT], "ttlSeconds": 3600}).to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 201, "admin token: {text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        let token = body["accessToken"].as_str().unwrap().to_owned();
        Self { base: gateway.base_url(), http, token }
    }

    /// The same token against another (or a restarted) gateway, on fresh connections: pooled
    /// keep-alive connections to a killed process are dead.
    fn on(&self, gateway: &Gateway) -> Self {
        Self { base: gateway.base_url(), http: support::client(), token: self.token.clone() }
    }

    async fn create_certificate(&self, name: &str, p12: &[u8]) -> (u16, Value) {
        let b64 = base64::engine::general_purpose::STANDARD.encode(p12);
        let body = json!([{"name": name, "p12": b64, "password": P12_PASSWORD}]);
        let request =
            self.http.post(self.url("/certificates")).header("content-type", "application/json").body(body.to_string());
        self.send(request).await
    }

    async fn list_certificates(&self) -> (u16, Value) {
        self.send(self.http.get(self.url("/certificates"))).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.bearer_auth(&self.token).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    fn url(&self, path: &str) -> String {
        format!("{}/mtls/account/{ACCOUNT}{path}", self.base)
    }
}

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> =
        list.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect();
    names.sort();
    names
}

fn assert_no_secret(text: &str, p12: &[u8]) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(p12);
    assert!(!text.contains(P12_PASSWORD), "P12 password leaked");
    assert!(!text.contains(&b64[..64]), "P12 bytes leaked");
}

#[tokio::test]
async fn embedded_disk_holds_no_secret_in_plain_text() {
    let gateway = Gateway::spawn_on(StoreKind::Embedded, &[]);
    let dir = TempDir::new("p12");
    let p12 = make_p12(dir.path(), "on-disk");
    let api = Api::new(&gateway).await;
    assert_eq!(api.create_certificate("on-disk-name", &p12).await.0, 201);
    for entry in std::fs::read_dir(gateway.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        for needle in [P12_PASSWORD.as_bytes(), &p12[p12.len() - 64..], b"on-disk-name", b"BEGIN"] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{} holds plain text", path.display());
        }
    }
}

#[tokio::test]
async fn two_instances_on_one_openbao_share_data_and_tokens() {
    let bao = OpenBao::start();
    let prefix = format!("shared-{}", support::random_token());
    let admin = support::random_token();
    let env = [("MTLS_VAULT_PREFIX", prefix.as_str()), ("MTLS_ADMIN_TOKEN", admin.as_str())];
    let first = Gateway::spawn_on(StoreKind::Vault(&bao), &env);
    let second = Gateway::spawn_on(StoreKind::Vault(&bao), &env);
    let dir = TempDir::new("p12");
    let p12 = make_p12(dir.path(), "shared");
    let on_first = Api::new(&first).await;
    let on_second = on_first.on(&second);
    assert_eq!(on_first.create_certificate("shared", &p12).await.0, 201);
    let (status, list) = on_second.list_certificates().await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(names(&list), ["shared"]);
    // Racing creates of one name through both instances: exactly one wins.
    let other = make_p12(dir.path(), "race");
    let (a, b) = tokio::join!(on_first.create_certificate("race", &other), on_second.create_certificate("race", &other));
    let won = |r: &(u16, Value)| r.0 == 201 && r.1["successfulySavedCertificates"].as_array().is_some_and(|s| s.len() == 1);
    assert!(won(&a) != won(&b), "both or neither won: {a:?} {b:?}");
    let (_, list) = on_first.list_certificates().await;
    assert_eq!(names(&list), ["race", "shared"]);
}

#[tokio::test]
async fn openbao_outage_answers_503_and_acknowledges_nothing() {
    let mut bao = OpenBao::start();
    let gateway = Gateway::spawn_on(StoreKind::Vault(&bao), &[]);
    let dir = TempDir::new("p12");
    let p12 = make_p12(dir.path(), "outage");
    let api = Api::new(&gateway).await;
    assert_eq!(api.create_certificate("before", &p12).await.0, 201);
    bao.stop();
    let (status, body) = api.create_certificate("during", &p12).await;
    assert!(
        status == 503 || (status == 201 && body["successfulySavedCertificates"].as_array().is_some_and(|s| s.is_empty())),
        "a write during the outage must not be acknowledged: {status} {body}"
    );
    if status == 503 {
        assert_eq!(body["error"]["code"], "store_unavailable", "{body}");
        assert!(body["requestId"].is_string(), "{body}");
    }
    let (status, body) = api.list_certificates().await;
    assert_eq!(status, 503, "{body}");
    assert_no_secret(&body.to_string(), &p12);
    assert!(!gateway.logs().contains(bao.token()));
    assert_no_secret(&gateway.logs(), &p12);
}
