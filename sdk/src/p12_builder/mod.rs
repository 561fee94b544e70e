//! Writing PKCS#12 files (RFC 7292) from a private key and its certificate chain in PEM
//! (SPEC section 10, `buildP12`).
//!
//! Layout, as OpenSSL and the JDK write it so both read it back as one key entry:
//! ```text
//! PFX v3, MAC (HMAC keyed by the PKCS#12 KDF) over
//!   AuthenticatedSafe
//!     EncryptedData: SafeContents of CertBags, leaf first, then the chain up to the root
//!     Data:          SafeContents of one pkcs8ShroudedKeyBag
//! ```
//! The key bag and the leaf's cert bag carry friendlyName (the JDK's alias) and localKeyId
//! (SHA-1 of the leaf certificate, OpenSSL's choice) so readers pair them. See
//! `encryption` for the two profiles. Salts and IVs come from the system random generator.
//! The ASN.1 types and OIDs are the reader's (`crate::pfx::{pfx_types, safe_bag, pbe_params}`,
//! `crate::oids`), so what is written is what is read.
//!
//! Entry point: [`build_p12`].

mod chain;
mod encryption;
mod error;
#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use der::Encode;
use der::asn1::{Any, BmpString, OctetString, SetOfVec};
use sha1::Digest;
use x509_cert::attr::Attribute;

pub use error::P12BuildError;

use self::encryption::{EncryptionError, Password};
use crate::oids::{
    CERT_BAG, DATA, ENCRYPTED_DATA, FRIENDLY_NAME, LOCAL_KEY_ID, PKCS8_SHROUDED_KEY_BAG,
    X509_CERTIFICATE,
};
use crate::pfx::hash::bmp_password;
use crate::pfx::pfx_types::{
    AuthenticatedSafe, ContentInfo, EncryptedContentInfo, EncryptedData, Pfx, integer,
};
use crate::pfx::safe_bag::{CertBag, EncryptedPrivateKeyInfo, SafeBag, SafeContents};
use crate::private_key::{
    HostKeyError, KeyDerivation, KeyMatch, PrivateKey, SigningKey, signing_key_pkcs8_from_pem,
};
use spki::SubjectPublicKeyInfoOwned;
use crate::report::KeyInfo;
use crate::PublicKeyDerivation;
use zeroize::Zeroizing;

/// How the P12 is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
// In JS a profile is its `name()`; the test of `crate::typescript` checks the two agree.
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "lowercase"))]
pub enum P12Profile {
    /// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for key and certificates, HMAC-SHA256 MAC:
    /// OpenSSL 3's default; read by JDK 12+, 11.0.12+ and 8u301+.
    #[default]
    Modern,
    /// pbeWithSHAAnd3-KeyTripleDES-CBC for key and certificates, HMAC-SHA1 MAC: for older Java 8
    /// runtimes; OpenSSL 3 reads it without `-legacy`.
    Legacy,
}

/// What the P12 builder packs into a PKCS#12 file.
#[derive(Clone, Copy, Default)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "BuildP12Request", rename_all = "camelCase"))]
pub struct P12BuildRequest<'a> {
    /// The private key: PKCS#8, encrypted PKCS#8, PKCS#1 RSA or SEC1 EC, as PEM.
    pub private_key_pem: &'a str,
    /// The passphrase of an encrypted private key.
    #[cfg_attr(test, ts(optional))]
    pub private_key_passphrase: Option<&'a str>,
    /// The leaf certificate and its chain as PEM, in any order.
    pub certificate_pem: &'a str,
    /// The password of the P12: non-empty printable ASCII, the only passwords the JDK opens.
    pub password: &'a str,
    /// How the P12 is protected: `modern` unless set.
    #[cfg_attr(test, ts(as = "Option<P12Profile>", optional))]
    pub profile: P12Profile,
    /// The friendly name (the JDK's alias); defaults to the leaf's common name, else `client`.
    #[cfg_attr(test, ts(optional))]
    pub friendly_name: Option<&'a str>,
}

/// Iterations of PBKDF2, the PKCS#12 KDF and the MAC: the JDK 16+ default, well under the
/// 1,000,000 cap of SPEC section 2 rule 7.
pub const P12_ITERATIONS: u32 = 10_000;

/// The longest friendly name accepted, in characters.
const MAX_FRIENDLY_NAME_CHARS: usize = 128;

/// Builds a PKCS#12 file from a private key and its certificate chain.
///
/// # Errors
/// [`P12BuildError`] when the key or a certificate cannot be read, no certificate matches the
/// key (`key_certificate_mismatch`), the password or friendly name is unusable, or the random
/// generator fails.
#[cfg(feature = "key-arithmetic")]
pub fn build_p12(request: &P12BuildRequest<'_>) -> Result<Vec<u8>, crate::Error> {
    match start_p12_build(request, PublicKeyDerivation::Local)? {
        P12Build::Done(p12) => Ok(p12),
        // Local derivation leaves nothing to the caller.
        P12Build::NeedsPublicKey(_) => {
            Err(P12BuildError::Internal { stage: "deriving the public key" }.into())
        }
    }
}

/// The first step of building a P12 where the caller may derive public keys: the file, or the
/// private key whose public key the caller must derive (an EC or Ed25519 key with
/// [`PublicKeyDerivation::Host`]) to match it with its certificate.
#[allow(clippy::large_enum_variant, reason = "one value per build, returned by value")]
pub enum P12Build {
    /// The PKCS#12 file.
    Done(Vec<u8>),
    /// The key needs its public key derived by the caller; see [`PendingP12Build`].
    NeedsPublicKey(PendingP12Build),
}

/// A P12 build waiting for the public key of its private key.
pub struct PendingP12Build {
    key: PrivateKey,
    pkcs8: Zeroizing<Vec<u8>>,
    certificate_pem: String,
    password: Zeroizing<String>,
    profile: P12Profile,
    friendly_name: Option<String>,
}

/// Builds a PKCS#12 file like [`build_p12`], deriving the key's public key as `derivation`
/// says: with [`PublicKeyDerivation::Host`] an EC or Ed25519 key stops the build with
/// [`P12Build::NeedsPublicKey`].
///
/// # Errors
/// As [`build_p12`], for what can be checked before the key is matched.
pub fn start_p12_build(
    request: &P12BuildRequest<'_>,
    derivation: PublicKeyDerivation,
) -> Result<P12Build, crate::Error> {
    check_password(request.password)?;
    let parts = Parts {
        certificate_pem: request.certificate_pem,
        password: request.password,
        profile: request.profile,
        friendly_name: request.friendly_name,
    };
    if derivation == PublicKeyDerivation::Local {
        let signing_key =
            SigningKey::from_pem(request.private_key_pem, request.private_key_passphrase)
                .map_err(P12BuildError::Key)?;
        let is_key_of = |spki: &SubjectPublicKeyInfoOwned| signing_key.matches(spki);
        return Ok(P12Build::Done(assemble(&is_key_of, signing_key.pkcs8_der(), &parts)?));
    }
    // Read as `SigningKey::from_pem` reads it, with the same errors, but decoded without key
    // arithmetic.
    let read = signing_key_pkcs8_from_pem(request.private_key_pem, request.private_key_passphrase)
        .map_err(P12BuildError::Key)?;
    let pkcs8 = read.der;
    let key = PrivateKey::decode_deriving(&pkcs8, KeyDerivation::Host)
        .map_err(|_| P12BuildError::Key(read.invalid))?;
    if key.host_request().is_some() {
        return Ok(P12Build::NeedsPublicKey(PendingP12Build {
            key,
            pkcs8,
            certificate_pem: request.certificate_pem.to_owned(),
            password: Zeroizing::new(request.password.to_owned()),
            profile: request.profile,
            friendly_name: request.friendly_name.map(str::to_owned),
        }));
    }
    let is_key_of = |spki: &SubjectPublicKeyInfoOwned| key.matches(spki) == KeyMatch::Matches;
    Ok(P12Build::Done(assemble(&is_key_of, &pkcs8, &parts)?))
}

impl PendingP12Build {
    /// The private key to derive the public key of, PKCS#8 DER (see
    /// [`crate::PendingP12Inspection::private_key_pkcs8`]).
    pub fn private_key_pkcs8(&self) -> &[u8] {
        self.key.host_request().unwrap_or_default()
    }

    /// Type and size of the private key (`EC` with its curve, or `Ed25519`).
    pub fn key(&self) -> &KeyInfo {
        &self.key.info
    }

    /// Finishes the build with the public key of [`Self::private_key_pkcs8`]: for EC the
    /// uncompressed SEC1 point, for Ed25519 its 32 bytes.
    ///
    /// # Errors
    /// As [`build_p12`]; `invalid_private_key` when the key carried another public key,
    /// `internal_error` when `public_key` is not one of the key's type and curve.
    pub fn finish(&mut self, public_key: &[u8]) -> Result<Vec<u8>, crate::Error> {
        let curve = self.key.info.curve.clone();
        match self.key.accept_host_public_key(public_key) {
            Ok(()) => {}
            Err(HostKeyError::Inconsistent(_)) => {
                return Err(P12BuildError::Key(invalid_key(curve.as_deref())).into());
            }
            Err(HostKeyError::NotAPublicKey) => {
                return Err(P12BuildError::Internal { stage: "taking the derived public key" }.into());
            }
        }
        let parts = Parts {
            certificate_pem: &self.certificate_pem,
            password: &self.password,
            profile: self.profile,
            friendly_name: self.friendly_name.as_deref(),
        };
        let key = &self.key;
        let is_key_of = |spki: &SubjectPublicKeyInfoOwned| key.matches(spki) == KeyMatch::Matches;
        Ok(assemble(&is_key_of, &self.pkcs8, &parts)?)
    }
}

/// The key reader's error for a key that does not decode (`invalid_private_key`), naming its
/// curve when known as the reader does.
fn invalid_key(curve: Option<&str>) -> crate::PrivateKeyError {
    crate::PrivateKeyError::Malformed {
        label: "PRIVATE KEY".to_owned(),
        reason: match curve {
            Some("P-256") => "invalid P-256 private key",
            Some("P-384") => "invalid P-384 private key",
            Some("P-521") => "invalid P-521 private key",
            _ => "invalid Ed25519 private key",
        },
    }
}

/// What goes into the file besides the key.
struct Parts<'a> {
    certificate_pem: &'a str,
    password: &'a str,
    profile: P12Profile,
    friendly_name: Option<&'a str>,
}

/// The password rules: non-empty printable ASCII.
fn check_password(password: &str) -> Result<(), P12BuildError> {
    if password.is_empty() {
        return Err(P12BuildError::InvalidPassword {
            problem: "is empty",
        });
    }
    // The JDK's PBEKey refuses any password character outside U+0020..U+007E ("Password is not
    // ASCII", JDK 17 com.sun.crypto.provider.PBEKey), so such a file would not be usable (SPEC
    // section 2 rule 3) even though OpenSSL reads it.
    if !password
        .bytes()
        .all(|byte| (0x20..=0x7e).contains(&byte))
    {
        return Err(P12BuildError::InvalidPassword {
            problem: "has characters other than printable ASCII, which the JDK cannot use to open \
                      a PKCS#12 file",
        });
    }
    Ok(())
}

/// The PKCS#12 file of the key `key_der` (PKCS#8 DER; `is_key_of` tells its certificate) and
/// `parts`.
fn assemble(
    is_key_of: &dyn Fn(&SubjectPublicKeyInfoOwned) -> bool,
    key_der: &[u8],
    parts: &Parts<'_>,
) -> Result<Vec<u8>, P12BuildError> {
    let password_bmp = bmp_password(parts.password);
    let password = Password {
        utf8: parts.password,
        bmp: &password_bmp,
    };
    let chain = chain::ordered_chain(parts.certificate_pem, is_key_of)?;
    let leaf = chain.first().ok_or(P12BuildError::Internal {
        stage: "ordering the chain",
    })?;
    let friendly_name = friendly_name(parts.friendly_name, leaf)?;
    let local_key_id = sha1::Sha1::digest(&leaf.der);
    let leaf_attributes = bag_attributes(&friendly_name, &local_key_id)
        .and_then(|attributes| Any::encode_from(&attributes))
        .map_err(internal("encoding attributes"))?;

    // Certificates: one SafeContents, encrypted as a whole.
    let mut cert_bags: SafeContents = Vec::with_capacity(chain.len());
    for (index, certificate) in chain.iter().enumerate() {
        let cert_bag = CertBag {
            cert_id: X509_CERTIFICATE,
            cert_value: OctetString::new(certificate.der.clone())
                .and_then(|octets| Any::encode_from(&octets))
                .map_err(internal("encoding a certificate"))?,
        };
        cert_bags.push(SafeBag {
            bag_id: CERT_BAG,
            bag_value: Any::encode_from(&cert_bag).map_err(internal("encoding a certificate"))?,
            bag_attributes: (index == 0).then(|| leaf_attributes.clone()),
        });
    }
    let cert_contents = cert_bags
        .to_der()
        .map_err(internal("encoding the certificates"))?;
    let (algorithm, ciphertext) =
        encryption::encrypt(parts.profile, &password, P12_ITERATIONS, &cert_contents)
            .map_err(from_encryption)?;
    let encrypted_certificates = EncryptedData {
        version: integer(0).map_err(internal("encoding"))?,
        encrypted_content_info: EncryptedContentInfo {
            content_type: DATA,
            content_encryption_algorithm: algorithm,
            encrypted_content: Some(
                EncryptedContentInfo::encrypted_content(ciphertext).map_err(internal("encoding"))?,
            ),
        },
    };

    // The key: a shrouded key bag in a plain Data SafeContents (the bag itself is encrypted).
    let (algorithm, ciphertext) =
        encryption::encrypt(parts.profile, &password, P12_ITERATIONS, key_der)
            .map_err(from_encryption)?;
    let shrouded_key = EncryptedPrivateKeyInfo {
        encryption_algorithm: algorithm,
        encrypted_data: OctetString::new(ciphertext).map_err(internal("encoding the key"))?,
    };
    let key_contents: SafeContents = vec![SafeBag {
        bag_id: PKCS8_SHROUDED_KEY_BAG,
        bag_value: Any::encode_from(&shrouded_key).map_err(internal("encoding the key"))?,
        bag_attributes: Some(leaf_attributes),
    }];
    let key_contents = key_contents
        .to_der()
        .map_err(internal("encoding the key"))?;

    let auth_safe: AuthenticatedSafe = vec![
        ContentInfo::new(ENCRYPTED_DATA, &encrypted_certificates).map_err(internal("encoding"))?,
        ContentInfo::data(key_contents).map_err(internal("encoding the key"))?,
    ];
    let auth_safe = auth_safe
        .to_der()
        .map_err(internal("encoding the authenticated safe"))?;
    let mac_data = encryption::mac_data(parts.profile, &password_bmp, P12_ITERATIONS, &auth_safe)
        .map_err(from_encryption)?;
    let pfx = Pfx {
        version: integer(3).map_err(internal("encoding"))?,
        auth_safe: ContentInfo::data(auth_safe).map_err(internal("encoding"))?,
        mac_data: Some(mac_data),
    };
    pfx.to_der().map_err(internal("encoding the PFX"))
}

/// Maps any error to [`P12BuildError::Internal`] at `stage`: encoders fail only on a bug.
fn internal<E>(stage: &'static str) -> impl FnOnce(E) -> P12BuildError {
    move |_| P12BuildError::Internal { stage }
}

/// friendlyName (BMPString) and localKeyId (OCTET STRING), one value each.
fn bag_attributes(friendly_name: &str, local_key_id: &[u8]) -> der::Result<SetOfVec<Attribute>> {
    let mut attributes = SetOfVec::new();
    let attribute = |oid, value: Any| -> der::Result<Attribute> {
        Ok(Attribute {
            oid,
            values: SetOfVec::try_from(vec![value])?,
        })
    };
    attributes.insert(attribute(
        FRIENDLY_NAME,
        Any::encode_from(&BmpString::from_utf8(friendly_name)?)?,
    )?)?;
    attributes.insert(attribute(
        LOCAL_KEY_ID,
        Any::encode_from(&OctetString::new(local_key_id)?)?,
    )?)?;
    Ok(attributes)
}

/// The requested friendly name, trimmed, or the leaf's common name, or `client`.
fn friendly_name(
    requested: Option<&str>,
    leaf: &chain::ChainCertificate,
) -> Result<String, P12BuildError> {
    if let Some(name) = requested.map(str::trim).filter(|name| !name.is_empty()) {
        if name.chars().any(char::is_control) {
            return Err(P12BuildError::InvalidFriendlyName {
                problem: "contains a control character",
            });
        }
        if name.chars().count() > MAX_FRIENDLY_NAME_CHARS {
            return Err(P12BuildError::InvalidFriendlyName {
                problem: "is longer than 128 characters",
            });
        }
        if name.chars().any(|c| u32::from(c) > 0xFFFF) {
            return Err(P12BuildError::InvalidFriendlyName {
                problem: "has a character outside the Basic Multilingual Plane",
            });
        }
        return Ok(name.to_owned());
    }
    let common_name = leaf
        .certificate
        .tbs_certificate()
        .subject()
        .common_name()
        .ok()
        .flatten()
        .map(String::from)
        .filter(|name| {
            !name.is_empty()
                && name.chars().count() <= MAX_FRIENDLY_NAME_CHARS
                && name
                    .chars()
                    .all(|c| !c.is_control() && u32::from(c) <= 0xFFFF)
        });
    Ok(common_name.unwrap_or_else(|| "client".to_owned()))
}

fn from_encryption(error: EncryptionError) -> P12BuildError {
    match error {
        EncryptionError::Random => P12BuildError::Random,
        EncryptionError::Internal => P12BuildError::Internal {
            stage: "encrypting",
        },
    }
}

// === impl P12Profile ===

impl P12Profile {
    /// `modern` or `legacy`, as the JS API names them.
    pub fn name(self) -> &'static str {
        match self {
            Self::Modern => "modern",
            Self::Legacy => "legacy",
        }
    }
}

impl fmt::Display for P12Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for P12Profile {
    type Err = P12BuildError;

    fn from_str(value: &str) -> Result<Self, P12BuildError> {
        [Self::Modern, Self::Legacy]
            .into_iter()
            .find(|profile| profile.name().eq_ignore_ascii_case(value.trim()))
            .ok_or_else(|| P12BuildError::UnsupportedProfile {
                profile: value.to_owned(),
            })
    }
}

impl fmt::Debug for P12BuildRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("P12BuildRequest")
            .field("private_key_pem", &"<redacted>")
            .field(
                "private_key_passphrase",
                &self.private_key_passphrase.map(|_| "<redacted>"),
            )
            .field("certificate_pem", &self.certificate_pem.len())
            .field("password", &"<redacted>")
            .field("profile", &self.profile)
            .field("friendly_name", &self.friendly_name)
            .finish()
    }
}
