//! Round trips of the writer's ASN.1 and cryptography: build a P12, decode every layer with the
//! writer's own types, re-encode and compare bytes, verify the MAC with the reader, decrypt both bags; and the
//! builder's refusals of bad inputs. The OpenSSL and JDK oracles run in `sdk/tests/csr_p12_round_trip.rs`.
//!
//! Layers checked (ASN.1 of RFC 7292 as the builder writes it):
//! ```text
//! PFX { version 3, authSafe ContentInfo { data, OCTET STRING {
//!         AuthenticatedSafe [
//!           ContentInfo { encryptedData, EncryptedData { 0, { data, <scheme>, [0] ciphertext } } }
//!               -> SafeContents [ CertBag(leaf, friendlyName, localKeyId), CertBag(...)... ]
//!           ContentInfo { data, OCTET STRING { SafeContents [
//!               SafeBag { pkcs8ShroudedKeyBag, EncryptedPrivateKeyInfo, attributes } ] } } ] } },
//!       macData { DigestInfo { sha1 | sha256, mac }, salt, 10000 } }
//! ```

use std::str::FromStr;
use std::time::Duration;

use der::asn1::{BmpString, OctetString};
use der::{Decode, Encode, EncodePem};
use pkcs8::EncodePrivateKey;
use sha1::Digest;
use x509_cert::builder::{Builder, CertificateBuilder, profile};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;

use crate::oids::{DATA, ENCRYPTED_DATA, FRIENDLY_NAME, LOCAL_KEY_ID, PKCS8_SHROUDED_KEY_BAG};
use crate::pfx::pfx_types::{AuthenticatedSafe, EncryptedData, Pfx, integer};
use crate::pfx::safe_bag::{CertBag, EncryptedPrivateKeyInfo, SafeContents};
use crate::pfx::read::read_pfx;
use super::encryption::tests::open;
use super::*;
use crate::Error;

const PASSWORD: &str = "test password";

/// A P-256 key (PKCS#8 PEM) and a self-signed certificate for it (PEM).
fn key_and_certificate(common_name: &str) -> (String, String) {
    use p256::elliptic_curve::Generate;
    let signing_key = p256::ecdsa::SigningKey::try_generate().unwrap();
    let subject = Name::from_str(&format!("CN={common_name},O=Test,C=US")).unwrap();
    let public_key = SubjectPublicKeyInfoOwned::from_key(signing_key.verifying_key()).unwrap();
    let builder = CertificateBuilder::new(
        profile::cabf::Root::new(false, subject).unwrap(),
        SerialNumber::from(7u32),
        Validity::from_now(Duration::from_secs(3600)).unwrap(),
        public_key,
    )
    .unwrap();
    let certificate = builder
        .build::<_, p256::ecdsa::DerSignature>(&signing_key)
        .unwrap();
    let key_pem = signing_key
        .to_pkcs8_pem(der::pem::LineEnding::LF)
        .unwrap()
        .to_string();
    (
        key_pem,
        certificate.to_pem(der::pem::LineEnding::LF).unwrap(),
    )
}

fn request<'a>(key: &'a str, certificates: &'a str, profile: P12Profile) -> P12BuildRequest<'a> {
    P12BuildRequest {
        private_key_pem: key,
        private_key_passphrase: None,
        certificate_pem: certificates,
        password: PASSWORD,
        profile,
        friendly_name: None,
    }
}

fn build_error(request: &P12BuildRequest<'_>) -> P12BuildError {
    match build_p12(request) {
        Err(Error::P12Build(error)) => error,
        other => panic!("expected a P12 build error, got {other:?}"),
    }
}

#[test]
fn every_layer_decodes_reencodes_to_the_same_bytes_and_opens_with_the_password() {
    let (key_pem, leaf_pem) = key_and_certificate("leaf");
    let (_, other_pem) = key_and_certificate("unrelated CA");
    let chain = format!("{other_pem}{leaf_pem}");
    for profile in [P12Profile::Modern, P12Profile::Legacy] {
        let p12 = build_p12(&request(&key_pem, &chain, profile)).unwrap();
        let pfx = Pfx::from_der(&p12).unwrap();
        assert_eq!(
            pfx.to_der().unwrap(),
            p12,
            "{profile}: PFX re-encodes differently"
        );
        assert_eq!(pfx.version, integer(3).unwrap());

        // MAC over the authSafe content octets.
        assert_eq!(pfx.auth_safe.content_type, DATA);
        let auth_safe_octets: OctetString = pfx.auth_safe.content.unwrap().decode_as().unwrap();
        let mac_data = pfx.mac_data.unwrap();
        assert_eq!(mac_data.iterations, Some(integer(P12_ITERATIONS).unwrap()));
        // The MAC is verified by the reader (`pfx::read`), code independent of the builder's.
        let reading = read_pfx(&p12, PASSWORD, u64::MAX, u64::MAX);
        assert!(reading.problems.is_empty(), "{profile}: {:?}", reading.problems);
        assert!(reading.complete && reading.keys.len() == 1 && reading.certificates.len() == 2);

        let auth_safe = AuthenticatedSafe::from_der(auth_safe_octets.as_bytes()).unwrap();
        assert_eq!(auth_safe.to_der().unwrap(), auth_safe_octets.as_bytes());
        assert_eq!(auth_safe.len(), 2);

        // Certificates: encrypted SafeContents, leaf first with its attributes.
        assert_eq!(auth_safe[0].content_type, ENCRYPTED_DATA);
        let encrypted: EncryptedData = auth_safe[0].content.as_ref().unwrap().decode_as().unwrap();
        let info = &encrypted.encrypted_content_info;
        let plaintext = open(
            &info.content_encryption_algorithm,
            PASSWORD,
            info.encrypted_content.as_ref().unwrap().value(),
        )
        .unwrap();
        let cert_bags = SafeContents::from_der(&plaintext).unwrap();
        assert_eq!(cert_bags.to_der().unwrap(), plaintext.as_slice());
        assert_eq!(cert_bags.len(), 2);
        let leaf: CertBag = cert_bags[0].bag_value.decode_as().unwrap();
        let (_, leaf_der) = der::pem::decode_vec(leaf_pem.as_bytes()).unwrap();
        assert_eq!(
            leaf.cert_value.decode_as::<OctetString>().unwrap().as_bytes(),
            leaf_der.as_slice(),
            "{profile}: leaf not first"
        );
        let raw_attributes = cert_bags[0].bag_attributes.as_ref().unwrap();
        let attributes: SetOfVec<Attribute> = raw_attributes.decode_as().unwrap();
        let mut names = attributes.iter().map(|attribute| attribute.oid);
        assert_eq!(names.next(), Some(FRIENDLY_NAME));
        assert_eq!(names.next(), Some(LOCAL_KEY_ID));
        let friendly: BmpString = attributes
            .iter()
            .next()
            .unwrap()
            .values
            .iter()
            .next()
            .unwrap()
            .decode_as()
            .unwrap();
        assert_eq!(friendly.to_string(), "leaf");
        let local_key_id: OctetString = attributes
            .iter()
            .nth(1)
            .unwrap()
            .values
            .iter()
            .next()
            .unwrap()
            .decode_as()
            .unwrap();
        assert_eq!(
            local_key_id.as_bytes(),
            sha1::Sha1::digest(&leaf_der).as_slice()
        );
        assert!(cert_bags[1].bag_attributes.is_none());

        // Key: shrouded key bag decrypting to the input key, same attributes as the leaf.
        assert_eq!(auth_safe[1].content_type, DATA);
        let key_octets: OctetString = auth_safe[1].content.as_ref().unwrap().decode_as().unwrap();
        let key_bags = SafeContents::from_der(key_octets.as_bytes()).unwrap();
        assert_eq!(key_bags.to_der().unwrap(), key_octets.as_bytes());
        assert_eq!(key_bags[0].bag_id, PKCS8_SHROUDED_KEY_BAG);
        assert_eq!(key_bags[0].bag_attributes.as_ref(), Some(raw_attributes));
        let shrouded: EncryptedPrivateKeyInfo = key_bags[0].bag_value.decode_as().unwrap();
        let key_der = open(
            &shrouded.encryption_algorithm,
            PASSWORD,
            shrouded.encrypted_data.as_bytes(),
        )
        .unwrap();
        let (_, expected_key) = der::pem::decode_vec(key_pem.as_bytes()).unwrap();
        assert_eq!(key_der.as_slice(), expected_key.as_slice());

        // The reader refuses a wrong password, and the right one once a byte of the MAC'd
        // content changed.
        let codes = |reading: crate::pfx::read::Reading| -> Vec<String> {
            reading.problems.into_iter().map(|p| p.code).collect()
        };
        assert_eq!(codes(read_pfx(&p12, "wrong", u64::MAX, u64::MAX)), ["wrong_password"]);
        let mut tampered = p12.clone();
        let at = tampered.len() / 2;
        tampered[at] ^= 0x01;
        assert!(!codes(read_pfx(&tampered, PASSWORD, u64::MAX, u64::MAX)).is_empty());
    }
}

#[test]
fn friendly_name_is_the_requested_one_when_given() {
    let (key_pem, leaf_pem) = key_and_certificate("leaf");
    let mut named = request(&key_pem, &leaf_pem, P12Profile::Modern);
    named.friendly_name = Some("  brand-prod  ");
    let p12 = build_p12(&named).unwrap();
    // The BMPString "brand-prod" appears in the (unencrypted) key bag attributes.
    let needle: Vec<u8> = "brand-prod"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    assert!(
        p12.windows(needle.len())
            .any(|window| window == needle.as_slice())
    );
    named.friendly_name = Some("bad\nname");
    assert_eq!(build_error(&named).code(), "invalid_friendly_name");
}

#[test]
fn bad_inputs_give_clear_errors_not_panics() {
    let (key_pem, leaf_pem) = key_and_certificate("leaf");
    let (other_key_pem, other_pem) = key_and_certificate("other");
    let modern = P12Profile::Modern;

    let mismatch = build_error(&request(&other_key_pem, &leaf_pem, modern));
    assert_eq!(
        mismatch,
        P12BuildError::KeyCertificateMismatch { certificates: 1 }
    );
    assert_eq!(mismatch.code(), "key_certificate_mismatch");

    let empty_chain = build_error(&request(&key_pem, "", modern));
    assert_eq!(
        empty_chain,
        P12BuildError::NoCertificate {
            found: "nothing".into()
        }
    );
    let only_key = build_error(&request(&key_pem, &key_pem, modern));
    assert_eq!(only_key.code(), "no_certificate");

    let garbage_cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let invalid = build_error(&request(&key_pem, garbage_cert, modern));
    assert_eq!(invalid.code(), "invalid_certificate");
    let bad_base64 = "-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----\n";
    assert_eq!(
        build_error(&request(&key_pem, bad_base64, modern)).code(),
        "invalid_certificate"
    );

    for garbage_key in [
        "",
        "not pem at all",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ] {
        assert_eq!(
            build_error(&request(garbage_key, &leaf_pem, modern)).code(),
            "invalid_private_key"
        );
    }

    let mut no_password = request(&key_pem, &leaf_pem, modern);
    no_password.password = "";
    assert_eq!(build_error(&no_password).code(), "invalid_password");
    no_password.password = "pässword";
    assert_eq!(build_error(&no_password).code(), "invalid_password");

    assert!(
        build_p12(&request(
            &key_pem,
            &format!("{other_pem}{leaf_pem}"),
            modern
        ))
        .is_ok()
    );
    assert_eq!("LEGACY".parse::<P12Profile>().unwrap(), P12Profile::Legacy);
    assert_eq!(
        "pkcs12".parse::<P12Profile>().unwrap_err().code(),
        "unsupported_profile"
    );
}

/// Every message, for review of its wording (rustls `error/tests.rs` smoke test); none may
/// contain a secret.
#[test]
fn error_messages_read_well() {
    let errors: Vec<Error> = vec![
        P12BuildError::Key(crate::PrivateKeyError::NotFound {
            found: "CERTIFICATE".into(),
        })
        .into(),
        P12BuildError::Key(crate::PrivateKeyError::PassphraseRequired).into(),
        P12BuildError::Key(crate::PrivateKeyError::WrongPassphrase).into(),
        P12BuildError::Key(crate::PrivateKeyError::UnsupportedAlgorithm {
            algorithm: "1.2.840.10040.4.1".into(),
        })
        .into(),
        P12BuildError::NoCertificate {
            found: "nothing".into(),
        }
        .into(),
        P12BuildError::InvalidCertificate {
            position: 2,
            reason: "DER decoding failed",
        }
        .into(),
        P12BuildError::KeyCertificateMismatch { certificates: 3 }.into(),
        P12BuildError::InvalidPassword {
            problem: "is empty",
        }
        .into(),
        P12BuildError::UnsupportedProfile {
            profile: "pkcs12".into(),
        }
        .into(),
        crate::CsrError::InvalidSubject {
            field: "country",
            problem: "must be two letters".into(),
        }
        .into(),
        crate::CsrError::InvalidSubjectAltName {
            value: "-x".into(),
            problem: "is not a DNS name",
        }
        .into(),
        crate::CsrError::UnsupportedKeyType {
            key_type: "RSA-1024".into(),
        }
        .into(),
    ];
    for error in errors {
        let message = error.to_string();
        println!("{:<28} {message}", error.code());
        assert!(!message.ends_with('.'), "{message}");
        assert!(
            message.chars().next().is_some_and(|c| !c.is_uppercase()),
            "{message}"
        );
    }
}

/// Bytes flipped and truncated in the key and certificate DER (re-wrapped as PEM) give an error
/// or a P12, never a panic (SPEC section 11). Deterministic: a fixed linear congruential
/// generator picks the positions.
#[test]
fn mangled_keys_and_certificates_never_panic() {
    let (key_pem, leaf_pem) = key_and_certificate("leaf");
    let (_, key_der) = der::pem::decode_vec(key_pem.as_bytes()).unwrap();
    let (_, cert_der) = der::pem::decode_vec(leaf_pem.as_bytes()).unwrap();
    let pem =
        |label, der: &[u8]| der::pem::encode_string(label, der::pem::LineEnding::LF, der).unwrap();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |bound: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(state >> 33).unwrap() % bound
    };
    for round in 0..400 {
        let mangle_key = round % 2 == 0;
        let mut der = if mangle_key {
            key_der.clone()
        } else {
            cert_der.clone()
        };
        if round % 5 == 0 {
            der.truncate(next(der.len()));
        } else {
            for _ in 0..=next(3) {
                let position = next(der.len());
                der[position] ^= 1 << next(8);
            }
        }
        let (key, certificates) = if mangle_key {
            (pem("PRIVATE KEY", &der), leaf_pem.clone())
        } else {
            (key_pem.clone(), pem("CERTIFICATE", &der))
        };
        // Ok (a flip in a signature or an unused field) or Err; both are fine, a panic is not.
        let _ = build_p12(&request(&key, &certificates, P12Profile::Legacy));
    }
}

/// What a JavaScript host answers for a pending build's key (P-256 here): its public point.
fn host_public_point(pkcs8: &[u8]) -> Vec<u8> {
    use p256::elliptic_curve::sec1::ToSec1Point;
    use pkcs8::DecodePrivateKey;
    let key = p256::SecretKey::from_pkcs8_der(pkcs8).unwrap();
    key.public_key().to_sec1_point(false).as_bytes().to_vec()
}

#[test]
fn a_build_with_host_derivation_waits_for_the_public_key_then_makes_the_same_file() {
    let (key, certificate) = key_and_certificate("host");
    let (_, other_certificate) = key_and_certificate("other");
    let request = request(&key, &certificate, P12Profile::Modern);
    let P12Build::NeedsPublicKey(mut pending) =
        start_p12_build(&request, PublicKeyDerivation::Host).unwrap()
    else {
        panic!("an EC key needs the host");
    };
    assert_eq!((pending.key().algorithm.as_str(), pending.key().curve.as_deref()), ("EC", Some("P-256")));
    let point = host_public_point(pending.private_key_pkcs8());
    // Not a P-256 point: the host's mistake, an internal error, and the build can go on.
    match pending.finish(&point[..33]) {
        Err(Error::P12Build(error)) => assert_eq!(error.code(), "internal_error"),
        other => panic!("expected internal_error, got {other:?}"),
    }
    let p12 = pending.finish(&point).unwrap();
    let report = crate::inspect_p12(&p12, PASSWORD, &crate::InspectOptions::at(now()));
    // The key and its certificate opened and paired (the test certificate is a CA's, whose
    // keyUsage is the only problem).
    let codes: Vec<&str> = report.problems.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["key_usage"]);
    assert_eq!(report.certificate.unwrap().subject, "CN=host,O=Test,C=US");

    // The wrong certificate: the same refusal as with local derivation.
    let wrong = super::P12BuildRequest { certificate_pem: &other_certificate, ..request };
    let P12Build::NeedsPublicKey(mut pending) =
        start_p12_build(&wrong, PublicKeyDerivation::Host).unwrap()
    else {
        panic!("an EC key needs the host");
    };
    let point = host_public_point(pending.private_key_pkcs8());
    let host_error = match pending.finish(&point) {
        Err(Error::P12Build(error)) => error,
        other => panic!("expected a mismatch, got {other:?}"),
    };
    assert_eq!(host_error, build_error(&wrong));
    assert_eq!(host_error.code(), "key_certificate_mismatch");
}

#[test]
fn an_rsa_key_needs_no_host() {
    let key = crate::private_key::SigningKey::generate_rsa(2048).unwrap();
    let key_pem = der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, key.pkcs8_der()).unwrap();
    let (_, certificate) = key_and_certificate("ec");
    // Building needs no derivation for RSA: the mismatch shows without the host.
    let request = request(&key_pem, &certificate, P12Profile::Modern);
    match start_p12_build(&request, PublicKeyDerivation::Host) {
        Err(Error::P12Build(error)) => assert_eq!(error.code(), "key_certificate_mismatch"),
        Ok(_) => panic!("an RSA key never waits for the host, and this certificate is not its"),
        Err(other) => panic!("unexpected {other:?}"),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}
