//! Every verdict of `inspect_p12` against what the JDK on this machine does with the same file.
//!
//! Files come from `openssl pkcs12` (OpenSSL 3 default, `-legacy`, each `-keypbe`/`-certpbe`/
//! `-macalg` choice, `-nomac`, `-noiter`, ...), `keytool` (PKCS12 with several protection
//! algorithms, JKS and JCEKS), pyca/cryptography, and files assembled here (BER re-encodings, a
//! key with another key's certificate, two keys). Each case states the problem codes the SPEC's
//! own rules give; on top, where the SPEC defers to the JDK (can Java load the file and use the
//! key?), the test fails on any disagreement:
//! - JDK loads, recovers the key, signs and verifies ⇒ no container problem
//!   (`not_pkcs12`, `wrong_password`, `not_java_compliant`, `unsupported_algorithm`);
//! - JDK fails anywhere ⇒ not usable.

mod common;

use std::path::PathBuf;

use common::tlv::{self, Node, Style};
use common::*;
use mtls_sdk::{InspectOptions, P12Report};

const CONTAINER_CODES: [&str; 4] =
    ["not_pkcs12", "wrong_password", "not_java_compliant", "unsupported_algorithm"];
const PW: &str = "changeit";

struct Case {
    name: String,
    path: PathBuf,
    password: String,
    /// Exactly the problem codes expected, in any order.
    problems: Vec<&'static str>,
    /// Warning codes that must be present.
    warnings: Vec<&'static str>,
    /// Whether to ask the JDK (not for over-cap files, which would only cost it time).
    ask_jdk: bool,
    report: Option<P12Report>,
}

struct Cases {
    list: Vec<Case>,
}

impl Cases {
    fn add(&mut self, name: &str, path: PathBuf, password: &str, problems: &[&'static str]) -> &mut Case {
        self.list.push(Case {
            name: name.to_owned(),
            path,
            password: password.to_owned(),
            problems: problems.to_vec(),
            warnings: Vec::new(),
            ask_jdk: true,
            report: None,
        });
        self.list.last_mut().unwrap()
    }
}

impl Case {
    fn warns(&mut self, codes: &[&'static str]) -> &mut Self {
        self.warnings.extend_from_slice(codes);
        self
    }

    fn without_jdk(&mut self) -> &mut Self {
        self.ask_jdk = false;
        self
    }
}

fn client_ext() -> Vec<&'static str> {
    vec!["-addext", "keyUsage=critical,digitalSignature", "-addext", "extendedKeyUsage=clientAuth"]
}

#[test]
fn verdicts_agree_with_the_jdk_and_the_spec_rules() {
    let fx = Fixtures::new();
    let mut cases = Cases { list: Vec::new() };
    let ext = client_ext();

    // --- OpenSSL containers over one RSA-2048 credential ---
    let rsa = fx.rsa("rsa2048", 2048);
    let cred = fx.self_signed("rsa2048", &rsa, 365, &ext);
    let p12 = |name: &str, pw: &str, extra: &[&str]| fx.p12(name, &cred, &[], pw, extra);
    cases.add("openssl default", p12("default", PW, &[]), PW, &[]);
    cases.add("openssl -legacy", p12("legacy", PW, &["-legacy"]), PW, &[]).warns(&["legacy_encryption"]);
    // Measured with the JDK oracle: what JDK 17 reads (empty) and what it does not.
    let schemes: [(&str, &[&'static str]); 15] = [
        ("PBE-SHA1-3DES", &[]),
        ("PBE-SHA1-2DES", &["not_java_compliant"]),
        ("PBE-SHA1-RC2-128", &[]),
        ("PBE-SHA1-RC2-40", &[]),
        ("PBE-SHA1-RC4-128", &[]),
        ("PBE-SHA1-RC4-40", &[]),
        ("PBE-MD5-DES", &[]),
        ("PBE-SHA1-DES", &["not_java_compliant"]),
        ("PBE-SHA1-RC2-64", &["not_java_compliant"]),
        ("AES-128-CBC", &[]),
        ("AES-192-CBC", &["not_java_compliant"]),
        ("AES-256-CBC", &[]),
        ("DES-EDE3-CBC", &["not_java_compliant"]),
        ("DES-CBC", &["not_java_compliant"]),
        ("CAMELLIA-256-CBC", &["unsupported_algorithm"]),
    ];
    for (scheme, problems) in schemes {
        let key_file = p12(&format!("key-{scheme}"), PW, &["-legacy", "-keypbe", scheme, "-certpbe", "AES-256-CBC"]);
        cases.add(&format!("-keypbe {scheme}"), key_file, PW, problems);
        let cert_file = p12(&format!("cert-{scheme}"), PW, &["-legacy", "-certpbe", scheme, "-keypbe", "AES-256-CBC"]);
        cases.add(&format!("-certpbe {scheme}"), cert_file, PW, problems);
    }
    cases.add("-certpbe NONE", p12("cert-none", PW, &["-certpbe", "NONE"]), PW, &[]);
    cases.add("-keypbe NONE (keyBag)", p12("key-none", PW, &["-keypbe", "NONE"]), PW, &["not_java_compliant"]);
    for mac in ["sha1", "sha224", "sha256", "sha384", "sha512", "sha512-224", "sha512-256"] {
        cases.add(&format!("-macalg {mac}"), p12(&format!("mac-{mac}"), PW, &["-macalg", mac]), PW, &[]);
    }
    cases.add("-macalg md5", p12("mac-md5", PW, &["-macalg", "md5"]), PW, &["not_java_compliant"]);
    cases.add("-macalg sha3-256", p12("mac-sha3", PW, &["-macalg", "sha3-256"]), PW, &["unsupported_algorithm"]);
    cases.add("-nomac", p12("nomac", PW, &["-nomac"]), PW, &[]).warns(&["no_mac"]);
    cases.add("-noiter", p12("noiter", PW, &["-noiter"]), PW, &[]);
    cases.add("-nomaciter", p12("nomaciter", PW, &["-nomaciter"]), PW, &[]);
    cases.add("-iter 100000", p12("iter100k", PW, &["-iter", "100000"]), PW, &[]);
    cases.add("empty password", p12("empty-pw", "", &[]), "", &[]);
    cases.add("empty password -legacy", p12("empty-pw-legacy", "", &["-legacy"]), "", &[]);
    cases.add("space in password", p12("space-pw", "a b c", &[]), "a b c", &[]);
    cases.add("non-ASCII password", p12("umlaut-pw", "pässwörd", &[]), "pässwörd", &["not_java_compliant"]);
    cases.add("non-ASCII password -legacy", p12("umlaut-pw-legacy", "pässwörd", &["-legacy"]), "pässwörd", &["not_java_compliant"]);
    cases.add("emoji password", p12("emoji-pw", "k€y😀", &[]), "k€y😀", &["not_java_compliant"]);
    cases.add("wrong password", p12("wrong-pw", PW, &[]), "nope", &["wrong_password"]);
    cases.add("wrong password -legacy", p12("wrong-pw-legacy", PW, &["-legacy"]), "nope", &["wrong_password"]);
    cases.add("wrong password, no MAC", p12("wrong-pw-nomac", PW, &["-nomac"]), "nope", &["wrong_password"]);
    cases.add(
        "wrong password, no MAC, RC4",
        p12("wrong-pw-rc4", PW, &["-nomac", "-legacy", "-keypbe", "PBE-SHA1-RC4-128", "-certpbe", "PBE-SHA1-RC4-128"]),
        "nope",
        &["wrong_password"],
    );
    cases.add("-nokeys", p12("nokeys", PW, &["-nokeys"]), PW, &["no_private_key"]);
    cases.add("-iter 1000001 (over the cap)", p12("over-cap", PW, &["-iter", "1000001"]), PW, &["too_many_iterations"])
        .without_jdk();

    // --- Key types ---
    let key_types: [(&str, PathBuf, &[&'static str]); 8] = [
        ("rsa1024", fx.rsa("rsa1024", 1024), &["weak_key"]),
        ("p256", fx.ec("p256", "P-256"), &[]),
        ("p384", fx.ec("p384", "P-384"), &[]),
        ("p521", fx.ec("p521", "P-521"), &[]),
        ("secp256k1", fx.ec("secp256k1", "secp256k1"), &["unsupported_key_type"]),
        ("ed25519", fx.key("ed25519", &["-algorithm", "ED25519"]), &[]),
        ("ed448", fx.key("ed448", &["-algorithm", "ED448"]), &["unsupported_key_type"]),
        ("dsa", {
            let params = fx.path("dsa.params");
            openssl(&["genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:2048", "-out", params.to_str().unwrap()]);
            fx.key("dsa", &["-paramfile", params.to_str().unwrap()])
        }, &["unsupported_key_type"]),
    ];
    for (name, key, problems) in key_types {
        let cred = fx.self_signed(name, &key, 365, &ext);
        for (variant, extra) in [("default", &[][..]), ("legacy", &["-legacy"][..])] {
            let file = fx.p12(&format!("{name}-{variant}"), &cred, &[], PW, extra);
            cases.add(&format!("{name} key ({variant})"), file, PW, problems);
        }
    }

    // --- Certificate extensions ---
    let extension_cases: [(&str, &[&str], &[&'static str]); 6] = [
        ("ku-keyEncipherment", &["-addext", "keyUsage=critical,keyEncipherment"], &["key_usage"]),
        ("ku-both", &["-addext", "keyUsage=critical,digitalSignature,keyEncipherment"], &[]),
        ("eku-serverAuth", &["-addext", "extendedKeyUsage=serverAuth"], &["missing_client_auth"]),
        ("eku-both", &["-addext", "extendedKeyUsage=serverAuth,clientAuth"], &[]),
        ("no-extensions", &[], &[]),
        ("ku-and-eku-wrong", &["-addext", "keyUsage=keyCertSign", "-addext", "extendedKeyUsage=codeSigning"], &["key_usage", "missing_client_auth"]),
    ];
    for (name, extra, problems) in extension_cases {
        let cred = fx.self_signed(name, &rsa, 365, extra);
        cases.add(name, fx.p12(name, &cred, &[], PW, &[]), PW, problems);
    }
    let sha1 = fx.self_signed("sha1-signed", &rsa, 365, &["-sha1"]);
    cases.add("SHA-1 signature", fx.p12("sha1-signed", &sha1, &[], PW, &[]), PW, &[]).warns(&["weak_signature"]);
    let soon = fx.self_signed("soon", &rsa, 10, &ext);
    cases.add("expires in 10 days", fx.p12("soon", &soon, &[], PW, &[]), PW, &[]).warns(&["expires_soon"]);

    // --- Chains ---
    let root_key = fx.ec("root", "P-384");
    let root = fx.self_signed("root", &root_key, 3650, &["-addext", "basicConstraints=critical,CA:true"]);
    let inter_key = fx.ec("inter", "P-256");
    let inter = fx.issued("inter", &inter_key, &root, "basicConstraints=critical,CA:true\nkeyUsage=keyCertSign\n", &["-days", "1000"]);
    let leaf_key = fx.ec("leaf", "P-256");
    let leaf = fx.issued("leaf", &leaf_key, &inter, "keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n", &["-days", "365"]);
    cases.add("chain root-first", fx.p12("chain", &leaf, &[&root.cert, &inter.cert], PW, &[]), PW, &[]);
    cases.add("chain without intermediate", fx.p12("chain-gap", &leaf, &[&root.cert], PW, &[]), PW, &[])
        .warns(&["chain_incomplete", "unrelated_certificates"]);
    cases.add("leaf only", fx.p12("leaf-only", &leaf, &[], PW, &["-legacy"]), PW, &[]).warns(&["chain_incomplete"]);

    // --- keytool ---
    let keytool_p12 = |name: &str, keyalg: &[&str], props: &[&str]| -> PathBuf {
        let out = fx.path(&format!("{name}.p12"));
        let mut args: Vec<String> = props.iter().map(|p| format!("-J-D{p}")).collect();
        for a in ["-genkeypair", "-storetype", "PKCS12", "-alias", "client", "-dname", "CN=keytool,O=Test Brand", "-validity", "365", "-storepass", PW, "-keystore"] {
            args.push(a.to_owned());
        }
        args.push(out.to_str().unwrap().to_owned());
        args.extend(keyalg.iter().map(|s| (*s).to_owned()));
        keytool(&args.iter().map(String::as_str).collect::<Vec<_>>());
        out
    };
    let rsa_alg = ["-keyalg", "RSA", "-keysize", "2048"];
    cases.add("keytool RSA", keytool_p12("kt-rsa", &rsa_alg, &[]), PW, &[]);
    cases.add("keytool EC", keytool_p12("kt-ec", &["-keyalg", "EC", "-groupname", "secp384r1"], &[]), PW, &[]);
    cases.add("keytool Ed25519", keytool_p12("kt-ed25519", &["-keyalg", "Ed25519"], &[]), PW, &[]);
    for (i, props) in [
        &["keystore.pkcs12.keyProtectionAlgorithm=PBEWithHmacSHA512AndAES_128"][..],
        &["keystore.pkcs12.keyProtectionAlgorithm=PBEWithHmacSHA1AndAES_256", "keystore.pkcs12.certProtectionAlgorithm=PBEWithHmacSHA384AndAES_256"],
        &["keystore.pkcs12.keyProtectionAlgorithm=PBEWithHmacSHA224AndAES_256", "keystore.pkcs12.macAlgorithm=HmacPBESHA512"],
        &["keystore.pkcs12.keyProtectionAlgorithm=PBEWithSHA1AndDESede", "keystore.pkcs12.certProtectionAlgorithm=PBEWithSHA1AndRC2_40", "keystore.pkcs12.macAlgorithm=HmacPBESHA1"],
        &["keystore.pkcs12.keyProtectionAlgorithm=PBEWithSHA1AndRC4_128", "keystore.pkcs12.certProtectionAlgorithm=PBEWithSHA1AndRC2_128"],
        &["keystore.pkcs12.certProtectionAlgorithm=NONE", "keystore.pkcs12.macAlgorithm=NONE"],
        &["keystore.pkcs12.legacy"],
    ]
    .iter()
    .enumerate()
    {
        let file = keytool_p12(&format!("kt-props-{i}"), &rsa_alg, props);
        let case = cases.add(&format!("keytool {}", props.join(" ")), file, PW, &[]);
        if props.iter().any(|p| p.contains("DESede") || p.contains("RC") || p.contains("legacy")) {
            case.warns(&["legacy_encryption"]);
        }
    }
    let two = keytool_p12("kt-two", &rsa_alg, &[]);
    keytool(&["-genkeypair", "-storetype", "PKCS12", "-alias", "second", "-dname", "CN=second", "-keyalg", "EC", "-storepass", PW, "-keystore", two.to_str().unwrap()]);
    cases.add("keytool, two key entries", two, PW, &["multiple_private_keys"]);
    for storetype in ["JKS", "JCEKS"] {
        let out = fx.path(&format!("store.{storetype}"));
        keytool(&["-genkeypair", "-storetype", storetype, "-alias", "k", "-dname", "CN=jks", "-keyalg", "RSA", "-storepass", PW, "-keypass", PW, "-keystore", out.to_str().unwrap()]);
        let case = cases.add(storetype, out, PW, &["not_pkcs12"]);
        if storetype == "JKS" {
            // JDK 17's PKCS12 KeyStore also reads JKS (keystore.type.compat=true); the SPEC's
            // rule 1 refuses JKS whatever Java does, so this one is not a JDK question.
            case.without_jdk();
        }
    }

    // --- pyca/cryptography ---
    let now = now_unix();
    let year = 365 * 24 * 3600;
    for (name, not_before, not_after, encryption, problems) in [
        ("pyca best", now - 60, now + year, "best", &[][..]),
        ("pyca aes-sha256", now - 60, now + year, "aes-sha256", &[]),
        ("pyca 3des-sha1", now - 60, now + year, "3des-sha1", &[]),
        ("pyca expired", now - 2 * year, now - year, "best", &["expired"]),
        ("pyca not yet valid", now + year, now + 2 * year, "best", &["not_yet_valid"]),
    ] {
        let out = fx.path(&format!("{}.p12", name.replace(' ', "-")));
        pyca_p12(&out, PW, &rsa, not_before, not_after, encryption);
        cases.add(name, out, PW, problems);
    }
    let pyca_ed = fx.path("pyca-ed25519.p12");
    pyca_p12(&pyca_ed, PW, &fx.key("ed25519-pyca", &["-algorithm", "ED25519"]), now - 60, now + year, "best");
    cases.add("pyca Ed25519", pyca_ed, PW, &[]);

    // --- GnuTLS certtool (600,000 iterations) and NSS pk12util (BER output) ---
    let gnutls: [(&str, &[&'static str]); 7] = [
        ("3des-pkcs12", &[]),
        ("aes-128", &[]),
        ("aes-256", &[]),
        ("rc2-40", &[]),
        ("aes-192", &["not_java_compliant"]),
        ("3des", &["not_java_compliant"]),
        // GnuTLS writes a plain PrivateKeyInfo under the shrouded-key bag type: broken for all.
        ("none", &["not_java_compliant"]),
    ];
    for (cipher, problems) in gnutls {
        let out = fx.path(&format!("gnutls-{cipher}.p12"));
        run_tool("certtool", &["--to-p12", "--load-privkey", rsa.to_str().unwrap(), "--load-certificate", cred.cert.to_str().unwrap(), "--p12-name", "client", "--password", PW, "--pkcs-cipher", cipher, "--outder", "--outfile", out.to_str().unwrap()], &[]);
        cases.add(&format!("certtool --pkcs-cipher {cipher}"), out, PW, problems);
    }
    let nssdb = format!("sql:{}", fx.path("nssdb").display());
    std::fs::create_dir(fx.path("nssdb")).unwrap();
    run_tool("certutil", &["-N", "-d", &nssdb, "--empty-password"], &[]);
    let named = p12("named", PW, &["-name", "client"]);
    run_tool("pk12util", &["-i", named.to_str().unwrap(), "-d", &nssdb, "-W", PW, "-K", ""], &[]);
    for (name, cipher) in [
        ("default", None),
        ("aes-256", Some("AES-256-CBC")),
        ("3des", Some("PKCS #12 V2 PBE With SHA-1 And 3KEY Triple DES-CBC")),
        ("rc2-40", Some("PKCS #12 V2 PBE With SHA-1 And 40 Bit RC2 CBC")),
    ] {
        let out = fx.path(&format!("nss-{name}.p12"));
        let mut args = vec!["-o", out.to_str().unwrap(), "-n", "client", "-d", &nssdb, "-W", PW, "-K", ""];
        if let Some(cipher) = cipher {
            args.extend_from_slice(&["-c", cipher, "-C", cipher]);
        }
        run_tool("pk12util", &args, &[]);
        assert_eq!(&std::fs::read(&out).unwrap()[..2], &[0x30, 0x80], "NSS writes BER");
        cases.add(&format!("pk12util {name}"), out, PW, &[]);
    }

    // --- Assembled here: mismatch, two keys, PBKDF2 PRFs, BER ---
    let other = fx.self_signed("other", &fx.rsa("other", 2048), 365, &ext);
    let epki = encrypted_pkcs8(&rsa, PW, &["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256"]);
    let built = |name: &str, bytes: Vec<u8>| -> PathBuf {
        let out = fx.path(&format!("{name}.p12"));
        std::fs::write(&out, bytes).unwrap();
        out
    };
    let mismatch = build::pfx(&[(epki.clone(), Some(1))], &[(cert_der(&other.cert), Some(1))], Style::Der);
    cases.add("key with another key's certificate", built("mismatch", mismatch), PW, &["key_certificate_mismatch"]);
    let p256_epki = encrypted_pkcs8(&fx.path("p256.key.pem"), PW, &["-v2", "aes-128-cbc"]);
    let two_keys = build::pfx(
        &[(epki.clone(), Some(1)), (p256_epki, Some(2))],
        &[(cert_der(&cred.cert), Some(1)), (cert_der(&fx.path("p256.cert.pem")), Some(2))],
        Style::Der,
    );
    cases.add("two keys", built("two-keys", two_keys), PW, &["multiple_private_keys"]);
    let matching = [(cert_der(&cred.cert), Some(1))];
    cases.add("assembled, no MAC", built("assembled", build::pfx(&[(epki.clone(), Some(1))], &matching, Style::Der)), PW, &[]);
    for prf in ["hmacWithSHA1", "hmacWithSHA224", "hmacWithSHA384", "hmacWithSHA512"] {
        let e = encrypted_pkcs8(&rsa, PW, &["-v2", "aes-256-cbc", "-v2prf", prf]);
        cases.add(&format!("PBKDF2 {prf}"), built(prf, build::pfx(&[(e, Some(1))], &matching, Style::Der)), PW, &[]);
    }
    for prf in ["hmacWithSHA512-224", "hmacWithSHA512-256"] {
        let e = encrypted_pkcs8(&rsa, PW, &["-v2", "aes-256-cbc", "-v2prf", prf]);
        let file = built(prf, build::pfx(&[(e, Some(1))], &matching, Style::Der));
        cases.add(&format!("PBKDF2 {prf}"), file, PW, &["not_java_compliant"]);
    }
    for (name, style) in [("BER chunk 1000", Style::Ber { chunk: 1000 }), ("BER chunk 17", Style::Ber { chunk: 17 })] {
        let bytes = build::pfx(&[(epki.clone(), Some(1))], &matching, style);
        cases.add(&format!("assembled {name}"), built(&name.replace(' ', "-"), bytes), PW, &[]);
    }
    // How the JDK pairs a key with its certificate: by localKeyId (JDK PKCS12KeyStore
    // findMatchedCertificate), and without any localKeyId by position.
    let leaf_der = cert_der(&leaf.cert);
    let root_der = cert_der(&root.cert);
    let inter_der = cert_der(&inter.cert);
    let leaf_epki = encrypted_pkcs8(&leaf_key, PW, &["-v2", "aes-256-cbc"]);
    for (name, key_id, certs, problems) in [
        ("ids: none, leaf first", None, vec![(leaf_der.clone(), None), (inter_der.clone(), None), (root_der.clone(), None)], &["not_java_compliant"][..]),
        ("ids: none, root first", None, vec![(root_der.clone(), None), (inter_der.clone(), None), (leaf_der.clone(), None)], &["not_java_compliant"]),
        ("ids: key only", Some(1), vec![(leaf_der.clone(), None), (root_der.clone(), None)], &["not_java_compliant"]),
        ("ids: leaf only", None, vec![(root_der.clone(), None), (leaf_der.clone(), Some(1))], &["not_java_compliant"]),
        ("ids: key and leaf differ", Some(1), vec![(leaf_der.clone(), Some(2))], &["not_java_compliant"]),
        ("ids: key linked to the root", Some(1), vec![(root_der.clone(), Some(1)), (leaf_der.clone(), None)], &["not_java_compliant"]),
        ("ids: key linked to the root, leaf 2", Some(1), vec![(root_der.clone(), Some(1)), (leaf_der.clone(), Some(2))], &["not_java_compliant"]),
        ("ids: both on the leaf, chain after", Some(1), vec![(leaf_der.clone(), Some(1)), (inter_der.clone(), None), (root_der.clone(), None)], &[]),
        ("ids: both on the leaf, chain before", Some(1), vec![(root_der.clone(), None), (inter_der.clone(), None), (leaf_der.clone(), Some(1))], &[]),
    ] {
        let bytes = build::pfx(&[(leaf_epki.clone(), key_id)], &certs, Style::Der);
        cases.add(name, built(&name.replace([' ', ':', ','], "-"), bytes), PW, problems);
    }
    for (name, key_name, certs, problems) in [
        ("names: key and leaf", "client", vec![(root_der.clone(), "root"), (leaf_der.clone(), "client")], &[][..]),
        ("names: differ in case", "Client", vec![(leaf_der.clone(), "cLIENT")], &[]),
        ("names: key and root", "client", vec![(root_der.clone(), "client"), (leaf_der.clone(), "leaf")], &["not_java_compliant"]),
        ("names: no match", "client", vec![(leaf_der.clone(), "other")], &["not_java_compliant"]),
    ] {
        let bytes = build::pfx_named(&leaf_epki, key_name, &certs);
        cases.add(name, built(&name.replace([' ', ':', ','], "-"), bytes), PW, problems);
    }
    // BER re-encoding of MAC-protected OpenSSL files: the outer structure only (the MAC covers
    // the inner bytes), with the encrypted contents chunked.
    for source in ["default", "legacy"] {
        let der = std::fs::read(fx.path(&format!("{source}.p12"))).unwrap();
        let tree = tlv::parse(&der).unwrap();
        let ber = tlv::encode(&tree, Style::Ber { chunk: 64 });
        cases.add(&format!("BER outer of {source}"), built(&format!("ber-{source}"), ber), PW, &[]);
    }
    let nomac = std::fs::read(fx.path("nomac.p12")).unwrap();
    let mut tree = tlv::parse(&nomac).unwrap();
    tlv::rewrite(&mut tree, Style::Ber { chunk: 50 }, &mut |_| {});
    cases.add("BER throughout, no MAC", built("ber-nomac", tlv::encode(&tree, Style::Ber { chunk: 50 })), PW, &[]).warns(&["no_mac"]);

    // --- Iteration counts far over the cap: refused before any KDF (else this test would hang) ---
    for (source, name) in [("default", "MAC and PBKDF2 at 2^40"), ("legacy", "MAC and PKCS#12 PBE at 2^40"), ("nomac", "PBKDF2 at 2^40, no MAC")] {
        let der = std::fs::read(fx.path(&format!("{source}.p12"))).unwrap();
        let mut tree = tlv::parse(&der).unwrap();
        tlv::rewrite(&mut tree, Style::Der, &mut |node| {
            if tlv::is_integer(node, 2048) {
                *node = Node::Primitive { tag: 0x02, value: tlv::integer_bytes(1 << 40) };
            }
        });
        let bytes = tlv::encode(&tree, Style::Der);
        assert_ne!(bytes, der, "{name}: the rewrite changed something");
        cases.add(name, built(&format!("hostile-{source}"), bytes), PW, &["too_many_iterations"]).without_jdk();
    }

    // --- Not P12 at all ---
    let default_bytes = std::fs::read(fx.path("default.p12")).unwrap();
    cases.add("truncated to half", built("half", default_bytes[..default_bytes.len() / 2].to_vec()), PW, &["not_pkcs12"]);
    cases.add("truncated by one byte", built("minus1", default_bytes[..default_bytes.len() - 1].to_vec()), PW, &["not_pkcs12"]);
    cases.add("PEM certificate", cred.cert.clone(), PW, &["not_pkcs12"]);
    cases.add("PEM private key", rsa.clone(), PW, &["not_pkcs12"]);
    cases.add("DER certificate", built("cert-der", cert_der(&cred.cert)), PW, &["not_pkcs12"]);
    cases.add("empty file", built("empty", Vec::new()), PW, &["not_pkcs12"]);
    cases.add("text", built("text", b"hello, this is not a keystore\n".to_vec()), PW, &["not_pkcs12"]);

    // --- Run: ours, then the JDK on the same files, once ---
    let options = InspectOptions::at(now);
    for case in &mut cases.list {
        let bytes = std::fs::read(&case.path).unwrap();
        case.report = Some(inspect_both_ways(&bytes, &case.password, &options));
    }
    let asked: Vec<&Case> = cases.list.iter().filter(|c| c.ask_jdk).collect();
    let verdicts = jdk_verdicts(
        fx.dir.path(),
        &asked.iter().map(|c| (c.path.clone(), c.password.clone())).collect::<Vec<_>>(),
    );
    let mut failures = Vec::new();
    for case in &cases.list {
        let report = case.report.as_ref().unwrap();
        let mut got: Vec<&str> = codes(&report.problems);
        got.sort_unstable();
        got.dedup();
        let mut want = case.problems.clone();
        want.sort_unstable();
        if got != want {
            failures.push(format!("{}: problems {got:?}, expected {want:?}: {:?}", case.name, report.problems));
        }
        for warning in &case.warnings {
            if !codes(&report.warnings).contains(warning) {
                failures.push(format!("{}: missing warning {warning}: {:?}", case.name, report.warnings));
            }
        }
        if report.usable != report.problems.is_empty() {
            failures.push(format!("{}: usable flag inconsistent", case.name));
        }
    }
    for (case, verdict) in asked.iter().zip(&verdicts) {
        let report = case.report.as_ref().unwrap();
        let container_problem = report.problems.iter().any(|p| CONTAINER_CODES.contains(&p.code.as_str()));
        match verdict {
            JdkVerdict::Ok { .. } if container_problem => failures.push(format!(
                "{}: the JDK uses this file but we report {:?}",
                case.name, report.problems
            )),
            JdkVerdict::Ok { certificate_sha256, .. }
                if report.usable
                    && report.certificate.as_ref().map(|c| &c.fingerprint_sha256) != Some(certificate_sha256) =>
            {
                failures.push(format!("{}: the JDK presents the certificate {certificate_sha256}, we another", case.name));
            }
            JdkVerdict::Fail { stage, reason } if report.usable => failures.push(format!(
                "{}: the JDK fails ({stage}: {reason}) but we call it usable",
                case.name
            )),
            _ => {}
        }
    }
    let summary: Vec<String> = asked
        .iter()
        .zip(&verdicts)
        .map(|(c, v)| format!("{:45} jdk={:?} ours={:?}", c.name, v, codes(&c.report.as_ref().unwrap().problems)))
        .collect();
    println!("{}", summary.join("\n"));
    let reports: Vec<P12Report> = cases.list.iter().filter_map(|c| c.report.clone()).collect();
    failures.extend(print_messages(&reports));
    assert!(failures.is_empty(), "{} disagreements:\n{}\n\nall:\n{}", failures.len(), failures.join("\n"), summary.join("\n"));
    assert!(cases.list.len() > 100, "the matrix shrank: {}", cases.list.len());
}
