//! `generate_csr` → OpenSSL CA → `build_p12` → OpenSSL 3 and the JDK, for every key type and both
//! profiles. The oracles are the real tools on the machine: `openssl req -verify`
//! checks each CSR, a test CA made here with `openssl` signs it (`openssl x509 -req
//! -copy_extensions copy`), `openssl pkcs12` (without `-legacy`) and one JVM running
//! `tests/java/LoadP12.java` (KeyStore "PKCS12": load, recover the key, sign and verify with the
//! leaf) read every P12. Fixtures are made in a fresh temporary directory per run.

mod builder_support;

use builder_support::{TestCa, TestDir, openssl, openssl_ok, run_java_loader};
use mtls_sdk::{
    CsrRequest, CsrSignatureScheme, CsrSubject, GeneratedCsr, InspectOptions, KeyType,
    P12BuildRequest, P12Profile, build_p12, generate_csr, inspect_p12, open_p12, unsigned_csr,
};

const PASSWORD: &str = "p12 Pass-word!";

fn csr_request(key_type: KeyType) -> CsrRequest {
    CsrRequest {
        subject: CsrSubject {
            common_name: format!("client-{}.example.com", key_type.name().to_lowercase()),
            organization: Some("Brand Ünïcode, Inc.".into()),
            organizational_unit: Some("Integrations".into()),
            country: Some("DE".into()),
            state: Some("Berlin".into()),
            locality: Some("Berlin".into()),
            email: Some("ops@example.com".into()),
        },
        subject_alt_names: vec![
            "DNS:client.example.com".into(),
            "IP:192.0.2.10".into(),
            "email:ops@example.com".into(),
            "URI:spiffe://example.com/brand/42".into(),
        ],
        key_type,
        private_key_passphrase: None,
    }
}

#[test]
fn every_key_type_goes_from_csr_to_a_p12_that_openssl_and_the_jdk_load() {
    let dir = TestDir::new("round-trip");
    let ca = TestCa::new(&dir);
    let mut p12_files = Vec::new();
    for key_type in KeyType::ALL {
        let generated = generate_csr(&csr_request(key_type)).expect("generate_csr");
        let name = key_type.name();
        let csr_path = dir.write(&format!("{name}.csr"), generated.csr_pem.as_bytes());
        // The CSR's self-signature verifies, and it asks for what SPEC section 2 rule 6 needs.
        openssl_ok(&["req", "-verify", "-noout", "-in", &csr_path]);
        let text = openssl_ok(&["req", "-noout", "-text", "-in", &csr_path]);
        for expected in [
            "TLS Web Client Authentication",
            "Digital Signature",
            "DNS:client.example.com",
            "IP Address:192.0.2.10",
            "email:ops@example.com",
            "URI:spiffe://example.com/brand/42",
            "C = DE",
        ] {
            assert!(
                text.contains(expected),
                "{name} CSR lacks {expected:?}:\n{text}"
            );
        }
        let leaf = ca.sign(&dir, &csr_path, name);
        assert_leaf_has_client_auth(&dir, &leaf, name);

        // Chain given out of order: root, leaf, intermediate.
        let chain = format!("{}{}{}", ca.root_pem, leaf, ca.intermediate_pem);
        for profile in [P12Profile::Modern, P12Profile::Legacy] {
            let p12 = build(&generated, &chain, profile);
            let path = dir.write(&format!("{name}-{profile}.p12"), &p12);
            assert_openssl_reads(&path, profile, &format!("client-{}", name.to_lowercase()));
            assert_usable(&p12, key_type, profile, &generated);
            p12_files.push(path);
        }
    }
    let lines = run_java_loader(PASSWORD, &p12_files);
    for file in &p12_files {
        let line = lines
            .iter()
            .find(|line| line.contains(file.as_str()))
            .unwrap_or_else(|| panic!("no JDK verdict for {file}: {lines:?}"));
        assert!(line.starts_with("OK "), "JDK refused {file}: {line}");
        assert!(
            line.contains(" chain=3 "),
            "JDK chain of {file} is not leaf+intermediate+root: {line}"
        );
        let alias = format!("alias=client-{}", file_key_name(file));
        assert!(
            line.contains(&alias),
            "JDK alias of {file} is not the CN: {line}"
        );
    }
}

/// SPEC section 2 judges the file usable, and `open_p12` gives back the same key.
fn assert_usable(p12: &[u8], key_type: KeyType, profile: P12Profile, generated: &GeneratedCsr) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64;
    let options = InspectOptions::at(now);
    let report = inspect_p12(p12, PASSWORD, &options);
    assert!(
        report.usable,
        "{key_type} {profile}: not usable: {:?}",
        report.problems
    );
    let key = report.key.as_ref().expect("key info");
    match key_type.rsa_bits() {
        Some(bits) => {
            assert_eq!(key.algorithm, "RSA");
            assert_eq!(key.bits, Some(bits as u32));
        }
        None => assert_eq!(key.curve.as_deref(), Some(key_type.name())),
    }
    let certificate = report.certificate.as_ref().expect("certificate info");
    assert!(
        certificate
            .extended_key_usage
            .iter()
            .any(|usage| usage.contains("lientAuth"))
    );
    assert_eq!(
        report.chain.len(),
        2,
        "{key_type} {profile}: chain {:?}",
        report.chain
    );
    let container = report.container.as_ref().expect("container info");
    let expected_mac = match profile {
        P12Profile::Modern => "256",
        P12Profile::Legacy => "1",
    };
    assert!(
        container
            .mac_algorithm
            .to_ascii_lowercase()
            .replace('-', "")
            .ends_with(&format!("sha{expected_mac}")),
        "{key_type} {profile}: MAC {}",
        container.mac_algorithm
    );
    let (_, contents) = open_p12(p12, PASSWORD, &options);
    let contents = contents.expect("contents of a usable file");
    let (_, expected_key) =
        der::pem::decode_vec(generated.private_key_pem.as_bytes()).expect("key PEM");
    assert_eq!(
        contents.private_key_pkcs8.as_slice(),
        expected_key.as_slice()
    );
    assert_eq!(contents.certificate_chain.len(), 3);
    let wrong = inspect_p12(p12, "wrong password", &options);
    assert!(!wrong.usable);
    assert!(
        wrong
            .problems
            .iter()
            .any(|problem| problem.code == "wrong_password")
    );
}

fn build(generated: &GeneratedCsr, chain: &str, profile: P12Profile) -> Vec<u8> {
    build_p12(&P12BuildRequest {
        private_key_pem: &generated.private_key_pem,
        private_key_passphrase: None,
        certificate_pem: chain,
        password: PASSWORD,
        profile,
        friendly_name: None,
    })
    .expect("build_p12")
}

/// `RSA-2048-modern.p12` → `rsa-2048`.
fn file_key_name(file: &str) -> String {
    let base = file.rsplit('/').next().unwrap_or(file);
    let without_profile = base.rsplit_once('-').map_or(base, |(head, _)| head);
    without_profile.to_lowercase()
}

fn assert_leaf_has_client_auth(dir: &TestDir, leaf_pem: &str, name: &str) {
    let path = dir.write(&format!("{name}.leaf.pem"), leaf_pem.as_bytes());
    let text = openssl_ok(&["x509", "-noout", "-text", "-in", &path]);
    assert!(
        text.contains("TLS Web Client Authentication"),
        "{name} leaf lacks clientAuth"
    );
    assert!(
        text.contains("DNS:client.example.com"),
        "{name} leaf lacks the SAN"
    );
}

/// OpenSSL 3 reads the file without `-legacy`, verifies the MAC, names the algorithms of the
/// profile, and gives back the chain leaf first and the key with its attributes.
fn assert_openssl_reads(path: &str, profile: P12Profile, friendly_name: &str) {
    let pass = format!("pass:{PASSWORD}");
    let info = openssl(&["pkcs12", "-info", "-nokeys", "-in", path, "-passin", &pass]);
    assert!(
        info.status.success(),
        "openssl pkcs12 -info failed on {path}: {}",
        info.stderr
    );
    let all = format!("{}{}", info.stdout, info.stderr);
    let (mac, cipher) = match profile {
        P12Profile::Modern => ("MAC: sha256", "PBES2, PBKDF2, AES-256-CBC"),
        P12Profile::Legacy => ("MAC: sha1", "pbeWithSHA1And3-KeyTripleDES-CBC"),
    };
    assert!(all.contains(mac), "{path}: expected {mac}:\n{all}");
    assert!(all.contains(cipher), "{path}: expected {cipher}:\n{all}");
    let subjects: Vec<&str> = info
        .stdout
        .lines()
        .filter(|line| line.starts_with("subject="))
        .collect();
    assert_eq!(subjects.len(), 3, "{path}: {subjects:?}");
    assert!(
        subjects[0].contains(friendly_name),
        "{path}: leaf not first: {subjects:?}"
    );
    assert!(
        subjects[1].contains("Test Intermediate"),
        "{path}: {subjects:?}"
    );
    assert!(subjects[2].contains("Test Root"), "{path}: {subjects:?}");
    assert!(
        info.stdout
            .contains(&format!("friendlyName: {friendly_name}")),
        "{path}"
    );
    assert!(info.stdout.contains("localKeyID:"), "{path}");

    let keys = openssl(&[
        "pkcs12", "-nocerts", "-noenc", "-in", path, "-passin", &pass,
    ]);
    assert!(keys.status.success(), "{path}: {}", keys.stderr);
    assert!(
        keys.stdout.contains("-----BEGIN PRIVATE KEY-----"),
        "{path}: no key"
    );
    assert!(
        keys.stdout
            .contains(&format!("friendlyName: {friendly_name}")),
        "{path}"
    );

    let wrong = openssl(&[
        "pkcs12",
        "-info",
        "-nokeys",
        "-in",
        path,
        "-passin",
        "pass:wrong",
    ]);
    assert!(
        !wrong.status.success(),
        "{path}: opened with a wrong password"
    );
}

/// Keys as other tools write them (OpenSSL in every form users paste: PKCS#1, SEC1 with its
/// EC PARAMETERS block, PKCS#8, encrypted PKCS#8 under PBES2 AES/3DES with SHA-256 or SHA-1 PRF
/// and under PKCS#12 3DES; Ed25519 and P-521 keys) go into P12s that OpenSSL, the JDK and
/// `inspect_p12` read.
#[test]
fn keys_written_by_openssl_in_every_form_build_usable_p12s() {
    let dir = TestDir::new("key-forms");
    let ca = TestCa::new(&dir);
    let passphrase = "key pass";
    let pass_arg = format!("pass:{passphrase}");
    // (name, how to make the key PEM, needs passphrase)
    let cases: Vec<(&str, Vec<&str>, bool)> = vec![
        ("rsa-pkcs1", vec!["genrsa", "-traditional", "2048"], false),
        (
            "ec-sec1-with-params",
            vec!["ecparam", "-genkey", "-name", "prime256v1"],
            false,
        ),
        (
            "p521-pkcs8",
            vec![
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-521",
            ],
            false,
        ),
        (
            "ed25519-pkcs8",
            vec!["genpkey", "-algorithm", "ed25519"],
            false,
        ),
        (
            "pbes2-aes256-sha256",
            vec!["pkcs8", "-topk8", "-v2", "aes256", "-passout", &pass_arg],
            true,
        ),
        (
            "pbes2-des3-sha1",
            vec![
                "pkcs8",
                "-topk8",
                "-v2",
                "des3",
                "-v2prf",
                "hmacWithSHA1",
                "-passout",
                &pass_arg,
            ],
            true,
        ),
        (
            "pkcs12-pbe-3des",
            vec![
                "pkcs8",
                "-topk8",
                "-v1",
                "PBE-SHA1-3DES",
                "-passout",
                &pass_arg,
            ],
            true,
        ),
    ];
    let plain_rsa = openssl_ok(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
    ]);
    let plain_rsa_path = dir.write("plain-rsa.key", &plain_rsa);
    let mut files = Vec::new();
    for (name, args, encrypted) in cases {
        let key_pem = if args[0] == "pkcs8" {
            let mut with_input = args.clone();
            with_input.extend(["-in", plain_rsa_path.as_str()]);
            openssl_ok(&with_input)
        } else {
            openssl_ok(&args)
        };
        let key_path = dir.write(&format!("{name}.key"), &key_pem);
        let mut csr_args = vec!["req", "-new", "-key", &key_path, "-subj", "/CN=interop"];
        csr_args.extend(["-addext", "extendedKeyUsage=clientAuth"]);
        if encrypted {
            csr_args.extend(["-passin", pass_arg.as_str()]);
        }
        let csr_path = dir.write(&format!("{name}.csr"), openssl_ok(&csr_args));
        let leaf = ca.sign(&dir, &csr_path, name);
        let request = P12BuildRequest {
            private_key_pem: &key_pem,
            private_key_passphrase: encrypted.then_some(passphrase),
            certificate_pem: &format!("{leaf}{}", ca.intermediate_pem),
            password: PASSWORD,
            profile: P12Profile::Modern,
            friendly_name: Some(name),
        };
        let p12 = build_p12(&request).unwrap_or_else(|error| panic!("{name}: {error}"));
        if encrypted {
            let wrong = P12BuildRequest {
                private_key_passphrase: Some("not it"),
                ..request
            };
            let error = build_p12(&wrong).expect_err("wrong passphrase accepted");
            assert_eq!(error.code(), "wrong_passphrase", "{name}: {error}");
            let missing = P12BuildRequest {
                private_key_passphrase: None,
                ..request
            };
            assert_eq!(
                build_p12(&missing).expect_err("no passphrase").code(),
                "passphrase_required"
            );
        }
        let path = dir.write(&format!("{name}.p12"), &p12);
        let info = openssl(&[
            "pkcs12",
            "-info",
            "-nokeys",
            "-in",
            &path,
            "-passin",
            &format!("pass:{PASSWORD}"),
        ]);
        assert!(
            info.status.success(),
            "{name}: openssl refused: {}",
            info.stderr
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs() as i64;
        let report = inspect_p12(&p12, PASSWORD, &InspectOptions::at(now));
        assert!(report.usable, "{name}: not usable: {:?}", report.problems);
        files.push(path);
    }
    for line in run_java_loader(PASSWORD, &files) {
        assert!(
            line.starts_with("OK ") && line.contains(" chain=2 "),
            "JDK: {line}"
        );
    }
}

/// OpenSSL's "traditional" encrypted PEM is refused with advice, not misread.
#[test]
fn traditional_encrypted_pem_is_refused_with_advice() {
    let key = openssl_ok(&[
        "genrsa",
        "-traditional",
        "-aes256",
        "-passout",
        "pass:x",
        "2048",
    ]);
    let request = P12BuildRequest {
        private_key_pem: &key,
        private_key_passphrase: Some("x"),
        certificate_pem: "",
        password: PASSWORD,
        profile: P12Profile::Modern,
        friendly_name: None,
    };
    let error = build_p12(&request).expect_err("traditional PEM accepted");
    assert_eq!(error.code(), "unsupported_key_encryption");
    assert!(
        error.to_string().contains("openssl pkcs8 -topk8"),
        "{error}"
    );
}

/// An encrypted key asking for more than 1,000,000 PBKDF2 iterations is refused before any
/// derivation (a hostile file must cost nothing, as SPEC section 2 rule 7 says for P12s).
#[test]
fn encrypted_key_over_the_iteration_cap_is_refused() {
    let dir = TestDir::new("iteration-cap");
    let plain = dir.write(
        "plain.key",
        openssl_ok(&["genpkey", "-algorithm", "ed25519"]),
    );
    let costly = openssl_ok(&[
        "pkcs8", "-topk8", "-v2", "aes256", "-iter", "1000001", "-in", &plain, "-passout", "pass:x",
    ]);
    let request = P12BuildRequest {
        private_key_pem: &costly,
        private_key_passphrase: Some("x"),
        certificate_pem: "",
        password: PASSWORD,
        profile: P12Profile::Modern,
        friendly_name: None,
    };
    let error = build_p12(&request).expect_err("costly key accepted");
    assert_eq!(error.code(), "unsupported_key_encryption", "{error}");
    assert!(error.to_string().contains("1,000,000"), "{error}");
}

/// The path of keys held elsewhere (WebCrypto in the npm package): the core encodes the CSR for
/// the holder's public key, the holder signs it and returns ECDSA signatures as r || s (IEEE
/// P1363, WebCrypto's only form), the core writes the DER signature. OpenSSL verifies the result.
#[test]
fn csr_signed_by_an_outside_ecdsa_signer_verifies_in_openssl() {
    use p256::elliptic_curve::Generate;
    use signature::Signer;
    use spki::EncodePublicKey;
    let dir = TestDir::new("outside-signer");
    let p256_key = p256::ecdsa::SigningKey::try_generate().unwrap();
    let p384_key = p384::ecdsa::SigningKey::try_generate().unwrap();
    type Sign = Box<dyn Fn(&[u8]) -> Vec<u8>>;
    let cases: [(&str, Vec<u8>, CsrSignatureScheme, Sign); 2] = [
        (
            "p256",
            p256_key.verifying_key().to_public_key_der().unwrap().into_vec(),
            CsrSignatureScheme::EcdsaP256Sha256,
            Box::new(move |tbs: &[u8]| {
                let signature: p256::ecdsa::Signature = p256_key.sign(tbs);
                signature.to_bytes().to_vec()
            }),
        ),
        (
            "p384",
            p384_key.verifying_key().to_public_key_der().unwrap().into_vec(),
            CsrSignatureScheme::EcdsaP384Sha384,
            Box::new(move |tbs: &[u8]| {
                let signature: p384::ecdsa::Signature = p384_key.sign(tbs);
                signature.to_bytes().to_vec()
            }),
        ),
    ];
    for (name, spki, scheme, sign) in cases {
        let unsigned = unsigned_csr(&csr_request(KeyType::P256), &spki).unwrap();
        assert_eq!(unsigned.scheme(), scheme);
        let signature = sign(unsigned.to_be_signed());
        assert_eq!(signature.len(), 2 * scheme.ecdsa_scalar_len().unwrap());
        let csr_pem = unsigned.into_pem(&signature).unwrap();
        let csr_path = dir.write(&format!("{name}.csr"), csr_pem.as_bytes());
        openssl_ok(&["req", "-verify", "-noout", "-in", &csr_path]);
        let text = openssl_ok(&["req", "-noout", "-text", "-in", &csr_path]);
        assert!(text.contains("TLS Web Client Authentication"), "{text}");
    }
}

#[test]
fn outside_keys_of_other_types_and_malformed_signatures_are_refused() {
    let dir = TestDir::new("outside-refused");
    // secp256k1: an EC curve CSRs are not made for.
    let key = dir.write("k1.key", openssl_ok(&["ecparam", "-genkey", "-name", "secp256k1"]));
    let spki_path = dir.path("k1.spki");
    openssl_ok(&["pkey", "-in", &key, "-pubout", "-outform", "DER", "-out", &spki_path]);
    let spki = std::fs::read(&spki_path).unwrap();
    let error = unsigned_csr(&csr_request(KeyType::P256), &spki).err().unwrap();
    assert_eq!(error.code(), "unsupported_key_type");
    let error = unsigned_csr(&csr_request(KeyType::P256), b"not der").err().unwrap();
    assert_eq!(error.code(), "unsupported_key_type");

    let key = dir.write("p256.key", openssl_ok(&["ecparam", "-genkey", "-name", "prime256v1"]));
    let spki_path = dir.path("p256.spki");
    openssl_ok(&["pkey", "-in", &key, "-pubout", "-outform", "DER", "-out", &spki_path]);
    let spki = std::fs::read(&spki_path).unwrap();
    let unsigned = unsigned_csr(&csr_request(KeyType::P256), &spki).unwrap();
    // A DER signature where r || s is expected: a signer's bug, never a CSR.
    let error = unsigned.into_pem(&[0x30; 70]).err().unwrap();
    assert_eq!(error.code(), "internal_error");
}
