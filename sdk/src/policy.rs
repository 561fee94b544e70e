//! The "usable" rules of SPEC section 2, one function per rule.
//!
//! [`open_p12`] reads the container (`crate::pfx::read`: rules 1, 2, 3 and 7), then applies the
//! rules on keys and certificates (4, 5, 6) to the decoded values. Every rule adds problems or
//! warnings to one report; a file is usable when no rule found a problem.

use std::collections::HashMap;

use zeroize::Zeroizing;

use crate::oids::CLIENT_AUTH;
use crate::pfx::read::{read_pfx, BagLink, CertEntry, KeyEntry, P12Iterations};
use crate::private_key::{KeyKind, KeyMatch, PrivateKey};
use crate::report::{Finding, P12Report};
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

/// Decides whether `p12` opened with `password` is usable (SPEC section 2).
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
pub fn open_p12(
    p12: &[u8],
    password: &str,
    options: &InspectOptions,
) -> (P12Report, Option<P12Contents>) {
    let reading = read_pfx(p12, password, options.max_iterations, options.kdf_budget);
    let mut report = P12Report {
        usable: false,
        problems: reading.problems,
        warnings: reading.warnings,
        certificate: None,
        chain: Vec::new(),
        key: None,
        container: reading.container,
    };
    if !reading.complete {
        return (report, None);
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
    let leaf_and_key = one_private_key(&reading.keys, &mut report.problems).and_then(|entry| {
        let key = match PrivateKey::decode(&entry.pkcs8) {
            Ok(key) => key,
            Err(why) => {
                report.problems.push(Finding::new("invalid_private_key", why.to_string()));
                return None;
            }
        };
        report.key = Some(key.info.clone());
        check_java_reads_key(&key, &mut report.problems);
        check_key_strength(&key, &mut report.problems);
        let java_pairing = java_paired_bag(&entry.link, &reading.certificates)
            .and_then(|(bag, how)| Some((cert_of_bag[bag]?, how)));
        let leaf = matching_certificate(&key, java_pairing.map(|(i, _)| i), &certs, &mut report.problems)?;
        let leaf_visible = reading
            .certificates
            .iter()
            .zip(&cert_of_bag)
            .any(|(bag, cert)| *cert == Some(leaf) && bag.link.java_visible);
        check_java_pairing(&entry.link, java_pairing, (leaf, leaf_visible), &certs, &mut report.problems);
        Some((leaf, entry))
    });
    let Some((leaf_index, key_entry)) = leaf_and_key else {
        return finish(report, None);
    };
    let leaf = certs.swap_remove(leaf_index);
    let chain = order_chain(&leaf, certs, &mut report.warnings);
    check_validity(&leaf, options.now_unix, &mut report.problems, &mut report.warnings);
    check_key_usage(&leaf, &mut report.problems);
    check_extended_key_usage(&leaf, &mut report.problems);
    warn_weak_signatures(&leaf, &chain, &mut report.warnings);
    report.certificate = Some(leaf.info.clone());
    report.chain = chain.iter().map(|c| c.info.clone()).collect();
    let contents = P12Contents {
        private_key_pkcs8: Zeroizing::new(key_entry.pkcs8.to_vec()),
        certificate_chain: std::iter::once(leaf.der).chain(chain.into_iter().map(|c| c.der)).collect(),
    };
    finish(report, Some(contents))
}

fn finish(mut report: P12Report, contents: Option<P12Contents>) -> (P12Report, Option<P12Contents>) {
    report.usable = report.problems.is_empty();
    let contents = if report.usable { contents } else { None };
    (report, contents)
}

/// Rule 4: exactly one private key (the same key stored twice counts once).
fn one_private_key<'a>(keys: &'a [KeyEntry], problems: &mut Vec<Finding>) -> Option<&'a KeyEntry> {
    let mut distinct: Vec<&KeyEntry> = Vec::new();
    for key in keys {
        if !distinct.iter().any(|k| k.pkcs8 == key.pkcs8) {
            distinct.push(key);
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
        [one] => Some(one),
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
        (Some(a), Some(b)) => a.to_lowercase() == b.to_lowercase(),
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
/// does not reach a self-issued certificate or certificates are left over. Linear in the number
/// of certificates (an index by subject), whatever a hostile file holds.
fn order_chain(leaf: &Cert, rest: Vec<Cert>, warnings: &mut Vec<Finding>) -> Vec<Cert> {
    let mut by_subject: HashMap<&[u8], Vec<usize>> = HashMap::new();
    for (i, cert) in rest.iter().enumerate() {
        by_subject.entry(cert.subject_der.as_slice()).or_default().push(i);
    }
    let mut used = vec![false; rest.len()];
    let mut order = Vec::new();
    let mut current = leaf;
    let mut complete = leaf.is_self_issued();
    while !complete {
        let next = by_subject
            .get(current.issuer_der.as_slice())
            .and_then(|candidates| candidates.iter().copied().find(|&i| !used[i]));
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
