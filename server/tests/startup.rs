//! The built binary's start-up: configuration errors (exit 64, every bad variable named, no
//! secret echoed), HTTPS with a test certificate, store outage on `/readyz`, and secrets absent
//! from the captured logs.
//!
//! Run: `cargo test -p mtls-server --test startup`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Gateway, OpenBao, StoreKind, TempDir};

const DATA_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

#[test]
fn bad_configuration_exits_64_naming_every_bad_variable_without_secrets() {
    let (status, output) = Gateway::run_to_exit(
        &[
            ("MTLS_LISTEN", "not-an-address"),
            ("MTLS_RATE_LIMIT_BURST", "0"),
            ("MTLS_SERVICES", "A=1,B=1"),
            ("MTLS_DATA_KEY", "my-secret-data-key-value"),
            ("MTLS_ADMIN_TOKEN", "my-admin-token-value"),
        ],
        &[],
    );
    assert_eq!(status.code(), Some(64), "{output}");
    for name in ["MTLS_LISTEN", "MTLS_RATE_LIMIT_BURST", "MTLS_SERVICES", "MTLS_DATA_KEY"] {
        assert!(output.contains(name), "{name} not named in: {output}");
    }
    assert!(!output.contains("my-secret-data-key-value") && !output.contains("my-admin-token-value"), "{output}");
}

#[test]
fn bad_flag_value_exits_64_naming_the_flag() {
    let (status, output) = Gateway::run_to_exit(&[], &["--forward-timeout-ms", "soon"]);
    assert_eq!(status.code(), Some(64), "{output}");
    assert!(output.contains("MTLS_FORWARD_TIMEOUT_MS (--forward-timeout-ms)"), "{output}");
    let (status, output) = Gateway::run_to_exit(&[], &["--no-such-flag"]);
    assert_eq!(status.code(), Some(64), "{output}");
}

#[test]
fn help_lists_every_variable_and_exits_0() {
    let (status, output) = Gateway::run_to_exit(&[], &["--help"]);
    assert_eq!(status.code(), Some(0), "{output}");
    for name in ["MTLS_LISTEN", "MTLS_STORE", "VAULT_ROLE_ID", "MTLS_SERVICES", "MTLS_JWKS_FILE"] {
        assert!(output.contains(name), "{name} missing from --help");
    }
}

#[test]
fn plain_http_on_a_non_loopback_address_is_refused() {
    let (status, output) = Gateway::run_to_exit(&[("MTLS_LISTEN", "0.0.0.0:0")], &[]);
    assert_eq!(status.code(), Some(64), "{output}");
    assert!(output.contains("MTLS_ALLOW_INSECURE_HTTP=true"), "{output}");
}

#[test]
fn vault_store_without_settings_is_refused() {
    let (status, output) = Gateway::run_to_exit(&[("MTLS_STORE", "vault")], &[]);
    assert_eq!(status.code(), Some(64), "{output}");
    assert!(output.contains("VAULT_ADDR") && output.contains("VAULT_TOKEN"), "{output}");
}

#[test]
fn refused_vault_login_stops_start_up_without_echoing_it() {
    let bao = OpenBao::start();
    bao.create_approle("gateway", "1h");
    let (status, output) = Gateway::run_to_exit(
        &[
            ("MTLS_STORE", "vault"),
            ("VAULT_ADDR", &bao.addr()),
            ("VAULT_ROLE_ID", "no-such-role"),
            ("VAULT_SECRET_ID", "wrong-secret-id-value"),
        ],
        &[],
    );
    assert_eq!(status.code(), Some(69), "{output}");
    assert!(output.contains("VAULT_ROLE_ID"), "{output}");
    assert!(!output.contains("wrong-secret-id-value"), "{output}");
}

#[tokio::test]
async fn serves_https_with_the_configured_certificate() {
    let dir = TempDir::new("tls");
    let pki = TestPki::generate(dir.path());
    let gateway = Gateway::spawn(&[
        ("MTLS_TLS_CERT", pki.cert.to_str().unwrap()),
        ("MTLS_TLS_KEY", pki.key.to_str().unwrap()),
    ]);
    assert!(gateway.base_url().starts_with("https://"));
    let client = support::client_trusting(&std::fs::read(&pki.ca).unwrap());
    let response = client.get(format!("{}/healthz", gateway.base_url())).send().await.unwrap();
    assert_eq!(response.status(), 200);
    // Plain HTTP on the HTTPS port gets no HTTP answer.
    let plain = support::http_get(gateway.addr(), "/healthz", &[]);
    assert!(!matches!(plain, Ok((200, _))), "plain HTTP answered on the HTTPS port: {plain:?}");
    // A client that does not trust the test CA refuses the server.
    assert!(support::client().get(format!("{}/healthz", gateway.base_url())).send().await.is_err());
}

#[test]
fn unusable_tls_files_exit_64_naming_the_variable() {
    let dir = TempDir::new("tls");
    let pki = TestPki::generate(dir.path());
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a key").unwrap();
    let (status, output) = Gateway::run_to_exit(
        &[("MTLS_TLS_CERT", pki.cert.to_str().unwrap()), ("MTLS_TLS_KEY", garbage.to_str().unwrap())],
        &[],
    );
    assert_eq!(status.code(), Some(64), "{output}");
    assert!(output.contains("MTLS_TLS_KEY"), "{output}");
    // A key that is not the certificate's.
    let (status, output) = Gateway::run_to_exit(
        &[("MTLS_TLS_CERT", pki.cert.to_str().unwrap()), ("MTLS_TLS_KEY", pki.ca_key.to_str().unwrap())],
        &[],
    );
    assert_eq!(status.code(), Some(64), "{output}");
    assert!(output.contains("MTLS_TLS_KEY"), "{output}");
}

#[tokio::test]
async fn readyz_is_503_while_openbao_is_down_and_200_when_back() {
    let mut bao = OpenBao::start();
    let gateway = Gateway::spawn_on(StoreKind::Vault(&bao), &[]);
    let client = support::client();
    let readyz = format!("{}/readyz", gateway.base_url());
    assert_eq!(client.get(&readyz).send().await.unwrap().status(), 200);
    bao.stop();
    let response = readyz_becomes(&client, &readyz, 503).await;
    let body: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "store_unavailable", "{body}");
    assert_eq!(client.get(format!("{}/healthz", gateway.base_url())).send().await.unwrap().status(), 200);
    bao.start_again();
    readyz_becomes(&client, &readyz, 200).await;
    assert!(!gateway.logs().contains(bao.token()), "vault token logged");
}

#[tokio::test]
async fn gateway_starts_while_openbao_is_down_and_recovers() {
    let mut bao = OpenBao::start();
    bao.stop();
    let gateway = Gateway::spawn_on(StoreKind::Vault(&bao), &[]);
    let client = support::client();
    let readyz = format!("{}/readyz", gateway.base_url());
    assert_eq!(client.get(&readyz).send().await.unwrap().status(), 503);
    bao.start_again();
    readyz_becomes(&client, &readyz, 200).await;
}

/// `/readyz` answers from a store probe up to a second old, so a change of the store shows
/// within that second: asks until the answer is `expected` (for at most 30 s) and returns it.
async fn readyz_becomes(client: &reqwest::Client, readyz: &str, expected: u16) -> reqwest::Response {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let response = client.get(readyz).send().await.unwrap();
        if response.status() == expected {
            return response;
        }
        assert!(std::time::Instant::now() < deadline, "/readyz still {} after 30 s", response.status());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let bao = OpenBao::start();
    let (role_id, secret_id) = bao.create_approle("gateway", "1h");
    let admin = format!("admin-{}", support::random_token());
    let vault = Gateway::spawn(&[
        ("MTLS_STORE", "vault"),
        ("VAULT_ADDR", &bao.addr()),
        ("VAULT_ROLE_ID", &role_id),
        ("VAULT_SECRET_ID", &secret_id),
        ("MTLS_VAULT_PREFIX", "logs-test"),
        ("MTLS_ADMIN_TOKEN", &admin),
        ("RUST_LOG", "trace"),
    ]);
    let embedded = Gateway::spawn(&[("MTLS_DATA_KEY", DATA_KEY), ("MTLS_ADMIN_TOKEN", &admin), ("RUST_LOG", "trace")]);
    let client = support::client();
    for gateway in [&vault, &embedded] {
        for path in ["/readyz", "/healthz", "/admin/tokens", "/mtls/account/a/certificates"] {
            let _ = client.get(format!("{}{path}", gateway.base_url())).bearer_auth(&admin).send().await;
        }
    }
    for (name, logs) in [("vault", vault.logs()), ("embedded", embedded.logs())] {
        assert!(!logs.is_empty(), "{name}: nothing captured");
        for secret in [secret_id.as_str(), admin.as_str(), DATA_KEY, bao.token()] {
            assert!(!logs.contains(secret), "{name} gateway logged a secret");
        }
    }
    // The embedded gateway's generated data key is not logged either.
    let generated = Gateway::spawn(&[("RUST_LOG", "trace")]);
    let key = std::fs::read_to_string(generated.data_dir().join("data.key")).unwrap();
    assert!(!generated.logs().contains(key.trim()), "generated data key logged");
}

#[test]
fn wrong_data_key_for_existing_data_exits_69() {
    let mut gateway = Gateway::spawn(&[("MTLS_DATA_KEY", DATA_KEY)]);
    gateway.kill();
    let dir = gateway.data_dir().display().to_string();
    let other = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";
    let (status, output) = Gateway::run_to_exit(&[("MTLS_DATA_DIR", &dir), ("MTLS_DATA_KEY", other)], &[]);
    assert_eq!(status.code(), Some(69), "{output}");
    assert!(output.contains("data key does not match"), "{output}");
    assert!(!output.contains(other) && !output.contains(DATA_KEY), "{output}");
    // The right key still opens it.
    gateway.restart();
}

/// A test CA and a `localhost` server certificate it signed, made with the openssl CLI.
struct TestPki {
    ca: PathBuf,
    ca_key: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl TestPki {
    fn generate(dir: &Path) -> Self {
        let p = |name: &str| dir.join(name);
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        openssl(&[&["req", "-x509"], &ec[..], &["-keyout", s(&p("ca.key")), "-out", s(&p("ca.pem")), "-days", "2", "-subj", "/CN=mtls test CA"]].concat());
        openssl(&[&["req"], &ec[..], &["-keyout", s(&p("server.key")), "-out", s(&p("server.csr")), "-subj", "/CN=localhost"]].concat());
        std::fs::write(p("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n").unwrap();
        openssl(&[
            "x509", "-req", "-in", s(&p("server.csr")), "-CA", s(&p("ca.pem")), "-CAkey", s(&p("ca.key")),
            "-CAcreateserial", "-out", s(&p("server.pem")), "-days", "2", "-extfile", s(&p("ext.cnf")),
        ]);
        Self { ca: p("ca.pem"), ca_key: p("ca.key"), cert: p("server.pem"), key: p("server.key") }
    }
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().expect("run openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}
