//! The handshake probe (SPEC section 12), `POST /mtls/account/{a}/probe`, against real TLS peers
//! on 127.0.0.1: rustls echo targets that require a client certificate (listing the test CA, or
//! the issuers a test gives), accept one, or never ask; targets with untrusted, expired and
//! misnamed certificates; and Debian nginx (`ssl_verify_client on`) as a second implementation.
//! Every problem code, and forwarding's 424 when no mapping matched. The gateway runs its
//! production routes in this process over the memory store; the certificate choice is also
//! checked through the built binary on the embedded store and on OpenBao.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod mtls_targets;
mod stock_oauth1;
mod support;

use std::time::Duration;

use base64::Engine as _;
use mtls_targets::{config_for, ClientAuth, EchoTarget, NginxTarget, Pki, TestGateway};
use serde_json::{json, Value};

const ACCOUNT: &str = "probe-acc";
const TEST_CA: &str = "CN=Forward Test CA";

struct Setup {
    pki: Pki,
    gateway: TestGateway,
    token: String,
}

async fn setup(tweak: impl FnOnce(&mut mtls_server::config::Config)) -> Setup {
    let pki = Pki::new();
    let mut config = config_for(&pki);
    tweak(&mut config);
    let gateway = TestGateway::start(config);
    let token = gateway.token(&[ACCOUNT]).await;
    Setup { pki, gateway, token }
}

impl Setup {
    /// `POST .../probe` with `body` and the account's Bearer token: status and JSON body.
    async fn probe(&self, body: Value) -> (u16, Value) {
        send(mtls_targets::client().post(self.probe_url()).bearer_auth(&self.token).json_body(&body)).await
    }

    fn probe_url(&self) -> String {
        format!("{}/mtls/account/{ACCOUNT}/probe", self.gateway.base)
    }

    fn target(&self, auth: ClientAuth) -> EchoTarget {
        EchoTarget::start(&self.pki.server_cert, &self.pki.server_key, &self.pki.ca_pem, auth)
    }

    /// A new client certificate (test CA, or rogue) uploaded as `name`; its id.
    async fn upload(&self, name: &str, rogue: bool) -> (u64, mtls_targets::ClientCert) {
        let cert = self.pki.client(&format!("probe-{name}"), rogue);
        (self.gateway.upload(&self.token, ACCOUNT, name, &cert).await, cert)
    }
}

/// A JSON request body (this reqwest has no `json` feature).
trait JsonBody {
    fn json_body(self, body: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, body: &Value) -> Self {
        self.header("content-type", "application/json").body(body.to_string())
    }
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The report's problem code (`null` when ok), checking `ok` agrees.
fn problem(report: &Value) -> &str {
    assert_eq!(report["ok"], report["problem"].is_null(), "{report}");
    report["problem"]["code"].as_str().unwrap_or("none")
}

#[tokio::test]
async fn a_mapped_certificate_the_target_accepts_is_ok() {
    let s = setup(|_| {}).await;
    let target = s.target(ClientAuth::Required);
    let (id, cert) = s.upload("good", false).await;
    let url = target.url("/hook?x=1");
    s.gateway.map(&s.token, ACCOUNT, id, "IDP", &url).await;

    for body in [json!({"url": url, "serviceName": "IDP"}), json!({"url": url, "serviceName": 1}), json!({"url": url})] {
        let (status, report) = s.probe(body.clone()).await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(problem(&report), "none", "{body}: {report}");
        assert_eq!(report["url"], url.as_str());
        assert_eq!(report["certificateId"], id);
        assert_eq!(report["clientCertificateRequested"], true);
        assert_eq!(report["acceptableIssuers"], json!([TEST_CA]));
        assert_eq!(report["httpStatus"], 200);
        let tls = &report["tls"];
        assert_eq!(tls["version"], "TLSv1.3");
        let suite = tls["cipherSuite"].as_str().unwrap();
        assert!(["TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"].contains(&suite), "{tls}");
        let server = &tls["serverCertificate"];
        assert_eq!(server["subject"], "CN=127.0.0.1");
        assert_eq!(server["issuer"], TEST_CA);
        assert_eq!(server["fingerprintSha256"], mtls_targets::fingerprint_of_pem(&s.pki.server_cert).as_str());
        assert!(server["notAfter"].as_str().unwrap().ends_with('Z'), "{server}");
        let text = report.to_string();
        assert!(!text.contains(&cert.password) && !text.contains(&s.token), "a secret in the report");
    }

    // The certificate the caller names is presented for any URL, mapped or not.
    let (status, report) = s.probe(json!({"url": target.url("/unmapped"), "certificationId": id})).await;
    assert_eq!((status, problem(&report)), (200, "none"), "{report}");
    assert_eq!(report["certificateId"], id);
}

#[tokio::test]
async fn no_mapping_is_reported_and_forwarding_says_so_too() {
    let s = setup(|_| {}).await;
    let strict = s.target(ClientAuth::Required);
    let (status, report) = s.probe(json!({"url": strict.url("/nothing-mapped")})).await;
    assert_eq!((status, problem(&report)), (200, "no_mapping"), "{report}");
    assert_eq!(report["certificateId"], Value::Null);
    assert_eq!(report["clientCertificateRequested"], true);
    assert_eq!(report["acceptableIssuers"], json!([TEST_CA]));
    assert_eq!(report["problem"]["alert"], "certificate_required");
    assert_eq!(report["httpStatus"], Value::Null);
    let message = report["problem"]["message"].as_str().unwrap();
    assert!(message.contains("no mapping matched") && message.contains("no client certificate was presented"), "{message}");

    // A mapping for another service does not count when the probe names a service.
    let (id, _) = s.upload("webhooks-only", false).await;
    s.gateway.map(&s.token, ACCOUNT, id, "WEBHOOKS", &strict.url("/svc")).await;
    let (_, report) = s.probe(json!({"url": strict.url("/svc"), "serviceName": "IDP"})).await;
    assert_eq!(problem(&report), "no_mapping", "{report}");
    let (_, report) = s.probe(json!({"url": strict.url("/svc"), "serviceName": "WEBHOOKS"})).await;
    assert_eq!((problem(&report), &report["certificateId"]), ("none", &json!(id)), "{report}");

    let open = s.target(ClientAuth::NotRequested);
    let (_, report) = s.probe(json!({"url": open.url("/")})).await;
    assert_eq!(problem(&report), "no_mapping", "{report}");
    assert_eq!(report["clientCertificateRequested"], false);
    assert_eq!(report["acceptableIssuers"], json!([]));
    assert_eq!(report["httpStatus"], 200, "the target answered HEAD");

    // Forwarding's 424: "none presented, no mapping" is told apart from a refused certificate.
    let forward = |url: String| s.gateway.forward(reqwest::Method::GET, ACCOUNT, &s.token, &url).send();
    let response = forward(strict.url("/nothing-mapped")).await.unwrap();
    assert_eq!(response.status(), 424);
    let header = |r: &reqwest::Response, name: &str| r.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header(&response, "lp-error-from-transport"), "tls");
    let message = header(&response, "lp-message-from-transport");
    assert!(message.ends_with("none was presented because no mapping matched"), "{message}");
    assert!(!message.contains("refused the client certificate"), "{message}");
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("no mapping matched"), "{body}");

    let (rogue, _) = s.upload("rogue-forward", true).await;
    s.gateway.map(&s.token, ACCOUNT, rogue, "IDP", &strict.url("/rejects")).await;
    let response = forward(strict.url("/rejects")).await.unwrap();
    assert_eq!(response.status(), 424);
    assert_eq!(header(&response, "lp-error-from-transport"), "tls");
    assert!(header(&response, "lp-message-from-transport").ends_with("target refused the client certificate"));
}

#[tokio::test]
async fn issuer_not_accepted_rejected_and_not_requested() {
    let s = setup(|_| {}).await;
    let (rogue, _) = s.upload("rogue", true).await;

    // The target lists the test CA; the chain is the rogue CA's.
    let strict = s.target(ClientAuth::Required);
    let (_, report) = s.probe(json!({"url": strict.url("/"), "certificationId": rogue})).await;
    assert_eq!(problem(&report), "issuer_not_accepted", "{report}");
    assert_eq!(report["acceptableIssuers"], json!([TEST_CA]));
    assert_eq!(report["problem"]["alert"], "unknown_ca", "{report}");
    assert_eq!(report["certificateId"], rogue);

    // The target lists the rogue CA (and the chain matches) but trusts only the test CA.
    let rogue_ca = s.pki.rogue_ca_pem();
    let misleading = EchoTarget::start_with_issuers(
        &s.pki.server_cert,
        &s.pki.server_key,
        &s.pki.ca_pem,
        ClientAuth::Required,
        Some(&[rogue_ca.as_path()]),
    );
    let (_, report) = s.probe(json!({"url": misleading.url("/"), "certificationId": rogue})).await;
    assert_eq!(problem(&report), "client_certificate_rejected", "{report}");
    assert_eq!(report["acceptableIssuers"], json!(["CN=Rogue CA"]));
    assert_eq!(report["problem"]["alert"], "unknown_ca");
    assert!(report["problem"]["message"].as_str().unwrap().contains("refused the client certificate (alert unknown_ca)"));

    // A target that lists no issuer takes any chain to its verifier.
    let (good, _) = s.upload("good", false).await;
    let unlisted = EchoTarget::start_with_issuers(&s.pki.server_cert, &s.pki.server_key, &s.pki.ca_pem, ClientAuth::Required, Some(&[]));
    let (_, report) = s.probe(json!({"url": unlisted.url("/"), "certificationId": good})).await;
    assert_eq!((problem(&report), &report["acceptableIssuers"]), ("none", &json!([])), "{report}");

    let open = s.target(ClientAuth::NotRequested);
    let (_, report) = s.probe(json!({"url": open.url("/"), "certificationId": good})).await;
    assert_eq!(problem(&report), "client_certificate_not_requested", "{report}");
    assert_eq!((&report["clientCertificateRequested"], &report["httpStatus"]), (&json!(false), &json!(200)));
}

/// Under TLS 1.2 the acceptable issuers come in the handshake's CertificateRequest and a refusal
/// ends the handshake itself (TLS 1.3 refuses after it): the same problems.
#[tokio::test]
async fn tls_1_2_targets_give_the_same_answers() {
    let s = setup(|_| {}).await;
    let (good, _) = s.upload("good", false).await;
    let (rogue, _) = s.upload("rogue", true).await;
    let tls12 = |issuers: Option<&[&std::path::Path]>| {
        EchoTarget::start_with_versions(
            &s.pki.server_cert,
            &s.pki.server_key,
            &s.pki.ca_pem,
            ClientAuth::Required,
            issuers,
            &[&rustls::version::TLS12],
        )
    };
    let strict = tls12(None);
    let (_, report) = s.probe(json!({"url": strict.url("/"), "certificationId": good})).await;
    assert_eq!((problem(&report), &report["tls"]["version"]), ("none", &json!("TLSv1.2")), "{report}");
    assert!(report["tls"]["cipherSuite"].as_str().unwrap().starts_with("TLS_ECDHE_"), "{report}");
    assert_eq!(report["acceptableIssuers"], json!([TEST_CA]));

    let (_, report) = s.probe(json!({"url": strict.url("/"), "certificationId": rogue})).await;
    assert_eq!(problem(&report), "issuer_not_accepted", "{report}");
    assert_eq!(report["tls"]["version"], Value::Null, "refused inside the handshake: {report}");
    assert_eq!(report["tls"]["serverCertificate"]["subject"], "CN=127.0.0.1");

    let rogue_ca = s.pki.rogue_ca_pem();
    let misleading = tls12(Some(&[rogue_ca.as_path()]));
    let (_, report) = s.probe(json!({"url": misleading.url("/"), "certificationId": rogue})).await;
    assert_eq!(problem(&report), "client_certificate_rejected", "{report}");
    assert!(report["problem"]["alert"].is_string(), "{report}");

    let (_, report) = s.probe(json!({"url": strict.url("/unmapped")})).await;
    assert_eq!(problem(&report), "no_mapping", "{report}");
    assert_eq!(report["clientCertificateRequested"], true);
    // Forwarding there: the 424 says no certificate was presented.
    let response = s.gateway.forward(reqwest::Method::GET, ACCOUNT, &s.token, &strict.url("/unmapped")).send().await.unwrap();
    assert_eq!(response.status(), 424);
    let message = response.headers()["lp-message-from-transport"].to_str().unwrap().to_owned();
    assert!(message.contains("no client certificate was presented") || message.contains("none was presented"), "{message}");
}

/// The probe goes through the throttle like every API route.
#[tokio::test]
async fn probes_are_throttled() {
    let s = setup(|c| {
        c.throttle.rate_limit_per_second = 1;
        c.throttle.rate_limit_burst = 2;
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        // Refused by the guard at once: no lookup or connection stretches the second.
        statuses.push(s.probe(json!({"url": "https://10.1.2.3/"})).await.0);
    }
    assert_eq!(statuses, [403, 403, 429]);
}

#[tokio::test]
async fn untrusted_server_certificates_say_why() {
    let s = setup(|_| {}).await;
    let (good, _) = s.upload("good", false).await;
    let rogue = EchoTarget::start(&s.pki.rogue_server_cert, &s.pki.rogue_server_key, &s.pki.ca_pem, ClientAuth::Required);
    let (expired_cert, expired_key) = s.pki.expired_server();
    let expired = EchoTarget::start(&expired_cert, &expired_key, &s.pki.ca_pem, ClientAuth::Required);
    let (misnamed_cert, misnamed_key) = s.pki.server_for_name("other.example");
    let misnamed = EchoTarget::start(&misnamed_cert, &misnamed_key, &s.pki.ca_pem, ClientAuth::Required);
    for (target, reason, subject, issuer) in [
        (&rogue, "unknown_issuer", "CN=127.0.0.1", "CN=Rogue CA"),
        (&expired, "expired", "CN=127.0.0.1", TEST_CA),
        (&misnamed, "name_mismatch", "CN=other.example", TEST_CA),
    ] {
        let (status, report) = s.probe(json!({"url": target.url("/"), "certificationId": good})).await;
        assert_eq!((status, problem(&report)), (200, "server_certificate_untrusted"), "{report}");
        assert_eq!(report["problem"]["reason"], reason, "{report}");
        let server = &report["tls"]["serverCertificate"];
        assert_eq!((server["subject"].as_str(), server["issuer"].as_str()), (Some(subject), Some(issuer)), "{report}");
        assert_eq!(report["tls"]["version"], Value::Null, "the handshake did not complete");
        assert_eq!(report["httpStatus"], Value::Null);
    }
}

#[tokio::test]
async fn dns_connect_timeout_and_the_guard() {
    let s = setup(|c| {
        c.forward.idle_timeout = Duration::from_millis(1500);
        c.forward.connect_timeout = Duration::from_millis(1500);
    })
    .await;
    let (_, report) = s.probe(json!({"url": "https://no-such-host.invalid/?t=secret-query"})).await;
    assert_eq!(problem(&report), "dns", "{report}");
    assert!(!report["problem"]["message"].as_str().unwrap().contains("secret-query"));
    assert_eq!(report["tls"], Value::Null);

    let port = mtls_targets::free_port();
    let (_, report) = s.probe(json!({"url": format!("https://127.0.0.1:{port}/")})).await;
    assert_eq!(problem(&report), "connect", "{report}");

    // The target answers HEAD after 5 s; the limit is 1.5 s.
    let (good, _) = s.upload("good", false).await;
    let slow = s.target(ClientAuth::Required);
    let (_, report) = s.probe(json!({"url": slow.url("/slow"), "certificationId": good})).await;
    assert_eq!(problem(&report), "timeout", "{report}");
    assert_eq!(report["clientCertificateRequested"], true);
    assert_eq!(report["tls"]["version"], "TLSv1.3", "the handshake completed: {report}");

    // The guard refuses as forwarding does (10/8 is not allowed here).
    let (status, body) = s.probe(json!({"url": "https://10.1.2.3/"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("target_not_allowed")), "{body}");
}

#[tokio::test]
async fn nginx_lists_its_client_ca_and_answers_http() {
    if mtls_targets::nginx_binary().is_none() {
        panic!("nginx is installed by scripts/install-test-deps.sh");
    }
    let s = setup(|_| {}).await;
    let nginx = NginxTarget::start(&s.pki.server_cert, &s.pki.server_key, &s.pki.ca_pem, None);
    let (good, _) = s.upload("good", false).await;
    let (rogue, _) = s.upload("rogue", true).await;
    s.gateway.map(&s.token, ACCOUNT, good, "IDP", &nginx.url("/mapped")).await;

    let (_, report) = s.probe(json!({"url": nginx.url("/mapped"), "serviceName": "IDP"})).await;
    assert_eq!(problem(&report), "none", "{report}");
    assert_eq!((&report["httpStatus"], &report["acceptableIssuers"]), (&json!(200), &json!([TEST_CA])));
    assert_eq!(report["certificateId"], good);

    // nginx completes the handshake and answers 400 to a certificate it does not trust.
    let (_, report) = s.probe(json!({"url": nginx.url("/mapped"), "certificationId": rogue})).await;
    assert_eq!(problem(&report), "issuer_not_accepted", "{report}");
    assert_eq!(report["httpStatus"], 400);

    let (_, report) = s.probe(json!({"url": nginx.url("/unmapped")})).await;
    assert_eq!(problem(&report), "no_mapping", "{report}");
    assert_eq!((&report["clientCertificateRequested"], &report["httpStatus"]), (&json!(true), &json!(400)));
    assert_eq!(report["acceptableIssuers"], json!([TEST_CA]));

    let untrusted = NginxTarget::start(&s.pki.rogue_server_cert, &s.pki.rogue_server_key, &s.pki.ca_pem, None);
    let (_, report) = s.probe(json!({"url": untrusted.url("/"), "certificationId": good})).await;
    assert_eq!((problem(&report), &report["problem"]["reason"]), ("server_certificate_untrusted", &json!("unknown_issuer")), "{report}");
    assert_eq!(report["tls"]["serverCertificate"]["issuer"], "CN=Rogue CA");
}

#[tokio::test]
async fn requests_are_authorized_and_checked() {
    let s = setup(|_| {}).await;
    let target = s.target(ClientAuth::Required);
    let url = target.url("/");
    let c = mtls_targets::client();

    let response = c.post(s.probe_url()).json_body(&json!({"url": url})).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains("Bearer") && challenge.contains("OAuth"), "{challenge}");
    let other = s.gateway.token(&["someone-else"]).await;
    let (status, body) = send(c.post(s.probe_url()).bearer_auth(&other).json_body(&json!({"url": url}))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));
    let (status, body) = send(c.get(s.probe_url()).bearer_auth(&s.token)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (405, Some("method_not_allowed")));

    for (body, status, code) in [
        (json!(["not an object"]), 400, "malformed_request"),
        (json!({}), 400, "malformed_request"),
        (json!({"url": 7}), 400, "malformed_request"),
        (json!({"url": url, "certificationId": "7"}), 400, "malformed_request"),
        (json!({"url": url, "certificationId": -1}), 400, "malformed_request"),
        (json!({"url": url, "serviceName": []}), 400, "malformed_request"),
        (json!({"url": "not a url"}), 422, "invalid_url"),
        (json!({"url": "http://127.0.0.1:9/plain"}), 422, "invalid_url"),
        (json!({"url": url, "serviceName": "NO_SUCH_SERVICE"}), 422, "unknown_service"),
        (json!({"url": url, "certificationId": 999_999}), 404, "certificate_not_found"),
    ] {
        let (got, answer) = s.probe(body.clone()).await;
        assert_eq!((got, answer["error"]["code"].as_str()), (status, Some(code)), "{body}: {answer}");
    }
    let (status, body) = send(c.post(s.probe_url()).bearer_auth(&s.token).header("content-type", "application/json").body("{")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("malformed_request")));

    // Another account's certificate is not found, whatever its id.
    let other_account = s.gateway.token(&["other-acc"]).await;
    let foreign = s.pki.client("probe-foreign", false);
    let foreign_id = s.gateway.upload(&other_account, "other-acc", "foreign", &foreign).await;
    let (status, body) = s.probe(json!({"url": url, "certificationId": foreign_id})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("certificate_not_found")));

    // oAuth1, signed by a stock RFC 5849 client.
    let key = s.gateway.state.auth.create_app_key("probe", &[ACCOUNT.to_owned()]).await.unwrap();
    let answers = stock_oauth1::run(&json!({
        "consumerKey": key.consumer_key, "consumerSecret": key.consumer_secret,
        "token": key.token, "tokenSecret": key.token_secret,
        "requests": [{"method": "POST", "url": s.probe_url(), "json": {"url": url}}],
    }));
    assert_eq!(answers[0]["status"], 200, "{answers:?}");
    assert_eq!(problem(&answers[0]["body"]), "no_mapping", "{answers:?}");
}

// === the built binary on both stores ===

/// Two certificates mapped to one URL for two services: the probe presents the one forwarding
/// would (by service; none without a service, since two mappings match), or the one named.
async fn probe_chooses_as_forwarding_does(store: support::StoreKind<'_>) {
    let pki = Pki::new();
    let target = EchoTarget::start(&pki.server_cert, &pki.server_key, &pki.ca_pem, ClientAuth::Required);
    let ca = pki.ca_pem.display().to_string();
    let gw = support::Gateway::spawn_on(store, &[("MTLS_ALLOWED_TARGET_CIDRS", "127.0.0.0/8"), ("MTLS_EXTRA_TARGET_CA_FILE", &ca)]);
    let c = support::client();
    let base = gw.base_url();
    let (status, token) = send(
        c.post(format!("{base}/admin/tokens"))
            .bearer_auth(gw.admin_token())
            .json_body(&json!({"sub": "probe", "accounts": [ACCOUNT], "ttlSeconds": 600})),
    )
    .await;
    assert_eq!(status, 201, "{token}");
    let token = token["accessToken"].as_str().unwrap().to_owned();
    let url = target.url("/both");
    let mut ids = Vec::new();
    for (name, rogue, service) in [("idp", false, "IDP"), ("hooks", true, "WEBHOOKS")] {
        let cert = pki.client(&format!("probe-bin-{name}"), rogue);
        let (status, saved) = send(c.post(format!("{base}/mtls/account/{ACCOUNT}/certificates")).bearer_auth(&token).json_body(&json!([{
            "name": name, "p12": base64::engine::general_purpose::STANDARD.encode(&cert.p12), "password": cert.password,
        }])))
        .await;
        assert_eq!(status, 201, "{saved}");
        let id = saved["successfulySavedCertificates"][0]["id"].as_u64().unwrap();
        let (status, mapped) = send(
            c.post(format!("{base}/api/account/{ACCOUNT}/configuration/ac-common/mtls?v=3.0"))
                .bearer_auth(&token)
                .json_body(&json!([{"certificationId": id, "serviceId": service, "url": url, "name": name, "enable": true}])),
        )
        .await;
        assert_eq!(status, 201, "{mapped}");
        ids.push(id);
    }
    let probe = |body: Value| send(c.post(format!("{base}/mtls/account/{ACCOUNT}/probe")).bearer_auth(&token).json_body(&body));
    let (status, report) = probe(json!({"url": url, "serviceName": "IDP"})).await;
    assert_eq!((status, problem(&report), &report["certificateId"]), (200, "none", &json!(ids[0])), "{report}");
    let (_, report) = probe(json!({"url": url, "serviceName": "WEBHOOKS"})).await;
    assert_eq!((problem(&report), &report["certificateId"]), ("issuer_not_accepted", &json!(ids[1])), "{report}");
    let (_, report) = probe(json!({"url": url})).await;
    assert_eq!(problem(&report), "no_mapping", "two mappings match without a service: {report}");
    let (_, report) = probe(json!({"url": url, "serviceName": "WEBHOOKS", "certificationId": ids[0]})).await;
    assert_eq!((problem(&report), &report["certificateId"]), ("none", &json!(ids[0])), "the named certificate wins: {report}");
    let (_, report) = probe(json!({"url": target.url("/elsewhere"), "serviceName": "IDP"})).await;
    assert_eq!(problem(&report), "no_mapping", "{report}");
}

#[tokio::test]
async fn binary_probe_chooses_the_certificate_on_the_embedded_store() {
    probe_chooses_as_forwarding_does(support::StoreKind::Embedded).await;
}

#[tokio::test]
async fn binary_probe_chooses_the_certificate_on_openbao() {
    let bao = support::OpenBao::start();
    probe_chooses_as_forwarding_does(support::StoreKind::Vault(&bao)).await;
}
