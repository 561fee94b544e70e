//! Classes of input where the verdict or the reason once differed from the JDK's, each made here
//! in several variants and run through the JDK (`tests/jdk/P12Oracle.java`):
//! - EC points written compressed (in a certificate: the JDK cannot parse it; only in the key:
//!   fine), and EC keys and certificates with explicit curve parameters (the JDK reads only
//!   named curves);
//! - how the JDK pairs the key with a certificate: without any attribute (its single-key rule,
//!   which depends on the order of the bags), and when several certificates carry the key's
//!   `localKeyId`, and bags nested in a safeContentsBag (which the JDK skips);
//! - well-formed PFX files that fail for another reason than their format (NSS PBES1 parts,
//!   an unencrypted key in a bag marked encrypted), and keystores of other formats (BKS, BCFKS).
//!
//! For each file the SDK's exact problem codes are stated, and checked against the JDK: the file
//! is usable exactly when the JDK loads it, recovers the key and signs with it, and then the
//! certificate the SDK calls the leaf is the one the JDK presents. Every problem and warning
//! message met is printed, for review of the wording.

mod common;

use std::path::{Path, PathBuf};

use common::build::{self, Bag};
use common::tlv::Style;
use common::*;
use mtls_sdk::{InspectOptions, P12Report};

const PW: &str = "changeit";

struct Case {
    name: String,
    path: PathBuf,
    /// Exactly the problem codes expected, in any order.
    problems: Vec<&'static str>,
    /// Words the message of the first problem contains (the reason named).
    reason_mentions: Vec<&'static str>,
}

#[derive(Default)]
struct Cases {
    list: Vec<Case>,
}

impl Cases {
    fn add(&mut self, name: &str, path: PathBuf, problems: &[&'static str]) -> &mut Case {
        self.list.push(Case {
            name: name.to_owned(),
            path,
            problems: problems.to_vec(),
            reason_mentions: Vec::new(),
        });
        self.list.last_mut().unwrap()
    }
}

impl Case {
    fn mentions(&mut self, words: &[&'static str]) -> &mut Self {
        self.reason_mentions.extend_from_slice(words);
        self
    }
}

/// `openssl ec` of `key` with extra arguments (`-conv_form compressed`, `-param_enc explicit`).
fn ec_variant(fx: &Fixtures, key: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = fx.path(&format!("{name}.key.pem"));
    let mut args = vec!["ec", "-in", key.to_str().unwrap(), "-out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    openssl(&args);
    out
}

fn write(fx: &Fixtures, name: &str, bytes: &[u8]) -> PathBuf {
    let out = fx.path(&format!("{}.p12", name.replace([' ', ':', ',', '/'], "-")));
    std::fs::write(&out, bytes).unwrap();
    out
}

#[test]
fn input_classes_agree_with_the_jdk() {
    let fx = Fixtures::new();
    let mut cases = Cases::default();
    let client = "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n";
    let ca = "basicConstraints=critical,CA:true\nkeyUsage=keyCertSign\n";

    // --- EC point encoding ---
    let p256 = fx.ec("p256", "P-256");
    let p256_compressed = ec_variant(&fx, &p256, "p256-compressed", &["-conv_form", "compressed"]);
    let cert_compressed = fx.self_signed("cert-compressed", &p256_compressed, 365, &[]);
    let cert_plain = fx.self_signed("cert-plain", &p256, 365, &[]);
    let with_key = |cred: &Credential, key: &Path| Credential { key: key.to_path_buf(), cert: cred.cert.clone() };
    cases
        .add(
            "compressed point in the certificate and the key",
            fx.p12("comp-both", &cert_compressed, &[], PW, &[]),
            &["not_java_compliant"],
        )
        .mentions(&["compressed"]);
    cases.add(
        "compressed point in the certificate only",
        fx.p12("comp-cert", &with_key(&cert_compressed, &p256), &[], PW, &[]),
        &["not_java_compliant"],
    );
    cases.add(
        "compressed point in the key only",
        fx.p12("comp-key", &with_key(&cert_plain, &p256_compressed), &[], PW, &[]),
        &[],
    );
    let p384 = fx.ec("p384", "P-384");
    let p384_compressed = ec_variant(&fx, &p384, "p384-compressed", &["-conv_form", "compressed"]);
    cases.add(
        "P-384, compressed point in the certificate",
        fx.p12("comp-p384", &fx.self_signed("cert-p384-compressed", &p384_compressed, 365, &[]), &[], PW, &["-legacy"]),
        &["not_java_compliant"],
    );
    let root_key = fx.ec("root", "P-384");
    let root = fx.self_signed("root", &root_key, 3650, &["-addext", "basicConstraints=critical,CA:true"]);
    let inter_key = ec_variant(&fx, &fx.ec("inter", "P-256"), "inter-compressed", &["-conv_form", "compressed"]);
    let inter = fx.issued("inter", &inter_key, &root, ca, &["-days", "1000"]);
    let leaf_key = fx.ec("leaf", "P-256");
    let leaf = fx.issued("leaf", &leaf_key, &inter, client, &["-days", "365"]);
    cases.add(
        "compressed point in an intermediate certificate",
        fx.p12("comp-inter", &leaf, &[&inter.cert, &root.cert], PW, &[]),
        &["not_java_compliant"],
    );

    // --- Explicit EC parameters ---
    let p256_explicit = ec_variant(&fx, &p256, "p256-explicit", &["-param_enc", "explicit"]);
    let cert_explicit = fx.self_signed("cert-explicit", &p256_explicit, 365, &[]);
    cases
        .add("explicit parameters in the key and the certificate", fx.p12("expl-both", &cert_explicit, &[], PW, &[]), &["not_java_compliant"])
        .mentions(&["named"]);
    cases
        .add(
            "explicit parameters in the key only",
            fx.p12("expl-key", &with_key(&cert_plain, &p256_explicit), &[], PW, &[]),
            &["not_java_compliant"],
        )
        .mentions(&["named"]);
    cases.add(
        "explicit parameters in the certificate only",
        fx.p12("expl-cert", &with_key(&cert_explicit, &p256), &[], PW, &[]),
        &["not_java_compliant"],
    );
    let p384_explicit = ec_variant(&fx, &p384, "p384-explicit", &["-param_enc", "explicit"]);
    cases.add(
        "P-384, explicit parameters in the key only",
        fx.p12("expl-p384", &with_key(&fx.self_signed("cert-p384", &p384, 365, &[]), &p384_explicit), &[], PW, &[]),
        &["not_java_compliant"],
    );
    let k1_explicit = ec_variant(&fx, &fx.ec("k1", "secp256k1"), "k1-explicit", &["-param_enc", "explicit"]);
    cases.add(
        "secp256k1, explicit parameters",
        fx.p12("expl-k1", &fx.self_signed("cert-k1-explicit", &k1_explicit, 365, &[]), &[], PW, &[]),
        &["not_java_compliant", "unsupported_key_type"],
    );
    let explicit_root_key = ec_variant(&fx, &fx.ec("xroot", "P-384"), "xroot-explicit", &["-param_enc", "explicit"]);
    let explicit_root = fx.self_signed("xroot", &explicit_root_key, 3650, &["-addext", "basicConstraints=critical,CA:true"]);
    let xleaf = fx.issued("xleaf", &leaf_key, &explicit_root, client, &["-days", "365"]);
    cases.add(
        "explicit parameters in the root certificate",
        fx.p12("expl-root", &xleaf, &[&explicit_root.cert], PW, &[]),
        &["not_java_compliant"],
    );

    // --- Pairing without attributes (JDK: the single key gets localKeyId "01", and so does the
    // first certificate of each SafeContents read after the key) ---
    let rsa = fx.rsa("rsa", 2048);
    let root2_key = fx.ec("root2", "P-384");
    let root2 = fx.self_signed("root2", &root2_key, 3650, &["-addext", "basicConstraints=critical,CA:true"]);
    let inter2 = fx.issued("inter2", &fx.ec("inter2", "P-256"), &root2, ca, &["-days", "1000"]);
    let leaf2 = fx.issued("leaf2", &rsa, &inter2, client, &["-days", "365"]);
    let (leaf_der, inter_der, root_der) = (cert_der(&leaf2.cert), cert_der(&inter2.cert), cert_der(&root2.cert));
    let epki = encrypted_pkcs8(&rsa, PW, &["-v2", "aes-256-cbc"]);
    let key = || Bag::key(&epki);
    let chain_leaf_first = || vec![Bag::cert(&leaf_der), Bag::cert(&inter_der), Bag::cert(&root_der)];
    let chain_root_first = || vec![Bag::cert(&root_der), Bag::cert(&inter_der), Bag::cert(&leaf_der)];
    for (name, parts, problems) in [
        ("no attributes: key part, then leaf-first certificates", vec![vec![key()], chain_leaf_first()], &[][..]),
        ("no attributes: key part, then leaf alone", vec![vec![key()], vec![Bag::cert(&leaf_der)]], &[]),
        ("no attributes: key part, then root-first certificates", vec![vec![key()], chain_root_first()], &["not_java_compliant"]),
        ("no attributes: certificates, then key part", vec![chain_leaf_first(), vec![key()]], &["not_java_compliant"]),
        ("no attributes: key and leaf in one part", vec![{ let mut v = vec![key()]; v.extend(chain_leaf_first()); v }], &["not_java_compliant"]),
        (
            "no attributes: key part, leaf part, chain part",
            vec![vec![key()], vec![Bag::cert(&leaf_der)], vec![Bag::cert(&root_der), Bag::cert(&inter_der)]],
            &["not_java_compliant"],
        ),
        ("no attributes on the certificates, key named", vec![vec![key().named("client")], chain_leaf_first()], &[]),
    ] {
        cases.add(name, write(&fx, name, &build::pfx_parts(&parts, Style::Der)), problems);
        let ber = format!("{name} (BER)");
        cases.add(&ber, write(&fx, &ber, &build::pfx_parts(&parts, Style::Ber { chunk: 100 })), problems);
    }

    // --- Several certificates carry the key's localKeyId ---
    let renewed_short = fx.issued("renewed-short", &rsa, &inter2, client, &["-days", "100"]);
    let renewed_long = fx.issued("renewed-long", &rsa, &inter2, client, &["-days", "700"]);
    let (short_der, long_der) = (cert_der(&renewed_short.cert), cert_der(&renewed_long.cert));
    for (name, parts, problems) in [
        ("two certificates with the key's id, short first", vec![vec![Bag::cert(&short_der).id(1), Bag::cert(&long_der).id(1)], vec![key().id(1)]], &[][..]),
        ("two certificates with the key's id, long first", vec![vec![Bag::cert(&long_der).id(1), Bag::cert(&short_der).id(1)], vec![key().id(1)]], &[]),
        (
            "two certificates with the key's id and name, long first",
            vec![vec![Bag::cert(&long_der).id(1).named("c"), Bag::cert(&short_der).id(1).named("c")], vec![key().id(1).named("c")]],
            &[],
        ),
        (
            "two certificates with the key's id and name, short first",
            vec![vec![Bag::cert(&short_der).id(1).named("c"), Bag::cert(&long_der).id(1).named("c")], vec![key().id(1).named("c")]],
            &[],
        ),
        (
            "the key's id on the leaf, then on the root",
            vec![vec![Bag::cert(&leaf_der).id(1), Bag::cert(&root_der).id(1)], vec![key().id(1)]],
            &["not_java_compliant"],
        ),
        (
            "the key's id on the root, then on the leaf",
            vec![vec![Bag::cert(&root_der).id(1), Bag::cert(&leaf_der).id(1)], vec![key().id(1)]],
            &[],
        ),
        (
            "the key's id on both, its name on the first only",
            vec![vec![Bag::cert(&short_der).id(1).named("c"), Bag::cert(&long_der).id(1)], vec![key().id(1).named("c")]],
            &[],
        ),
        (
            "the same certificate twice, the key's id on the second copy",
            vec![vec![Bag::cert(&leaf_der), Bag::cert(&leaf_der).id(1)], vec![key().id(1)]],
            &[],
        ),
    ] {
        cases.add(name, write(&fx, name, &build::pfx_parts(&parts, Style::Der)), problems);
    }

    // --- safeContentsBag nesting ---
    for (name, parts) in [
        ("key and leaf nested in a safeContentsBag", vec![vec![build::nested(&[key().id(1), Bag::cert(&leaf_der).id(1)])]]),
        ("leaf nested in a safeContentsBag", vec![vec![build::nested(&[Bag::cert(&leaf_der).id(1)])], vec![key().id(1)]]),
    ] {
        cases.add(name, write(&fx, name, &build::pfx_parts(&parts, Style::Der)), &["not_java_compliant"])
            .mentions(&["safeContentsBag"]);
    }
    let chain_nested = vec![vec![Bag::cert(&leaf_der).id(1), build::nested(&[Bag::cert(&inter_der), Bag::cert(&root_der)])], vec![key().id(1)]];
    cases.add("chain nested in a safeContentsBag", write(&fx, "chain-nested", &build::pfx_parts(&chain_nested, Style::Der)), &[]);

    // --- Well-formed PFX files that fail for another reason than their format ---
    let nssdb = format!("sql:{}", fx.path("nssdb").display());
    std::fs::create_dir(fx.path("nssdb")).unwrap();
    run_tool("certutil", &["-N", "-d", &nssdb, "--empty-password"], &[]);
    let named = fx.p12("named", &Credential { key: rsa.clone(), cert: fx.self_signed("nss", &rsa, 365, &[]).cert }, &[], PW, &["-name", "client"]);
    run_tool("pk12util", &["-i", named.to_str().unwrap(), "-d", &nssdb, "-W", PW, "-K", ""], &[]);
    // NSS writes PBES1 with a 16-byte salt (Java wants 8) and derives its keys so that neither
    // OpenSSL nor the JDK decrypts them; MD2 is read by no one.
    for (short, cipher, problem) in [
        ("sha1-des", "PKCS #5 Password Based Encryption with SHA-1 and DES-CBC", "not_java_compliant"),
        ("md5-des", "PKCS #5 Password Based Encryption with MD5 and DES-CBC", "not_java_compliant"),
        ("md2-des", "PKCS #5 Password Based Encryption with MD2 and DES-CBC", "unsupported_algorithm"),
    ] {
        for (part, flag) in [("key", "-c"), ("certificates", "-C")] {
            let out = fx.path(&format!("nss-{short}-{part}.p12"));
            run_tool("pk12util", &["-o", out.to_str().unwrap(), "-n", "client", "-d", &nssdb, "-W", PW, "-K", "", flag, cipher], &[]);
            cases.add(&format!("pk12util {short} for the {part}"), out, &[problem]);
        }
    }
    let gnutls = fx.path("gnutls-none.p12");
    run_tool("certtool", &["--to-p12", "--load-privkey", rsa.to_str().unwrap(), "--load-certificate", leaf2.cert.to_str().unwrap(), "--p12-name", "client", "--password", PW, "--pkcs-cipher", "none", "--outder", "--outfile", gnutls.to_str().unwrap()], &[]);
    cases.add("certtool --pkcs-cipher none", gnutls, &["not_java_compliant"]).mentions(&["PrivateKeyInfo"]);
    let plain_pkcs8 = openssl(&["pkcs8", "-topk8", "-nocrypt", "-in", rsa.to_str().unwrap(), "-outform", "DER"]);
    let raw = vec![vec![Bag::cert(&leaf_der).id(1), Bag::Raw { bag_id: build::SHROUDED_KEY_BAG, value: plain_pkcs8 }]];
    cases
        .add("PrivateKeyInfo in a pkcs8ShroudedKeyBag", write(&fx, "plain-in-shrouded", &build::pfx_parts(&raw, Style::Der)), &["not_java_compliant"])
        .mentions(&["PrivateKeyInfo"]);

    // --- Keystores of other formats ---
    for (name, bytes, word) in [
        ("BKS version 2", bks(2), "BKS"),
        ("BKS version 1", bks(1), "BKS"),
        ("BCFKS, PBKDF2 MAC", bcfks(false), "BCFKS"),
        ("BCFKS, scrypt MAC", bcfks(true), "BCFKS"),
    ] {
        cases.add(name, write(&fx, name, &bytes), &["not_pkcs12"]).mentions(&[word]);
    }

    // --- Run: ours, then the JDK on the same files, once ---
    let options = InspectOptions::at(now_unix());
    let reports: Vec<P12Report> =
        cases.list.iter().map(|c| inspect_both_ways(&std::fs::read(&c.path).unwrap(), PW, &options)).collect();
    let verdicts = jdk_verdicts(
        fx.dir.path(),
        &cases.list.iter().map(|c| (c.path.clone(), PW.to_owned())).collect::<Vec<_>>(),
    );
    let mut failures = Vec::new();
    let mut lines = Vec::new();
    for ((case, report), verdict) in cases.list.iter().zip(&reports).zip(&verdicts) {
        lines.push(format!("{:60} jdk={verdict:?}\n    ours={:?}", case.name, report.problems));
        let mut got: Vec<&str> = codes(&report.problems);
        got.sort_unstable();
        got.dedup();
        let mut want = case.problems.clone();
        want.sort_unstable();
        if got != want {
            failures.push(format!("{}: problems {got:?}, expected {want:?}: {:?}", case.name, report.problems));
        }
        let first = report.problems.first().map_or("", |p| p.message.as_str());
        for word in &case.reason_mentions {
            if !first.contains(word) {
                failures.push(format!("{}: the reason does not mention {word:?}: {first}", case.name));
            }
        }
        match verdict {
            JdkVerdict::Ok { certificate_sha256, .. } => {
                if !report.usable {
                    failures.push(format!("{}: the JDK uses this file, we report {:?}", case.name, report.problems));
                }
                let ours = report.certificate.as_ref().map(|c| c.fingerprint_sha256.as_str());
                if report.usable && ours != Some(certificate_sha256.as_str()) {
                    failures.push(format!("{}: the JDK presents {certificate_sha256}, we {ours:?}", case.name));
                }
            }
            JdkVerdict::Fail { stage, reason } if report.usable => {
                failures.push(format!("{}: the JDK fails ({stage}: {reason}) but we call it usable", case.name));
            }
            JdkVerdict::Fail { .. } => {}
        }
    }
    println!("{}", lines.join("\n"));
    failures.extend(print_messages(&reports));
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
}

/// A BouncyCastle BKS (or UBER) keystore as `BcKeyStoreSpi.engineStore` writes it: version,
/// salt length and salt, iteration count, then the entries and an HMAC (random here: only the
/// header identifies the format).
fn bks(version: u8) -> Vec<u8> {
    let mut out = vec![0, 0, 0, version, 0, 0, 0, 20];
    out.extend((0..20u8).map(|i| i.wrapping_mul(37)));
    out.extend_from_slice(&[0, 0, 0x04, 0x12]);
    out.extend((0..200u8).map(|i| i.wrapping_mul(91) ^ 0x5a));
    out
}

/// A BouncyCastle FIPS keystore (BCFKS) shape, as `BcFKSKeyStoreSpi` writes it:
/// `ObjectStore ::= SEQUENCE { EncryptedObjectStoreData, ObjectStoreIntegrityCheck }` with the
/// store encrypted under PBES2 (PBKDF2, AES-256-CCM) and a PBKDF2- or scrypt-keyed HMAC.
fn bcfks(scrypt: bool) -> Vec<u8> {
    use common::tlv::{encode, Node};
    let oid = |dotted: &str| -> Node {
        let der = openssl_oid(dotted);
        Node::Primitive { tag: 0x06, value: der }
    };
    let seq = |children: Vec<Node>| Node::Constructed { tag: 0x30, children };
    let int = |v: u8| Node::Primitive { tag: 0x02, value: vec![v] };
    let octets = |n: usize| Node::Primitive { tag: 0x04, value: (0..n).map(|i| (i * 13) as u8).collect() };
    let pbkdf2 = seq(vec![oid("1.2.840.113549.1.5.12"), seq(vec![octets(32), Node::Primitive { tag: 0x02, value: vec![0x40, 0x00] }, int(32), seq(vec![oid("1.2.840.113549.2.11")])])]);
    let store = seq(vec![
        seq(vec![
            oid("1.2.840.113549.1.5.13"),
            seq(vec![pbkdf2.clone(), seq(vec![oid("2.16.840.1.101.3.4.1.47"), seq(vec![octets(12), int(16)])])]),
        ]),
        octets(300),
    ]);
    let kdf = if scrypt {
        seq(vec![oid("1.3.6.1.4.1.11591.4.11"), seq(vec![octets(32), Node::Primitive { tag: 0x02, value: vec![0x40, 0x00] }, int(8), int(1), int(64)])])
    } else {
        pbkdf2
    };
    let check = seq(vec![seq(vec![oid("1.2.840.113549.2.11")]), kdf, octets(64)]);
    encode(&seq(vec![store, check]), Style::Der)
}

/// DER content octets of a dotted OID.
fn openssl_oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().unwrap()).collect();
    let mut out = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &arc in &arcs[2..] {
        let mut bytes = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            bytes.push((rest & 0x7f) as u8 | 0x80);
            rest >>= 7;
        }
        bytes.reverse();
        out.extend(bytes);
    }
    out
}
