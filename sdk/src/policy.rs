//! The "usable" rules of SPEC section 2, one function per rule.
//!
//! [`open_p12`] reads the container (`crate::pfx::read`: rules 1, 2, 3 and 7), then applies the
//! rules on keys and certificates (4, 5, 6) to the decoded values. Every rule adds problems or
//! warnings to one report; a file is usable when no rule found a problem.

use zeroize::Zeroizing;

use crate::oids::CLIENT_AUTH;
use crate::pfx::read::{read_pfx, BagLink, CertEntry, KeyEntry, P12Iterations, Reading};
use crate::private_key::{HostKeyError, KeyDerivation, KeyKind, KeyMatch, PrivateKey};
use crate::report::{Finding, KeyInfo, P12Report};
use crate::x509::{weak_signature_name, Cert, JavaUnreadableEcKey};

/// Warn when the leaf expires within this many seconds (30 days).
const EXPIRES_SOON_SECONDS: i64 = 30 * 24 * 3600;
/// Smallest RSA modulus accepted (SPEC section 2, rule 5).
const MIN_RSA_BITS: u32 = 2048;

/// Default cap on MAC and PBKDF iteration counts (SPEC section 2, rule 7).
pub const DEFAULT_MAX_ITERATIONS: u64 = 1_000_000;

/// The default [`InspectOptions::kdf_budget`] is this many times the per-KDF cap: a MAC, a
/// certificate part and a key need 3; a hostile file with thousands of parts, each under the
/// cap, is refused before its first KDF instead of costing thousands of KDF runs.
pub const KDF_BUDGET_FACTOR: u64 = 8;

/// Inputs to [`inspect_p12`] besides the file and the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InspectOptions {
    /// The current time, seconds since the Unix epoch (the SDK reads no clock).
    pub now_unix: i64,
    /// Iteration cap for the MAC and every PBKDF; larger counts are refused before any KDF runs.
    pub max_iterations: u64,
    /// Iterations all KDF runs of the file may take together (the MAC's and every PBKDF's,
    /// also those of key bags found only after decrypting a part). What the file declares
    /// outside its encrypted parts is checked before any KDF runs, each later run before it
    /// runs; past the budget the file is refused with `too_many_iterations`.
    pub kdf_budget: u64,
}

impl InspectOptions {
    /// Options at time `now_unix` with the default iteration cap and KDF budget.
    pub fn at(now_unix: i64) -> Self {
        Self::new(now_unix, DEFAULT_MAX_ITERATIONS)
    }

    /// Options at time `now_unix` with the cap `max_iterations` and a KDF budget of
    /// [`KDF_BUDGET_FACTOR`] times that cap.
    pub fn new(now_unix: i64, max_iterations: u64) -> Self {
        Self {
            now_unix,
            max_iterations,
            kdf_budget: max_iterations.saturating_mul(KDF_BUDGET_FACTOR),
        }
    }
}

/// The decrypted contents of a usable P12: what the server stores and presents in TLS.
#[derive(Clone)]
pub struct P12Contents {
    /// The private key as PKCS#8 `PrivateKeyInfo` DER.
    pub private_key_pkcs8: zeroize::Zeroizing<Vec<u8>>,
    /// The leaf certificate DER first, then the chain.
    pub certificate_chain: Vec<Vec<u8>>,
}

impl std::fmt::Debug for P12Contents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("P12Contents")
            .field("private_key_pkcs8", &"<redacted>")
            .field("certificate_chain", &self.certificate_chain.len())
            .finish()
    }
}

/// Decides whether `p12` opened with `password` is usable (SPEC section 2). Needs the cargo
/// feature `key-arithmetic` (the default); without it, see [`start_p12_inspection`].
#[cfg(feature = "key-arithmetic")]
pub fn inspect_p12(p12: &[u8], password: &str, options: &InspectOptions) -> P12Report {
    open_p12(p12, password, options).0
}

/// The iteration counts `p12` declares (MAC, key bags and encrypted parts), read without any
/// password and without running a KDF: as cheap as the parse that [`inspect_p12`] starts with,
/// and the same parse. A caller inspecting many files can bound their KDF work in advance.
///
/// # Errors
/// The problem [`inspect_p12`] would report for a file that does not parse as a PFX
/// (`not_pkcs12`, `unsupported_algorithm`); inspecting such a file runs no KDF either.
pub fn p12_iterations(p12: &[u8]) -> Result<P12Iterations, Finding> {
    crate::pfx::read::p12_iterations(p12)
}

/// Like [`inspect_p12`], and also returns the decrypted key and chain when the file is usable.
/// Public keys are derived here (the RustCrypto crates).
#[cfg(feature = "key-arithmetic")]
pub fn open_p12(
    p12: &[u8],
    password: &str,
    options: &InspectOptions,
) -> (P12Report, Option<P12Contents>) {
    match start(p12, password, options, PublicKeyDerivation::Local) {
        Step::Done(report, contents) => (report, contents),
        // Local derivation leaves nothing to the host.
        Step::NeedsPublicKey(stage) => finish_key_stage(*stage),
    }
}

/// Where the public key of the file's private key comes from when it must be derived (EC and
/// Ed25519 keys; see `crate::private_key`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicKeyDerivation {
    /// Derived here by the RustCrypto crates (which also check an RSA key's consistency).
    /// Builds without the cargo feature `key-arithmetic` have no such code and derive as
    /// `Host` does.
    Local,
    /// Derived by the caller: [`start_p12_inspection`] stops with
    /// [`P12Inspection::NeedsPublicKey`]. RSA keys are compared by modulus and exponent without
    /// a consistency check.
    Host,
}

impl PublicKeyDerivation {
    /// What this build does: `Local` with the cargo feature `key-arithmetic` (the default),
    /// `Host` without it (the WebAssembly modules).
    pub const BUILT_IN: Self = match KeyDerivation::BUILT_IN {
        KeyDerivation::Local => Self::Local,
        KeyDerivation::Host => Self::Host,
    };
}

/// The first step of an inspection: the report, or the private key whose public key the
/// caller must derive to finish it.
#[allow(clippy::large_enum_variant, reason = "one value per inspection, returned by value")]
pub enum P12Inspection {
    /// The report: what [`inspect_p12`] returns.
    Done(P12Report),
    /// The file's one private key needs its public key derived by the caller.
    NeedsPublicKey(PendingP12Inspection),
}

/// An inspection waiting for the public key of the file's private key, holding what the first
/// step decrypted (so finishing runs no KDF again).
pub struct PendingP12Inspection {
    /// `None` once finished.
    stage: Option<Box<KeyStage>>,
}

/// Why [`PendingP12Inspection::finish`] gave no report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FinishInspectionError {
    /// The public key given is not one of the private key's type and curve (the caller's
    /// mistake); the inspection can be finished with the right one.
    #[error("the public key given is not one of the private key's type and curve")]
    NotItsPublicKey,
    /// The inspection was finished already.
    #[error("the inspection is finished already")]
    Finished,
}

/// Inspects `p12` like [`inspect_p12`], deriving public keys as `derivation` says: with
/// [`PublicKeyDerivation::Host`] an EC or Ed25519 key (when the file gets as far as its key)
/// stops the inspection with [`P12Inspection::NeedsPublicKey`].
pub fn start_p12_inspection(
    p12: &[u8],
    password: &str,
    options: &InspectOptions,
    derivation: PublicKeyDerivation,
) -> P12Inspection {
    match start(p12, password, options, derivation) {
        Step::Done(report, _) => P12Inspection::Done(report),
        Step::NeedsPublicKey(stage) => {
            P12Inspection::NeedsPublicKey(PendingP12Inspection { stage: Some(stage) })
        }
    }
}

impl PendingP12Inspection {
    /// The private key to derive the public key of, as PKCS#8 `PrivateKeyInfo` DER in a form
    /// WebCrypto's `importKey("pkcs8")` and Node's `crypto.createPrivateKey` take: an EC key with
    /// a named curve and no public key, an Ed25519 key as PKCS#8 version 1.
    pub fn private_key_pkcs8(&self) -> &[u8] {
        self.stage.as_ref().and_then(|stage| stage.key.host_request()).unwrap_or_default()
    }

    /// Type and size of the private key (`EC` with its curve, or `Ed25519`): what the caller
    /// tells its crypto API when importing [`Self::private_key_pkcs8`].
    pub fn key(&self) -> Option<&KeyInfo> {
        self.stage.as_ref().map(|stage| &stage.key.info)
    }

    /// Finishes the inspection with the public key of [`Self::private_key_pkcs8`]: for EC the
    /// uncompressed SEC1 point (`04 || x || y`), for Ed25519 its 32 bytes.
    ///
    /// # Errors
    /// [`FinishInspectionError`]: `public_key` is not a public key of the private key's type and
    /// curve (the inspection can be finished again), or the inspection is finished.
    pub fn finish(&mut self, public_key: &[u8]) -> Result<P12Report, FinishInspectionError> {
        let stage = self.stage.as_mut().ok_or(FinishInspectionError::Finished)?;
        let accepted = stage.key.accept_host_public_key(public_key);
        if accepted == Err(HostKeyError::NotAPublicKey) {
            return Err(FinishInspectionError::NotItsPublicKey);
        }
        let stage = *self.stage.take().ok_or(FinishInspectionError::Finished)?;
        Ok(match accepted {
            // As when decoding finds the key invalid: no key facts, no certificate.
            Err(HostKeyError::Inconsistent(why)) => {
                let mut report = stage.report;
                report.problems.push(Finding::new("invalid_private_key", why.to_string()));
                finish(report, None).0
            }
            _ => finish_key_stage(stage).0,
        })
    }
}

/// What the file held once decrypted, up to its decoded private key: the rules on the key and
/// certificates run from here.
struct KeyStage {
    report: P12Report,
    reading: Reading,
    certs: Vec<Cert>,
    /// For each certificate bag, its index in `certs`.
    cert_of_bag: Vec<Option<usize>>,
    key: PrivateKey,
    /// The key's entry in `reading.keys`.
    key_entry: usize,
    now_unix: i64,
}

/// Where reading stopped: with the report, or at a key whose public key the host derives.
#[cfg_attr(not(feature = "key-arithmetic"), allow(dead_code, reason = "contents for open_p12"))]
#[allow(clippy::large_enum_variant, reason = "one value per inspection, returned by value")]
enum Step {
    Done(P12Report, Option<P12Contents>),
    NeedsPublicKey(Box<KeyStage>),
}

fn start(p12: &[u8], password: &str, options: &InspectOptions, derivation: PublicKeyDerivation) -> Step {
    let mut reading = read_pfx(p12, password, options.max_iterations, options.kdf_budget);
    let mut report = P12Report {
        usable: false,
        problems: std::mem::take(&mut reading.problems),
        warnings: std::mem::take(&mut reading.warnings),
        certificate: None,
        chain: Vec::new(),
        key: None,
        container: reading.container.take(),
    };
    if !reading.complete {
        return done(finish(report, None));
    }
    // The distinct certificates, and for each certificate bag its index among them.
    let mut certs: Vec<Cert> = Vec::new();
    let mut cert_of_bag: Vec<Option<usize>> = Vec::with_capacity(reading.certificates.len());
    for entry in &reading.certificates {
        match Cert::parse(&entry.der) {
            Ok(cert) => {
                let index = certs.iter().position(|c| c.der == cert.der).unwrap_or_else(|| {
                    certs.push(cert);
                    certs.len() - 1
                });
                cert_of_bag.push(Some(index));
            }
            Err(why) => {
                report.problems.push(Finding::new("invalid_certificate", why));
                cert_of_bag.push(None);
            }
        }
    }
    check_java_reads_certificate_keys(&certs, &mut report.problems);
    let Some(key_entry) = one_private_key(&reading.keys, &mut report.problems) else {
        return done(finish(report, None));
    };
    let derivation = match derivation {
        PublicKeyDerivation::Local => KeyDerivation::Local,
        PublicKeyDerivation::Host => KeyDerivation::Host,
    };
    let key = match PrivateKey::decode_deriving(&reading.keys[key_entry].pkcs8, derivation) {
        Ok(key) => key,
        Err(why) => {
            report.problems.push(Finding::new("invalid_private_key", why.to_string()));
            return done(finish(report, None));
        }
    };
    let stage =
        KeyStage { report, reading, certs, cert_of_bag, key, key_entry, now_unix: options.now_unix };
    if stage.key.host_request().is_some() {
        return Step::NeedsPublicKey(Box::new(stage));
    }
    let (report, contents) = finish_key_stage(stage);
    Step::Done(report, contents)
}

fn done((report, contents): (P12Report, Option<P12Contents>)) -> Step {
    Step::Done(report, contents)
}

/// The rules on the decoded key and the certificates (4, 5, 6 and Java's pairing of rule 3).
fn finish_key_stage(stage: KeyStage) -> (P12Report, Option<P12Contents>) {
    let KeyStage { mut report, reading, mut certs, cert_of_bag, key, key_entry, now_unix } = stage;
    let entry = &reading.keys[key_entry];
    report.key = Some(key.info.clone());
    check_java_reads_key(&key, &mut report.problems);
    check_key_strength(&key, &mut report.problems);
    let java_pairing = java_paired_bag(&entry.link, &reading.certificates)
        .and_then(|(bag, how)| Some((cert_of_bag[bag]?, how)));
    let Some(leaf_index) =
        matching_certificate(&key, java_pairing.map(|(i, _)| i), &certs, &mut report.problems)
    else {
        return finish(report, None);
    };
    let leaf_visible = reading
        .certificates
        .iter()
        .zip(&cert_of_bag)
        .any(|(bag, cert)| *cert == Some(leaf_index) && bag.link.java_visible);
    check_java_pairing(
        &entry.link,
        java_pairing,
        (leaf_index, leaf_visible),
        &certs,
        &mut report.problems,
    );
    let leaf = certs.swap_remove(leaf_index);
    let chain = order_chain(&leaf, certs, &mut report.warnings);
    check_validity(&leaf, now_unix, &mut report.problems, &mut report.warnings);
    check_key_usage(&leaf, &mut report.problems);
    check_extended_key_usage(&leaf, &mut report.problems);
    warn_weak_signatures(&leaf, &chain, &mut report.warnings);
    report.certificate = Some(leaf.info.clone());
    report.chain = chain.iter().map(|c| c.info.clone()).collect();
    let contents = P12Contents {
        private_key_pkcs8: Zeroizing::new(entry.pkcs8.to_vec()),
        certificate_chain: std::iter::once(leaf.der).chain(chain.into_iter().map(|c| c.der)).collect(),
    };
    finish(report, Some(contents))
}

fn finish(mut report: P12Report, contents: Option<P12Contents>) -> (P12Report, Option<P12Contents>) {
    report.usable = report.problems.is_empty();
    let contents = if report.usable { contents } else { None };
    (report, contents)
}

/// Rule 4: exactly one private key (the same key stored twice counts once); its index.
fn one_private_key(keys: &[KeyEntry], problems: &mut Vec<Finding>) -> Option<usize> {
    let mut distinct: Vec<usize> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        if !distinct.iter().any(|&k| keys[k].pkcs8 == key.pkcs8) {
            distinct.push(i);
        }
    }
    match distinct.as_slice() {
        [] => {
            problems.push(Finding::new(
                "no_private_key",
                "the file holds no private key; export it with its key (openssl pkcs12 -export \
                 -inkey key.pem)",
            ));
            None
        }
        [one] => Some(*one),
        many => {
            problems.push(Finding::new(
                "multiple_private_keys",
                format!("the file holds {} private keys; exactly one is expected", many.len()),
            ));
            None
        }
    }
}

/// Rule 5: RSA of at least 2048 bits, ECDSA on P-256/P-384/P-521, or Ed25519.
fn check_key_strength(key: &PrivateKey, problems: &mut Vec<Finding>) {
    match &key.kind {
        KeyKind::Rsa { bits } if *bits < MIN_RSA_BITS => problems.push(Finding::new(
            "weak_key",
            format!("RSA key of {bits} bits; at least {MIN_RSA_BITS} are needed"),
        )),
        KeyKind::Rsa { .. } | KeyKind::Ed25519 => {}
        KeyKind::Ec { .. } if matches!(key.info.curve.as_deref(), Some("P-256" | "P-384" | "P-521")) => {}
        KeyKind::Ec { .. } => problems.push(Finding::new(
            "unsupported_key_type",
            format!(
                "EC key on curve {}; TLS client authentication needs P-256, P-384 or P-521",
                key.info.curve.as_deref().unwrap_or("unknown")
            ),
        )),
        KeyKind::Other { algorithm } => problems.push(Finding::new(
            "unsupported_key_type",
            format!(
                "{algorithm} key; TLS client authentication needs RSA (2048 bits or more), ECDSA \
                 on P-256/P-384/P-521 or Ed25519"
            ),
        )),
    }
}

/// Rule 4: the certificate whose public key is the private key's; its index in `certs`.
/// `java_pick` is the certificate Java pairs with the key (see [`java_paired_bag`]): when it is
/// the key's, it is the leaf, so the certificate presented is the one Java would present.
fn matching_certificate(
    key: &PrivateKey,
    java_pick: Option<usize>,
    certs: &[Cert],
    problems: &mut Vec<Finding>,
) -> Option<usize> {
    let verdicts: Vec<KeyMatch> = certs.iter().map(|c| key.matches(&c.spki)).collect();
    if let Some(i) = java_pick.filter(|&i| verdicts[i] != KeyMatch::Differs) {
        return Some(i);
    }
    // Java pairs the key with no certificate or another one (a problem of its own): of the
    // key's certificates (a renewal kept beside the old one), the one valid longest.
    let chosen = (0..certs.len())
        .filter(|&i| verdicts[i] == KeyMatch::Matches)
        .max_by_key(|&i| certs[i].not_after_unix)
        // Key types whose public key cannot be derived here.
        .or_else(|| (0..certs.len()).find(|&i| verdicts[i] == KeyMatch::Unknown));
    if chosen.is_some() {
        return chosen;
    }
    problems.push(Finding::new(
        "key_certificate_mismatch",
        match certs.len() {
            0 => "the file holds no certificate for the private key".to_owned(),
            1 => "the certificate in the file does not have the private key's public key".to_owned(),
            n => format!("none of the {n} certificates in the file has the private key's public key"),
        },
    ));
    None
}

/// How Java's PKCS12 keystore linked a certificate bag to the key bag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JavaLink {
    /// Same `localKeyId` and same `friendlyName`.
    IdAndName,
    /// Same `localKeyId`.
    Id,
    /// Same `friendlyName` (compared ignoring case).
    Name,
    /// Neither bag has a `localKeyId`: the one Java inserts for a single key (see
    /// `pfx::read::JAVA_SINGLE_KEY_ID`).
    Position,
}

/// Rule 3, measured: the certificate bag Java's `PKCS12KeyStore.findMatchedCertificate` pairs
/// with the key bag: the first with the same `localKeyId` and `friendlyName`, else the last with
/// the same `localKeyId`, else the last with the same `friendlyName`. `localKeyId` here is the
/// one Java sees (`BagLink::java_key_id`), including the one it inserts for files without
/// attributes.
fn java_paired_bag(key: &BagLink, bags: &[CertEntry]) -> Option<(usize, JavaLink)> {
    let same_id = |c: &BagLink| key.java_key_id.is_some() && c.java_key_id == key.java_key_id;
    let same_name = |c: &BagLink| match (&key.friendly_name, &c.friendly_name) {
        (Some(a), Some(b)) => lowercase(a) == lowercase(b),
        _ => false,
    };
    let mut by_id = None;
    let mut by_name = None;
    for (i, bag) in bags.iter().enumerate().filter(|(_, bag)| bag.link.java_visible) {
        if same_id(&bag.link) {
            if same_name(&bag.link) {
                return Some((i, JavaLink::IdAndName));
            }
            let inserted = key.local_key_id.is_none() || bag.link.local_key_id.is_none();
            by_id = Some((i, if inserted { JavaLink::Position } else { JavaLink::Id }));
        } else if same_name(&bag.link) {
            by_name = Some((i, JavaLink::Name));
        }
    }
    by_id.or(by_name)
}

/// `text` lower-cased with Unicode's full mapping, as Java's `toLowerCase` does. In
/// WebAssembly the JavaScript engine's `toLowerCase` (the same mapping) does it, so the module
/// does not carry Rust's Unicode case tables (about 6 KiB of the inspector's gzip size).
fn lowercase(text: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        String::from(js_sys::JsString::from(text).to_lower_case())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        text.to_lowercase()
    }
}

/// Rule 3: Java must see the key and pair it with its own certificate. A key in a bag Java
/// skips, or paired with no certificate or with one that is not its own, is unusable from Java
/// (no key entry, "no certificate" from `getCertificate`, or a signature that does not verify).
/// `leaf` is the key's certificate and whether Java sees a bag holding it.
fn check_java_pairing(
    key: &BagLink,
    java_pairing: Option<(usize, JavaLink)>,
    (leaf, leaf_visible): (usize, bool),
    certs: &[Cert],
    problems: &mut Vec<Finding>,
) {
    const NESTED: &str = "nested in a safeContentsBag, which Java's PKCS12 keystore skips";
    let message = match java_pairing {
        _ if !key.java_visible => format!(
            "the private key is {NESTED}, so it finds no key; store the key bag directly in the \
             file's SafeContents"
        ),
        Some((i, _)) if i == leaf => return,
        None if !leaf_visible => format!(
            "the key's certificate is {NESTED}, so it finds no certificate for the key; store the \
             certificate bag directly in the file's SafeContents"
        ),
        Some((i, how)) => format!(
            "Java's PKCS12 keystore pairs the key with the certificate {} ({}), whose public key \
             is not the key's, and would present it; give the key and its own certificate the \
             same localKeyId",
            certs[i].info.subject,
            match how {
                JavaLink::IdAndName => "same localKeyId and friendlyName",
                JavaLink::Id => "same localKeyId",
                JavaLink::Name => "same friendlyName",
                JavaLink::Position => {
                    "without attributes, Java takes the first certificate of each SafeContents \
                     stored after the key, the last of them winning"
                }
            }
        ),
        None if key.local_key_id.is_none() && key.friendly_name.is_none() => {
            "neither the key nor its certificate carries a localKeyId or friendlyName, and the \
             certificate is not the first bag of a SafeContents stored after the key, the one \
             place Java's PKCS12 keystore then looks; it finds no certificate for the key; export \
             with openssl pkcs12 or keytool, which link them"
                .to_owned()
        }
        None => "no certificate carries the key's localKeyId (or friendlyName), so Java's PKCS12 \
                 keystore finds no certificate for the key; export with openssl pkcs12 or \
                 keytool, which link them"
            .to_owned(),
    };
    problems.push(Finding::new("not_java_compliant", message));
}

/// Rule 3: JDK 17 parses an EC key only with a named curve ("Only named ECParameters
/// supported" from `getKey`).
fn check_java_reads_key(key: &PrivateKey, problems: &mut Vec<Finding>) {
    if key.explicit_curve_parameters {
        problems.push(Finding::new(
            "not_java_compliant",
            format!(
                "the EC private key gives its curve{} as explicit parameters instead of naming it; \
                 Java reads only named curves (\"Only named ECParameters supported\"); convert it \
                 with openssl ec -param_enc named_curve",
                key.info.curve.as_deref().map(|c| format!(" ({c})")).unwrap_or_default()
            ),
        ));
    }
}

/// Rule 3: every certificate of the file must parse in Java, or `KeyStore.load` fails on the
/// whole file (reporting a wrong password); JDK 17 refuses compressed EC points and explicit
/// curve parameters in a certificate's public key.
fn check_java_reads_certificate_keys(certs: &[Cert], problems: &mut Vec<Finding>) {
    for (kind, what, java_says, remedy) in [
        (
            JavaUnreadableEcKey::CompressedPoint,
            "EC public key as a compressed point",
            "Invalid EC key",
            "with the point uncompressed (the usual form)",
        ),
        (
            JavaUnreadableEcKey::ExplicitParameters,
            "EC curve as explicit parameters instead of naming it",
            "Only named ECParameters supported",
            "with a named curve",
        ),
    ] {
        let subjects: Vec<&str> = certs
            .iter()
            .filter(|c| c.java_unreadable_ec_key() == Some(kind))
            .map(|c| c.info.subject.as_str())
            .collect();
        let (subject, gives, its, certificate) = match subjects.as_slice() {
            [] => continue,
            [one] => (format!("the certificate {one}"), "gives", "its", "the certificate"),
            many => (format!("the certificates {}", many.join("; ")), "give", "their", "them"),
        };
        problems.push(Finding::new(
            "not_java_compliant",
            format!(
                "{subject} {gives} {its} {what}, which Java cannot parse (\"{java_says}\"), so \
                 its PKCS12 keystore fails to load the file (reporting a wrong password); issue \
                 {certificate} {remedy}"
            ),
        ));
    }
}

/// Orders the other certificates leaf → root by issuer and subject names; warns when the chain
/// does not reach a self-issued certificate or certificates are left over. O(n log n) in the
/// number of certificates (an index sorted by subject), whatever a hostile file holds. (A sorted
/// index rather than a hash map: no hasher and table code in the WebAssembly module.)
fn order_chain(leaf: &Cert, rest: Vec<Cert>, warnings: &mut Vec<Finding>) -> Vec<Cert> {
    // Certificate indexes by subject, and among equal subjects in file order.
    let mut by_subject: Vec<usize> = (0..rest.len()).collect();
    by_subject.sort_unstable_by(|&a, &b| rest[a].subject_der.cmp(&rest[b].subject_der).then(a.cmp(&b)));
    let mut used = vec![false; rest.len()];
    let mut order = Vec::new();
    let mut current = leaf;
    let mut complete = leaf.is_self_issued();
    while !complete {
        let issuer = current.issuer_der.as_slice();
        let first = by_subject.partition_point(|&i| rest[i].subject_der.as_slice() < issuer);
        let next = by_subject[first..]
            .iter()
            .copied()
            .take_while(|&i| rest[i].subject_der == issuer)
            .find(|&i| !used[i]);
        let Some(i) = next else { break };
        used[i] = true;
        order.push(i);
        current = &rest[i];
        complete = current.is_self_issued();
    }
    if !complete {
        warnings.push(Finding::new(
            "chain_incomplete",
            format!(
                "the chain ends at a certificate issued by {} that the file does not hold; servers \
                 that do not know that issuer will refuse the certificate",
                current.info.issuer
            ),
        ));
    }
    let leftovers = used.iter().filter(|u| !**u).count();
    if leftovers > 0 {
        warnings.push(Finding::new(
            "unrelated_certificates",
            if leftovers == 1 {
                "1 certificate in the file is not part of the leaf's chain".to_owned()
            } else {
                format!("{leftovers} certificates in the file are not part of the leaf's chain")
            },
        ));
    }
    let mut slots: Vec<Option<Cert>> = rest.into_iter().map(Some).collect();
    let mut chain: Vec<Cert> = order.iter().filter_map(|&i| slots[i].take()).collect();
    chain.extend(slots.into_iter().flatten());
    chain
}

/// Rule 6: valid at `now`; a warning when it expires within 30 days.
fn check_validity(cert: &Cert, now: i64, problems: &mut Vec<Finding>, warnings: &mut Vec<Finding>) {
    if now < cert.not_before_unix {
        problems.push(Finding::new(
            "not_yet_valid",
            format!("the certificate is valid from {} only", cert.info.not_before),
        ));
    } else if now > cert.not_after_unix {
        problems.push(Finding::new(
            "expired",
            format!("the certificate expired at {}", cert.info.not_after),
        ));
    } else if cert.not_after_unix - now <= EXPIRES_SOON_SECONDS {
        warnings.push(Finding::new(
            "expires_soon",
            format!("the certificate expires at {}, within 30 days", cert.info.not_after),
        ));
    }
}

/// Rule 6: keyUsage, when present, allows digitalSignature (RFC 5280 section 4.2.1.3).
fn check_key_usage(cert: &Cert, problems: &mut Vec<Finding>) {
    if cert.key_usage.as_ref().is_some_and(|key_usage| !key_usage.digital_signature()) {
        problems.push(Finding::new(
            "key_usage",
            format!(
                "keyUsage ({}) does not allow digitalSignature, which TLS client authentication \
                 needs",
                cert.info.key_usage.join(", ")
            ),
        ));
    }
}

/// Rule 6: extendedKeyUsage, when present, includes clientAuth (RFC 5280 section 4.2.1.12).
fn check_extended_key_usage(cert: &Cert, problems: &mut Vec<Finding>) {
    if cert.extended_key_usage.as_ref().is_some_and(|purposes| !purposes.contains(&CLIENT_AUTH)) {
        problems.push(Finding::new(
            "missing_client_auth",
            format!(
                "extendedKeyUsage ({}) does not include clientAuth",
                cert.info.extended_key_usage.join(", ")
            ),
        ));
    }
}

/// Warns on MD5 or SHA-1 signatures of the leaf and intermediates (a root's own signature is
/// never checked by anyone).
fn warn_weak_signatures(leaf: &Cert, chain: &[Cert], warnings: &mut Vec<Finding>) {
    let signed = std::iter::once(leaf).chain(chain.iter().filter(|c| !c.is_self_issued()));
    let weak: Vec<String> = signed
        .filter_map(|c| weak_signature_name(&c.signature_algorithm).map(|n| format!("{} ({n})", c.info.subject)))
        .collect();
    if !weak.is_empty() {
        warnings.push(Finding::new(
            "weak_signature",
            format!("certificates signed with MD5 or SHA-1: {}", weak.join("; ")),
        ));
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod wasm_tests {
    /// The JavaScript engine lower-cases as Rust does, final sigma and multi-character
    /// mappings included.
    #[wasm_bindgen_test::wasm_bindgen_test]
    fn lowercase_from_the_javascript_engine_is_rusts() {
        for text in ["CLIENT", "Client-1", "ÄRGER", "ΟΔΟΣ ΣΑΣ", "İstanbul", "ǅ", "ẞ", "Σ", ""] {
            assert_eq!(super::lowercase(text), text.to_lowercase(), "{text}");
        }
    }
}
