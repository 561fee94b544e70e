//! Gateway-held keys (SPEC section 12) through the real `mtls-server` binary on both stores, as a
//! brand would use them: create a certificate request, have an outside CA (pyca/cryptography,
//! `outside_ca.py`) sign its CSR, complete it, map the certificate and forward through Debian
//! nginx requiring client certificates of that CA; then renew under the same certificate with
//! `replaceCertificateId` and see nginx receive the new certificate. Error answers of the binary,
//! the key's removal from OpenBao, and the logs (no key, no P12 password) are checked too.
//! Every error path in detail, the JDK reading the assembled P12 and racing completions are in
//! the unit tests (`server/src/certificate_requests/tests.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests: failing loudly is right"
)]

mod harness;
mod mtls_targets;
mod stock_oauth1;
mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use harness::{Api, Backend, Cred, World};
use mtls_targets::{NginxTarget, Pki};
use serde_json::{Value, json};
use support::TempDir;

const ACCOUNT: &str = "brand-7";

#[tokio::test]
async fn the_whole_csr_flow_forwards_through_nginx_and_renews_on_the_embedded_store() {
    whole_flow(Backend::Embedded).await;
}

#[tokio::test]
async fn the_whole_csr_flow_forwards_through_nginx_and_renews_on_openbao() {
    whole_flow(Backend::Vault).await;
}

async fn whole_flow(backend: Backend) {
    let pki = Pki::new();
    let ca_dir = TempDir::new("outside-ca");
    outside_ca(&["init", path(ca_dir.path())]);
    let nginx = NginxTarget::start(
        &pki.server_cert,
        &pki.server_key,
        &ca_dir.path().join("ca.pem"),
        None,
    );
    let env = [
        ("MTLS_ALLOWED_TARGET_CIDRS", "127.0.0.0/8"),
        ("MTLS_EXTRA_TARGET_CA_FILE", path(&pki.ca_pem)),
    ];
    let world = World::start_with_env(backend, 1, Duration::from_secs(300), &env).await;
    let gw = &world.gateways[0];
    let creds = world.account(ACCOUNT).await;
    let requests = format!("/mtls/account/{ACCOUNT}/certificate-requests");

    // 1. A request (oAuth1), default key type RSA-2048; its CSR goes to the outside CA.
    let body = json!({"name": "brand-client", "displayName": "Brand client",
        "subject": {"commonName": "brand-client.example", "organization": "Brand"},
        "subjectAltNames": ["brand-client.example"]});
    let (status, _, request) = gw.send("POST", &requests, &creds.oauth, Some(body)).await;
    assert_eq!(status, 201, "{request}");
    assert_eq!(
        (&request["status"], &request["keyAlgorithm"]),
        (&json!("Pending"), &json!("RSA-2048"))
    );
    let id = request["id"].as_u64().unwrap();
    let (status, _, listed) = gw.send("GET", &requests, &creds.bearer, None).await;
    assert_eq!((status, listed), (200, json!([request.clone()])));
    if backend == Backend::Vault {
        assert_eq!(
            world.vault_list(&key_folder()),
            vec![id.to_string()],
            "the key is held in OpenBao"
        );
    }
    let chain = signed(
        ca_dir.path(),
        request["csrPem"].as_str().unwrap(),
        90,
        "clientAuth",
    );

    // 2. Completion (Bearer, JSON): a certificate like an upload.
    let (status, _, saved) = gw
        .send(
            "POST",
            &format!("{requests}/{id}/certificate"),
            &creds.bearer,
            Some(json!({"certificatePem": chain})),
        )
        .await;
    assert_eq!(status, 201, "{saved}");
    let certificate = &saved["successfulySavedCertificates"][0];
    let certificate_id = certificate["id"].as_u64().unwrap();
    assert_eq!(request["subject"], "CN=brand-client.example,O=Brand");
    assert_eq!(
        certificate["subject"], request["subject"],
        "the request names the subject the certificate gets"
    );
    assert_eq!(
        (&certificate["name"], &certificate["displayName"]),
        (&json!("brand-client"), &json!("Brand client"))
    );
    assert_eq!(
        (&certificate["issuer"], &certificate["keyAlgorithm"]),
        (&json!("CN=Outside Brand CA"), &json!("RSA"))
    );
    assert_eq!(
        (&certificate["status"], &certificate["expiringSoon"]),
        (&json!("Available"), &json!(false))
    );
    let (_, _, completed) = gw
        .send("GET", &format!("{requests}/{id}"), &creds.oauth, None)
        .await;
    assert_eq!(
        (&completed["status"], completed["certificateId"].as_u64()),
        (&json!("Completed"), Some(certificate_id))
    );
    if backend == Backend::Vault {
        // Vault keeps a deleted key's metadata (its version counter), never its data.
        assert!(
            !world.vault_has(&format!("{}/{id}", key_folder())),
            "the request's key record is gone"
        );
    }
    let (status, _, again) = gw
        .send(
            "POST",
            &format!("{requests}/{id}/certificate"),
            &creds.bearer,
            Some(json!({"certificatePem": chain})),
        )
        .await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("certificate_request_completed"))
    );

    // 3. Mapped and forwarded: nginx sees the certificate the outside CA issued.
    let target = nginx.url("/hello");
    let mapping = json!([{"certificationId": certificate_id, "serviceId": "IDP", "url": target,
        "name": "brand-idp", "enable": true, "deleted": false}]);
    let (status, _, mapped) = gw
        .send(
            "POST",
            &format!("/api/account/{ACCOUNT}/configuration/ac-common/mtls?v=3.0"),
            &creds.bearer,
            Some(mapping),
        )
        .await;
    assert_eq!(status, 201, "{mapped}");
    let seen = forward(gw, &creds.oauth, &target, certificate_id).await;
    assert_eq!(seen["verify"], "SUCCESS", "{seen}");
    assert!(
        seen["subject"]
            .as_str()
            .unwrap()
            .contains("CN=brand-client.example"),
        "{seen}"
    );

    // 4. Renewal: a new request (P-384), completed by a multipart form under the same id.
    let body = json!({"name": "brand-client-renewal", "keyType": "P-384",
        "subject": {"commonName": "brand-client-2027.example", "organization": "Brand"}});
    let (status, _, renewal) = gw.send("POST", &requests, &creds.bearer, Some(body)).await;
    assert_eq!(status, 201, "{renewal}");
    let chain = signed(
        ca_dir.path(),
        renewal["csrPem"].as_str().unwrap(),
        365,
        "clientAuth",
    );
    let (content_type, form) = multipart(&[
        ("file", chain.as_bytes()),
        (
            "replaceCertificateId",
            certificate_id.to_string().as_bytes(),
        ),
    ]);
    let (status, _, saved) = gw
        .send_raw(
            "POST",
            &format!("{requests}/{}/certificate", renewal["id"]),
            &creds.bearer,
            &content_type,
            &form,
            &[],
        )
        .await;
    assert_eq!(status, 201, "{saved}");
    let renewed = &saved["successfulySavedCertificates"][0];
    assert_eq!(
        (
            renewed["id"].as_u64(),
            &renewed["version"],
            &renewed["name"]
        ),
        (Some(certificate_id), &json!(2), &json!("brand-client"))
    );
    assert_eq!(renewed["keyAlgorithm"], "EC");
    let seen = forward(gw, &creds.bearer, &target, certificate_id).await;
    assert!(
        seen["subject"]
            .as_str()
            .unwrap()
            .contains("CN=brand-client-2027.example"),
        "the renewed certificate is presented: {seen}"
    );

    // 5. Error answers of the binary, each its own code.
    let body =
        json!({"name": "spare", "keyType": "P-256", "subject": {"commonName": "spare.example"}});
    let (_, _, spare) = gw.send("POST", &requests, &creds.bearer, Some(body)).await;
    let spare_id = spare["id"].as_u64().unwrap();
    let complete = |id: u64, body: Value| {
        let creds = &creds.bearer;
        let path = format!("{requests}/{id}/certificate");
        async move { gw.send("POST", &path, creds, Some(body)).await }
    };
    let wrong_key = chain.clone();
    let server_only = signed(
        ca_dir.path(),
        spare["csrPem"].as_str().unwrap(),
        90,
        "serverAuth",
    );
    for (id, body, expected, code) in [
        (
            spare_id,
            json!({"certificatePem": "garbage"}),
            422,
            "invalid_certificate_pem",
        ),
        (
            spare_id,
            json!({"certificatePem": wrong_key}),
            422,
            "key_certificate_mismatch",
        ),
        (
            spare_id,
            json!({"certificatePem": server_only}),
            422,
            "p12_not_usable",
        ),
        (
            spare_id,
            json!({"certificatePem": signed(ca_dir.path(), spare["csrPem"].as_str().unwrap(), 90, "clientAuth"), "replaceCertificateId": 77}),
            404,
            "certificate_not_found",
        ),
        (
            spare_id + 1,
            json!({"certificatePem": "garbage"}),
            404,
            "certificate_request_not_found",
        ),
    ] {
        let (status, _, error) = complete(id, body).await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (expected, Some(code)),
            "{error}"
        );
    }
    let (status, _, error) = gw
        .send(
            "POST",
            &requests,
            &creds.bearer,
            Some(json!({"name": "x", "keyType": "DSA", "subject": {"commonName": "x"}})),
        )
        .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (422, Some("unsupported_key_type"))
    );
    let (status, _, error) = gw
        .send(
            "GET",
            &format!("/mtls/account/other/certificate-requests/{spare_id}"),
            &creds.bearer,
            None,
        )
        .await;
    assert_eq!(status, 403, "{error}");
    let (status, _, _) = gw.send("GET", &requests, &Cred::None, None).await;
    assert_eq!(status, 401);

    // 6. Delete destroys the key: gone from OpenBao before the answer.
    if backend == Backend::Vault {
        assert!(world.vault_has(&format!("{}/{spare_id}", key_folder())));
    }
    let (status, _, _) = gw
        .send(
            "DELETE",
            &format!("{requests}/{spare_id}"),
            &creds.oauth,
            None,
        )
        .await;
    assert_eq!(status, 200);
    if backend == Backend::Vault {
        assert!(!world.vault_has(&format!("{}/{spare_id}", key_folder())));
    }
    let (status, _, _) = gw
        .send(
            "GET",
            &format!("{requests}/{spare_id}"),
            &creds.bearer,
            None,
        )
        .await;
    assert_eq!(status, 404);

    // 7. Unserved methods name the served ones.
    for (method, path, allow) in [
        ("PUT", requests.clone(), "GET, POST"),
        ("PUT", format!("{requests}/{spare_id}"), "GET, DELETE"),
        ("GET", format!("{requests}/{spare_id}/certificate"), "POST"),
    ] {
        let (status, headers, _) = gw.send(method, &path, &creds.bearer, None).await;
        assert_eq!(status, 405, "{method} {path}");
        assert_eq!(headers.get("allow").unwrap(), allow);
    }

    let logs = gw.gateway.logs();
    assert!(
        !logs.contains("PRIVATE KEY") && !logs.contains("panicked"),
        "{logs}"
    );
}

/// Forwards a GET to `target` (mapping required) and answers what nginx reports.
async fn forward(gw: &Api, cred: &Cred, target: &str, certificate_id: u64) -> Value {
    let headers = [
        ("LP-forward-url", target),
        ("LP-service-name", "IDP"),
        ("LP-stop-if-certificate-not-found", "true"),
    ];
    let (status, headers, seen) = gw
        .send_with(
            "GET",
            &format!("/mtls/account/{ACCOUNT}"),
            cred,
            None,
            &headers,
        )
        .await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(
        headers.get("LP-certificate-id").unwrap().to_str().unwrap(),
        certificate_id.to_string()
    );
    seen
}

fn key_folder() -> String {
    format!("certificate-request-keys/{}", hex::encode(ACCOUNT))
}

/// The leaf the outside CA issues for `csr_pem`, then the CA certificate.
fn signed(ca_dir: &Path, csr_pem: &str, days: u32, eku: &str) -> String {
    let csr = ca_dir.join(format!("{}.csr", support::random_token()));
    std::fs::write(&csr, csr_pem).unwrap();
    outside_ca(&["sign", path(ca_dir), path(&csr), &days.to_string(), eku])
}

fn outside_ca(args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/outside_ca.py"))
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("python3 with cryptography (scripts/install-test-deps.sh)");
    assert!(
        out.status.success(),
        "outside_ca.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn multipart(parts: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----csrflowboundary";
    let mut body = Vec::new();
    for (name, data) in parts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes(),
        );
        if *name == "file" {
            body.extend_from_slice(
                b"; filename=\"chain.pem\"\r\nContent-Type: application/x-pem-file",
            );
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The certificate-request endpoints share the per-client-IP throttle (SPEC section 7): with a
/// burst of 3 and one token a second, the fourth request in a row is 429 with `Retry-After`.
#[tokio::test]
async fn certificate_request_endpoints_are_throttled() {
    let gateway = support::Gateway::spawn(&[
        ("MTLS_RATE_LIMIT_PER_SECOND", "1"),
        ("MTLS_RATE_LIMIT_BURST", "3"),
    ]);
    let client = support::client();
    let mut statuses = Vec::new();
    for path in ["", "/1", "/1/certificate", ""] {
        let url = format!(
            "{}/mtls/account/acc/certificate-requests{path}",
            gateway.base_url()
        );
        let response = if path.ends_with("certificate") {
            client.post(url)
        } else {
            client.get(url)
        }
        .send()
        .await
        .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
        }
    }
    assert_eq!(
        statuses,
        [401, 401, 401, 429],
        "unauthenticated but counted, then throttled"
    );
}
