//! Wrap and forward (SPEC section 6) against real mTLS targets on 127.0.0.1: a rustls echo
//! server that requires (or accepts) a client certificate and reports it, and Debian nginx with
//! `ssl_verify_client on`. The gateway runs its production routes in this process.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

mod mtls_targets;
mod stock_oauth1;

use std::time::Duration;

use mtls_targets::{config_for, ClientAuth, EchoTarget, NginxTarget, Pki, TestGateway};
use reqwest::Method;
use futures_util::StreamExt;
use serde_json::Value;

const ACCOUNT: &str = "acc-1";

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

/// A rustls echo target requiring a client certificate, and a fresh certificate `name` uploaded
/// and mapped to `service` and the target's `path`.
struct MappedEcho {
    target: EchoTarget,
    cert: mtls_targets::ClientCert,
    id: u64,
    url: String,
}

impl Setup {
    async fn mapped_echo(&self, name: &str, service: &str, path: &str) -> MappedEcho {
        let target = EchoTarget::start(&self.pki.server_cert, &self.pki.server_key, &self.pki.ca_pem, ClientAuth::Required);
        let cert = self.pki.client(&format!("client-{name}"), false);
        let id = self.gateway.upload(&self.token, ACCOUNT, name, &cert).await;
        let url = target.url(path);
        self.gateway.map(&self.token, ACCOUNT, id, service, &url).await;
        MappedEcho { target, cert, id, url }
    }
}

async fn json(resp: reqwest::Response) -> Value {
    let text = resp.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).map(|v| v.to_str().unwrap())
}

async fn assert_error(resp: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status(), status, "{:?}", resp.headers());
    let body = json(resp).await;
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["requestId"].is_string(), "{body}");
    body
}

#[tokio::test]
async fn mapped_certificate_is_presented_and_header_rules_hold() {
    let s = setup(|_| {}).await;
    let MappedEcho { target, cert, id, url } = s.mapped_echo("one", "IDP", "/echo?x=1&y=two").await;

    let resp = s
        .gateway
        .forward(Method::POST, ACCOUNT, &s.token, &url)
        .header("LP-service-name", "IDP")
        .header("LP-authorization-override", "Basic dGFyZ2V0OnNlY3JldA==")
        .header("LP-content-type-override", "application/x-custom")
        .header("Content-Type", "text/plain")
        .header("Connection", "keep-alive, X-Hop-Secret")
        .header("X-Hop-Secret", "must-not-pass")
        .header("Proxy-Authorization", "Basic cHJveHk=")
        .header("X-Custom", "kept")
        .body("hello target")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "lp-certificate-id"), Some(id.to_string().as_str()));
    assert_eq!(header(&resp, "x-target"), Some("echo"));
    let echo = json(resp).await;
    assert_eq!(echo["clientCertSha256"], cert.fingerprint.as_str());
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/echo");
    assert_eq!(echo["query"], "x=1&y=two");
    assert_eq!(echo["bodySample"], "hello target");
    let headers = echo["headers"].as_object().unwrap();
    assert_eq!(headers["authorization"], serde_json::json!(["Basic dGFyZ2V0OnNlY3JldA=="]));
    assert_eq!(headers["content-type"], serde_json::json!(["application/x-custom"]));
    assert_eq!(headers["x-custom"], serde_json::json!(["kept"]));
    assert_eq!(headers["host"], serde_json::json!([format!("127.0.0.1:{}", target.addr.port())]));
    for name in headers.keys() {
        assert!(!name.starts_with("lp-"), "{name} reached the target");
        assert!(!["x-hop-secret", "proxy-authorization", "connection", "keep-alive"].contains(&name.as_str()), "{name} reached the target");
    }
    // The caller's own credential never reaches the target.
    assert!(!echo.to_string().contains(&s.token));

    // Service given by code, and omitted (the one enabled mapping for the URL).
    for service in [Some("1"), None] {
        let mut req = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &url);
        if let Some(service) = service {
            req = req.header("LP-service-name", service);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let echo = json(resp).await;
        assert_eq!(echo["clientCertSha256"], cert.fingerprint.as_str(), "service {service:?}");
        assert!(echo["headers"].get("authorization").is_none(), "no override: no Authorization");
    }

    // Method override.
    let resp = s
        .gateway
        .forward(Method::POST, ACCOUNT, &s.token, &url)
        .header("LP-method-override", "PATCH")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(json(resp).await["method"], "PATCH");

    // Every routed method goes through as itself.
    for method in [Method::GET, Method::PUT, Method::DELETE, Method::PATCH] {
        let resp = s.gateway.forward(method.clone(), ACCOUNT, &s.token, &url).send().await.unwrap();
        assert_eq!(json(resp).await["method"], method.as_str());
    }

    // One pooled client for the one certificate version.
    assert_eq!(s.gateway.state.forwarder.pool().len(), 1);
}

#[tokio::test]
async fn without_mapping_plain_tls_or_stop() {
    let s = setup(|_| {}).await;
    let target = EchoTarget::start(&s.pki.server_cert, &s.pki.server_key, &s.pki.ca_pem, ClientAuth::Optional);
    let url = target.url("/unmapped");
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(header(&resp, "lp-certificate-id").is_none());
    assert_eq!(json(resp).await["clientCertSha256"], Value::Null);

    // Redirects go back to the caller unfollowed.
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &target.url("/redirect")).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(header(&resp, "location"), Some("https://example.com/elsewhere"));

    for flag in ["true", "TRUE"] {
        let resp = s
            .gateway
            .forward(Method::POST, ACCOUNT, &s.token, &url)
            .header("LP-stop-if-certificate-not-found", flag)
            .body("never sent")
            .send()
            .await
            .unwrap();
        assert_error(resp, 400, "certificate_not_found").await;
    }
    let resp = s
        .gateway
        .forward(Method::GET, ACCOUNT, &s.token, &url)
        .header("LP-stop-if-certificate-not-found", "false")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // A mapping for another service does not match a request naming a different service.
    let cert = s.pki.client("client-svc", false);
    let id = s.gateway.upload(&s.token, ACCOUNT, "svc", &cert).await;
    s.gateway.map(&s.token, ACCOUNT, id, "WEBHOOKS", &url).await;
    let resp = s
        .gateway
        .forward(Method::GET, ACCOUNT, &s.token, &url)
        .header("LP-service-name", "IDP")
        .header("LP-stop-if-certificate-not-found", "true")
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "certificate_not_found").await;
    let resp = s
        .gateway
        .forward(Method::GET, ACCOUNT, &s.token, &url)
        .header("LP-service-name", "webhooks")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "lp-certificate-id"), Some(id.to_string().as_str()));
    assert_eq!(json(resp).await["clientCertSha256"], cert.fingerprint.as_str());
}

/// Only the gateway sets `LP-*` response headers: a target's own `LP-certificate-id` and
/// transport-error headers would tell the caller (and the npm `MtlsClient`) that a certificate
/// was presented, or that the transport failed, when neither is true.
#[tokio::test]
async fn a_targets_own_lp_headers_never_reach_the_caller() {
    let s = setup(|_| {}).await;
    let MappedEcho { target, id, .. } = s.mapped_echo("spoof", "IDP", "/lp-headers").await;
    let lp_headers = |resp: &reqwest::Response| -> Vec<(String, String)> {
        resp.headers()
            .iter()
            .filter(|(name, _)| name.as_str().starts_with("lp-"))
            .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap().to_owned()))
            .collect()
    };

    // Mapped: the gateway's own LP-certificate-id, and nothing else of the target's.
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &target.url("/lp-headers")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(lp_headers(&resp), [("lp-certificate-id".to_owned(), id.to_string())]);
    assert_eq!(header(&resp, "x-target"), Some("echo"), "the target's other headers are relayed");
    assert_eq!(resp.text().await.unwrap(), "spoof");

    // Unmapped: no certificate was presented, so no LP-* header at all.
    let open = EchoTarget::start(&s.pki.server_cert, &s.pki.server_key, &s.pki.ca_pem, ClientAuth::Optional);
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &open.url("/lp-headers")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(lp_headers(&resp), []);
    assert_eq!(header(&resp, "x-target"), Some("echo"));
}

#[tokio::test]
async fn bad_instructions_are_refused_before_sending() {
    let s = setup(|_| {}).await;
    let c = mtls_targets::client();
    let resp = c
        .get(format!("{}/mtls/account/{ACCOUNT}", s.gateway.base))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "invalid_forward_url").await;
    for bad in ["not a url", "/relative/path", "ftp://127.0.0.1/", "http://127.0.0.1:9/plain", "https://user:pw@127.0.0.1/"] {
        let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, bad).send().await.unwrap();
        assert_error(resp, 400, "invalid_forward_url").await;
    }
    let resp = s
        .gateway
        .forward(Method::GET, ACCOUNT, &s.token, "https://127.0.0.1:9/")
        .header("LP-service-name", "NO_SUCH_SERVICE")
        .send()
        .await
        .unwrap();
    assert_error(resp, 400, "unknown_service").await;
    // CONNECT asks the target for a tunnel: its answer had no body, the target's response lost.
    for method in ["BAD METHOD", "connect"] {
        let resp = s
            .gateway
            .forward(Method::GET, ACCOUNT, &s.token, "https://127.0.0.1:9/")
            .header("LP-method-override", method)
            .send()
            .await
            .unwrap();
        assert_error(resp, 400, "invalid_method_override").await;
    }

    // Unauthenticated, wrong account.
    let resp = c
        .get(format!("{}/mtls/account/{ACCOUNT}", s.gateway.base))
        .header("LP-forward-url", "https://127.0.0.1:9/")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let www = header(&resp, "www-authenticate").unwrap().to_owned();
    assert!(www.contains("Bearer") && www.contains("OAuth"), "{www}");
    let other = s.gateway.token(&["someone-else"]).await;
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &other, "https://127.0.0.1:9/").send().await.unwrap();
    assert_error(resp, 403, "forbidden").await;
}

#[tokio::test]
async fn plain_http_targets_only_when_enabled() {
    let s = setup(|c| c.allow_plain_http_targets = true).await;
    // A plain HTTP listener that answers one request.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let _ = sock.read(&mut buf).await;
        let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nplain").await;
    });
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &format!("http://127.0.0.1:{port}/")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "plain");
}

async fn assert_transport(resp: reqwest::Response, kind: &str, origin: &str) {
    assert_eq!(resp.status(), 424, "{:?}", resp.headers());
    assert_eq!(header(&resp, "lp-error-from-transport"), Some(kind));
    let message = header(&resp, "lp-message-from-transport").unwrap().to_owned();
    assert!(message.starts_with(origin), "{message}");
    assert!(!message.contains("secret-query"), "the query must not leak: {message}");
    let body = assert_error(resp, 424, "transport_error").await;
    assert_eq!(body["error"]["details"]["errorFromTransport"], kind);
}

#[tokio::test]
async fn transport_failures_answer_424_with_their_kind() {
    let s = setup(|c| {
        c.forward.idle_timeout = Duration::from_millis(1500);
        c.forward.connect_timeout = Duration::from_millis(700);
    })
    .await;

    // dns
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, "https://no-such-host.invalid/?t=secret-query").send().await.unwrap();
    assert_transport(resp, "dns", "https://no-such-host.invalid:443").await;

    // connect: a port nobody listens on
    let port = mtls_targets::free_port();
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &format!("https://127.0.0.1:{port}/?t=secret-query")).send().await.unwrap();
    assert_transport(resp, "connect", &format!("https://127.0.0.1:{port}")).await;

    // tls: the target's certificate comes from a CA the gateway does not trust
    let rogue = EchoTarget::start(&s.pki.rogue_server_cert, &s.pki.rogue_server_key, &s.pki.ca_pem, ClientAuth::Optional);
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &rogue.url("/?t=secret-query")).send().await.unwrap();
    assert_transport(resp, "tls", &format!("https://127.0.0.1:{}", rogue.addr.port())).await;

    // tls: the target requires a client certificate and none is mapped
    let strict = EchoTarget::start(&s.pki.server_cert, &s.pki.server_key, &s.pki.ca_pem, ClientAuth::Required);
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &strict.url("/")).send().await.unwrap();
    assert_transport(resp, "tls", &format!("https://127.0.0.1:{}", strict.addr.port())).await;

    // tls: the target rejects the mapped certificate (issued by a CA it does not trust)
    let foreign = s.pki.client("client-rogue", true);
    let id = s.gateway.upload(&s.token, ACCOUNT, "rogue", &foreign).await;
    s.gateway.map(&s.token, ACCOUNT, id, "IDP", &strict.url("/rejects")).await;
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &strict.url("/rejects")).send().await.unwrap();
    assert_eq!(header(&resp, "lp-certificate-id"), Some(id.to_string().as_str()), "which certificate was refused");
    assert_transport(resp, "tls", &format!("https://127.0.0.1:{}", strict.addr.port())).await;

    // timeout: response head (the target answers after 5 s, the limit is 1.5 s)
    let slow = EchoTarget::start(&s.pki.server_cert, &s.pki.server_key, &s.pki.ca_pem, ClientAuth::Optional);
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &slow.url("/slow")).send().await.unwrap();
    assert_transport(resp, "timeout", &format!("https://127.0.0.1:{}", slow.addr.port())).await;
    // ... also after a streamed request body, which no longer moves once sent.
    let chunks = futures_util::stream::iter((0..4).map(|_| Ok::<_, std::io::Error>(vec![b'p'; 1024])));
    let resp = s
        .gateway
        .forward(Method::POST, ACCOUNT, &s.token, &slow.url("/slow"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_transport(resp, "timeout", &format!("https://127.0.0.1:{}", slow.addr.port())).await;

    // timeout: connect (a listener whose accept queue is full drops further SYNs)
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let full = socket.listen(0).unwrap();
    let addr = full.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_millis(200), tokio::net::TcpStream::connect(addr)).await {
            fillers.push(stream);
        }
    }
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &format!("https://127.0.0.1:{}/", addr.port())).send().await.unwrap();
    assert_transport(resp, "timeout", &format!("https://127.0.0.1:{}", addr.port())).await;
    drop((fillers, full));

    for kind in ["dns", "connect", "tls", "timeout"] {
        assert!(s.gateway.state.metrics.forwards.value(kind) >= 1, "{kind} counted");
        assert!(s.gateway.state.metrics.forward_duration.get(kind).count() >= 1, "{kind} timed");
    }
}

/// `MTLS_FORWARD_TIMEOUT_MS` bounds waiting, never a stream that keeps moving: a download that
/// lasts four times the timeout, with a chunk every fifth of it, arrives whole.
#[tokio::test]
async fn a_steady_download_longer_than_the_timeout_arrives_whole() {
    let s = setup(|c| c.forward.idle_timeout = Duration::from_millis(500)).await;
    let target = EchoTarget::start(&s.pki.server_cert, &s.pki.server_key, &s.pki.ca_pem, ClientAuth::Optional);
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &target.url("/drip")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.expect("the whole download");
    assert_eq!(body.len(), mtls_targets::DRIP_CHUNKS * 1024);
}

/// The same for an upload: the target answers once it has read the whole body, and the wait for
/// its response head does not run while the body still moves.
#[tokio::test]
async fn a_steady_upload_longer_than_the_timeout_arrives_whole() {
    let s = setup(|c| c.forward.idle_timeout = Duration::from_millis(500)).await;
    let target = EchoTarget::start(&s.pki.server_cert, &s.pki.server_key, &s.pki.ca_pem, ClientAuth::Optional);
    let chunks = futures_util::stream::unfold(0usize, |sent| async move {
        if sent == 20 {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((Ok::<_, std::io::Error>(vec![b'u'; 1024]), sent + 1))
    });
    let resp = s
        .gateway
        .forward(Method::POST, ACCOUNT, &s.token, &target.url("/upload"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(json(resp).await["bodyLength"], 20 * 1024);
}

/// A caller whose request body stops moving for `MTLS_FORWARD_TIMEOUT_MS` gets 408
/// `request_body_timeout`; the target's connection is not kept waiting for it.
#[tokio::test]
async fn a_stalled_request_body_is_bounded() {
    let s = setup(|c| c.forward.idle_timeout = Duration::from_millis(500)).await;
    let target = EchoTarget::start(&s.pki.server_cert, &s.pki.server_key, &s.pki.ca_pem, ClientAuth::Optional);
    let first = futures_util::stream::iter([Ok::<_, std::io::Error>(vec![b's'; 1024])]);
    let stalled = first.chain(futures_util::stream::pending());
    let resp = s
        .gateway
        .forward(Method::POST, ACCOUNT, &s.token, &target.url("/upload"))
        .body(reqwest::Body::wrap_stream(stalled))
        .send()
        .await
        .unwrap();
    assert_error(resp, 408, "request_body_timeout").await;
    assert_eq!(s.gateway.state.metrics.forwards.value("request_body_timeout"), 1);
}

#[tokio::test]
async fn loopback_and_private_targets_are_refused_unless_allowed() {
    let pki = Pki::new();
    let mut config = config_for(&pki);
    config.forward.allowed_target_cidrs = Vec::new();
    let gateway = TestGateway::start(config);
    let token = gateway.token(&[ACCOUNT]).await;
    let target = EchoTarget::start(&pki.server_cert, &pki.server_key, &pki.ca_pem, ClientAuth::Optional);
    let port = target.addr.port();
    for url in [
        format!("https://127.0.0.1:{port}/"),
        format!("https://localhost:{port}/"), // a name that resolves to loopback
        format!("https://[::ffff:127.0.0.1]:{port}/"),
        format!("https://[::1]:{port}/"),
        "https://169.254.169.254/latest/meta-data/".to_owned(),
        "https://10.0.0.1/".to_owned(),
        "https://0.0.0.0/".to_owned(),
    ] {
        let resp = gateway.forward(Method::GET, ACCOUNT, &token, &url).send().await.unwrap();
        let body = assert_error(resp, 403, "target_not_allowed").await;
        assert!(body["error"]["message"].as_str().unwrap().contains("MTLS_ALLOWED_TARGET_CIDRS"));
    }
    // The same target is reachable once its range is allowed (the other tests run that way).
    let allowed = TestGateway::start(config_for(&pki));
    let token = allowed.token(&[ACCOUNT]).await;
    let resp = allowed.forward(Method::GET, ACCOUNT, &token, &format!("https://localhost:{port}/")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn rotation_presents_the_new_certificate_on_the_next_request() {
    let s = setup(|_| {}).await;
    let target = EchoTarget::start(&s.pki.server_cert, &s.pki.server_key, &s.pki.ca_pem, ClientAuth::Required);
    let first = s.pki.client("rot-one", false);
    let second = s.pki.client("rot-two", false);
    let id = s.gateway.upload(&s.token, ACCOUNT, "rotating", &first).await;
    let url = target.url("/rotate");
    s.gateway.map(&s.token, ACCOUNT, id, "IDP", &url).await;
    let fingerprint = |resp: Value| resp["clientCertSha256"].as_str().unwrap().to_owned();

    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &url).send().await.unwrap();
    assert_eq!(fingerprint(json(resp).await), first.fingerprint);
    s.gateway.replace(&s.token, ACCOUNT, id, &second).await;
    // The old version's pool is gone at once.
    assert_eq!(s.gateway.state.forwarder.pool().len(), 0);
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &url).send().await.unwrap();
    assert_eq!(header(&resp, "lp-certificate-id"), Some(id.to_string().as_str()));
    assert_eq!(fingerprint(json(resp).await), second.fingerprint);
    assert_eq!(s.gateway.state.forwarder.pool().len(), 1);
}

#[tokio::test]
async fn body_limit_413_declared_and_streamed() {
    let s = setup(|c| c.max_body_bytes = 1024 * 1024).await;
    let target = EchoTarget::start(&s.pki.server_cert, &s.pki.server_key, &s.pki.ca_pem, ClientAuth::Optional);
    let url = target.url("/limit");
    // Declared up front.
    let resp = s.gateway.forward(Method::POST, ACCOUNT, &s.token, &url).body(vec![b'a'; 1024 * 1024 + 1]).send().await.unwrap();
    assert_error(resp, 413, "payload_too_large").await;
    // Exactly the limit passes.
    let resp = s.gateway.forward(Method::POST, ACCOUNT, &s.token, &url).body(vec![b'a'; 1024 * 1024]).send().await.unwrap();
    assert_eq!(json(resp).await["bodyLength"], 1024 * 1024);
    // Chunked, found over the limit mid-stream.
    let chunks = futures_util::stream::iter((0..40).map(|_| Ok::<_, std::io::Error>(vec![b'b'; 64 * 1024])));
    let resp = s
        .gateway
        .forward(Method::PUT, ACCOUNT, &s.token, &url)
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_error(resp, 413, "payload_too_large").await;
}

/// Runs [`hundred_mib_body_in_this_process`] in a child process with glibc's mmap threshold
/// fixed: by default glibc raises the threshold after freeing a large buffer and then keeps
/// freed 256 KiB chunks in its heap, which makes RSS a measure of the allocator, not of
/// buffering. The peak RSS of the child (gateway, target and client together) is the figure.
#[test]
fn a_100_mib_body_streams_both_ways_without_buffering() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["hundred_mib_body_in_this_process", "--exact", "--nocapture", "--ignored", "--test-threads=1"])
        .env("FORWARD_RSS_CHILD", "1")
        .env("MALLOC_MMAP_THRESHOLD_", "131072")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    println!("{text}");
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{text}");
}

#[tokio::test]
#[ignore = "run by a_100_mib_body_streams_both_ways_without_buffering in a child process"]
async fn hundred_mib_body_in_this_process() {
    assert!(std::env::var_os("FORWARD_RSS_CHILD").is_some(), "run through the parent test");
    let s = setup(|c| c.max_body_bytes = 200 * 1024 * 1024).await;
    let target = EchoTarget::start(&s.pki.server_cert, &s.pki.server_key, &s.pki.ca_pem, ClientAuth::Optional);
    const SIZE: usize = 100 * 1024 * 1024;
    // Warm up (pools, TLS), then measure this process's RSS (gateway, target and client all
    // live here, so the figure is an upper bound for the gateway).
    let _ = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &target.url("/warm")).send().await.unwrap().bytes().await;
    let before = mtls_targets::rss_bytes();
    let chunk = bytes::Bytes::from(vec![b'z'; 256 * 1024]);
    let chunks = futures_util::stream::iter((0..SIZE / chunk.len()).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let resp = s
        .gateway
        .forward(Method::POST, ACCOUNT, &s.token, &target.url("/upload"))
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    let echo = json(resp).await;
    assert_eq!(echo["bodyLength"], SIZE as u64);
    let expected = {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for _ in 0..SIZE / (256 * 1024) {
            h.update([b'z'; 256 * 1024]);
        }
        hex::encode(h.finalize())
    };
    assert_eq!(echo["bodySha256"], expected.as_str());
    let after_upload = mtls_targets::rss_bytes();

    // And a 100 MiB response, read as a stream.
    let mut resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &target.url(&format!("/bytes/{SIZE}"))).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut received = 0usize;
    while let Some(chunk) = resp.chunk().await.unwrap() {
        received += chunk.len();
    }
    assert_eq!(received, SIZE);
    let after_download = mtls_targets::rss_bytes();
    let peak = mtls_targets::peak_rss_bytes();
    let grew = peak.saturating_sub(before);
    println!("RSS before {before} B, after upload {after_upload} B, after download {after_download} B, peak {peak} B, peak growth {grew} B");
    assert!(grew < 40 * 1024 * 1024, "RSS grew by {grew} bytes for a 100 MiB body each way");
}

#[tokio::test]
async fn oauth1_callers_forward_too() {
    let s = setup(|_| {}).await;
    let MappedEcho { target: _target, cert, url, .. } = s.mapped_echo("oauth", "FAAS", "/oauth").await;
    let key = s.gateway.state.auth.create_app_key("fwd", &[ACCOUNT.to_owned()]).await.unwrap();
    let path = format!("/mtls/account/{ACCOUNT}");
    let host = s.gateway.base.trim_start_matches("http://").to_owned();
    let authorization = oauth1_header("POST", &format!("http://{host}{path}"), &key.consumer_key, &key.consumer_secret, &key.token, &key.token_secret);
    let resp = mtls_targets::client()
        .post(format!("{}{path}", s.gateway.base))
        .header("Authorization", &authorization)
        .header("LP-forward-url", &url)
        .header("LP-service-name", "FAAS")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let echo = json(resp).await;
    assert_eq!(echo["clientCertSha256"], cert.fingerprint.as_str());
    assert!(echo["headers"].get("authorization").is_none(), "the OAuth header must not reach the target");
    assert!(!echo.to_string().contains(&key.consumer_key));
}

/// RFC 5849 section 3.4.1.3.1: a form-encoded body's parameters are part of the signature. A
/// stock client (requests-oauthlib) signs them; the gateway verifies them and forwards the body
/// unchanged; the same request with its body changed after signing is refused.
#[tokio::test]
async fn oauth1_signature_covers_a_form_encoded_body() {
    let s = setup(|_| {}).await;
    let MappedEcho { target: _target, cert, url, .. } = s.mapped_echo("form", "IDP", "/form").await;
    let key = s.gateway.state.auth.create_app_key("form", &[ACCOUNT.to_owned()]).await.unwrap();
    let headers = serde_json::json!({"LP-forward-url": url, "LP-service-name": "IDP"});
    let form = serde_json::json!({"grant_type": "client credentials", "scope": "a&b=c"});
    let request = serde_json::json!({"method": "POST", "url": format!("{}/mtls/account/{ACCOUNT}", s.gateway.base),
        "headers": headers, "form": form});
    let mut tampered = request.clone();
    tampered["bodyAfterSigning"] = serde_json::json!("grant_type=client+credentials&scope=admin");
    let answers = tokio::task::spawn_blocking(move || {
        stock_oauth1::run(&serde_json::json!({"consumerKey": key.consumer_key, "consumerSecret": key.consumer_secret,
            "token": key.token, "tokenSecret": key.token_secret, "requests": [request, tampered]}))
    })
    .await
    .unwrap();

    assert_eq!(answers[0]["status"], 200, "{}", answers[0]);
    let echo = &answers[0]["body"];
    assert_eq!(echo["bodySample"], "grant_type=client+credentials&scope=a%26b%3Dc", "{echo}");
    assert_eq!(echo["clientCertSha256"], cert.fingerprint.as_str());
    assert_eq!(answers[1]["status"], 401, "{}", answers[1]);
    assert!(answers[1]["wwwAuthenticate"].as_str().unwrap().contains("OAuth"), "{}", answers[1]);
}

/// An oAuth1 form body is read only for a caller whose header is well-formed, with a timestamp
/// in the window and a consumer key that exists: anyone else is refused while the body is still
/// on its way (here it never completes, and the read timeout is an hour, so only a refusal made
/// before reading can answer).
#[tokio::test]
async fn oauth1_form_body_is_not_read_for_unknown_or_stale_callers() {
    let s = setup(|config| config.auth.oauth1_form_read_timeout = Duration::from_secs(3600)).await;
    let key = s.gateway.state.auth.create_app_key("form", &[ACCOUNT.to_owned()]).await.unwrap();
    let uri = format!("{}/mtls/account/{ACCOUNT}", s.gateway.base);
    let unknown = oauth1_header("POST", &uri, "no-such-key", &key.consumer_secret, &key.token, &key.token_secret);
    let stale = oauth1_header("POST", &uri, &key.consumer_key, &key.consumer_secret, &key.token, &key.token_secret)
        .replace("oauth_timestamp=\"", "oauth_timestamp=\"1");
    for authorization in [unknown, stale, "OAuth oauth_consumer_key".to_owned()] {
        let (status, head) = stalled_form_request(&s.gateway.base, &authorization).await;
        assert_eq!(status, 401, "{authorization}: {head}");
        assert!(head.to_ascii_lowercase().contains("oauth realm="), "{head}");
    }
}

/// A known consumer's form body that does not all arrive within
/// `MTLS_OAUTH1_FORM_READ_TIMEOUT_MS` is refused with 408 `request_body_timeout`.
#[tokio::test]
async fn oauth1_form_body_read_is_bounded_by_a_timeout() {
    let s = setup(|config| config.auth.oauth1_form_read_timeout = Duration::from_millis(200)).await;
    let key = s.gateway.state.auth.create_app_key("form", &[ACCOUNT.to_owned()]).await.unwrap();
    let uri = format!("{}/mtls/account/{ACCOUNT}", s.gateway.base);
    let authorization = oauth1_header("POST", &uri, &key.consumer_key, &key.consumer_secret, &key.token, &key.token_secret);
    let (status, head) = stalled_form_request(&s.gateway.base, &authorization).await;
    assert_eq!(status, 408, "{head}");
    assert!(head.contains("request_body_timeout"), "{head}");
}

/// Sends a forward POST announcing a 1,000-byte form body and only 10 bytes of it, keeps the
/// connection open, and returns the answer's status and text. Panics if no answer comes in 60 s
/// (the gateway waiting for the rest of the body).
async fn stalled_form_request(base: &str, authorization: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST /mtls/account/{ACCOUNT} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {authorization}\r\n\
         LP-forward-url: https://127.0.0.1:9/never\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 1000\r\n\r\na=1&b=2&c="
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read_answer = async {
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            answer.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&answer);
            if n == 0 || text.contains("\"requestId\"") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read_answer)
        .await
        .expect("no answer: the gateway waited for the body");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    (status, text)
}

/// RFC 5849 HMAC-SHA1 `Authorization` header (no query or form parameters).
fn oauth1_header(method: &str, uri: &str, consumer_key: &str, consumer_secret: &str, token: &str, token_secret: &str) -> String {
    use base64::Engine as _;
    use hmac::{KeyInit, Mac};
    fn enc(s: &str) -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }
            })
            .collect()
    }
    let timestamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let mut params = [
        ("oauth_consumer_key", consumer_key.to_owned()),
        ("oauth_nonce", nonce),
        ("oauth_signature_method", "HMAC-SHA1".to_owned()),
        ("oauth_timestamp", timestamp),
        ("oauth_token", token.to_owned()),
        ("oauth_version", "1.0".to_owned()),
    ];
    params.sort();
    let normalized = params.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
    let base = format!("{}&{}&{}", method, enc(uri), enc(&normalized));
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(format!("{}&{}", enc(consumer_secret), enc(token_secret)).as_bytes()).unwrap();
    mac.update(base.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let mut fields: Vec<String> = params.iter().map(|(k, v)| format!("{k}=\"{}\"", enc(v))).collect();
    fields.push(format!("oauth_signature=\"{}\"", enc(&signature)));
    format!("OAuth {}", fields.join(", "))
}

#[tokio::test]
async fn nginx_target_sees_the_mapped_certificate() {
    if mtls_targets::nginx_binary().is_none() {
        panic!("nginx missing: run scripts/install-test-deps.sh");
    }
    let s = setup(|_| {}).await;
    let nginx = NginxTarget::start(&s.pki.server_cert, &s.pki.server_key, &s.pki.ca_pem, None);
    let cert = s.pki.client("client-nginx", false);
    let id = s.gateway.upload(&s.token, ACCOUNT, "nginx", &cert).await;
    let url = nginx.url("/api");
    s.gateway.map(&s.token, ACCOUNT, id, "WEBHOOKS", &url).await;
    let resp = s
        .gateway
        .forward(Method::POST, ACCOUNT, &s.token, &url)
        .header("LP-authorization-override", "Bearer target-token")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "lp-certificate-id"), Some(id.to_string().as_str()));
    let seen = json(resp).await;
    assert_eq!(seen["verify"], "SUCCESS");
    assert!(seen["subject"].as_str().unwrap().contains("CN=client-nginx"), "{seen}");
    assert_eq!(seen["fingerprint"].as_str().unwrap().to_ascii_lowercase(), sha1_of_pem(&cert.cert_pem));
    assert_eq!(seen["authorization"], "Bearer target-token");
    // Unmapped: no client certificate; nginx answers 400 itself, passed through unchanged.
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &nginx.url("/other")).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(header(&resp, "lp-certificate-id").is_none());
    assert!(resp.text().await.unwrap().contains("No required SSL certificate was sent"));
}

/// nginx's `$ssl_client_fingerprint` is the SHA-1 of the DER.
fn sha1_of_pem(path: &std::path::Path) -> String {
    use rustls_pki_types::pem::PemObject;
    use sha1::Digest;
    let der = rustls_pki_types::CertificateDer::from_pem_file(path).unwrap();
    hex::encode(sha1::Sha1::digest(der.as_ref()))
}

/// Pooled connections against a target that closes them: nginx ends a connection after three
/// requests (`keepalive_requests`) and after one idle second (`keepalive_timeout`). Every request
/// must still succeed, reusing live pooled connections (nginx's `$connection` serial number tells
/// which connection served a request). Also responses without a body: 204, and
/// HEAD through `LP-method-override`.
#[tokio::test]
async fn pooled_connections_the_target_closed_are_not_used_and_bodiless_answers_end() {
    let s = setup(|_| {}).await;
    let nginx = NginxTarget::start(
        &s.pki.server_cert,
        &s.pki.server_key,
        &s.pki.ca_pem,
        Some("keepalive_timeout 1s; keepalive_requests 3; default_type text/plain; \
              location /empty { return 204; } return 200 'connection $connection';"),
    );
    let cert = s.pki.client("client-keepalive", false);
    let id = s.gateway.upload(&s.token, ACCOUNT, "keepalive", &cert).await;
    let url = nginx.url("/conn");
    s.gateway.map(&s.token, ACCOUNT, id, "IDP", &url).await;
    let empty = nginx.url("/empty");
    s.gateway.map(&s.token, ACCOUNT, id, "FAAS", &empty).await;
    let send = || async {
        let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &url).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        resp.text().await.unwrap()
    };
    // Each gateway worker thread pools its own connections; eight requests over at most two
    // workers reuse some, and nginx's close after every third request must not fail any.
    let mut served = Vec::new();
    for _ in 0..8 {
        served.push(send().await);
    }
    let mut distinct = served.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() < served.len(), "pooled connections are reused: {served:?}");
    tokio::time::sleep(Duration::from_millis(1500)).await; // nginx closes the idle connections
    let after_idle = send().await;
    assert!(!served.contains(&after_idle), "a connection the target closed is not used: {after_idle}");

    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &empty).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    assert!(resp.bytes().await.unwrap().is_empty());
    let resp = s
        .gateway
        .forward(Method::GET, ACCOUNT, &s.token, &url)
        .header("LP-method-override", "HEAD")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.unwrap().is_empty(), "a HEAD answer has no body");
    assert!(send().await.starts_with("connection "), "the connection is usable after a HEAD");
}

/// A target that answers before it has read the request body (nginx refusing a body over its
/// `client_max_body_size` with 413): the caller gets the target's answer, not a transport error.
#[tokio::test]
async fn an_early_answer_from_the_target_is_relayed() {
    let s = setup(|_| {}).await;
    let nginx = NginxTarget::start(
        &s.pki.server_cert,
        &s.pki.server_key,
        &s.pki.ca_pem,
        Some("client_max_body_size 1k; default_type text/plain; return 200 'read';"),
    );
    let cert = s.pki.client("client-early", false);
    let id = s.gateway.upload(&s.token, ACCOUNT, "early", &cert).await;
    let url = nginx.url("/upload");
    s.gateway.map(&s.token, ACCOUNT, id, "IDP", &url).await;
    let resp = s.gateway.forward(Method::POST, ACCOUNT, &s.token, &url).body(vec![b'x'; 512 * 1024]).send().await.unwrap();
    assert_eq!(resp.status(), 413, "{:?}", resp.headers());
    assert_eq!(header(&resp, "lp-certificate-id"), Some(id.to_string().as_str()));
    let resp = s.gateway.forward(Method::POST, ACCOUNT, &s.token, &url).body("small").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "read");
}

/// A target in Python's standard library: HTTP/1.0 answers whose bodies end with the connection.
/// It closes without TLS close_notify, as many servers do: the body arrives whole, the request
/// body and override reach it, and the next request opens a new connection.
#[tokio::test]
async fn python_http_1_0_target_with_close_delimited_bodies() {
    let s = setup(|_| {}).await;
    let python = mtls_targets::PythonTarget::start(&s.pki.server_cert, &s.pki.server_key, &s.pki.ca_pem);
    let cert = s.pki.client("client-python", false);
    let id = s.gateway.upload(&s.token, ACCOUNT, "python", &cert).await;
    let url = python.url("/hook?q=1");
    s.gateway.map(&s.token, ACCOUNT, id, "WEBHOOKS", &url).await;
    for round in 0..3 {
        let resp = s
            .gateway
            .forward(Method::POST, ACCOUNT, &s.token, &url)
            .header("LP-authorization-override", "Basic dGFyZ2V0")
            .header("Content-Type", "application/json")
            .body(format!("{{\"round\":{round}}}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "round {round}");
        assert_eq!(header(&resp, "lp-certificate-id"), Some(id.to_string().as_str()));
        let seen = json(resp).await;
        assert_eq!(seen["clientCn"], "client-python", "{seen}");
        assert_eq!(seen["method"], "POST");
        assert_eq!(seen["path"], "/hook?q=1");
        assert_eq!(seen["body"], format!("{{\"round\":{round}}}"));
        assert_eq!(seen["authorization"], "Basic dGFyZ2V0");
    }
    // A close without close_notify ends only close-delimited bodies: a body shorter than its
    // Content-Length still reaches the caller as a broken one.
    let truncated = python.url("/truncated");
    s.gateway.map(&s.token, ACCOUNT, id, "IDP", &truncated).await;
    let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, &truncated).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.is_err(), "a truncated body is not passed off as complete");
}

// === /metrics before and after forwarding ===

/// The value of the series `name{labels}` in a scrape, 0 when absent.
fn series(text: &str, name_and_labels: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0)
}

/// Every `le` bucket of one forward duration series, in order.
fn buckets(text: &str, result: &str) -> Vec<(String, u64)> {
    let suffix = format!(",result=\"{result}\"}}");
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("mtls_forward_duration_seconds_bucket{le=\"")?;
            let (le, rest) = rest.split_once('"')?;
            let value = rest.strip_prefix(suffix.as_str())?.trim().parse().ok()?;
            Some((le.to_owned(), value))
        })
        .collect()
}

async fn scrape(s: &Setup) -> String {
    let resp = mtls_targets::client().get(format!("{}/metrics", s.gateway.base)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let content_type = header(&resp, "content-type").unwrap().to_owned();
    assert!(content_type.starts_with("application/openmetrics-text"), "{content_type}");
    resp.text().await.unwrap()
}

#[tokio::test]
async fn metrics_move_by_exactly_the_forwards_sent() {
    let s = setup(|_| {}).await;
    let echo = s.mapped_echo("metered", "IDP", "/metered?customer=private-value").await;
    let closed = format!("https://127.0.0.1:{}/closed", mtls_targets::free_port());
    let before = scrape(&s).await;

    for _ in 0..5 {
        let resp = s.gateway.forward(Method::POST, ACCOUNT, &s.token, &echo.url)
            .header("LP-service-name", "IDP").body("x").send().await.unwrap();
        assert_eq!(resp.status(), 200);
        resp.bytes().await.unwrap();
    }
    for _ in 0..2 {
        let resp = s.gateway.forward(Method::GET, ACCOUNT, &s.token, "https://127.0.0.1:9/unmapped")
            .header("LP-stop-if-certificate-not-found", "true").send().await.unwrap();
        assert_error(resp, 400, "certificate_not_found").await;
    }
    for _ in 0..3 {
        let resp = s.gateway.forward(Method::PUT, ACCOUNT, &s.token, &closed).send().await.unwrap();
        assert_eq!(resp.status(), 424);
    }
    let after = scrape(&s).await;

    let moved = |name: &str| series(&after, name) - series(&before, name);
    assert_eq!(moved("mtls_forward_total{result=\"forwarded\"}"), 5, "{after}");
    assert_eq!(moved("mtls_forward_total{result=\"certificate_not_found\"}"), 2);
    assert_eq!(moved("mtls_forward_total{result=\"connect\"}"), 3);
    assert_eq!(moved("mtls_forward_total{result=\"tls\"}"), 0);
    let route = "mtls_http_requests_total{route=\"/mtls/account/{account}\"";
    assert_eq!(moved(&format!("{route},method=\"POST\",status=\"200\"}}")), 5, "{after}");
    assert_eq!(moved(&format!("{route},method=\"GET\",status=\"400\"}}")), 2);
    assert_eq!(moved(&format!("{route},method=\"PUT\",status=\"424\"}}")), 3);
    // The first scrape is counted once it is answered, so the second one sees it.
    assert_eq!(moved("mtls_http_requests_total{route=\"/metrics\",method=\"GET\",status=\"200\"}"), 1);

    // Histograms: cumulative buckets, the last one (+Inf) equal to the count, per outcome.
    for (result, sent) in [("forwarded", 5), ("certificate_not_found", 2), ("connect", 3)] {
        let count = series(&after, &format!("mtls_forward_duration_seconds_count{{result=\"{result}\"}}"));
        assert_eq!(count, sent, "{result}");
        let buckets = buckets(&after, result);
        assert_eq!(buckets.len(), 17, "{result}: {buckets:?}");
        assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{result}: {buckets:?}");
        assert_eq!(buckets.last().unwrap(), &("+Inf".to_owned(), count), "{result}");
    }

    // No request data in any label: neither the account, the URLs, the query nor credentials.
    // (The expiry gauge names account and certificate ids on purpose; see metrics::expiry.)
    for line in after.lines().filter(|l| !l.starts_with("mtls_certificate_expiry_seconds")) {
        for data in [ACCOUNT, "metered", "private-value", "127.0.0.1", "unmapped", s.token.as_str()] {
            assert!(!line.contains(data), "{data:?} in {line}");
        }
    }
    assert!(!after.contains(&s.token) && !after.contains(echo.cert.password.as_str()));
}
