//! Test harness: makes keys, certificates and P12 files with the `openssl` and `keytool` CLIs
//! into a fresh temporary directory, and asks the JDK what it makes of them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::Command;

use mtls_sdk::{InspectOptions, P12Report};

/// A temporary directory holding one test's fixtures; removed on drop.
pub struct Fixtures {
    pub dir: tempfile::TempDir,
}

/// A key and its certificate, as PEM files.
#[derive(Clone, Debug)]
pub struct Credential {
    pub key: PathBuf,
    pub cert: PathBuf,
}

impl Fixtures {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `openssl genpkey` with the given algorithm arguments, for example
    /// `["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]`.
    pub fn key(&self, name: &str, args: &[&str]) -> PathBuf {
        let out = self.path(&format!("{name}.key.pem"));
        let mut all = vec!["genpkey"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-out", out.to_str().unwrap()]);
        openssl(&all);
        out
    }

    pub fn rsa(&self, name: &str, bits: u32) -> PathBuf {
        self.key(name, &["-algorithm", "RSA", "-pkeyopt", &format!("rsa_keygen_bits:{bits}")])
    }

    pub fn ec(&self, name: &str, curve: &str) -> PathBuf {
        self.key(name, &["-algorithm", "EC", "-pkeyopt", &format!("ec_paramgen_curve:{curve}")])
    }

    /// A self-signed certificate for `key`, with extra `openssl req` arguments (for example
    /// `-addext`), valid `days` days from now.
    pub fn self_signed(&self, name: &str, key: &Path, days: i32, extra: &[&str]) -> Credential {
        let cert = self.path(&format!("{name}.cert.pem"));
        let subj = format!("/O=Test Brand/CN={name}");
        let days = days.to_string();
        let mut args = vec![
            "req", "-x509", "-new", "-key", key.to_str().unwrap(), "-subj", &subj, "-days", &days,
            "-out", cert.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        openssl(&args);
        Credential { key: key.to_path_buf(), cert }
    }

    /// A certificate for `key` signed by `issuer`, with extensions from an `openssl x509
    /// -extfile` text and validity given by `openssl x509` arguments (`-days`, `-not_before`).
    pub fn issued(
        &self,
        name: &str,
        key: &Path,
        issuer: &Credential,
        extensions: &str,
        validity: &[&str],
    ) -> Credential {
        let csr = self.path(&format!("{name}.csr"));
        let cert = self.path(&format!("{name}.cert.pem"));
        let ext = self.path(&format!("{name}.ext"));
        std::fs::write(&ext, extensions).unwrap();
        let subj = format!("/O=Test Brand/CN={name}");
        openssl(&["req", "-new", "-key", key.to_str().unwrap(), "-subj", &subj, "-out", csr.to_str().unwrap()]);
        let mut args = vec![
            "x509", "-req", "-in", csr.to_str().unwrap(), "-CA", issuer.cert.to_str().unwrap(),
            "-CAkey", issuer.key.to_str().unwrap(), "-CAcreateserial", "-extfile",
            ext.to_str().unwrap(), "-out", cert.to_str().unwrap(),
        ];
        args.extend_from_slice(validity);
        openssl(&args);
        Credential { key: key.to_path_buf(), cert }
    }

    /// `openssl pkcs12 -export` of `cred` (plus `chain` certificates) with extra arguments.
    pub fn p12(&self, name: &str, cred: &Credential, chain: &[&Path], password: &str, extra: &[&str]) -> PathBuf {
        let out = self.path(&format!("{name}.p12"));
        let pass = format!("pass:{password}");
        let mut args = vec![
            "pkcs12", "-export", "-inkey", cred.key.to_str().unwrap(), "-in",
            cred.cert.to_str().unwrap(), "-passout", &pass, "-out", out.to_str().unwrap(),
        ];
        let chain_file = self.path(&format!("{name}.chain.pem"));
        if !chain.is_empty() {
            let mut pem = Vec::new();
            for c in chain {
                pem.extend(std::fs::read(c).unwrap());
            }
            std::fs::write(&chain_file, pem).unwrap();
            args.extend_from_slice(&["-certfile", chain_file.to_str().unwrap()]);
        }
        args.extend_from_slice(extra);
        openssl(&args);
        out
    }
}

/// Runs `openssl` and panics with its stderr on failure.
pub fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl").args(args).output().expect("openssl on PATH");
    assert!(
        out.status.success(),
        "openssl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs another toolkit's CLI (certtool, certutil, pk12util) with environment `env`, and
/// panics with its output on failure.
pub fn run_tool(tool: &str, args: &[&str], env: &[(&str, &str)]) {
    let out = Command::new(tool)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("{tool} not found ({e}): run scripts/install-test-deps.sh"));
    assert!(
        out.status.success(),
        "{tool} {} failed: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `keytool` and panics with its output on failure.
pub fn keytool(args: &[&str]) {
    let out = Command::new("keytool").args(args).output().expect("keytool on PATH");
    assert!(
        out.status.success(),
        "keytool {} failed: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The current time; tests pass it explicitly as the SDK reads no clock.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

pub fn inspect(path: &Path, password: &str) -> P12Report {
    let bytes = std::fs::read(path).unwrap();
    inspect_both_ways(&bytes, password, &InspectOptions::at(now_unix()))
}

pub fn codes(findings: &[mtls_sdk::Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.code.as_str()).collect()
}

/// What the JDK did with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JdkVerdict {
    /// Loaded, key recovered, signature verified with the certificate.
    Ok {
        /// The key algorithm (`RSA`, `EC`, ...).
        algorithm: String,
        /// SHA-256 (lower-case hex) of the certificate the keystore returns for the key: the
        /// one Java would present.
        certificate_sha256: String,
    },
    /// Failed at a stage (`load`, `get_key`, ...), with the exception text.
    Fail { stage: String, reason: String },
}

/// Runs `sdk/tests/jdk/P12Oracle.java` once over all `(file, password)` cases.
pub fn jdk_verdicts(dir: &Path, cases: &[(PathBuf, String)]) -> Vec<JdkVerdict> {
    let list = dir.join("oracle-cases.txt");
    let text: String = cases
        .iter()
        .map(|(p, pw)| format!("{}\t{}\n", p.display(), hex_encode(pw.as_bytes())))
        .collect();
    std::fs::write(&list, text).unwrap();
    let oracle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jdk/P12Oracle.java");
    let out = Command::new("java").arg(&oracle).arg(&list).output().expect("java on PATH");
    assert!(out.status.success(), "P12Oracle failed: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let verdicts: Vec<JdkVerdict> = stdout
        .lines()
        .map(|line| {
            let parts: Vec<&str> = line.splitn(4, '\t').collect();
            match parts[0] {
                "OK" => JdkVerdict::Ok {
                    algorithm: parts[2].to_owned(),
                    certificate_sha256: parts[3].to_owned(),
                },
                _ => JdkVerdict::Fail { stage: parts[2].to_owned(), reason: parts[3].to_owned() },
            }
        })
        .collect();
    assert_eq!(verdicts.len(), cases.len(), "one oracle line per case:\n{stdout}");
    verdicts
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub mod build;
pub mod tlv;

/// `openssl pkcs8 -topk8` of `key` encrypted with `password` and extra arguments (`-v2 ...`,
/// `-v2prf ...`, `-v1 ...`): an EncryptedPrivateKeyInfo, DER.
pub fn encrypted_pkcs8(key: &Path, password: &str, extra: &[&str]) -> Vec<u8> {
    let pass = format!("pass:{password}");
    let mut args = vec!["pkcs8", "-topk8", "-in", key.to_str().unwrap(), "-passout", &pass, "-outform", "DER"];
    args.extend_from_slice(extra);
    openssl(&args)
}

/// A certificate file as DER.
pub fn cert_der(cert: &Path) -> Vec<u8> {
    openssl(&["x509", "-in", cert.to_str().unwrap(), "-outform", "DER"])
}

/// `sdk/tests/toolkits/pyca_p12.py`: a P12 written by pyca/cryptography with a self-signed
/// certificate valid between the given times.
pub fn pyca_p12(out: &Path, password: &str, key: &Path, not_before: i64, not_after: i64, encryption: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/toolkits/pyca_p12.py");
    let status = Command::new("python3")
        .arg(script)
        .args([out.to_str().unwrap(), password, key.to_str().unwrap()])
        .args(["--not-before", &not_before.to_string(), "--not-after", &not_after.to_string()])
        .args(["--encryption", encryption])
        .status()
        .expect("python3 on PATH");
    assert!(status.success(), "pyca_p12.py failed for {}", out.display());
}

/// Prints every distinct problem and warning message of `reports`, by code, for a read of the
/// wording; returns the slips found before (a singular subject with a plural verb, a message that
/// recommends the algorithm it refuses, the test password in a message, a trailing period).
pub fn print_messages(reports: &[P12Report]) -> Vec<String> {
    let mut seen: Vec<(String, String, &str)> = reports
        .iter()
        .flat_map(|r| {
            let problems = r.problems.iter().map(|f| (f.code.clone(), f.message.clone(), "problem"));
            let warnings = r.warnings.iter().map(|f| (f.code.clone(), f.message.clone(), "warning"));
            problems.chain(warnings).collect::<Vec<_>>()
        })
        .collect();
    seen.sort();
    seen.dedup();
    let mut slips = Vec::new();
    println!("--- {} distinct messages ---", seen.len());
    for (code, message, kind) in &seen {
        println!("{kind:7} {code:24} {message}");
        // The slip seen: a PBES2 file refused for its 3DES cipher was told to use 3DES.
        let refused_and_advised = message.contains("does not read") && message.ends_with("or 3DES");
        if message.contains("key are ")
            || message.contains("certificates is ")
            || message.contains("is an empty file")
            || message.contains("changeit")
            || message.ends_with('.')
            || message.is_empty()
            || refused_and_advised
        {
            slips.push(format!("{code}: {message}"));
        }
    }
    slips.into_iter().map(|s| format!("wording slip: {s}")).collect()
}

/// Inspects `p12` as the server does (public keys derived by the RustCrypto crates) and as the
/// WebAssembly modules do (public keys derived by the host, here the same crates standing in
/// for WebCrypto), asserts both reports are the same, and returns it.
pub fn inspect_both_ways(p12: &[u8], password: &str, options: &InspectOptions) -> P12Report {
    use mtls_sdk::{start_p12_inspection, P12Inspection, PublicKeyDerivation};
    let local = mtls_sdk::inspect_p12(p12, password, options);
    let by_host = match start_p12_inspection(p12, password, options, PublicKeyDerivation::Host) {
        P12Inspection::Done(report) => report,
        P12Inspection::NeedsPublicKey(mut pending) => {
            let public_key = host_public_key(pending.private_key_pkcs8())
                .expect("the host derives the public key of the key it is given");
            pending.finish(&public_key).expect("the derived public key is accepted")
        }
    };
    assert_eq!(by_host, local, "the host-derived inspection differs from the local one");
    local
}

/// What a JavaScript host does with a `PendingP12Inspection`'s key: its public key (the
/// uncompressed point for EC, the 32 bytes for Ed25519), or `None` when it refuses the key.
pub fn host_public_key(pkcs8: &[u8]) -> Option<Vec<u8>> {
    use p256::elliptic_curve::sec1::ToSec1Point;
    use pkcs8::DecodePrivateKey;
    if let Ok(key) = p256::SecretKey::from_pkcs8_der(pkcs8) {
        Some(key.public_key().to_sec1_point(false).as_bytes().to_vec())
    } else if let Ok(key) = p384::SecretKey::from_pkcs8_der(pkcs8) {
        Some(key.public_key().to_sec1_point(false).as_bytes().to_vec())
    } else if let Ok(key) = p521::SecretKey::from_pkcs8_der(pkcs8) {
        Some(key.public_key().to_sec1_point(false).as_bytes().to_vec())
    } else {
        let key = ed25519_dalek::SigningKey::from_pkcs8_der(pkcs8).ok()?;
        Some(key.verifying_key().to_bytes().to_vec())
    }
}
