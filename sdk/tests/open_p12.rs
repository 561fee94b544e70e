//! `open_p12` on the files the server sees most: OpenSSL 3 default and `-legacy` exports.

mod common;

use common::*;
use mtls_sdk::{open_p12, InspectOptions};

#[test]
fn openssl3_default_and_legacy_files_open_with_key_and_leaf_first_chain() {
    let fx = Fixtures::new();
    let ca_key = fx.rsa("ca", 2048);
    let ca = fx.self_signed("ca", &ca_key, 3650, &[]);
    let leaf_key = fx.ec("leaf", "P-256");
    let leaf = fx.issued(
        "leaf",
        &leaf_key,
        &ca,
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=DNS:client.example\n",
        &["-days", "365"],
    );
    for (name, extra) in [("default", &[][..]), ("legacy", &["-legacy"][..])] {
        let path = fx.p12(name, &leaf, &[&ca.cert], "s3cret", extra);
        let bytes = std::fs::read(&path).unwrap();
        let (report, contents) = open_p12(&bytes, "s3cret", &InspectOptions::at(now_unix()));
        assert!(report.usable, "{name}: {report:#?}");
        let contents = contents.expect("contents of a usable file");
        assert_eq!(contents.certificate_chain.len(), 2, "{name}");
        let leaf_der = openssl(&["x509", "-in", leaf.cert.to_str().unwrap(), "-outform", "DER"]);
        let ca_der = openssl(&["x509", "-in", ca.cert.to_str().unwrap(), "-outform", "DER"]);
        assert_eq!(contents.certificate_chain[0], leaf_der, "{name}: leaf first");
        assert_eq!(contents.certificate_chain[1], ca_der, "{name}: then the CA");
        let key_der = openssl(&["pkcs8", "-topk8", "-nocrypt", "-in", leaf_key.to_str().unwrap(), "-outform", "DER"]);
        assert_eq!(&contents.private_key_pkcs8[..], &key_der[..], "{name}: the PKCS#8 key");
        assert!(!format!("{contents:?}").contains(&format!("{:?}", &key_der[..8])), "redacted");
        let cert = report.certificate.unwrap();
        assert_eq!(cert.subject, "CN=leaf,O=Test Brand");
        assert_eq!(cert.issuer, "CN=ca,O=Test Brand");
        assert_eq!(cert.extended_key_usage, vec!["clientAuth"]);
        assert_eq!(cert.key_usage, vec!["digitalSignature"]);
        assert_eq!(cert.subject_alt_names, vec!["DNS:client.example"]);
        assert_eq!(report.key.unwrap().curve.as_deref(), Some("P-256"));
        let container = report.container.unwrap();
        if name == "default" {
            assert_eq!(container.mac_algorithm, "SHA-256");
            assert!(container.encryption.iter().all(|e| e.algorithm == "PBES2/PBKDF2-HMAC-SHA256/AES-256-CBC"));
        } else {
            assert_eq!(container.mac_algorithm, "SHA-1");
            assert!(codes(&report.warnings).contains(&"legacy_encryption"));
        }
    }
}

#[test]
fn wrong_password_is_refused_without_contents() {
    let fx = Fixtures::new();
    let key = fx.rsa("k", 2048);
    let cred = fx.self_signed("k", &key, 365, &[]);
    for (name, extra) in [("default", &[][..]), ("legacy", &["-legacy"][..]), ("nomac", &["-nomac"][..])] {
        let path = fx.p12(name, &cred, &[], "right", extra);
        let bytes = std::fs::read(&path).unwrap();
        let (report, contents) = open_p12(&bytes, "wrong", &InspectOptions::at(now_unix()));
        assert_eq!(codes(&report.problems), vec!["wrong_password"], "{name}: {report:#?}");
        assert!(!report.usable && contents.is_none());
        let json = serde_json::to_string(&report).unwrap();
        assert!(!json.contains("wrong") || json.contains("wrong_password"), "no password in {json}");
        assert!(!json.contains("right"), "no password in {json}");
    }
}
