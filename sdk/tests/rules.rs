//! Specific rule outputs beyond the verdict codes: messages that say what a refused file looks
//! like, chain order, the configurable cap, validity edges, key and container facts.

mod common;

use common::*;
use mtls_sdk::{inspect_p12, p12_iterations, InspectOptions, P12Iterations};

fn inspect_bytes(bytes: &[u8], password: &str) -> mtls_sdk::P12Report {
    inspect_both_ways(bytes, password, &InspectOptions::at(now_unix()))
}

#[test]
fn refusals_say_what_the_file_looks_like() {
    let fx = Fixtures::new();
    for (storetype, word) in [("JKS", "Java KeyStore (JKS)"), ("JCEKS", "JCEKS")] {
        let out = fx.path(storetype);
        keytool(&["-genkeypair", "-storetype", storetype, "-alias", "k", "-dname", "CN=x", "-keyalg", "EC", "-storepass", "changeit", "-keypass", "changeit", "-keystore", out.to_str().unwrap()]);
        let report = inspect(&out, "changeit");
        assert_eq!(codes(&report.problems), ["not_pkcs12"]);
        assert!(report.problems[0].message.contains(word), "{}", report.problems[0].message);
        assert!(report.problems[0].message.contains("keytool -importkeystore"));
    }
    let key = fx.rsa("k", 2048);
    let cred = fx.self_signed("k", &key, 30, &[]);
    let report = inspect(&cred.cert, "x");
    assert!(report.problems[0].message.contains("PEM text (CERTIFICATE)"), "{:?}", report.problems);
    let p12 = std::fs::read(fx.p12("k", &cred, &[], "pw", &[])).unwrap();
    let base64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &p12);
    let report = inspect_bytes(base64.as_bytes(), "pw");
    assert!(report.problems[0].message.contains("base64"), "{:?}", report.problems);
    let report = inspect_bytes(&p12[..p12.len() - 10], "pw");
    assert_eq!(codes(&report.problems), ["not_pkcs12"]);
    assert!(report.container.is_none() && report.certificate.is_none());
}

#[test]
fn iteration_cap_is_configurable() {
    let fx = Fixtures::new();
    let key = fx.ec("k", "P-256");
    let cred = fx.self_signed("k", &key, 30, &[]);
    let p12 = std::fs::read(fx.p12("k", &cred, &[], "pw", &["-iter", "5000"])).unwrap();
    let at = |cap| inspect_p12(&p12, "pw", &InspectOptions::new(now_unix(), cap));
    let refused = at(4999);
    assert_eq!(codes(&refused.problems), ["too_many_iterations"]);
    assert!(refused.problems[0].message.contains("5000") && refused.problems[0].message.contains("4999"));
    assert_eq!(refused.container.as_ref().unwrap().mac_iterations, 5000, "facts still reported");
    assert!(at(5000).usable);
}

#[test]
fn p12_iterations_reads_the_declared_counts_without_the_password() {
    let fx = Fixtures::new();
    let key = fx.ec("k", "P-256");
    let cred = fx.self_signed("k", &key, 30, &[]);
    let p12 = std::fs::read(fx.p12("k", &cred, &[], "pw", &["-iter", "5000"])).unwrap();
    let iterations = p12_iterations(&p12).unwrap();
    assert_eq!(
        iterations,
        P12Iterations { mac: Some(5000), key_encryption: vec![5000], certificate_encryption: vec![5000] }
    );
    assert_eq!((iterations.total(), iterations.max()), (15_000, 5000));
    // The same counts the report shows after the KDF ran.
    let container = inspect_p12(&p12, "pw", &InspectOptions::at(now_unix())).container.unwrap();
    assert_eq!(Some(container.mac_iterations), iterations.mac);
    let mut reported: Vec<u64> = container.encryption.iter().map(|e| e.iterations).collect();
    reported.sort_unstable();
    assert_eq!(reported, [5000, 5000]);
    // What is not a PFX gets the problem the inspection reports.
    let refused = p12_iterations(b"-----BEGIN CERTIFICATE-----\n").unwrap_err();
    assert_eq!(refused.code, "not_pkcs12");
    assert_eq!(p12_iterations(&p12[..p12.len() - 10]).unwrap_err().code, "not_pkcs12");
}

#[test]
fn kdf_budget_bounds_the_iterations_of_all_runs_of_one_file() {
    let fx = Fixtures::new();
    let key = fx.ec("k", "P-256");
    let cred = fx.self_signed("k", &key, 30, &[]);
    let p12 = std::fs::read(fx.p12("k", &cred, &[], "pw", &["-iter", "5000"])).unwrap();
    let at = |kdf_budget| {
        inspect_p12(&p12, "pw", &InspectOptions { kdf_budget, ..InspectOptions::at(now_unix()) })
    };
    let refused = at(14_999);
    assert_eq!(codes(&refused.problems), ["too_many_iterations"]);
    let message = &refused.problems[0].message;
    assert!(message.contains("15000") && message.contains("14999"), "{message}");
    assert!(at(15_000).usable);
}

#[test]
fn chain_is_ordered_leaf_to_root_whatever_the_file_order() {
    let fx = Fixtures::new();
    let root = fx.self_signed("root", &fx.ec("root", "P-384"), 3650, &["-addext", "basicConstraints=critical,CA:true"]);
    let inter_key = fx.ec("inter", "P-256");
    let inter = fx.issued("inter", &inter_key, &root, "basicConstraints=critical,CA:true\n", &["-days", "900"]);
    let leaf = fx.issued("leaf", &fx.rsa("leaf", 2048), &inter, "extendedKeyUsage=clientAuth\n", &["-days", "90"]);
    let path = fx.p12("chain", &leaf, &[&root.cert, &inter.cert], "pw", &[]);
    let (report, contents) = mtls_sdk::open_p12(&std::fs::read(&path).unwrap(), "pw", &InspectOptions::at(now_unix()));
    assert!(report.usable, "{report:#?}");
    let subjects: Vec<&str> = report.chain.iter().map(|c| c.subject.as_str()).collect();
    assert_eq!(subjects, ["CN=inter,O=Test Brand", "CN=root,O=Test Brand"]);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let chain = contents.unwrap().certificate_chain;
    assert_eq!(chain, [cert_der(&leaf.cert), cert_der(&inter.cert), cert_der(&root.cert)]);
}

#[test]
fn validity_is_judged_at_the_given_time() {
    let fx = Fixtures::new();
    let cred = fx.self_signed("k", &fx.ec("k", "P-256"), 100, &[]);
    let p12 = std::fs::read(fx.p12("k", &cred, &[], "pw", &[])).unwrap();
    // The edges come from OpenSSL and GNU date, not from the SDK's own report.
    let (not_before, not_after) = openssl_validity(&cred.cert);
    let at = |t: i64| inspect_p12(&p12, "pw", &InspectOptions::at(t));
    assert_eq!(codes(&at(not_before - 1).problems), ["not_yet_valid"]);
    assert!(at(not_before).usable);
    assert!(at(not_after).usable);
    assert_eq!(codes(&at(not_after + 1).problems), ["expired"]);
    assert!(codes(&at(not_after - 29 * 86400).warnings).contains(&"expires_soon"));
    assert!(!codes(&at(not_after - 31 * 86400).warnings).contains(&"expires_soon"));
}

#[test]
fn report_facts_match_openssl() {
    let fx = Fixtures::new();
    let key = fx.rsa("k", 3072);
    let cred = fx.self_signed(
        "k",
        &key,
        30,
        &["-addext", "subjectAltName=DNS:a.example,IP:10.1.2.3,email:x@example.com,URI:https://u.example/", "-addext", "keyUsage=digitalSignature,keyEncipherment", "-addext", "extendedKeyUsage=clientAuth,1.2.3.4"],
    );
    let report = inspect(&fx.p12("k", &cred, &[], "pw", &["-legacy"]), "pw");
    assert!(report.usable, "{report:#?}");
    let cert = report.certificate.unwrap();
    let openssl_text = String::from_utf8(openssl(&["x509", "-in", cred.cert.to_str().unwrap(), "-noout", "-serial", "-fingerprint", "-sha256"])).unwrap();
    let serial = openssl_text.lines().find_map(|l| l.strip_prefix("serial=")).unwrap().to_lowercase();
    assert_eq!(cert.serial_number.trim_start_matches('0'), serial.trim_start_matches('0'));
    let fingerprint = openssl_text.lines().find_map(|l| l.split_once("Fingerprint=")).unwrap().1.replace(':', "").to_lowercase();
    assert_eq!(cert.fingerprint_sha256, fingerprint);
    assert_eq!(cert.subject_alt_names, ["DNS:a.example", "IP:10.1.2.3", "email:x@example.com", "URI:https://u.example/"]);
    assert_eq!(cert.key_usage, ["digitalSignature", "keyEncipherment"]);
    assert_eq!(cert.extended_key_usage, ["clientAuth", "1.2.3.4"]);
    let key_info = report.key.unwrap();
    assert_eq!((key_info.algorithm.as_str(), key_info.bits), ("RSA", Some(3072)));
    let container = report.container.unwrap();
    assert_eq!((container.mac_algorithm.as_str(), container.mac_iterations), ("SHA-1", 2048));
    let enc: Vec<(&str, &str)> = container.encryption.iter().map(|e| (e.bag.as_str(), e.algorithm.as_str())).collect();
    assert_eq!(enc, [("certificates", "PBE-SHA1-RC2-40"), ("key", "PBE-SHA1-3DES")]);
}

/// `notBefore` and `notAfter` of a PEM certificate in Unix seconds, as OpenSSL prints them and
/// GNU `date` converts them.
fn openssl_validity(cert: &std::path::Path) -> (i64, i64) {
    let text = String::from_utf8(openssl(&[
        "x509", "-in", cert.to_str().unwrap(), "-noout", "-startdate", "-enddate", "-dateopt", "iso_8601",
    ]))
    .unwrap();
    let seconds = |field: &str| {
        let line = text.lines().find_map(|l| l.strip_prefix(field)).expect("openssl prints the date");
        let out = std::process::Command::new("date").args(["-u", "-d", line, "+%s"]).output().expect("GNU date");
        assert!(out.status.success(), "date -d {line}");
        String::from_utf8(out.stdout).unwrap().trim().parse::<i64>().unwrap()
    };
    (seconds("notBefore="), seconds("notAfter="))
}
