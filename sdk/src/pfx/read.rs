//! Opening a PFX: sniffing what the bytes are, the iteration cap, MAC verification, decryption
//! of every bag, and collecting the keys and certificates with the container's facts.
//!
//! Entry points: [`read_pfx`]; [`p12_iterations`] reads only the iteration counts. Every count
//! visible before decryption (the MAC and every encrypted part of the AuthenticatedSafe, and the
//! key bags stored in plain parts; one parse, [`ParsedPfx`], serves both entry points) is checked
//! against the cap before any KDF runs; key bags found inside encrypted parts are checked before
//! their own KDF runs. So a file over the cap costs a parse, never a KDF.

use der::asn1::OctetString;
use der::{Decode, Encode, Tagged};
use zeroize::Zeroizing;

use super::ber::{implicit_octets, normalize_ber};
use super::hash::{bmp_password, Hash, KDF_MAC};
use super::other_keystores;
use super::pfx_types::{ContentInfo, EncryptedData, MacData, Pfx};
use super::safe_bag::{CertBag, EncryptedPrivateKeyInfo, SafeBag};
use super::scheme::{iteration_count, Scheme, SchemeError};
use crate::oids;
use crate::report::{ContainerInfo, EncryptionInfo, Finding};

/// What reading a PFX found. When `problems` holds a fatal problem, `complete` is false and
/// `keys`/`certificates` may be partial.
#[derive(Default)]
pub(crate) struct Reading {
    pub(crate) container: Option<ContainerInfo>,
    pub(crate) problems: Vec<Finding>,
    pub(crate) warnings: Vec<Finding>,
    pub(crate) keys: Vec<KeyEntry>,
    pub(crate) certificates: Vec<CertEntry>,
    pub(crate) complete: bool,
}

/// A decrypted private key.
pub(crate) struct KeyEntry {
    /// PKCS#8 PrivateKeyInfo, DER.
    pub(crate) pkcs8: Zeroizing<Vec<u8>>,
    pub(crate) link: BagLink,
}

/// A certificate from a CertBag.
pub(crate) struct CertEntry {
    pub(crate) der: Vec<u8>,
    pub(crate) link: BagLink,
}

/// The attributes by which a key bag and a certificate bag are paired: the JDK pairs them by
/// `localKeyId`, then by `friendlyName` (its alias).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BagLink {
    pub(crate) local_key_id: Option<Vec<u8>>,
    pub(crate) friendly_name: Option<String>,
    /// The `localKeyId` the JDK's `PKCS12KeyStore` gives the bag while loading: its own, else
    /// [`JAVA_SINGLE_KEY_ID`] for the first pkcs8ShroudedKeyBag of the file and for the first
    /// bag of each SafeContents read after it when that bag is a certificate.
    pub(crate) java_key_id: Option<Vec<u8>>,
    /// False for bags nested in a safeContentsBag, which the JDK's `PKCS12KeyStore` skips.
    pub(crate) java_visible: bool,
}

/// The `localKeyId` the JDK inserts when attributes are missing ("01" in UTF-8): its way to let a
/// file with one key and no attributes pair that key with the end-entity certificate, when the
/// certificates are stored after the key with the end-entity certificate first.
pub(crate) const JAVA_SINGLE_KEY_ID: &[u8] = b"01";

impl BagLink {
    fn of(bag: &SafeBag, java_key_id: Option<Vec<u8>>, depth: usize) -> Self {
        let local_key_id = bag.local_key_id();
        let java_visible = depth == 0;
        Self {
            java_key_id: local_key_id.clone().or(java_key_id).filter(|_| java_visible),
            java_visible,
            local_key_id,
            friendly_name: bag.friendly_name(),
        }
    }
}

/// The KDF iteration counts a PKCS#12 file declares where they can be read without a password:
/// what inspecting it costs before any KDF runs ([`p12_iterations`]).
///
/// Key bags inside an encrypted part (a layout OpenSSL, keytool and Windows do not write) show
/// their counts only after that part is decrypted; they are not here, and
/// [`crate::InspectOptions::kdf_budget`] bounds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct P12Iterations {
    /// The MAC's count; `None` when the file has no MAC.
    pub mac: Option<u64>,
    /// Each shrouded key bag stored in a plain part, in file order.
    pub key_encryption: Vec<u64>,
    /// Each encrypted part of the AuthenticatedSafe (where the certificates usually are), in
    /// file order.
    pub certificate_encryption: Vec<u64>,
}

impl P12Iterations {
    /// The sum of every count (saturating): the iterations inspecting the file spends on the
    /// KDF runs it declares, each run once.
    pub fn total(&self) -> u64 {
        self.mac
            .iter()
            .chain(&self.key_encryption)
            .chain(&self.certificate_encryption)
            .fold(0u64, |sum, count| sum.saturating_add(*count))
    }

    /// The largest count, 0 when there is none.
    pub fn max(&self) -> u64 {
        self.mac
            .iter()
            .chain(&self.key_encryption)
            .chain(&self.certificate_encryption)
            .copied()
            .max()
            .unwrap_or(0)
    }
}

/// Reads the iteration counts `bytes` declares, parsing the container and running no KDF.
///
/// # Errors
/// The problem inspecting the file would report when it does not parse as a PFX (`not_pkcs12`,
/// `unsupported_algorithm`).
pub(crate) fn p12_iterations(bytes: &[u8]) -> Result<P12Iterations, Finding> {
    ParsedPfx::parse(bytes)?.iterations()
}

/// Reads `bytes` as a PFX opened with `password`, refusing iteration counts above `cap` and KDF
/// runs past `kdf_budget` iterations in all.
pub(crate) fn read_pfx(bytes: &[u8], password: &str, cap: u64, kdf_budget: u64) -> Reading {
    let mut reading = Reading::default();
    let mut state = State::new(password, cap, kdf_budget);
    match state.read(bytes, &mut reading) {
        Ok(()) => reading.complete = true,
        Err(problem) => reading.problems.push(problem),
    }
    reading.container = state.container();
    reading
}

/// Nesting limit for SafeContentsBag inside SafeContents.
const MAX_BAG_DEPTH: usize = 8;

struct State {
    /// Candidate BMPString encodings of the password for the PKCS#12 KDF: an empty password is
    /// tried as `00 00` and as zero bytes, as the JDK does (JDK-8202299 RetryWithZero).
    bmp_candidates: Vec<Zeroizing<Vec<u8>>>,
    /// The password bytes for PBKDF1/PBKDF2 (UTF-8, as OpenSSL uses them).
    bytes: Zeroizing<Vec<u8>>,
    /// Whether the password has only printable ASCII, which is all the JDK's PBE keys accept.
    ascii: bool,
    cap: u64,
    /// Iterations all KDF runs of the file may spend together.
    kdf_budget: u64,
    /// Iterations the KDF runs so far were charged.
    spent: u64,
    mac: Option<(String, u64)>,
    encryption: Vec<EncryptionInfo>,
    /// Whether a verified MAC vouches for the password (then decryption errors mean corruption).
    password_verified: bool,
    legacy: Vec<String>,
    /// pkcs8ShroudedKeyBags seen so far, as the JDK counts them while loading.
    shrouded_keys_seen: usize,
}

impl State {
    fn new(password: &str, cap: u64, kdf_budget: u64) -> Self {
        let mut bmp_candidates = vec![bmp_password(password)];
        if password.is_empty() {
            bmp_candidates.push(Zeroizing::new(Vec::new()));
        }
        Self {
            bmp_candidates,
            bytes: Zeroizing::new(password.as_bytes().to_vec()),
            ascii: password.chars().all(|c| (' '..='~').contains(&c)),
            cap,
            kdf_budget,
            spent: 0,
            mac: None,
            encryption: Vec::new(),
            password_verified: false,
            legacy: Vec::new(),
            shrouded_keys_seen: 0,
        }
    }

    fn container(&self) -> Option<ContainerInfo> {
        let (mac_algorithm, mac_iterations) = self.mac.clone()?;
        Some(ContainerInfo { mac_algorithm, mac_iterations, encryption: self.encryption.clone() })
    }

    fn read(&mut self, bytes: &[u8], reading: &mut Reading) -> Result<(), Finding> {
        let parsed = ParsedPfx::parse(bytes)?;
        // Pass 1, no KDF: every visible iteration count against the cap and the budget.
        self.mac = Some(match &parsed.mac_data {
            None => ("none".to_owned(), 0),
            Some(mac) => {
                let oid = mac.mac.digest_algorithm.oid;
                let name = Hash::from_digest_oid(&oid)
                    .map_or_else(|| oid.to_string(), |h| h.name().to_owned());
                (name, mac_iterations(mac))
            }
        });
        let iterations = parsed.iterations()?;
        if let Some(count) = iterations.mac {
            self.check_iterations("the MAC", count)?;
        }
        for count in &iterations.key_encryption {
            self.check_iterations("the key encryption", *count)?;
        }
        for count in &iterations.certificate_encryption {
            self.check_iterations("the certificate encryption", *count)?;
        }
        let visible_total = iterations.total();
        if visible_total > self.kdf_budget {
            return Err(self.over_budget(visible_total));
        }
        let ParsedPfx { mac_data, auth_safe_bytes, parts } = parsed;

        // Pass 2: MAC, then decryption.
        match &mac_data {
            Some(mac) => self.verify_mac(mac, &auth_safe_bytes)?,
            None => reading.warnings.push(Finding::new(
                "no_mac",
                "the file has no MAC, so its integrity cannot be checked",
            )),
        }
        for part in parts {
            let (bags, encrypted_index) = match part {
                Part::Plain(bags) => {
                    if bags.iter().any(|b| b.bag_id == oids::CERT_BAG) {
                        self.encryption.push(EncryptionInfo {
                            bag: "certificates".to_owned(),
                            algorithm: "none".to_owned(),
                            iterations: 0,
                        });
                    }
                    (bags, None)
                }
                Part::Encrypted { scheme, ciphertext } => {
                    self.note_scheme(&scheme, "certificates", reading);
                    let plain = self.decrypt(&scheme, &ciphertext, "certificates")?;
                    let bags: Vec<SafeBag> =
                        decode_ber(&plain).map_err(|_| self.undecryptable(&scheme, "certificates"))?;
                    (bags, Some(self.encryption.len() - 1))
                }
            };
            let keys_before = reading.keys.len();
            self.read_bags(&bags, reading, 0)?;
            if let Some(index) = encrypted_index.filter(|_| reading.keys.len() > keys_before) {
                self.encryption[index].bag = "key".to_owned();
            }
        }
        if !self.ascii {
            reading.problems.push(Finding::new(
                "not_java_compliant",
                "the password has characters other than printable ASCII; Java's PKCS12 keystore \
                 refuses such passwords (\"Password is not ASCII\"); use an ASCII password",
            ));
        }
        if !self.legacy.is_empty() {
            reading.warnings.push(Finding::new(
                "legacy_encryption",
                format!(
                    "legacy protection ({}); prefer PBES2 with AES-256 and an HMAC-SHA256 MAC",
                    self.legacy.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// Charges `count` iterations to the file's KDF budget, before the KDF runs.
    fn spend(&mut self, count: u64) -> Result<(), Finding> {
        let needed = self.spent.saturating_add(count);
        if needed > self.kdf_budget {
            return Err(self.over_budget(needed));
        }
        self.spent = needed;
        Ok(())
    }

    fn over_budget(&self, needed: u64) -> Finding {
        Finding::new(
            "too_many_iterations",
            format!(
                "the file's key derivations need at least {needed} iterations in all; at most {} \
                 are allowed",
                self.kdf_budget
            ),
        )
    }

    fn check_iterations(&self, what: &str, count: u64) -> Result<(), Finding> {
        if count == 0 {
            return Err(not_pkcs12(&format!("iteration count of {what} is not positive")));
        }
        if count > self.cap {
            return Err(Finding::new(
                "too_many_iterations",
                format!(
                    "{what} uses {count} iterations; at most {} are allowed",
                    self.cap
                ),
            ));
        }
        Ok(())
    }

    fn verify_mac(&mut self, mac: &MacData, data: &[u8]) -> Result<(), Finding> {
        let oid = mac.mac.digest_algorithm.oid;
        if oid == oids::PBMAC1 {
            return Err(unsupported("MAC algorithm PBMAC1 (RFC 9579), which Java 17 does not read"));
        }
        let Some(hash) = Hash::from_digest_oid(&oid) else {
            return Err(unsupported(&format!("MAC digest algorithm {oid}")));
        };
        if hash == Hash::Md5 {
            // Measured: JDK 17 fails with "Algorithm HmacPBEMD5 not available".
            return Err(Finding::new(
                "not_java_compliant",
                "the MAC uses HMAC-MD5, which Java's PKCS12 keystore does not read",
            ));
        }
        if hash == Hash::Sha1 {
            self.legacy.push("HMAC-SHA1 MAC".to_owned());
        }
        let iterations = mac_iterations(mac);
        self.spend(iterations)?;
        let salt = mac.mac_salt.as_bytes();
        let expected = mac.mac.digest.as_bytes();
        let position = self.bmp_candidates.iter().position(|password| {
            let key = hash.pkcs12_kdf(password, salt, KDF_MAC, iterations, hash.output_len());
            hash.hmac_verify(&key, data, expected)
        });
        match position {
            Some(index) => {
                let chosen = self.bmp_candidates.swap_remove(index);
                self.bmp_candidates = vec![chosen];
                self.password_verified = true;
                Ok(())
            }
            None => Err(wrong_password()),
        }
    }

    /// Notes how `bag` ("key" or "certificates") is encrypted, and a problem when Java does not
    /// read that scheme.
    fn note_scheme(&mut self, scheme: &Scheme, bag: &str, reading: &mut Reading) {
        let name = scheme.name();
        if !scheme.java_reads() {
            let what = match scheme.salt_java_refuses() {
                Some(length) => format!(
                    "{name} with a {length}-byte salt, which Java's PKCS12 keystore does not read \
                     (\"Salt must be 8 bytes long\")"
                ),
                None => format!("{name}, which Java's PKCS12 keystore does not read"),
            };
            reading.problems.push(Finding::new(
                "not_java_compliant",
                format!(
                    "{} encrypted with {what}; use PBES2 with AES-256-CBC (the OpenSSL 3 default) \
                     or, for old readers, pbeWithSHAAnd3-KeyTripleDES-CBC (openssl pkcs12 \
                     -legacy)",
                    part_subject(bag)
                ),
            ));
        }
        if scheme.is_legacy() && !self.legacy.contains(&name) {
            self.legacy.push(name.clone());
        }
        self.encryption.push(EncryptionInfo {
            bag: bag.to_owned(),
            algorithm: name,
            iterations: scheme.iterations(),
        });
    }

    /// Decrypts `bag` ("key" or "certificates") with the password candidates still open; the
    /// first that works is kept.
    fn decrypt(&mut self, scheme: &Scheme, data: &[u8], bag: &str) -> Result<Zeroizing<Vec<u8>>, Finding> {
        self.spend(scheme.iterations())?;
        for index in 0..self.bmp_candidates.len() {
            let bmp = &self.bmp_candidates[index];
            if let Ok(plain) = scheme.decrypt(bmp, &self.bytes, data) {
                // Without a MAC, a stream cipher "decrypts" with any password: only a parse of
                // the result tells. The callers' parse errors report that as a wrong password.
                if matches!(scheme, Scheme::Pkcs12 { .. }) && self.bmp_candidates.len() > 1 {
                    if normalize_ber(&plain).is_err() {
                        continue;
                    }
                    let chosen = self.bmp_candidates.swap_remove(index);
                    self.bmp_candidates = vec![chosen];
                }
                return Ok(plain);
            }
        }
        Err(self.undecryptable(scheme, bag))
    }

    /// The problem for `bag` ("key" or "certificates") when it does not decrypt or parse after
    /// decryption. Without a verified MAC the password is the likely cause. With one, the file
    /// is a well-formed PFX whose writer derived the key differently (NSS does for PBES1) or
    /// whose bytes are damaged; the JDK fails on it as well.
    fn undecryptable(&self, scheme: &Scheme, bag: &str) -> Finding {
        if !self.password_verified {
            return wrong_password();
        }
        let (subject, verb, pronoun) =
            if bag == "key" { ("the key", "does", "it") } else { ("the certificates", "do", "them") };
        Finding::new(
            "not_java_compliant",
            format!(
                "{subject}, encrypted with {}, {verb} not decrypt with the password although the \
                 MAC verifies it (the writer derived the encryption key differently, or the file \
                 is damaged); Java's PKCS12 keystore cannot read {pronoun} either",
                scheme.name()
            ),
        )
    }

    fn read_bags(&mut self, bags: &[SafeBag], reading: &mut Reading, depth: usize) -> Result<(), Finding> {
        if depth > MAX_BAG_DEPTH {
            return Err(not_pkcs12("SafeContents nested too deeply"));
        }
        for (index, bag) in bags.iter().enumerate() {
            match bag.bag_id {
                oids::PKCS8_SHROUDED_KEY_BAG => {
                    if depth == 0 {
                        self.shrouded_keys_seen += 1;
                    }
                    let single_key_id = (self.shrouded_keys_seen == 1).then(|| JAVA_SINGLE_KEY_ID.to_vec());
                    let (scheme, ciphertext) = shrouded_key(bag)?;
                    self.check_iterations("the key encryption", scheme.iterations())?;
                    self.note_scheme(&scheme, "key", reading);
                    let plain = self.decrypt(&scheme, &ciphertext, "key")?;
                    let pkcs8 = normalize_ber(&plain).map_err(|_| self.undecryptable(&scheme, "key"))?;
                    reading.keys.push(KeyEntry {
                        pkcs8: Zeroizing::new(pkcs8),
                        link: BagLink::of(bag, single_key_id, depth),
                    });
                }
                oids::KEY_BAG => {
                    reading.problems.push(Finding::new(
                        "not_java_compliant",
                        "the private key is stored unencrypted (keyBag), which Java's PKCS12 \
                         keystore ignores; encrypt the key (for example openssl pkcs12 without \
                         -keypbe NONE)",
                    ));
                    let pkcs8 = normalize_ber(&bag.bag_value.to_der().map_err(der_problem)?)
                        .map_err(|_| not_pkcs12("malformed keyBag"))?;
                    reading.keys.push(KeyEntry {
                        pkcs8: Zeroizing::new(pkcs8),
                        link: BagLink::of(bag, None, depth),
                    });
                }
                oids::CERT_BAG => {
                    let cert_bag: CertBag = decode_any(&bag.bag_value)
                        .map_err(|e| not_pkcs12(&format!("malformed CertBag ({e})")))?;
                    if cert_bag.cert_id != oids::X509_CERTIFICATE {
                        reading.warnings.push(Finding::new(
                            "ignored_certificate",
                            format!("a certificate of type {} was ignored", cert_bag.cert_id),
                        ));
                        continue;
                    }
                    let der: OctetString = decode_any(&cert_bag.cert_value)
                        .map_err(|e| not_pkcs12(&format!("malformed x509Certificate ({e})")))?;
                    let single_key_id = (self.shrouded_keys_seen == 1 && index == 0)
                        .then(|| JAVA_SINGLE_KEY_ID.to_vec());
                    reading.certificates.push(CertEntry {
                        der: der.as_bytes().to_vec(),
                        link: BagLink::of(bag, single_key_id, depth),
                    });
                }
                oids::SAFE_CONTENTS_BAG => {
                    let nested: Vec<SafeBag> = decode_any(&bag.bag_value)
                        .map_err(|e| not_pkcs12(&format!("malformed SafeContentsBag ({e})")))?;
                    self.read_bags(&nested, reading, depth + 1)?;
                }
                // CRL, secret and other bags carry nothing the rules look at.
                _ => {}
            }
        }
        Ok(())
    }
}

/// A PFX parsed down to its parts, before any KDF: what both reading and counting iterations
/// start from.
struct ParsedPfx {
    mac_data: Option<MacData>,
    auth_safe_bytes: Vec<u8>,
    parts: Vec<Part>,
}

impl ParsedPfx {
    fn parse(bytes: &[u8]) -> Result<Self, Finding> {
        sniff(bytes)?;
        let pfx: Pfx = decode_ber(bytes).map_err(|e| {
            if other_keystores::is_bcfks(bytes) {
                not_pkcs12(
                    "the file is a BouncyCastle FIPS keystore (BCFKS), not PKCS#12; convert it \
                     with keytool -importkeystore -deststoretype PKCS12 (with the BouncyCastle \
                     FIPS provider)",
                )
            } else {
                not_pkcs12(&format!("not a PKCS#12 PFX ({e})"))
            }
        })?;
        if iteration_count(&pfx.version) != 3 {
            return Err(not_pkcs12("PFX version is not 3"));
        }
        let auth_safe_bytes = match pfx.auth_safe.content_type {
            oids::DATA => data_octets(&pfx.auth_safe)?,
            oids::SIGNED_DATA => {
                return Err(unsupported("public-key integrity mode (signedData authSafe)"));
            }
            other => return Err(not_pkcs12(&format!("authSafe of content type {other}"))),
        };
        let auth_safe: Vec<ContentInfo> = decode_ber(&auth_safe_bytes)
            .map_err(|e| not_pkcs12(&format!("malformed AuthenticatedSafe ({e})")))?;
        let parts = auth_safe.iter().map(Part::parse).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { mac_data: pfx.mac_data, auth_safe_bytes, parts })
    }

    /// The counts visible without decrypting.
    fn iterations(&self) -> Result<P12Iterations, Finding> {
        let mut iterations =
            P12Iterations { mac: self.mac_data.as_ref().map(mac_iterations), ..P12Iterations::default() };
        for part in &self.parts {
            match part {
                Part::Plain(bags) => {
                    for bag in bags.iter().filter(|b| b.bag_id == oids::PKCS8_SHROUDED_KEY_BAG) {
                        iterations.key_encryption.push(shrouded_key(bag)?.0.iterations());
                    }
                }
                Part::Encrypted { scheme, .. } => {
                    iterations.certificate_encryption.push(scheme.iterations());
                }
            }
        }
        Ok(iterations)
    }
}

/// The MAC's iteration count (RFC 7292 section 4: `iterations INTEGER DEFAULT 1`).
fn mac_iterations(mac: &MacData) -> u64 {
    mac.iterations.as_ref().map_or(1, iteration_count)
}

/// One ContentInfo of the AuthenticatedSafe, parsed without decrypting.
enum Part {
    Plain(Vec<SafeBag>),
    Encrypted { scheme: Scheme, ciphertext: Vec<u8> },
}

impl Part {
    fn parse(content: &ContentInfo) -> Result<Self, Finding> {
        match content.content_type {
            oids::DATA => {
                let bytes = data_octets(content)?;
                let bags = decode_ber(&bytes)
                    .map_err(|e| not_pkcs12(&format!("malformed SafeContents ({e})")))?;
                Ok(Self::Plain(bags))
            }
            oids::ENCRYPTED_DATA => {
                let any = content.content.as_ref().ok_or_else(|| not_pkcs12("empty encryptedData"))?;
                let data: EncryptedData = decode_any(any)
                    .map_err(|e| not_pkcs12(&format!("malformed encryptedData ({e})")))?;
                let info = data.encrypted_content_info;
                let scheme = Scheme::parse(&info.content_encryption_algorithm).map_err(scheme_problem)?;
                let ciphertext = match &info.encrypted_content {
                    Some(any) if any.tag().is_context_specific() => implicit_octets(any)
                        .map_err(|_| not_pkcs12("malformed encryptedContent"))?,
                    _ => return Err(not_pkcs12("encryptedData without encryptedContent")),
                };
                Ok(Self::Encrypted { scheme, ciphertext })
            }
            oids::ENVELOPED_DATA => Err(unsupported("public-key privacy mode (envelopedData)")),
            other => Err(not_pkcs12(&format!("AuthenticatedSafe part of content type {other}"))),
        }
    }
}

fn shrouded_key(bag: &SafeBag) -> Result<(Scheme, Vec<u8>), Finding> {
    let info: EncryptedPrivateKeyInfo = decode_any(&bag.bag_value).map_err(|e| {
        if decode_any::<pkcs8::PrivateKeyInfoOwned>(&bag.bag_value).is_ok() {
            // GnuTLS certtool --pkcs-cipher none writes this; the JDK fails with "Private key
            // not stored as PKCS#8 EncryptedPrivateKeyInfo", OpenSSL fails as well.
            Finding::new(
                "not_java_compliant",
                "the private key is stored as a plain PrivateKeyInfo in a bag for encrypted keys \
                 (pkcs8ShroudedKeyBag), which Java's PKCS12 keystore cannot read (\"Private key \
                 not stored as PKCS#8 EncryptedPrivateKeyInfo\"); export the key encrypted",
            )
        } else {
            not_pkcs12(&format!("malformed pkcs8ShroudedKeyBag ({e})"))
        }
    })?;
    let scheme = Scheme::parse(&info.encryption_algorithm).map_err(scheme_problem)?;
    Ok((scheme, info.encrypted_data.as_bytes().to_vec()))
}

/// Decodes a typed value from BER or DER bytes: the one place BER is turned into DER first.
///
/// # Errors
/// A lower-case description of what is wrong with the encoding.
pub(crate) fn decode_ber<T>(bytes: &[u8]) -> Result<T, String>
where
    T: for<'a> Decode<'a, Error = der::Error>,
{
    use super::ber::BerError;
    let der_bytes = normalize_ber(bytes).map_err(|e| {
        match e {
            BerError::Truncated => "the data is truncated",
            BerError::Malformed => "malformed ASN.1",
            BerError::TooDeep => "ASN.1 nested too deeply",
            BerError::TrailingData => "bytes follow the end of the structure",
        }
        .to_owned()
    })?;
    T::from_der(&der_bytes).map_err(|e| e.to_string())
}

fn decode_any<T>(any: &der::Any) -> Result<T, der::Error>
where
    T: for<'a> Decode<'a, Error = der::Error>,
{
    T::from_der(&any.to_der()?)
}

/// The octets of a `data` ContentInfo (an OCTET STRING, chunked or not).
fn data_octets(content: &ContentInfo) -> Result<Vec<u8>, Finding> {
    let any = content.content.as_ref().ok_or_else(|| not_pkcs12("data ContentInfo without content"))?;
    let octets: OctetString =
        decode_any(any).map_err(|e| not_pkcs12(&format!("data content is not an OCTET STRING ({e})")))?;
    Ok(octets.as_bytes().to_vec())
}

/// Refuses, with a description, what is recognisably not a PFX.
fn sniff(bytes: &[u8]) -> Result<(), Finding> {
    let what = if bytes.is_empty() {
        "empty"
    } else if bytes.starts_with(&[0xfe, 0xed, 0xfe, 0xed]) {
        "a Java KeyStore (JKS); convert it with keytool -importkeystore -deststoretype PKCS12"
    } else if bytes.starts_with(&[0xce, 0xce, 0xce, 0xce]) {
        "a Java JCEKS keystore; convert it with keytool -importkeystore -deststoretype PKCS12"
    } else if other_keystores::is_bks(bytes) {
        "a BouncyCastle keystore (BKS or UBER); convert it with keytool -importkeystore \
         -deststoretype PKCS12 (with the BouncyCastle provider)"
    } else if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        return Err(not_pkcs12(&pem_description(bytes)));
    } else if bytes.starts_with(b"MII") || bytes.starts_with(b"MIA") {
        "base64 text; decode it to binary first"
    } else if bytes.starts_with(b"PK\x03\x04") {
        "a ZIP archive"
    } else if bytes[0] != 0x30 {
        "neither DER nor BER (it does not start with a SEQUENCE)"
    } else {
        return Ok(());
    };
    Err(not_pkcs12(&format!("the file is {what}")))
}

fn pem_description(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    let label = text
        .trim_start()
        .strip_prefix("-----BEGIN ")
        // The label ends at the first "-----" (a byte search: `str::split_once` with a string
        // pattern brings the Two-Way searcher into the WebAssembly module for this one line).
        .and_then(|rest| {
            let end = rest.as_bytes().windows(5).position(|window| window == b"-----")?;
            rest.get(..end)
        })
        .unwrap_or("");
    format!(
        "the file is PEM text ({label}), not a binary PKCS#12; build a P12 with openssl pkcs12 \
         -export"
    )
}

/// The subject of a sentence about an encrypted part: "the key is" or "the certificates are".
fn part_subject(bag: &str) -> String {
    if bag == "key" { "the key is".to_owned() } else { format!("the {bag} are") }
}

fn not_pkcs12(message: &str) -> Finding {
    Finding::new("not_pkcs12", message)
}

fn unsupported(what: &str) -> Finding {
    Finding::new("unsupported_algorithm", format!("{what} is not supported"))
}

fn wrong_password() -> Finding {
    Finding::new("wrong_password", "the password does not open the file (MAC or decryption fails)")
}

fn der_problem(err: der::Error) -> Finding {
    not_pkcs12(&format!("malformed PKCS#12 ({err})"))
}

fn scheme_problem(err: SchemeError) -> Finding {
    match err {
        SchemeError::Unsupported(name) => Finding::new(
            "unsupported_algorithm",
            format!("{name} is not supported (neither here nor by Java's PKCS12 keystore)"),
        ),
        SchemeError::Malformed(why) => not_pkcs12(&format!("malformed encryption parameters ({why})")),
    }
}
