//! Test harness of the mapping suite, over the shared `support` harness (real OpenBao, the built
//! `mtls-server` configured only through the SPEC's environment variables): credentials from
//! the admin API, certificates made by `openssl` and uploaded through the API, and an RFC 5849
//! oAuth1 signer (HMAC-SHA1, query parameters signed).

#![allow(dead_code, reason = "each test binary uses part of the harness")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test harness: failing loudly is right")]

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use hmac::{Hmac, KeyInit as _, Mac as _};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use crate::support::{client, random_token, Gateway, OpenBao, StoreKind, TempDir};

/// Which store the gateways use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// OpenBao (Vault API) dev server, shared by every gateway of the world.
    Vault,
    /// The embedded store in a fresh data dir (one process only, by design).
    Embedded,
}

/// A credential to send.
#[derive(Debug, Clone)]
pub enum Cred {
    /// No `Authorization` header.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// An oAuth1 app key.
    OAuth(OAuth1),
}

/// Bearer and oAuth1 credentials for one account.
pub struct Account {
    pub bearer: Cred,
    pub oauth: Cred,
}

/// OpenBao plus gateways over one store.
pub struct World {
    pub openbao: Option<OpenBao>,
    pub gateways: Vec<Api>,
    /// `MTLS_VAULT_PREFIX` of every gateway (Vault only).
    pub prefix: String,
}

impl World {
    /// One gateway with the default TTL.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, 1, Duration::from_secs(300)).await
    }

    /// `instances` gateways (one for the embedded store) with runtime cache `ttl`, sharing one
    /// admin token and, on Vault, one key prefix.
    pub async fn start_with(backend: Backend, instances: usize, ttl: Duration) -> Self {
        Self::start_with_env(backend, instances, ttl, &[]).await
    }

    /// [`World::start_with`] with `extra` settings for every gateway (for example the target
    /// ranges and CA a forwarding test needs).
    pub async fn start_with_env(backend: Backend, instances: usize, ttl: Duration, extra: &[(&str, &str)]) -> Self {
        let openbao = (backend == Backend::Vault).then(OpenBao::start);
        let admin = random_token();
        let ttl = ttl.as_secs().max(1).to_string();
        let prefix = format!("mtls-{}", random_token());
        let mut env: Vec<(&str, &str)> = vec![
            ("MTLS_ADMIN_TOKEN", &admin),
            ("MTLS_RUNTIME_CACHE_TTL_SECONDS", &ttl),
            // The throttle is tested elsewhere; these tests send bursts.
            ("MTLS_RATE_LIMIT_PER_SECOND", "10000"),
            ("MTLS_RATE_LIMIT_BURST", "10000"),
        ];
        if openbao.is_some() {
            env.push(("MTLS_VAULT_PREFIX", &prefix));
        }
        env.extend_from_slice(extra);
        let instances = if backend == Backend::Embedded { 1 } else { instances };
        let gateways = (0..instances)
            .map(|_| {
                let store = match &openbao {
                    Some(bao) => StoreKind::Vault(bao),
                    None => StoreKind::Embedded,
                };
                Api { gateway: Gateway::spawn_on(store, &env), http: client() }
            })
            .collect();
        Self { openbao, gateways, prefix }
    }

    /// A Bearer token and an app key for `account`, from the admin API.
    pub async fn account(&self, account: &str) -> Account {
        let api = &self.gateways[0];
        let admin = Cred::Bearer(api.gateway.admin_token().to_owned());
        let (status, _, token) = api
            .send("POST", "/admin/tokens", &admin, Some(json!({"sub": format!("user-{account}"),
                "accounts": [account], "ttlSeconds": 3600})))
            .await;
        assert_eq!(status, 201, "token: {token}");
        let (status, _, key) = api
            .send("POST", "/admin/app-keys", &admin, Some(json!({"name": format!("key-{account}"), "accounts": [account]})))
            .await;
        assert_eq!(status, 201, "app key: {key}");
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        for secret in ["consumerSecret", "tokenSecret"] {
            crate::support::register_secret(&text(&key[secret]));
        }
        Account {
            bearer: Cred::Bearer(text(&token["accessToken"])),
            oauth: Cred::OAuth(OAuth1 {
                consumer_key: text(&key["consumerKey"]),
                consumer_secret: text(&key["consumerSecret"]),
                token: text(&key["token"]),
                token_secret: text(&key["tokenSecret"]),
            }),
        }
    }

    /// Names in OpenBao under `folder` (a store key folder such as `mappings/...`), read with
    /// the `bao` CLI: proof of what the gateway really wrote. Empty when the folder is absent.
    pub fn vault_list(&self, folder: &str) -> Vec<String> {
        let bao = self.openbao.as_ref().expect("a Vault world");
        let path = format!("{}/{folder}", self.prefix);
        let out = Command::new("bao")
            .args(["kv", "list", "-mount=secret", "-format=json", &path])
            .env("VAULT_ADDR", bao.addr())
            .env("BAO_ADDR", bao.addr())
            .env("VAULT_TOKEN", bao.token())
            .env("BAO_TOKEN", bao.token())
            .output()
            .expect("bao cli");
        serde_json::from_slice(&out.stdout).unwrap_or_default()
    }

    /// Whether OpenBao holds a current value under the store key `key` (`bao kv get`).
    pub fn vault_has(&self, key: &str) -> bool {
        let bao = self.openbao.as_ref().expect("a Vault world");
        let path = format!("{}/{key}", self.prefix);
        let out = Command::new("bao")
            .args(["kv", "get", "-mount=secret", "-format=json", &path])
            .env("VAULT_ADDR", bao.addr())
            .env("BAO_ADDR", bao.addr())
            .env("VAULT_TOKEN", bao.token())
            .env("BAO_TOKEN", bao.token())
            .output()
            .expect("bao cli");
        let value: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        out.status.success() && value["data"]["data"].is_object()
    }

    /// Stops OpenBao (the gateways keep running).
    pub fn stop_openbao(&mut self) {
        if let Some(bao) = self.openbao.as_mut() {
            bao.stop();
        }
    }
}

/// A running gateway and a client for it.
pub struct Api {
    pub gateway: Gateway,
    http: reqwest::Client,
}

impl Api {
    /// A client for `gateway` (one started outside a [`World`]).
    pub fn new(gateway: Gateway) -> Self {
        Self { gateway, http: client() }
    }

    /// Sends `method path` with `cred` and a JSON body.
    pub async fn send(&self, method: &str, path: &str, cred: &Cred, body: Option<Value>) -> (u16, HeaderMap, Value) {
        self.send_with(method, path, cred, body, &[]).await
    }

    /// Same, with extra headers.
    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        cred: &Cred,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, HeaderMap, Value) {
        match body {
            Some(body) => {
                self.send_raw(method, path, cred, "application/json", body.to_string().as_bytes(), headers).await
            }
            None => self.send_request(method, path, cred, None, headers).await,
        }
    }

    /// Sends `body` as is with `content_type` (for bodies that are not JSON), and extra headers.
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        cred: &Cred,
        content_type: &str,
        body: &[u8],
        headers: &[(&str, &str)],
    ) -> (u16, HeaderMap, Value) {
        self.send_request(method, path, cred, Some((content_type, body)), headers).await
    }

    async fn send_request(
        &self,
        method: &str,
        path: &str,
        cred: &Cred,
        body: Option<(&str, &[u8])>,
        headers: &[(&str, &str)],
    ) -> (u16, HeaderMap, Value) {
        let url = format!("{}{}", self.gateway.base_url(), path);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.http.request(method.clone(), &url);
        match cred {
            Cred::None => {}
            Cred::Bearer(token) => request = request.header("Authorization", format!("Bearer {token}")),
            Cred::OAuth(key) => request = request.header("Authorization", key.authorization(method.as_str(), &url)),
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some((content_type, body)) = body {
            request = request.header("Content-Type", content_type).body(body.to_vec());
        }
        let response = request.send().await.expect("request to the gateway");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("response body");
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, headers, body)
    }

    /// Sends `requests` (`[{method, path, json?}]`) signed by requests-oauthlib, a stock oAuth1
    /// client (`tests/oauth1_client.py`); returns `[{status, body, wwwAuthenticate}]`.
    pub fn stock_oauth1(&self, key: &Cred, requests: &[(&str, &str, Option<Value>)]) -> Vec<Value> {
        let Cred::OAuth(key) = key else { panic!("an oAuth1 credential") };
        let requests: Vec<Value> = requests
            .iter()
            .map(|(method, path, body)| {
                let mut item = json!({"method": method, "url": format!("{}{}", self.gateway.base_url(), path)});
                if let Some(body) = body {
                    item["json"] = body.clone();
                }
                item
            })
            .collect();
        let spec = json!({"consumerKey": key.consumer_key, "consumerSecret": key.consumer_secret,
            "token": key.token, "tokenSecret": key.token_secret, "requests": requests});
        crate::stock_oauth1::run(&spec)
    }

    /// Generates a usable P12 with `openssl` and uploads it; returns the certificate id.
    pub async fn upload_certificate(&self, cred: &Cred, account: &str, name: &str) -> u64 {
        let p12 = make_p12(name, "p12-password");
        let body = json!([{"name": name, "displayName": name, "password": "p12-password",
            "p12": base64::engine::general_purpose::STANDARD.encode(p12)}]);
        let (status, _, answer) = self.send("POST", &format!("/mtls/account/{account}/certificates"), cred, Some(body)).await;
        assert_eq!(status, 201, "certificate upload: {answer}");
        answer["successfulySavedCertificates"][0]["id"].as_u64().expect("certificate id")
    }

    /// Asks `POST /mtls/mapping?v=2` about one triple.
    pub async fn check(&self, cred: &Cred, account: &str, service: &str, url: &str) -> bool {
        let items = json!([{"serviceName": service, "accountId": account, "url": url}]);
        let (status, _, body) = self.send("POST", "/mtls/mapping?v=2", cred, Some(items)).await;
        assert_eq!(status, 200, "check: {body}");
        body[0]["doExist"].as_bool().expect("doExist")
    }

    /// The value of one counter line (`name{labels}`) of `/metrics`, 0 when absent.
    pub async fn metric(&self, series: &str) -> u64 {
        let text = self.metrics().await;
        text.lines()
            .filter_map(|line| line.strip_prefix(series))
            .filter_map(|rest| rest.strip_prefix(' '))
            .find_map(|value| value.trim().parse().ok())
            .unwrap_or(0)
    }

    /// `GET /metrics` as text.
    pub async fn metrics(&self) -> String {
        let response = self.http.get(format!("{}/metrics", self.gateway.base_url())).send().await.expect("metrics");
        response.text().await.unwrap_or_default()
    }
}

/// An oAuth1 app key that signs requests with HMAC-SHA1 (RFC 5849 section 3.4).
#[derive(Debug, Clone)]
pub struct OAuth1 {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub token: String,
    pub token_secret: String,
}

impl OAuth1 {
    /// The `Authorization` header for `method url` (query parameters signed, JSON body not).
    pub fn authorization(&self, method: &str, url: &str) -> String {
        static NONCE: AtomicU64 = AtomicU64::new(0);
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let nonce = format!("n{}x{}", timestamp, NONCE.fetch_add(1, Ordering::SeqCst) + u64::from(std::process::id()) * 1_000_000);
        let mut oauth = vec![
            ("oauth_consumer_key".to_owned(), self.consumer_key.clone()),
            ("oauth_nonce".to_owned(), nonce),
            ("oauth_signature_method".to_owned(), "HMAC-SHA1".to_owned()),
            ("oauth_timestamp".to_owned(), timestamp.to_string()),
            ("oauth_version".to_owned(), "1.0".to_owned()),
        ];
        if !self.token.is_empty() {
            oauth.push(("oauth_token".to_owned(), self.token.clone()));
        }
        let (base_url, query) = url.split_once('?').unwrap_or((url, ""));
        let mut params: Vec<(String, String)> = oauth.clone();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params.push((decode(k), decode(v)));
        }
        let mut encoded: Vec<(String, String)> = params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
        encoded.sort();
        let normalized = encoded.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        let base = format!("{}&{}&{}", method.to_uppercase(), encode(base_url), encode(&normalized));
        let key = format!("{}&{}", encode(&self.consumer_secret), encode(&self.token_secret));
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).expect("hmac accepts any key");
        mac.update(base.as_bytes());
        let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        oauth.push(("oauth_signature".to_owned(), signature));
        let fields = oauth.iter().map(|(k, v)| format!("{k}=\"{}\"", encode(v))).collect::<Vec<_>>().join(", ");
        format!("OAuth {fields}")
    }
}

/// RFC 5849 section 3.6 percent-encoding.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        if bytes[i] == b'%'
            && let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A P-256 client certificate (clientAuth, digitalSignature) and key in a P12 made by OpenSSL 3
/// with its defaults (PBES2 AES-256-CBC, HMAC-SHA256 MAC), which the JDK 17 reads.
pub fn make_p12(name: &str, password: &str) -> Vec<u8> {
    let scratch = TempDir::new("p12");
    let dir = scratch.path().to_owned();
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(&dir).output().expect("openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem",
        "-out", "cert.pem", "-days", "30", "-subj", &format!("/CN={name}"),
        "-addext", "keyUsage=critical,digitalSignature", "-addext", "extendedKeyUsage=clientAuth"]);
    run(&["pkcs12", "-export", "-inkey", "key.pem", "-in", "cert.pem", "-name", name,
        "-passout", &format!("pass:{password}"), "-out", "client.p12"]);
    std::fs::read(dir.join("client.p12")).expect("p12 written")
}

