use super::*;

const ORIGIN: &str = "https://t.example:443";

fn findings() -> Findings<'static> {
    Findings {
        origin: ORIGIN.to_owned(),
        connected: true,
        presented: true,
        requested: true,
        issuers_listed: true,
        chain_matches: true,
        untrusted: None,
        failure: None,
    }
}

fn code(f: &Findings<'_>) -> Option<ProblemCode> {
    first_problem(f).map(|p| p.code)
}

/// rustls errors reach the client inside io::Errors (tokio-rustls).
fn alert_failure(alert: AlertDescription, during_handshake: bool) -> Failure {
    let io = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::AlertReceived(alert));
    if during_handshake { Failure::Connect(io) } else { Failure::Exchange(Box::new(io)) }
}

#[test]
fn a_requested_accepted_certificate_is_ok() {
    assert_eq!(first_problem(&findings()), None);
    // An empty issuer list accepts any chain.
    assert_eq!(code(&Findings { issuers_listed: false, chain_matches: false, ..findings() }), None);
}

#[test]
fn problems_follow_the_order_a_connection_meets_them() {
    let dns = Failure::Guard(GuardError::Dns);
    assert_eq!(code(&Findings { connected: false, presented: false, failure: Some(&dns), ..findings() }), Some(ProblemCode::Dns));
    let refused = Failure::Connect(std::io::ErrorKind::ConnectionRefused.into());
    let problem = first_problem(&Findings { connected: false, requested: false, failure: Some(&refused), ..findings() }).unwrap();
    assert_eq!((problem.code, problem.message.as_str()), (ProblemCode::Connect, "https://t.example:443: connection refused"));
    let timeout = Failure::Timeout;
    assert_eq!(code(&Findings { connected: false, failure: Some(&timeout), ..findings() }), Some(ProblemCode::Timeout));
    // A timeout after the handshake is the answer's.
    let problem = first_problem(&Findings { failure: Some(&timeout), ..findings() }).unwrap();
    assert_eq!(problem.code, ProblemCode::Timeout);
    assert!(problem.message.contains("HEAD"), "{}", problem.message);

    // The target's certificate comes before anything about ours, and says why.
    let expired = CertificateError::Expired;
    let untrusted = Failure::Connect(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        rustls::Error::InvalidCertificate(CertificateError::Expired),
    ));
    let problem = first_problem(&Findings {
        connected: false,
        presented: false,
        untrusted: Some(&expired),
        failure: Some(&untrusted),
        ..findings()
    })
    .unwrap();
    assert_eq!((problem.code, problem.reason), (ProblemCode::ServerCertificateUntrusted, Some("expired")));

    let other_tls = Failure::Connect(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        rustls::Error::PeerIncompatible(rustls::PeerIncompatible::Tls12NotOffered),
    ));
    assert_eq!(code(&Findings { connected: false, requested: false, failure: Some(&other_tls), ..findings() }), Some(ProblemCode::Tls));
    // An alert before any CertificateRequest is not about our certificate.
    let early = alert_failure(AlertDescription::ProtocolVersion, true);
    let problem = first_problem(&Findings { connected: false, requested: false, failure: Some(&early), ..findings() }).unwrap();
    assert_eq!((problem.code, problem.alert.as_deref()), (ProblemCode::Tls, Some("protocol_version")));
}

#[test]
fn client_certificate_problems() {
    // Nothing to present: no_mapping, whatever the target does, with its alert when it sent one.
    let required = alert_failure(AlertDescription::CertificateRequired, false);
    let problem = first_problem(&Findings { presented: false, failure: Some(&required), ..findings() }).unwrap();
    assert_eq!((problem.code, problem.alert.as_deref()), (ProblemCode::NoMapping, Some("certificate_required")));
    assert!(problem.message.contains("no client certificate was presented"), "{}", problem.message);
    let problem = first_problem(&Findings { presented: false, requested: false, ..findings() }).unwrap();
    assert_eq!(problem.code, ProblemCode::NoMapping);
    assert!(problem.message.contains("did not ask"), "{}", problem.message);

    assert_eq!(code(&Findings { requested: false, issuers_listed: false, ..findings() }), Some(ProblemCode::ClientCertificateNotRequested));

    // The issuer list explains a rejection better than the alert; the alert is kept.
    let unknown_ca = alert_failure(AlertDescription::UnknownCA, true);
    let problem = first_problem(&Findings { connected: false, chain_matches: false, failure: Some(&unknown_ca), ..findings() }).unwrap();
    assert_eq!((problem.code, problem.alert.as_deref()), (ProblemCode::IssuerNotAccepted, Some("unknown_ca")));
    // ... also when the target let the handshake through (nginx answers 400 instead).
    assert_eq!(code(&Findings { chain_matches: false, ..findings() }), Some(ProblemCode::IssuerNotAccepted));

    for during_handshake in [true, false] {
        let expired = alert_failure(AlertDescription::CertificateExpired, during_handshake);
        let problem = first_problem(&Findings { connected: !during_handshake, failure: Some(&expired), ..findings() }).unwrap();
        assert_eq!((problem.code, problem.alert.as_deref()), (ProblemCode::ClientCertificateRejected, Some("certificate_expired")));
        assert_eq!(problem.message, "https://t.example:443: the target refused the client certificate (alert certificate_expired)");
    }
    let broken = Failure::Exchange(Box::new(std::io::Error::from(std::io::ErrorKind::UnexpectedEof)));
    assert_eq!(code(&Findings { failure: Some(&broken), ..findings() }), Some(ProblemCode::Io));
}

#[test]
fn codes_reasons_and_alerts_have_stable_names() {
    let codes = [
        ProblemCode::NoMapping,
        ProblemCode::Dns,
        ProblemCode::Connect,
        ProblemCode::Timeout,
        ProblemCode::ServerCertificateUntrusted,
        ProblemCode::ClientCertificateNotRequested,
        ProblemCode::IssuerNotAccepted,
        ProblemCode::ClientCertificateRejected,
        ProblemCode::Tls,
        ProblemCode::Io,
    ];
    let names: Vec<String> = codes.iter().map(|c| serde_json::to_value(c).unwrap().as_str().unwrap().to_owned()).collect();
    assert_eq!(
        names,
        [
            "no_mapping", "dns", "connect", "timeout", "server_certificate_untrusted",
            "client_certificate_not_requested", "issuer_not_accepted", "client_certificate_rejected", "tls", "io",
        ]
    );
    let reasons: Vec<&str> = [
        CertificateError::UnknownIssuer,
        CertificateError::Expired,
        CertificateError::NotValidYet,
        CertificateError::NotValidForName,
        CertificateError::Revoked,
        CertificateError::InvalidPurpose,
        CertificateError::BadSignature,
        CertificateError::BadEncoding,
    ]
    .iter()
    .map(|e| untrusted_reason(e).0)
    .collect();
    assert_eq!(
        reasons,
        ["unknown_issuer", "expired", "not_valid_yet", "name_mismatch", "revoked", "wrong_purpose", "bad_signature", "invalid"]
    );
    assert_eq!(alert_name(AlertDescription::UnknownCA), "unknown_ca");
    assert_eq!(alert_name(AlertDescription::CertificateRequired), "certificate_required");
    assert_eq!(alert_name(AlertDescription::Unknown(200)), "alert_200");
    // Review the wording of every message.
    for (f, expected) in [
        (Findings { presented: false, requested: false, ..findings() }, ProblemCode::NoMapping),
        (Findings { requested: false, ..findings() }, ProblemCode::ClientCertificateNotRequested),
        (Findings { chain_matches: false, ..findings() }, ProblemCode::IssuerNotAccepted),
    ] {
        let problem = first_problem(&f).unwrap();
        assert_eq!(problem.code, expected);
        println!("{expected:?}: {}", problem.message);
        assert!(!problem.message.ends_with('.') && !problem.message.contains("  "), "{}", problem.message);
    }
}

#[test]
fn cipher_suites_have_their_iana_names() {
    assert_eq!(cipher_suite_name(rustls::CipherSuite::TLS13_AES_256_GCM_SHA384), "TLS_AES_256_GCM_SHA384");
    assert_eq!(
        cipher_suite_name(rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
    );
    assert_eq!(cipher_suite_name(rustls::CipherSuite::Unknown(0xabcd)), "0xabcd");
}

#[test]
fn issuer_names_are_compared_as_der_and_shown_as_rfc_4514() {
    use std::str::FromStr as _;
    let ca = x509_cert::name::Name::from_str("CN=Probe CA,O=Tests").unwrap().to_der().unwrap();
    let other = x509_cert::name::Name::from_str("CN=Other CA").unwrap().to_der().unwrap();
    assert_eq!(name_text(&ca), "CN=Probe CA,O=Tests");
    assert!(name_text(&[0x30, 0x03, 0x01]).starts_with("unparsable name "));
    // A chain that does not parse matches nothing; a match needs a parsed certificate.
    assert!(!chain_has_issuer(&[vec![1, 2, 3]], std::slice::from_ref(&ca)));
    assert!(!chain_has_issuer(&[], &[ca, other]));
}

#[test]
fn reports_serialize_with_the_spec_field_names() {
    let report = ProbeReport {
        ok: false,
        url: "https://t.example/x".into(),
        certificate_id: Some(7),
        tls: Some(TlsFacts {
            version: Some("TLSv1.3".into()),
            cipher_suite: Some("TLS_AES_128_GCM_SHA256".into()),
            server_certificate: None,
        }),
        client_certificate_requested: true,
        acceptable_issuers: vec!["CN=CA".into()],
        http_status: None,
        problem: first_problem(&Findings { chain_matches: false, ..findings() }),
    };
    let json = serde_json::to_value(&report).unwrap();
    let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["acceptableIssuers", "certificateId", "clientCertificateRequested", "httpStatus", "ok", "problem", "tls", "url"]
    );
    assert_eq!(json["tls"]["cipherSuite"], "TLS_AES_128_GCM_SHA256");
    assert_eq!(json["tls"]["serverCertificate"], serde_json::Value::Null);
    assert_eq!(json["problem"]["code"], "issuer_not_accepted");
    assert!(json["problem"].get("reason").is_none());
}
