//! Certificate requests through the production routes (`http::configure`) over an in-memory
//! store, each CSR signed by an outside CA that `openssl` makes in the test. The same flow against
//! the real binary on both stores, through an nginx mTLS peer, is in
//! `server/tests/certificate_requests.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;

use actix_web::test;
use serde_json::{Value, json};

use crate::certificates::test_support::{Fixture, app, call, multipart_with_file};
use crate::store::Store;

const BASE: &str = "/mtls/account/acc1/certificate-requests";

impl Fixture {
    /// A fixture whose racing completions both reach the claim: with one worker (two cores)
    /// the second would be answered 503 p12_inspections_busy first.
    async fn for_requests() -> Self {
        Self::with_config(|config| config.p12.workers = 4).await
    }

    /// A CA (key and self-signed certificate) named `name`, made by openssl.
    fn ca(&self, name: &str) -> Ca {
        let ca = Ca {
            key: self.dir.join(format!("{name}.key")),
            cert: self.dir.join(format!("{name}.crt")),
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "365",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            path(&ca.key),
            "-out",
            path(&ca.cert),
        ]);
        ca
    }

    /// `csr_pem` signed by `ca` for `days` days with `extensions` (an openssl extension file
    /// body), or with the extensions the CSR asks for when `None`; the leaf PEM.
    fn sign(&self, ca: &Ca, csr_pem: &str, days: u32, extensions: Option<&str>) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let csr = self.dir.join(format!("{id}.csr"));
        let out = self.dir.join(format!("{id}.crt"));
        std::fs::write(&csr, csr_pem).unwrap();
        let days = days.to_string();
        let mut args = vec![
            "x509",
            "-req",
            "-in",
            path(&csr),
            "-CA",
            path(&ca.cert),
            "-CAkey",
            path(&ca.key),
            "-CAcreateserial",
            "-days",
            &days,
            "-out",
            path(&out),
        ];
        let ext_file = self.dir.join(format!("{id}.ext"));
        match extensions {
            Some(text) => {
                std::fs::write(&ext_file, text).unwrap();
                args.extend(["-extfile", path(&ext_file)]);
            }
            None => args.extend(["-copy_extensions", "copy"]),
        }
        openssl(&args);
        std::fs::read_to_string(out).unwrap()
    }

    /// A self-signed client certificate for a key of its own (matches no request).
    fn stranger(&self) -> String {
        let (key, cert) = (self.dir.join("stranger.key"), self.dir.join("stranger.crt"));
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=stranger",
            "-addext",
            "extendedKeyUsage=clientAuth",
            "-keyout",
            path(&key),
            "-out",
            path(&cert),
        ]);
        std::fs::read_to_string(cert).unwrap()
    }
}

struct Ca {
    key: PathBuf,
    cert: PathBuf,
}

impl Ca {
    fn pem(&self) -> String {
        std::fs::read_to_string(&self.cert).unwrap()
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn post(f: &Fixture, uri: &str, body: &Value) -> test::TestRequest {
    test::TestRequest::post()
        .uri(uri)
        .insert_header(("Authorization", f.bearer.clone()))
        .set_json(body)
}

fn get(f: &Fixture, uri: &str) -> test::TestRequest {
    test::TestRequest::get()
        .uri(uri)
        .insert_header(("Authorization", f.bearer.clone()))
}

/// A POST of `parts` as `multipart/form-data` to `uri`, with the fixture's token.
fn post_form(f: &Fixture, uri: &str, parts: &[(&str, &[u8])]) -> test::TestRequest {
    let (content_type, body) = multipart_with_file(parts, "client.crt", "application/x-x509-user-cert");
    test::TestRequest::post()
        .uri(uri)
        .insert_header(("Authorization", f.bearer.clone()))
        .insert_header(("Content-Type", content_type))
        .set_payload(body)
}

/// The stored key record of request `id` (base64 PKCS#8), if any.
async fn held_key(f: &Fixture, id: u64) -> Option<String> {
    let key = format!(
        "certificate-request-keys/{}/{id}",
        crate::store::segment("acc1")
    );
    f.store
        .read(&key)
        .await
        .unwrap()
        .map(|v| v.value["privateKeyPkcs8"].as_str().unwrap().to_owned())
}

async fn create_request(
    f: &Fixture,
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
    >,
    name: &str,
    key_type: Option<&str>,
) -> Value {
    let mut body = json!({ "name": name, "subject": { "commonName": name, "organization": "Brand", "country": "us" },
                           "subjectAltNames": ["DNS:client.example"] });
    if let Some(key_type) = key_type {
        body["keyType"] = json!(key_type);
    }
    let (status, request, text) = call(app, post(f, BASE, &body)).await;
    assert_eq!(status, 201, "{text}");
    request
}

#[actix_web::test]
async fn a_request_signed_by_an_outside_ca_becomes_a_usable_certificate_that_the_jdk_reads() {
    let f = Fixture::for_requests().await;
    let app = app!(f);
    let ca = f.ca("Outside CA");

    // Default key type: RSA-2048.
    let request = create_request(&f, &app, "brand-client", None).await;
    let id = request["id"].as_u64().unwrap();
    assert_eq!(request["status"], "Pending");
    assert_eq!(request["keyAlgorithm"], "RSA-2048");
    assert_eq!(request["siteId"], "acc1");
    assert_eq!(request["displayName"], "brand-client");
    assert_eq!(request["subject"], "CN=brand-client,O=Brand,C=US");
    assert_eq!(request["subjectAltNames"], json!(["DNS:client.example"]));
    assert!(request.get("certificateId").is_none());
    let csr_pem = request["csrPem"].as_str().unwrap();
    assert!(
        csr_pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"),
        "{csr_pem}"
    );
    let key = held_key(&f, id)
        .await
        .expect("the key is held in the store");

    let (status, got, _) = call(&app, get(&f, &format!("{BASE}/{id}"))).await;
    assert_eq!((status, &got), (200, &request));
    let (status, list, list_text) = call(&app, get(&f, BASE)).await;
    assert_eq!((status, list), (200, json!([request.clone()])));

    let leaf = f.sign(&ca, csr_pem, 90, None);
    let chain = format!("{leaf}{}", ca.pem());
    let (status, saved, saved_text) = call(
        &app,
        post(
            &f,
            &format!("{BASE}/{id}/certificate"),
            &json!({ "certificatePem": chain }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{saved_text}");
    assert_eq!(saved["failedSaveToVaultCertificates"], json!([]));
    let certificate = &saved["successfulySavedCertificates"][0];
    assert_eq!(certificate["name"], "brand-client");
    assert_eq!(certificate["subject"], "CN=brand-client,O=Brand,C=US");
    assert_eq!(certificate["issuer"], "CN=Outside CA");
    assert_eq!(certificate["keyAlgorithm"], "RSA");
    assert_eq!(certificate["version"], 1);
    assert_eq!(certificate["expiringSoon"], false);
    let certificate_id = certificate["id"].as_u64().unwrap();

    let (status, completed, completed_text) = call(&app, get(&f, &format!("{BASE}/{id}"))).await;
    assert_eq!(status, 200);
    assert_eq!(completed["status"], "Completed");
    assert_eq!(completed["certificateId"], certificate_id);
    assert!(completed["completedAt"].is_string());
    assert!(
        held_key(&f, id).await.is_none(),
        "the request's key record goes once the certificate holds the key"
    );

    // The key never appears in any answer (as base64 of its DER, nor as PEM body lines).
    for text in [&list_text, &saved_text, &completed_text] {
        assert!(!text.contains(&key[..64]), "{text}");
        assert!(!text.contains("PRIVATE KEY"), "{text}");
    }

    // The stored P12: the SDK's rules pass (modern profile) and the JDK reads its key entry.
    let secrets = f
        .store
        .read(&format!(
            "certificate-secrets/{}/{certificate_id}/1",
            crate::store::segment("acc1")
        ))
        .await
        .unwrap()
        .unwrap()
        .value;
    let p12 = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        secrets["p12"].as_str().unwrap(),
    )
    .unwrap();
    let password = secrets["password"].as_str().unwrap();
    assert!(password.len() >= 32, "a random password of 24 bytes");
    let report = mtls_sdk::inspect_p12(
        &p12,
        password,
        &mtls_sdk::InspectOptions::at(crate::clock::now_unix()),
    );
    assert!(report.usable, "{:?}", report.problems);
    let container = report.container.as_ref().unwrap();
    assert_eq!(container.mac_algorithm, "SHA-256");
    assert!(
        container
            .encryption
            .iter()
            .all(|e| e.algorithm.contains("AES-256")),
        "{container:?}"
    );
    assert_eq!(
        report.chain.len(),
        1,
        "the CA certificate travels in the P12"
    );
    let p12_path = f.dir.join("assembled.p12");
    std::fs::write(&p12_path, &p12).unwrap();
    let keytool = Command::new("keytool")
        .args([
            "-list",
            "-v",
            "-storetype",
            "PKCS12",
            "-keystore",
            path(&p12_path),
            "-storepass",
            password,
        ])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&keytool.stdout);
    assert!(
        keytool.status.success(),
        "{listing}{}",
        String::from_utf8_lossy(&keytool.stderr)
    );
    assert!(listing.contains("PrivateKeyEntry"), "{listing}");
    assert!(listing.contains("Certificate chain length: 2"), "{listing}");

    // The runtime presents it like any uploaded certificate.
    let material = f
        .state
        .certificates
        .client_material("acc1", certificate_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(material.certificate_chain.len(), 2);

    // A second completion is refused and makes nothing.
    let (status, again, _) = call(
        &app,
        post(
            &f,
            &format!("{BASE}/{id}/certificate"),
            &json!({ "certificatePem": chain }),
        ),
    )
    .await;
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("certificate_request_completed"))
    );
    assert_eq!(again["error"]["details"]["certificateId"], certificate_id);
    assert_eq!(f.state.certificates.list("acc1").await.unwrap().len(), 1);
}

#[actix_web::test]
async fn every_key_type_makes_a_csr_for_its_key() {
    let f = Fixture::for_requests().await;
    let app = app!(f);
    for (key_type, bits) in [
        ("P-256", "256 bit"),
        ("P-384", "384 bit"),
        ("RSA-3072", "3072 bit"),
        ("RSA-4096", "4096 bit"),
        ("rsa_2048", "2048 bit"),
    ] {
        let request = create_request(&f, &app, &format!("k-{key_type}"), Some(key_type)).await;
        let csr = f.dir.join("check.csr");
        std::fs::write(&csr, request["csrPem"].as_str().unwrap()).unwrap();
        let out = Command::new("openssl")
            .args(["req", "-in", path(&csr), "-noout", "-text", "-verify"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{key_type}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains(bits), "{key_type}: {text}");
        assert!(text.contains("TLS Web Client Authentication"), "{text}");
    }
}

#[actix_web::test]
async fn renewal_with_replace_certificate_id_makes_the_next_version_from_a_der_file() {
    let f = Fixture::for_requests().await;
    let app = app!(f);
    let ca = f.ca("Renewal CA");
    let first = create_request(&f, &app, "renewed", Some("P-256")).await;
    let leaf = f.sign(&ca, first["csrPem"].as_str().unwrap(), 20, None);
    let uri = format!("{BASE}/{}/certificate", first["id"]);
    let (status, saved, text) = call(
        &app,
        post(
            &f,
            &uri,
            &json!({ "certificatePem": format!("{leaf}{}", ca.pem()) }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let certificate = &saved["successfulySavedCertificates"][0];
    let certificate_id = certificate["id"].as_u64().unwrap();
    assert_eq!(certificate["expiringSoon"], true);
    assert_eq!(certificate["warnings"][0]["code"], "expires_soon", "{text}");

    // The renewal's request may carry any name: the certificate keeps its own.
    let second = create_request(&f, &app, "renewal-2027", Some("P-384")).await;
    let leaf = f.sign(&ca, second["csrPem"].as_str().unwrap(), 365, None);
    let der_path = f.dir.join("renewal.der");
    let pem_path = f.dir.join("renewal.pem");
    std::fs::write(&pem_path, &leaf).unwrap();
    openssl(&[
        "x509",
        "-in",
        path(&pem_path),
        "-outform",
        "DER",
        "-out",
        path(&der_path),
    ]);
    let der = std::fs::read(&der_path).unwrap();
    let replaced = certificate_id.to_string();
    let parts: &[(&str, &[u8])] = &[("file", &der), ("replaceCertificateId", replaced.as_bytes())];
    let uri = format!("{BASE}/{}/certificate", second["id"]);
    let (status, saved, text) = call(&app, post_form(&f, &uri, parts)).await;
    assert_eq!(status, 201, "{text}");
    let renewed = &saved["successfulySavedCertificates"][0];
    assert_eq!(
        (
            renewed["id"].as_u64(),
            &renewed["version"],
            &renewed["name"]
        ),
        (Some(certificate_id), &json!(2), &json!("renewed"))
    );
    assert_eq!(renewed["expiringSoon"], false);
    assert_eq!(renewed["keyAlgorithm"], "EC");
    let material = f
        .state
        .certificates
        .client_material("acc1", certificate_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((material.version, material.certificate_chain.len()), (2, 1));
    let (_, second_now, _) = call(&app, get(&f, &format!("{BASE}/{}", second["id"]))).await;
    assert_eq!(
        (&second_now["status"], second_now["certificateId"].as_u64()),
        (&json!("Completed"), Some(certificate_id))
    );
}

#[actix_web::test]
async fn every_bad_completion_has_its_own_4xx_and_leaves_the_request_pending() {
    let f = Fixture::for_requests().await;
    let app = app!(f);
    let ca = f.ca("Good CA");
    let other_ca = f.ca("Unrelated CA");
    let request = create_request(&f, &app, "careful", Some("P-256")).await;
    let id = request["id"].as_u64().unwrap();
    let csr = request["csrPem"].as_str().unwrap();
    let uri = format!("{BASE}/{id}/certificate");
    let leaf = f.sign(&ca, csr, 90, None);
    let server_only = f.sign(&ca, csr, 90, Some("extendedKeyUsage=serverAuth\n"));

    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({ "certificatePem": "not a certificate" }),
            422,
            "invalid_certificate_pem",
        ),
        (
            json!({ "certificatePem": "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n" }),
            422,
            "invalid_certificate_pem",
        ),
        (
            json!({ "certificatePem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }),
            422,
            "invalid_certificate_pem",
        ),
        (
            json!({ "certificatePem": f.stranger() }),
            422,
            "key_certificate_mismatch",
        ),
        (
            json!({ "certificatePem": format!("{leaf}{}", other_ca.pem()) }),
            422,
            "invalid_certificate_chain",
        ),
        (
            json!({ "certificatePem": server_only }),
            422,
            "p12_not_usable",
        ),
        (
            json!({ "certificatePem": leaf, "replaceCertificateId": 123_456 }),
            404,
            "certificate_not_found",
        ),
        (
            json!({ "certificatePem": leaf, "replaceCertificateId": "abc" }),
            400,
            "malformed_request",
        ),
        (
            json!({ "certificatePem": leaf, "replaceCertificateId": -1 }),
            400,
            "malformed_request",
        ),
        (json!({ "certificatePem": 5 }), 400, "malformed_request"),
        (json!({ "pem": leaf }), 400, "malformed_request"),
        (json!([leaf]), 400, "malformed_request"),
    ];
    for (body, status, code) in cases {
        let (got, error, text) = call(&app, post(&f, &uri, &body)).await;
        assert_eq!(
            (got, error["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {text}"
        );
        assert!(!text.contains("PRIVATE KEY"), "{text}");
    }
    let (status, error, text) = call(
        &app,
        post(
            &f,
            &format!("{BASE}/{id}/certificate"),
            &json!({ "certificatePem": format!("{leaf}{}", other_ca.pem()) }),
        ),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(error["error"]["details"]["position"], 2, "{text}");
    assert_eq!(
        error["error"]["details"]["foundSubject"], "CN=Unrelated CA",
        "{text}"
    );
    let (status, error, _) = call(
        &app,
        post(&f, &uri, &json!({ "certificatePem": server_only })),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        error["error"]["details"]["problems"]
            .to_string()
            .contains("missing_client_auth"),
        "{error}"
    );

    // Forms: the file part is required.
    let (status, error, _) = call(&app, post_form(&f, &uri, &[("replaceCertificateId", b"1")])).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (400, Some("malformed_request"))
    );
    let (status, error, _) = call(&app, post_form(&f, &uri, &[("file", b"garbage bytes")])).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (422, Some("invalid_certificate_pem"))
    );

    // A name taken by a certificate: 409 from the certificate service, the request stays.
    let taken = create_request(&f, &app, "careful", Some("P-256")).await;
    let leaf_of_taken = f.sign(&ca, taken["csrPem"].as_str().unwrap(), 90, None);
    let (status, _, text) = call(&app, post(&f, &uri, &json!({ "certificatePem": leaf }))).await;
    assert_eq!(status, 201, "{text}");
    let (status, error, _) = call(
        &app,
        post(
            &f,
            &format!("{BASE}/{}/certificate", taken["id"]),
            &json!({ "certificatePem": leaf_of_taken }),
        ),
    )
    .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (409, Some("duplicate_certificate_name"))
    );
    let (_, still, _) = call(&app, get(&f, &format!("{BASE}/{}", taken["id"]))).await;
    assert_eq!(still["status"], "Pending");
    assert!(held_key(&f, taken["id"].as_u64().unwrap()).await.is_some());

    // Unknown requests: 404 whether the id is a number or not.
    for unknown in ["987654321", "abc", "0", "99999999999999999999"] {
        let (status, error, _) = call(
            &app,
            post(
                &f,
                &format!("{BASE}/{unknown}/certificate"),
                &json!({ "certificatePem": leaf }),
            ),
        )
        .await;
        assert_eq!(
            (status, error["error"]["code"].as_str()),
            (404, Some("certificate_request_not_found")),
            "{unknown}"
        );
        let (status, _, _) = call(&app, get(&f, &format!("{BASE}/{unknown}"))).await;
        assert_eq!(status, 404, "{unknown}");
    }
}

#[actix_web::test]
async fn bad_create_bodies_are_refused_before_any_key_is_made() {
    let f = Fixture::for_requests().await;
    let app = app!(f);
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            json!({ "name": "x", "subject": { "commonName": "x" }, "keyType": "RSA-1024" }),
            422,
            "unsupported_key_type",
        ),
        (
            json!({ "name": "x", "subject": { "commonName": "x" }, "keyType": "Ed25519" }),
            422,
            "unsupported_key_type",
        ),
        (
            json!({ "name": "x", "subject": { "commonName": "x", "country": "USA" } }),
            422,
            "invalid_subject",
        ),
        (
            json!({ "name": "x", "subject": { "commonName": "" } }),
            422,
            "invalid_subject",
        ),
        (
            json!({ "name": "x", "subject": { "commonName": "x" }, "subjectAltNames": ["DNS:bad name"] }),
            422,
            "invalid_subject_alt_name",
        ),
        (
            json!({ "name": "", "subject": { "commonName": "x" } }),
            422,
            "invalid_certificate_request",
        ),
        (
            json!({ "name": "a\u{7}b", "subject": { "commonName": "x" } }),
            422,
            "invalid_certificate_request",
        ),
        (
            json!({ "name": "x".repeat(129), "subject": { "commonName": "x" } }),
            422,
            "invalid_certificate_request",
        ),
        (
            json!({ "subject": { "commonName": "x" } }),
            400,
            "malformed_request",
        ),
        (json!({ "name": "x" }), 400, "malformed_request"),
        (
            json!({ "name": "x", "subject": { "commonName": "x", "title": "boss" } }),
            400,
            "malformed_request",
        ),
        (
            json!({ "name": "x", "subject": { "commonName": "x" }, "privateKey": "mine" }),
            400,
            "malformed_request",
        ),
        (
            json!({ "name": 7, "subject": { "commonName": "x" } }),
            400,
            "malformed_request",
        ),
        (json!([]), 400, "malformed_request"),
    ];
    for (body, status, code) in cases {
        let (got, error, text) = call(&app, post(&f, BASE, &body)).await;
        assert_eq!(
            (got, error["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {text}"
        );
    }
    let (status, error, _) = call(
        &app,
        test::TestRequest::post()
            .uri(BASE)
            .insert_header(("Authorization", f.bearer.clone()))
            .set_payload("{not json"),
    )
    .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (400, Some("malformed_request"))
    );
    assert_eq!(
        f.store.list("certificate-request-keys").await.unwrap(),
        Vec::<String>::new()
    );
}

#[actix_web::test]
async fn delete_destroys_the_key_and_forgets_the_request() {
    let f = Fixture::for_requests().await;
    let app = app!(f);
    let ca = f.ca("Delete CA");
    let request = create_request(&f, &app, "short-lived", Some("P-256")).await;
    let id = request["id"].as_u64().unwrap();
    assert!(held_key(&f, id).await.is_some());
    let uri = format!("{BASE}/{id}");
    let (status, deleted, text) = call(
        &app,
        test::TestRequest::delete()
            .uri(&uri)
            .insert_header(("Authorization", f.bearer.clone())),
    )
    .await;
    assert_eq!((status, &deleted["id"]), (200, &json!(id)), "{text}");
    assert!(held_key(&f, id).await.is_none());
    let (status, _, _) = call(&app, get(&f, &uri)).await;
    assert_eq!(status, 404);
    let (_, list, _) = call(&app, get(&f, BASE)).await;
    assert_eq!(list, json!([]));
    let leaf = f.sign(&ca, request["csrPem"].as_str().unwrap(), 90, None);
    let (status, error, _) = call(
        &app,
        post(
            &f,
            &format!("{uri}/certificate"),
            &json!({ "certificatePem": leaf }),
        ),
    )
    .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (404, Some("certificate_request_not_found"))
    );
    let (status, _, _) = call(
        &app,
        test::TestRequest::delete()
            .uri(&uri)
            .insert_header(("Authorization", f.bearer.clone())),
    )
    .await;
    assert_eq!(status, 404);
}

#[actix_web::test]
async fn racing_completions_of_one_request_make_one_certificate() {
    let f = Fixture::for_requests().await;
    let app = app!(f);
    let ca = f.ca("Race CA");
    let request = create_request(&f, &app, "raced", Some("P-256")).await;
    let leaf = f.sign(&ca, request["csrPem"].as_str().unwrap(), 90, None);
    let uri = format!("{BASE}/{}/certificate", request["id"]);
    let body = json!({ "certificatePem": leaf });
    let (a, b) = futures_util::join!(
        call(&app, post(&f, &uri, &body)),
        call(&app, post(&f, &uri, &body))
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} / {}", a.2, b.2);
    let loser = if a.0 == 409 { &a.1 } else { &b.1 };
    let code = loser["error"]["code"].as_str().unwrap();
    assert!(
        [
            "certificate_request_completed",
            "certificate_request_completing"
        ]
        .contains(&code),
        "{code}"
    );
    assert_eq!(f.state.certificates.list("acc1").await.unwrap().len(), 1);
}

#[actix_web::test]
async fn a_completion_that_loses_the_claim_to_another_instance_answers_409_and_saves_nothing() {
    let f = Fixture::for_requests().await;
    let app = app!(f);
    let ca = f.ca("Claim CA");
    let request = create_request(&f, &app, "claimed", Some("P-256")).await;
    let id = request["id"].as_u64().unwrap();
    let leaf = f.sign(&ca, request["csrPem"].as_str().unwrap(), 90, None);
    // Another instance marks the request as its own just before this one's claim write.
    let record = format!(
        "certificate-requests/{}/{id}",
        crate::store::segment("acc1")
    );
    let mut theirs = f.store.read(&record).await.unwrap().unwrap().value;
    theirs["completingSince"] = json!(crate::clock::now_unix());
    *f.store.race.lock().unwrap() = Some((record, theirs));
    let (status, error, _) = call(
        &app,
        post(
            &f,
            &format!("{BASE}/{id}/certificate"),
            &json!({ "certificatePem": leaf }),
        ),
    )
    .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (409, Some("certificate_request_completing"))
    );
    assert!(f.state.certificates.list("acc1").await.unwrap().is_empty());
    // Nor can it be deleted while that completion runs.
    let (status, error, _) = call(
        &app,
        test::TestRequest::delete()
            .uri(&format!("{BASE}/{id}"))
            .insert_header(("Authorization", f.bearer.clone())),
    )
    .await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (409, Some("certificate_request_completing"))
    );
}

#[actix_web::test]
async fn store_down_answers_503_and_another_accounts_credential_403() {
    let f = Fixture::for_requests().await;
    let app = app!(f);
    let request = create_request(&f, &app, "guarded", Some("P-256")).await;
    let id = &request["id"];
    let other = f
        .state
        .auth
        .issue_token("other", &["acc2".to_owned()], 600)
        .await
        .unwrap();
    for (method, uri) in [
        ("POST", BASE.to_owned()),
        ("GET", BASE.to_owned()),
        ("GET", format!("{BASE}/{id}")),
        ("DELETE", format!("{BASE}/{id}")),
        ("POST", format!("{BASE}/{id}/certificate")),
        ("GET", format!("{BASE}/424242")),
    ] {
        let req = test::TestRequest::default()
            .method(method.parse().unwrap())
            .uri(&uri)
            .insert_header(("Authorization", format!("Bearer {other}")))
            .set_json(json!({}));
        let (status, _, text) = call(&app, req).await;
        assert_eq!(status, 403, "{method} {uri}: {text}");
        let (status, _, _) = call(
            &app,
            test::TestRequest::default()
                .method(method.parse().unwrap())
                .uri(&uri),
        )
        .await;
        assert_eq!(status, 401, "{method} {uri}");
    }
    f.store.down.store(true, Ordering::SeqCst);
    let (status, error, _) = call(&app, get(&f, BASE)).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (503, Some("store_unavailable"))
    );
    let body = json!({ "name": "later", "subject": { "commonName": "later" }, "keyType": "P-256" });
    let (status, _, _) = call(&app, post(&f, BASE, &body)).await;
    assert_eq!(status, 503);
    f.store.down.store(false, Ordering::SeqCst);
    let (_, list, _) = call(&app, get(&f, BASE)).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

/// Every error code of this module reads well and never carries key material.
#[::core::prelude::v1::test]
fn every_request_error_has_a_code_and_a_plain_message() {
    use crate::certificate_requests::RequestError;
    use crate::http::error::ApiError;
    let errors = vec![
        RequestError::NotFound,
        RequestError::AlreadyCompleted {
            certificate_id: Some(7),
        },
        RequestError::CompletionInProgress,
        RequestError::InvalidName {
            problem: "name must be 1 to 128 characters and not blank".to_owned(),
        },
        RequestError::InvalidCertificatePem {
            problem: "no certificate found".to_owned(),
        },
        RequestError::KeyCertificateMismatch { certificates: 2 },
        RequestError::InvalidChain {
            position: 2,
            expected_subject: "CN=A".to_owned(),
            found_subject: "CN=B".to_owned(),
        },
        RequestError::Internal("testing"),
    ];
    for error in errors {
        let api = ApiError::from(error);
        eprintln!("{} {}: {}", api.status, api.code, api.message);
        assert!(
            api.code.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{}",
            api.code
        );
        assert!(
            !api.message.is_empty() && !api.message.ends_with('.'),
            "{}",
            api.message
        );
        assert!(
            !api.message.contains("testing"),
            "internal causes stay out of the message"
        );
    }
}

#[actix_web::test]
async fn the_sweep_deletes_keys_no_pending_request_holds_once_they_are_old() {
    let f = Fixture::for_requests().await;
    let app = app!(f);
    let ca = f.ca("Sweep CA");
    let pending = create_request(&f, &app, "pending", Some("P-256")).await;
    let pending_id = pending["id"].as_u64().unwrap();
    let completed = create_request(&f, &app, "completed", Some("P-256")).await;
    let completed_id = completed["id"].as_u64().unwrap();
    let leaf = f.sign(&ca, completed["csrPem"].as_str().unwrap(), 90, None);
    let (status, _, text) = call(
        &app,
        post(
            &f,
            &format!("{BASE}/{completed_id}/certificate"),
            &json!({ "certificatePem": leaf }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{text}");

    let account = crate::store::segment("acc1");
    let old = crate::clock::now_unix() - 3600;
    let key = |id: u64| format!("certificate-request-keys/{account}/{id}");
    let write = |id: u64, stored_at: i64| {
        let store = f.store.clone();
        async move {
            let value = json!({ "privateKeyPkcs8": "AAAA", "storedAt": stored_at });
            store
                .write(&key(id), &value, crate::store::Expect::Any)
                .await
                .unwrap();
        }
    };
    // A completion whose key record a store failure kept; a crash between a create's key and
    // its record, long ago and just now.
    write(completed_id, old).await;
    write(111, old).await;
    write(222, crate::clock::now_unix()).await;
    // The pending request's own key is old too, and stays.
    let mut own = f.store.read(&key(pending_id)).await.unwrap().unwrap().value;
    own["storedAt"] = json!(old);
    f.store
        .write(&key(pending_id), &own, crate::store::Expect::Any)
        .await
        .unwrap();

    let deleted = f
        .state
        .certificate_requests
        .sweep_orphan_keys()
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    assert!(held_key(&f, pending_id).await.is_some());
    assert!(held_key(&f, completed_id).await.is_none());
    assert!(held_key(&f, 111).await.is_none());
    assert!(
        held_key(&f, 222).await.is_some(),
        "a create in flight keeps its key"
    );
    assert_eq!(
        f.state
            .certificate_requests
            .sweep_orphan_keys()
            .await
            .unwrap(),
        0
    );

    // The pending request still completes with its key.
    let leaf = f.sign(&ca, pending["csrPem"].as_str().unwrap(), 90, None);
    let (status, _, text) = call(
        &app,
        post(
            &f,
            &format!("{BASE}/{pending_id}/certificate"),
            &json!({ "certificatePem": leaf }),
        ),
    )
    .await;
    assert_eq!(status, 201, "{text}");
}

/// Every change a certificate request makes is in the account's audit trail, newest first:
/// create (with the request's id), completion (the request and the certificate it made, with
/// that certificate's id) and delete; a refused completion leaves no record.
#[actix_web::test]
async fn request_changes_are_in_the_audit_trail_and_refusals_are_not() {
    let f = Fixture::for_requests().await;
    let app = app!(f);
    let ca = f.ca("Audit CA");
    let completed = create_request(&f, &app, "audited", Some("P-256")).await;
    let completed_id = completed["id"].as_u64().unwrap();
    let garbage = json!({ "certificatePem": "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n" });
    let (status, _, text) =
        call(&app, post(&f, &format!("{BASE}/{completed_id}/certificate"), &garbage)).await;
    assert_eq!(status, 422, "{text}");
    let leaf = f.sign(&ca, completed["csrPem"].as_str().unwrap(), 90, None);
    let body = json!({ "certificatePem": format!("{leaf}{}", ca.pem()) });
    let (status, saved, text) =
        call(&app, post(&f, &format!("{BASE}/{completed_id}/certificate"), &body)).await;
    assert_eq!(status, 201, "{text}");
    let certificate_id = saved["successfulySavedCertificates"][0]["id"].as_u64().unwrap();
    let deleted = create_request(&f, &app, "dropped", Some("P-256")).await;
    let deleted_id = deleted["id"].as_u64().unwrap();
    let (status, _, text) = call(
        &app,
        test::TestRequest::delete()
            .uri(&format!("{BASE}/{deleted_id}"))
            .insert_header(("Authorization", f.bearer.clone())),
    )
    .await;
    assert_eq!(status, 200, "{text}");

    let (status, page, text) = call(&app, get(&f, "/mtls/account/acc1/audit")).await;
    assert_eq!(status, 200, "{text}");
    let records: Vec<(String, String, Option<String>)> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_owned(),
                r["resource"]["type"].as_str().unwrap().to_owned(),
                r["resource"]["id"].as_str().map(str::to_owned),
            )
        })
        .collect();
    let entry = |action: &str, kind: &str, id: u64| (action.to_owned(), kind.to_owned(), Some(id.to_string()));
    assert_eq!(
        records,
        [
            entry("certificate_request.delete", "certificate_request", deleted_id),
            entry("certificate_request.create", "certificate_request", deleted_id),
            entry("certificate.create", "certificate", certificate_id),
            entry("certificate_request.complete", "certificate_request", completed_id),
            entry("certificate_request.create", "certificate_request", completed_id),
        ],
        "{page:#}"
    );
    assert!(!text.contains("PRIVATE KEY") && !text.contains("privateKeyPkcs8"));
}
