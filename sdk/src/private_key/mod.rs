//! The one private key decoder of the SDK: a PKCS#8 `PrivateKeyInfo` becomes a [`PrivateKey`]
//! with its type and size, and [`PrivateKey::matches`] says whether a certificate's public key
//! is its own (SPEC section 2, rules 4 and 5). The P12 reader (`crate::policy`) reports on any
//! key it finds; the CSR and P12 builders sign with the keys of [`SigningKey`], which are made
//! by this decoder too.
//!
//! Matching is by public keys, never by names: an RSA key's modulus and exponent, an EC key's
//! point derived from its scalar, an Ed25519 key's public key derived from its seed, each
//! compared with the certificate's. Where the public key must be derived, with the cargo feature
//! `key-arithmetic` (on by default, the server's build) the RustCrypto crates derive it here and
//! also check that an RSA key's primes make its modulus. Without it (the WebAssembly modules,
//! to keep curve and bigint arithmetic out of them) the decoder makes every check but the
//! arithmetic and leaves a host request: the JavaScript host derives the public key (WebCrypto
//! or Node's `crypto`) and gives it back through [`PrivateKey::accept_host_public_key`];
//! comparing, and what the report says, stays here. Without the feature RSA keys are not
//! checked for consistency (that needs bigint arithmetic): their modulus and exponent are
//! compared as the key states them.

mod signing;

use der::asn1::ObjectIdentifier as Oid;
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoOwned;
use zeroize::Zeroizing;

use crate::oids::{
    DH_PUBLIC_NUMBER, DSA, EC_PUBLIC_KEY, ED25519, ED448, RSASSA_PSS, RSA_ENCRYPTION, SECP256K1,
    SECP256R1, SECP384R1, SECP521R1, X25519, X448,
};
use crate::report::KeyInfo;

pub use signing::PrivateKeyError;
pub(crate) use signing::{SigningKey, signing_key_pkcs8_from_pem};

/// Key types and their fitness for TLS client authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa { bits: u32 },
    Ec { curve: Oid },
    Ed25519,
    /// Anything else (DSA, Ed448, RSA-PSS-only keys, ...), with its algorithm name.
    Other { algorithm: String },
}

/// A decoded private key.
pub(crate) struct PrivateKey {
    /// The key itself, for the types the SDK has arithmetic for (RSA, P-256, P-384, P-521 with
    /// named or explicit curve parameters, Ed25519); `None` for the others and in builds
    /// without `key-arithmetic`.
    material: Option<KeyMaterial>,
    pub(crate) kind: KeyKind,
    pub(crate) info: KeyInfo,
    /// An EC key whose curve is given as explicit parameters instead of a curve OID: valid, but
    /// Java reads only named curves ("Only named ECParameters supported").
    pub(crate) explicit_curve_parameters: bool,
    /// The public key certificates are compared with, once known.
    public: Option<OwnPublicKey>,
    /// The public key the host must derive before certificates can be compared (builds
    /// without `key-arithmetic`).
    host_request: Option<HostKeyRequest>,
    /// For key types without derivation: the algorithm OID and parameters to compare.
    algorithm_der: Vec<u8>,
    algorithm_oid: Oid,
    /// For keys whose PKCS#8 carries its public key (EC of other curves): those bits.
    embedded_public: Option<Vec<u8>>,
}

/// The public key of a private key, in the form certificates are compared with.
#[derive(Clone, PartialEq, Eq)]
enum OwnPublicKey {
    /// Modulus and public exponent, big-endian without leading zeros.
    Rsa { modulus: Vec<u8>, exponent: Vec<u8> },
    /// The uncompressed SEC1 point (`04 || x || y`).
    Ec { point: Vec<u8> },
    /// The 32 bytes of the Ed25519 public key.
    Ed25519 { key: Vec<u8> },
}

/// A private key whose public key only arithmetic gives, handed to the host to derive.
struct HostKeyRequest {
    /// The key as PKCS#8 `PrivateKeyInfo` DER in the form every host imports: an EC key with
    /// its named curve and scalar only, an Ed25519 key as version 1 (seed only).
    pkcs8: Zeroizing<Vec<u8>>,
    /// The public key the PKCS#8 carried (SEC1 point or Ed25519 bytes), which must be the
    /// derived one.
    carried: Option<Vec<u8>>,
}

/// Why the host's answer to a host request could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostKeyError {
    /// What the host gave is not a public key of the private key's type and curve.
    NotAPublicKey,
    /// The public key the private key carried is not the derived one: the private key is
    /// invalid (the report's `invalid_private_key`, as in builds with `key-arithmetic`).
    Inconsistent(KeyDecodeError),
}

/// The key itself, by algorithm. Without `key-arithmetic` no value is made (decoding for the
/// host keeps none) and nothing reads one (signing is gated in `signing`), but `SigningKey`
/// still names the type in code common to both builds.
#[cfg_attr(
    not(feature = "key-arithmetic"),
    allow(dead_code, reason = "read only by the signing code of the key-arithmetic feature")
)]
enum KeyMaterial {
    Rsa(Box<rsa::PrivateKey>),
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    P521(p521::SecretKey),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// Why bytes are not a consistent private key. The texts are those of the report's
/// `invalid_private_key` finding; they carry the decoder's reason, never key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeyDecodeError {
    /// Not a PKCS#8 `PrivateKeyInfo`.
    #[error("the private key is not PKCS#8 ({0})")]
    NotPkcs8(der::Error),
    /// The RSA key is not a PKCS#1 `RSAPrivateKey`.
    #[error("the RSA private key does not decode ({0})")]
    RsaSyntax(der::Error),
    /// The RSA key decodes but its numbers do not fit together.
    #[error("the RSA private key is inconsistent ({0})")]
    RsaInconsistent(pkcs8::Error),
    /// The EC key is not a SEC1 `ECPrivateKey` or not a scalar of its curve.
    #[error("the EC private key does not decode ({0})")]
    Ec(String),
    /// The Ed25519 key does not decode.
    #[error("the Ed25519 private key does not decode ({0})")]
    Ed25519(pkcs8::Error),
    /// The derived public key could not be encoded (a bug, not bad input).
    #[error("{0}")]
    Encoding(String),
}

/// How a certificate's public key relates to the private key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyMatch {
    Matches,
    Differs,
    /// The key type does not let us tell (DSA and other unsupported types).
    Unknown,
}

/// Where public keys come from: derived here by the RustCrypto crates, or by the JavaScript
/// host (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyDerivation {
    /// The crates derive public keys and check RSA keys' consistency.
    Local,
    /// The decoder leaves a host request instead of deriving.
    Host,
}

impl KeyDerivation {
    /// What this build does: `Local` with the cargo feature `key-arithmetic`, else `Host`. A
    /// constant, so the compiler drops the other branch and its crates from the build.
    pub(crate) const BUILT_IN: Self =
        if cfg!(feature = "key-arithmetic") { Self::Local } else { Self::Host };
}

/// What decoding found out about the public key: the key itself (with `key-arithmetic`), its
/// public key when known, what the host must derive when not.
type PublicPart = (Option<KeyMaterial>, Option<OwnPublicKey>, Option<HostKeyRequest>);

impl PrivateKey {
    /// Decodes a PKCS#8 PrivateKeyInfo.
    ///
    /// # Errors
    /// [`KeyDecodeError`] when the bytes are not a consistent private key.
    pub(crate) fn decode(pkcs8_der: &[u8]) -> Result<Self, KeyDecodeError> {
        Self::decode_deriving(pkcs8_der, KeyDerivation::BUILT_IN)
    }

    /// Decodes a PKCS#8 PrivateKeyInfo, deriving public keys as `derivation` says.
    ///
    /// # Errors
    /// [`KeyDecodeError`] when the bytes are not a consistent private key.
    pub(crate) fn decode_deriving(
        pkcs8_der: &[u8],
        derivation: KeyDerivation,
    ) -> Result<Self, KeyDecodeError> {
        // A constant `false` without the feature, so the crates' code is not in the build.
        let local = cfg!(feature = "key-arithmetic") && derivation == KeyDerivation::Local;
        let pki =
            pkcs8::PrivateKeyInfoRef::from_der(pkcs8_der).map_err(KeyDecodeError::NotPkcs8)?;
        let algorithm_der =
            pki.algorithm.to_der().map_err(|e| KeyDecodeError::Encoding(e.to_string()))?;
        let oid = pki.algorithm.oid;
        let param_oid = pki.algorithm.parameters.and_then(|p| p.decode_as::<Oid>().ok());
        let mut embedded_public = None;
        let mut explicit_curve_parameters = false;
        let (kind, (material, public, host_request)) = match (oid, param_oid) {
            (RSA_ENCRYPTION, _) => {
                let pkcs1 = pkcs1::RsaPrivateKey::<der::asn1::UintRef<'_>>::from_der(
                    pki.private_key.as_bytes(),
                )
                .map_err(KeyDecodeError::RsaSyntax)?;
                let bits = bit_length(pkcs1.modulus.as_bytes());
                let public = OwnPublicKey::Rsa {
                    modulus: trimmed(pkcs1.modulus.as_bytes()),
                    exponent: trimmed(pkcs1.public_exponent.as_bytes()),
                };
                (KeyKind::Rsa { bits }, (if local { rsa_material_local(pkcs8_der)? } else { None }, Some(public), None))
            }
            (EC_PUBLIC_KEY, None) => {
                explicit_curve_parameters = true;
                let curve = pki.algorithm.parameters.as_ref().and_then(explicit_named_curve);
                let scalar = sec1::EcPrivateKey::from_der(pki.private_key.as_bytes())
                    .map_err(|e| KeyDecodeError::Ec(e.to_string()))?
                    .private_key;
                match curve {
                    Some(curve) if local => {
                        (KeyKind::Ec { curve }, ec_from_scalar_local(curve, scalar)?)
                    }
                    Some(curve) => (KeyKind::Ec { curve }, ec_from_scalar_for_host(curve, scalar)?),
                    // Parameters of some other curve: an EC key no TLS client uses.
                    None => (KeyKind::Other { algorithm: "EC".to_owned() }, (None, None, None)),
                }
            }
            (EC_PUBLIC_KEY, Some(curve)) => match curve {
                SECP256R1 | SECP384R1 | SECP521R1 if local => {
                    (KeyKind::Ec { curve }, ec_named_local(curve, pkcs8_der)?)
                }
                SECP256R1 | SECP384R1 | SECP521R1 => {
                    (KeyKind::Ec { curve }, ec_named_for_host(curve, &pki)?)
                }
                _ => {
                    embedded_public = sec1::EcPrivateKey::from_der(pki.private_key.as_bytes())
                        .ok()
                        .and_then(|k| k.public_key.map(<[u8]>::to_vec));
                    (KeyKind::Ec { curve }, (None, None, None))
                }
            },
            (ED25519, _) if local => (KeyKind::Ed25519, ed25519_local(pkcs8_der)?),
            (ED25519, _) => (KeyKind::Ed25519, ed25519_for_host(&pki)?),
            (other, _) => {
                (KeyKind::Other { algorithm: algorithm_name(&other) }, (None, None, None))
            }
        };
        Ok(Self {
            material,
            info: key_info(&kind),
            kind,
            explicit_curve_parameters,
            public,
            host_request,
            algorithm_der,
            algorithm_oid: oid,
            embedded_public,
        })
    }

    /// The PKCS#8 DER the host must derive the public key of before [`Self::matches`] can
    /// answer; `None` when the public key is known (always, with `key-arithmetic`).
    pub(crate) fn host_request(&self) -> Option<&[u8]> {
        self.host_request.as_ref().map(|request| request.pkcs8.as_slice())
    }

    /// Takes the public key the host derived from [`Self::host_request`]: for EC the
    /// uncompressed SEC1 point (`04 || x || y`), for Ed25519 its 32 bytes (the `x`, `y` of
    /// WebCrypto's and Node's JWK export).
    ///
    /// # Errors
    /// [`HostKeyError::NotAPublicKey`] when `bits` is not a public key of this key's type and
    /// curve (the host's mistake; the key stays unresolved);
    /// [`HostKeyError::Inconsistent`] when the private key carried another public key.
    pub(crate) fn accept_host_public_key(&mut self, bits: &[u8]) -> Result<(), HostKeyError> {
        let Some(request) = &self.host_request else {
            return Ok(());
        };
        let public = match &self.kind {
            KeyKind::Ec { curve } => {
                let field = field_bytes(curve).ok_or(HostKeyError::NotAPublicKey)?;
                if bits.len() != 1 + 2 * field || bits[0] != 0x04 {
                    return Err(HostKeyError::NotAPublicKey);
                }
                if request.carried.as_ref().is_some_and(|carried| !same_point(bits, carried)) {
                    return Err(HostKeyError::Inconsistent(KeyDecodeError::Ec(
                        carried_point_differs(),
                    )));
                }
                OwnPublicKey::Ec { point: bits.to_vec() }
            }
            KeyKind::Ed25519 => {
                if bits.len() != 32 {
                    return Err(HostKeyError::NotAPublicKey);
                }
                if request.carried.as_ref().is_some_and(|carried| carried.as_slice() != bits) {
                    return Err(HostKeyError::Inconsistent(KeyDecodeError::Ed25519(
                        pkcs8::Error::KeyMalformed(pkcs8::KeyError::Invalid),
                    )));
                }
                OwnPublicKey::Ed25519 { key: bits.to_vec() }
            }
            _ => return Err(HostKeyError::NotAPublicKey),
        };
        self.public = Some(public);
        self.host_request = None;
        Ok(())
    }

    /// Whether `spki` is this key's public key. A key whose [`Self::host_request`] is still
    /// open answers [`KeyMatch::Unknown`]: callers resolve it first.
    pub(crate) fn matches(&self, spki: &SubjectPublicKeyInfoOwned) -> KeyMatch {
        // Cheap answers first, so a file with thousands of certificates costs little.
        if spki.algorithm.oid != self.algorithm_oid {
            return KeyMatch::Differs;
        }
        let theirs = spki.subject_public_key.raw_bytes();
        let same = match &self.public {
            Some(OwnPublicKey::Rsa { modulus, exponent }) => {
                pkcs1::RsaPublicKey::<der::asn1::UintRef<'_>>::from_der(theirs).is_ok_and(|key| {
                    trimmed(key.modulus.as_bytes()) == *modulus
                        && trimmed(key.public_exponent.as_bytes()) == *exponent
                })
            }
            Some(OwnPublicKey::Ec { point }) => {
                // A certificate naming another curve differs; one giving its curve as
                // explicit parameters is compared by its point.
                let KeyKind::Ec { curve } = &self.kind else {
                    return KeyMatch::Differs;
                };
                named_curve(spki).is_none_or(|named| named == *curve)
                    && same_point(point, theirs)
            }
            Some(OwnPublicKey::Ed25519 { key }) => {
                spki.algorithm.to_der().is_ok_and(|a| a == self.algorithm_der) && key == theirs
            }
            None if self.host_request.is_some() => return KeyMatch::Unknown,
            None => {
                let same_algorithm =
                    spki.algorithm.to_der().is_ok_and(|a| a == self.algorithm_der);
                if !same_algorithm {
                    return KeyMatch::Differs;
                }
                match &self.embedded_public {
                    Some(bits) => bits.as_slice() == theirs,
                    None => return KeyMatch::Unknown,
                }
            }
        };
        if same { KeyMatch::Matches } else { KeyMatch::Differs }
    }
}

/// Whether SEC1 point `theirs` (uncompressed or compressed) is `own`, a valid uncompressed
/// point. A compressed point with `own`'s x and y parity is `own`: that x lies on the curve,
/// and the parity picks one of its two points. Anything else (another form or length) differs,
/// as the curve crates' point decoding refuses it.
fn same_point(own: &[u8], theirs: &[u8]) -> bool {
    let field = own.len().saturating_sub(1) / 2;
    match theirs.first() {
        Some(0x04) => theirs == own,
        Some(&tag @ (0x02 | 0x03)) => {
            field > 0
                && theirs.len() == 1 + field
                && theirs[1..] == own[1..=field]
                && own.last().is_some_and(|y| y & 1 == tag & 1)
        }
        _ => false,
    }
}

/// The message of the `invalid_private_key` finding for an EC key carrying a public key that
/// is not its own: the text the curve crates give for it (a BIT STRING value error).
fn carried_point_differs() -> String {
    pkcs8::Error::from(der::Error::from(der::Tag::BitString.value_error())).to_string()
}

/// The RSA key validated by the `rsa` crate (its primes multiply to the modulus, the private
/// exponent inverts the public one): the JDK signs with a key only when its numbers fit
/// together. Host derivation skips it (it needs bigint arithmetic).
fn rsa_material_local(pkcs8_der: &[u8]) -> Result<Option<KeyMaterial>, KeyDecodeError> {
    use pkcs8::DecodePrivateKey;
    let key =
        rsa::PrivateKey::from_pkcs8_der(pkcs8_der).map_err(KeyDecodeError::RsaInconsistent)?;
    Ok(Some(KeyMaterial::Rsa(Box::new(key))))
}

/// An EC key on a named P-256/P-384/P-521 curve, its public key derived by the curve crates.
fn ec_named_local(curve: Oid, pkcs8_der: &[u8]) -> Result<PublicPart, KeyDecodeError> {
    use pkcs8::DecodePrivateKey;
    macro_rules! derive {
        ($curve:ident, $variant:ident) => {{
            let key = $curve::SecretKey::from_pkcs8_der(pkcs8_der)
                .map_err(|e| KeyDecodeError::Ec(e.to_string()))?;
            let point = uncompressed_point(&key.public_key())?;
            Ok((Some(KeyMaterial::$variant(key)), Some(OwnPublicKey::Ec { point }), None))
        }};
    }
    match curve {
        SECP256R1 => derive!(p256, P256),
        SECP384R1 => derive!(p384, P384),
        _ => derive!(p521, P521),
    }
}

/// An EC key on a named P-256/P-384/P-521 curve: the checks the curve crates make when they
/// read a key, except the arithmetic (deriving the point, comparing a carried one), which the
/// host's answer completes.
fn ec_named_for_host(curve: Oid, pki: &pkcs8::PrivateKeyInfoRef<'_>) -> Result<PublicPart, KeyDecodeError> {
    let value_error = |tag: der::Tag| {
        KeyDecodeError::Ec(pkcs8::Error::from(der::Error::from(tag.value_error())).to_string())
    };
    let key = sec1::EcPrivateKey::from_der(pki.private_key.as_bytes())
        .map_err(|e| KeyDecodeError::Ec(pkcs8::Error::from(e).to_string()))?;
    if key.parameters.and_then(|p| p.named_curve()).is_some_and(|inner| inner != curve) {
        return Err(value_error(der::Tag::ObjectIdentifier));
    }
    let pkcs8 =
        host_ec_pkcs8(curve, key.private_key).ok_or_else(|| value_error(der::Tag::OctetString))?;
    let carried = key.public_key.map(<[u8]>::to_vec);
    if carried.as_ref().is_some_and(|point| !plausible_point(curve, point)) {
        return Err(value_error(der::Tag::BitString));
    }
    Ok((None, None, Some(HostKeyRequest { pkcs8, carried })))
}

/// An EC key given by its scalar and explicit parameters of P-256/P-384/P-521 (which the
/// PKCS#8 decoders of the curve crates refuse).
fn ec_from_scalar_local(curve: Oid, scalar: &[u8]) -> Result<PublicPart, KeyDecodeError> {
    macro_rules! derive {
        ($curve:ident, $variant:ident) => {{
            let key = $curve::SecretKey::from_slice(scalar)
                .map_err(|e| KeyDecodeError::Ec(e.to_string()))?;
            let point = uncompressed_point(&key.public_key())?;
            Ok((Some(KeyMaterial::$variant(key)), Some(OwnPublicKey::Ec { point }), None))
        }};
    }
    match curve {
        SECP256R1 => derive!(p256, P256),
        SECP384R1 => derive!(p384, P384),
        _ => derive!(p521, P521),
    }
}

fn ec_from_scalar_for_host(curve: Oid, scalar: &[u8]) -> Result<PublicPart, KeyDecodeError> {
    // The text of the curve crates' `SecretKey::from_slice` error.
    let pkcs8 = host_ec_pkcs8(curve, scalar)
        .ok_or_else(|| KeyDecodeError::Ec(p256::elliptic_curve::Error.to_string()))?;
    Ok((None, None, Some(HostKeyRequest { pkcs8, carried: None })))
}

/// The SPKI-encoded (uncompressed) point of an EC public key.
fn uncompressed_point<K: spki::EncodePublicKey>(public: &K) -> Result<Vec<u8>, KeyDecodeError> {
    let der = public.to_public_key_der().map_err(|e| KeyDecodeError::Encoding(e.to_string()))?;
    let spki = SubjectPublicKeyInfoOwned::from_der(der.as_bytes())
        .map_err(|e| KeyDecodeError::Encoding(e.to_string()))?;
    Ok(spki.subject_public_key.raw_bytes().to_vec())
}

/// An Ed25519 key (PKCS#8 version 1, or 2 with its public key).
fn ed25519_local(pkcs8_der: &[u8]) -> Result<PublicPart, KeyDecodeError> {
    use pkcs8::DecodePrivateKey;
    let key =
        ed25519_dalek::SigningKey::from_pkcs8_der(pkcs8_der).map_err(KeyDecodeError::Ed25519)?;
    let public = OwnPublicKey::Ed25519 { key: key.verifying_key().to_bytes().to_vec() };
    Ok((Some(KeyMaterial::Ed25519(Box::new(key))), Some(public), None))
}

fn ed25519_for_host(pki: &pkcs8::PrivateKeyInfoRef<'_>) -> Result<PublicPart, KeyDecodeError> {
    // The checks (and errors) of the `ed25519` crate's `KeypairBytes` decoding, on the PKCS#8
    // decoded already: no parameters, the seed as an OCTET STRING of 32 bytes, a public key of
    // 32 bytes when there is one.
    let invalid = || KeyDecodeError::Ed25519(pkcs8::Error::KeyMalformed(pkcs8::KeyError::Invalid));
    if pki.algorithm.parameters.is_some() {
        return Err(KeyDecodeError::Ed25519(pkcs8::Error::ParametersMalformed));
    }
    let seed: [u8; 32] = match pki.private_key.as_bytes() {
        [0x04, 0x20, rest @ ..] => rest.try_into().map_err(|_| invalid())?,
        _ => return Err(invalid()),
    };
    let carried = match pki.public_key.and_then(|bits| bits.as_bytes()) {
        Some(bytes) if bytes.len() != 32 => return Err(invalid()),
        other => other.map(<[u8]>::to_vec),
    };
    let encoding = |e: der::Error| KeyDecodeError::Encoding(e.to_string());
    let seed = Zeroizing::new(seed);
    let inner = Zeroizing::new(
        der::asn1::OctetStringRef::new(seed.as_slice())
            .and_then(|octets| octets.to_der())
            .map_err(encoding)?,
    );
    let algorithm = spki::AlgorithmIdentifierRef { oid: ED25519, parameters: None };
    let pkcs8 = der::asn1::OctetStringRef::new(&inner)
        .map(|octets| pkcs8::PrivateKeyInfoRef::new(algorithm, octets))
        .and_then(|info| info.to_der())
        .map_err(encoding)?;
    Ok((None, None, Some(HostKeyRequest { pkcs8: Zeroizing::new(pkcs8), carried })))
}

/// The scalar left-padded to the curve's size, when it is one the curve crates accept as a
/// secret key: 24 bytes up to the field size, and 1 <= scalar < order (compared in constant
/// time: the scalar is the secret).
fn padded_scalar(curve: Oid, scalar: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    use subtle::{ConstantTimeEq, ConstantTimeGreater, ConstantTimeLess};
    let field = field_bytes(&curve)?;
    if !(24..=field).contains(&scalar.len()) {
        return None;
    }
    let mut padded = Zeroizing::new(vec![0u8; field]);
    padded[field - scalar.len()..].copy_from_slice(scalar);
    let order = curve_order_bytes(curve)?;
    let mut order_padded = vec![0u8; field];
    order_padded[field - order.len()..].copy_from_slice(order);
    // Big-endian comparison: less once the first differing byte is smaller.
    let mut less = subtle::Choice::from(0);
    let mut equal = subtle::Choice::from(1);
    let mut zero = subtle::Choice::from(1);
    for (a, b) in padded.iter().zip(&order_padded) {
        less |= equal & a.ct_lt(b);
        equal &= a.ct_eq(b);
        zero &= !a.ct_gt(&0);
    }
    bool::from(less & !zero).then_some(padded)
}

/// The PKCS#8 an EC key is handed to the host as: named curve, the scalar, no public key.
fn host_ec_pkcs8(curve: Oid, scalar: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let scalar = padded_scalar(curve, scalar)?;
    let inner = sec1::EcPrivateKey { private_key: &scalar, parameters: None, public_key: None };
    let inner = Zeroizing::new(inner.to_der().ok()?);
    let algorithm = spki::AlgorithmIdentifierRef {
        oid: EC_PUBLIC_KEY,
        parameters: Some(der::asn1::AnyRef::from(&curve)),
    };
    let octets = der::asn1::OctetStringRef::new(&inner).ok()?;
    pkcs8::PrivateKeyInfoRef::new(algorithm, octets).to_der().ok().map(Zeroizing::new)
}

/// Whether `point` has a SEC1 form and length of `curve` (what the curve crates check before
/// comparing a carried public key with the derived one).
fn plausible_point(curve: Oid, point: &[u8]) -> bool {
    let Some(field) = field_bytes(&curve) else {
        return false;
    };
    match point.first() {
        Some(0x04) => point.len() == 1 + 2 * field,
        Some(0x02 | 0x03) => point.len() == 1 + field,
        Some(0x00) => point.len() == 1,
        _ => false,
    }
}

/// Bytes of a field element (and of a scalar) of the curves with arithmetic.
fn field_bytes(curve: &Oid) -> Option<usize> {
    match *curve {
        SECP256R1 => Some(32),
        SECP384R1 => Some(48),
        SECP521R1 => Some(66),
        _ => None,
    }
}

/// A big-endian magnitude without leading zero bytes.
fn trimmed(be: &[u8]) -> Vec<u8> {
    let skip = be.iter().take_while(|&&b| b == 0).count();
    be[skip..].to_vec()
}

/// The report's view of a key.
fn key_info(kind: &KeyKind) -> KeyInfo {
    match kind {
        KeyKind::Rsa { bits } => {
            KeyInfo { algorithm: "RSA".to_owned(), bits: Some(*bits), curve: None }
        }
        KeyKind::Ec { curve } => KeyInfo {
            algorithm: "EC".to_owned(),
            bits: curve_bits(curve),
            curve: Some(curve_name(curve)),
        },
        KeyKind::Ed25519 => {
            KeyInfo { algorithm: "Ed25519".to_owned(), bits: Some(255), curve: None }
        }
        KeyKind::Other { algorithm } => {
            KeyInfo { algorithm: algorithm.clone(), bits: None, curve: None }
        }
    }
}

/// `SpecifiedECDomain` of RFC 3279 section 2.3.5 (SEC 1 `ECParameters`), as far as needed to
/// recognise the curve.
#[derive(der::Sequence)]
struct SpecifiedEcDomain {
    version: der::Any,
    field_id: der::Any,
    curve: der::Any,
    base: der::asn1::OctetString,
    order: der::asn1::Uint,
    cofactor: Option<der::asn1::Uint>,
}

/// The named curve whose parameters `parameters` spells out, recognised by the order of its
/// base point (the orders of P-256, P-384 and P-521 differ from each other and from every other
/// standard curve; a forged curve with one of these orders fails the point decoding later).
fn explicit_named_curve(parameters: &der::AnyRef<'_>) -> Option<Oid> {
    let domain = SpecifiedEcDomain::from_der(&parameters.to_der().ok()?).ok()?;
    let order = domain.order.as_bytes();
    [SECP256R1, SECP384R1, SECP521R1]
        .into_iter()
        .find(|&curve| curve_order_bytes(curve).is_some_and(|known| known == order))
}

/// The order of a curve with arithmetic, big-endian without leading zeros.
fn curve_order_bytes(curve: Oid) -> Option<&'static [u8]> {
    // Constants rather than the curve crates' `C::ORDER`, so the WebAssembly modules carry no
    // bigint code for them; a test checks them against the crates.
    const P256: [u8; 32] =
        hex_bytes("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
    const P384: [u8; 48] = hex_bytes(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
    );
    const P521: [u8; 66] = hex_bytes(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
    );
    match curve {
        SECP256R1 => Some(&P256),
        SECP384R1 => Some(&P384),
        SECP521R1 => Some(&P521),
        _ => None,
    }
}

/// `N` bytes from `2 * N` hex digits, at compile time.
const fn hex_bytes<const N: usize>(hex: &str) -> [u8; N] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("an upper-case hex digit"),
        }
    }
    let hex = hex.as_bytes();
    assert!(hex.len() == 2 * N, "two hex digits per byte");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = (digit(hex[2 * i]) << 4) | digit(hex[2 * i + 1]);
        i += 1;
    }
    out
}

/// The order of curve `C`, big-endian without leading zeros (as a DER INTEGER's magnitude).
#[cfg(test)]
fn curve_order<C: p256::elliptic_curve::Curve>() -> Vec<u8> {
    use p256::elliptic_curve::bigint::Encoding;
    let bytes = C::ORDER.as_ref().to_be_bytes();
    let bytes = bytes.as_ref();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    bytes[skip..].to_vec()
}

/// The curve an EC SubjectPublicKeyInfo names, `None` when its parameters are not a curve OID.
fn named_curve(spki: &SubjectPublicKeyInfoOwned) -> Option<Oid> {
    spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<Oid>().ok())
}

fn bit_length(be: &[u8]) -> u32 {
    let skip = be.iter().take_while(|&&b| b == 0).count();
    match be.get(skip) {
        None => 0,
        Some(first) => (be.len() - skip - 1) as u32 * 8 + (8 - first.leading_zeros()),
    }
}

/// Curve name as the report shows it.
pub(crate) fn curve_name(curve: &Oid) -> String {
    match *curve {
        SECP256R1 => "P-256".to_owned(),
        SECP384R1 => "P-384".to_owned(),
        SECP521R1 => "P-521".to_owned(),
        SECP256K1 => "secp256k1".to_owned(),
        other => other.to_string(),
    }
}

fn curve_bits(curve: &Oid) -> Option<u32> {
    match *curve {
        SECP256R1 | SECP256K1 => Some(256),
        SECP384R1 => Some(384),
        SECP521R1 => Some(521),
        _ => None,
    }
}

fn algorithm_name(oid: &Oid) -> String {
    match *oid {
        DSA => "DSA".to_owned(),
        ED448 => "Ed448".to_owned(),
        RSASSA_PSS => "RSASSA-PSS".to_owned(),
        X25519 => "X25519".to_owned(),
        X448 => "X448".to_owned(),
        DH_PUBLIC_NUMBER => "DH".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DER TLV with a short or one-byte long length (all these tests need).
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if content.len() < 0x80 {
            out.push(content.len() as u8);
        } else {
            out.extend([0x81, content.len() as u8]);
        }
        out.extend_from_slice(content);
        out
    }

    /// A PKCS#8 PrivateKeyInfo of `algorithm` (an OID, optional parameters) around `inner`.
    fn pkcs8(algorithm: Oid, parameters: Option<Oid>, inner: &[u8]) -> Vec<u8> {
        let mut identifier = algorithm.to_der().unwrap();
        if let Some(parameters) = parameters {
            identifier.extend(parameters.to_der().unwrap());
        }
        let body = [tlv(0x02, &[0]), tlv(0x30, &identifier), tlv(0x04, inner)].concat();
        tlv(0x30, &body)
    }

    #[test]
    fn decode_errors_read_as_the_reports_invalid_private_key_messages() {
        let message = |der: &[u8]| PrivateKey::decode(der).err().unwrap().to_string();
        assert!(message(b"\x01\x02").starts_with("the private key is not PKCS#8 ("));
        let garbage = [0x04, 0x01, 0x00];
        assert!(message(&pkcs8(RSA_ENCRYPTION, None, &garbage))
            .starts_with("the RSA private key does not decode ("));
        assert!(message(&pkcs8(EC_PUBLIC_KEY, Some(SECP256R1), &garbage))
            .starts_with("the EC private key does not decode ("));
        assert!(message(&pkcs8(ED25519, None, &garbage))
            .starts_with("the Ed25519 private key does not decode ("));
    }

    #[test]
    fn reader_reports_a_key_type_the_signer_refuses_by_name() {
        let dsa = pkcs8(DSA, None, &[0x02, 0x01, 0x05]);
        let key = PrivateKey::decode(&dsa).unwrap();
        assert_eq!(key.kind, KeyKind::Other { algorithm: "DSA".to_owned() });
        assert_eq!(
            SigningKey::from_pkcs8_der(&dsa).unwrap_err(),
            PrivateKeyError::UnsupportedAlgorithm { algorithm: "1.2.840.10040.4.1".to_owned() }
        );
    }

    #[test]
    fn signer_and_reader_both_match_a_certificate_key_with_a_compressed_point() {
        let signer = SigningKey::generate_p256().unwrap();
        let reader = PrivateKey::decode(signer.pkcs8_der()).unwrap();
        let mut compressed = signer.public_key_info().unwrap();
        let point = p256::PublicKey::from_sec1_bytes(compressed.subject_public_key.raw_bytes())
            .unwrap();
        use p256::elliptic_curve::sec1::ToSec1Point;
        let encoded = point.to_sec1_point(true);
        compressed.subject_public_key =
            der::asn1::BitString::from_bytes(encoded.as_bytes()).unwrap();
        assert_eq!(reader.matches(&compressed), KeyMatch::Matches);
        assert!(signer.matches(&compressed));
        let other = SigningKey::generate_p256().unwrap().public_key_info().unwrap();
        assert_eq!(reader.matches(&other), KeyMatch::Differs);
        assert!(!signer.matches(&other));
    }

    /// A P-256 PKCS#8 around `scalar`, carrying `public` when given.
    fn p256_pkcs8(scalar: &[u8], public: Option<&[u8]>) -> Vec<u8> {
        let inner = sec1::EcPrivateKey { private_key: scalar, parameters: None, public_key: public };
        pkcs8(EC_PUBLIC_KEY, Some(SECP256R1), &inner.to_der().unwrap())
    }

    /// What a host answers for a host request: the public key, derived by the crates.
    fn host_answer(request: &[u8]) -> Vec<u8> {
        use p256::elliptic_curve::sec1::ToSec1Point;
        use pkcs8::DecodePrivateKey;
        if let Ok(key) = p256::SecretKey::from_pkcs8_der(request) {
            return key.public_key().to_sec1_point(false).as_bytes().to_vec();
        }
        let key = ed25519_dalek::SigningKey::from_pkcs8_der(request).unwrap();
        key.verifying_key().to_bytes().to_vec()
    }

    /// The decoding error with local derivation and with host derivation (the host answering
    /// with the derived public key), which must be the same.
    fn both_errors(der: &[u8]) -> (String, String) {
        let local = PrivateKey::decode_deriving(der, KeyDerivation::Local).err().unwrap();
        let host = match PrivateKey::decode_deriving(der, KeyDerivation::Host) {
            Err(error) => error,
            Ok(mut key) => {
                let answer = host_answer(key.host_request().unwrap());
                match key.accept_host_public_key(&answer) {
                    Err(HostKeyError::Inconsistent(error)) => error,
                    other => panic!("expected an inconsistent key, got {other:?}"),
                }
            }
        };
        (local.to_string(), host.to_string())
    }

    #[test]
    fn host_derivation_refuses_what_local_derivation_refuses_with_the_same_message() {
        let key = SigningKey::generate_p256().unwrap();
        let scalar = PrivateKey::decode(key.pkcs8_der()).ok().and_then(|k| match k.material {
            Some(KeyMaterial::P256(secret)) => Some(secret.to_bytes().to_vec()),
            _ => None,
        });
        let scalar = scalar.unwrap();
        let other = SigningKey::generate_p256().unwrap().public_key_info().unwrap();
        let order = curve_order_bytes(SECP256R1).unwrap();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("carries another key's point", p256_pkcs8(&scalar, Some(other.subject_public_key.raw_bytes()))),
            ("carries a point of the wrong length", p256_pkcs8(&scalar, Some(&[4, 1, 2]))),
            ("scalar is the order", p256_pkcs8(order, None)),
            ("scalar is zero", p256_pkcs8(&[0; 32], None)),
            ("scalar is too short", p256_pkcs8(&scalar[..20], None)),
            ("scalar is too long", p256_pkcs8(&[&[1][..], &scalar].concat(), None)),
        ];
        for (what, der) in cases {
            let (local, host) = both_errors(&der);
            assert_eq!(host, local, "{what}");
            assert!(local.starts_with("the EC private key does not decode ("), "{what}: {local}");
        }
        // Ed25519 PKCS#8 version 2 carrying another key's public key.
        let seed = [7u8; 32];
        let carried = ed25519_dalek::SigningKey::from_bytes(&[8; 32]).verifying_key().to_bytes();
        // OneAsymmetricKey v2: version 1, algorithm, OCTET STRING { OCTET STRING seed },
        // [1] IMPLICIT BIT STRING public key.
        let body = [
            tlv(0x02, &[1]),
            tlv(0x30, &ED25519.to_der().unwrap()),
            tlv(0x04, &tlv(0x04, &seed)),
            tlv(0x81, &[&[0][..], &carried].concat()),
        ]
        .concat();
        let (local, host) = both_errors(&tlv(0x30, &body));
        assert_eq!(host, local);
        assert!(local.starts_with("the Ed25519 private key does not decode ("), "{local}");
        // Malformed Ed25519 keys: parameters, a short seed, a short public key.
        let algorithm = ED25519.to_der().unwrap();
        let malformed = [
            ("parameters", [&algorithm[..], &[5, 0]].concat(), tlv(0x04, &seed), None),
            ("short seed", algorithm.clone(), tlv(0x04, &seed[..31]), None),
            ("short public key", algorithm.clone(), tlv(0x04, &seed), Some(&carried[..31])),
        ];
        for (what, algorithm, inner, public) in malformed {
            let mut body = [tlv(0x02, &[u8::from(public.is_some())]), tlv(0x30, &algorithm), tlv(0x04, &inner)].concat();
            if let Some(public) = public {
                body.extend(tlv(0x81, &[&[0][..], public].concat()));
            }
            let (local, host) = both_errors(&tlv(0x30, &body));
            assert_eq!(host, local, "{what}");
            assert!(local.starts_with("the Ed25519 private key does not decode ("), "{what}: {local}");
        }
    }

    #[test]
    fn host_derivation_hands_over_the_scalar_only_and_matches_like_local_derivation() {
        let signer = SigningKey::generate_p256().unwrap();
        let mut host = PrivateKey::decode_deriving(signer.pkcs8_der(), KeyDerivation::Host).unwrap();
        let request = host.host_request().unwrap().to_vec();
        // The request is a PKCS#8 with the named curve and no public key (what JDK keys look like).
        let info = pkcs8::PrivateKeyInfoRef::from_der(&request).unwrap();
        let inner = sec1::EcPrivateKey::from_der(info.private_key.as_bytes()).unwrap();
        assert_eq!(inner.public_key, None);
        assert_eq!(info.algorithm.parameters.unwrap().decode_as::<Oid>().unwrap(), SECP256R1);
        let mine = signer.public_key_info().unwrap();
        assert_eq!(host.matches(&mine), KeyMatch::Unknown, "unresolved until the host answers");
        // Answers that are not an uncompressed P-256 point leave the key unresolved.
        let answer = host_answer(&request);
        for wrong in [&answer[..33], &[&[2u8][..], &answer[1..]].concat()[..], &[0u8; 32][..]] {
            assert_eq!(host.accept_host_public_key(wrong), Err(HostKeyError::NotAPublicKey));
        }
        host.accept_host_public_key(&answer).unwrap();
        assert!(host.host_request().is_none());
        let local = PrivateKey::decode(signer.pkcs8_der()).unwrap();
        let other = SigningKey::generate_p256().unwrap().public_key_info().unwrap();
        let mut compressed = mine.clone();
        let point = p256::PublicKey::from_sec1_bytes(mine.subject_public_key.raw_bytes()).unwrap();
        use p256::elliptic_curve::sec1::ToSec1Point;
        compressed.subject_public_key =
            der::asn1::BitString::from_bytes(point.to_sec1_point(true).as_bytes()).unwrap();
        let mut flipped = compressed.clone();
        let mut bytes = compressed.subject_public_key.raw_bytes().to_vec();
        bytes[0] ^= 1;
        flipped.subject_public_key = der::asn1::BitString::from_bytes(&bytes).unwrap();
        for (spki, expected) in
            [(&mine, KeyMatch::Matches), (&compressed, KeyMatch::Matches), (&flipped, KeyMatch::Differs), (&other, KeyMatch::Differs)]
        {
            assert_eq!(host.matches(spki), expected);
            assert_eq!(local.matches(spki), expected);
        }
    }

    #[test]
    fn curve_orders_are_the_curve_crates() {
        assert_eq!(curve_order_bytes(SECP256R1).unwrap(), curve_order::<p256::NistP256>());
        assert_eq!(curve_order_bytes(SECP384R1).unwrap(), curve_order::<p384::NistP384>());
        assert_eq!(curve_order_bytes(SECP521R1).unwrap(), curve_order::<p521::NistP521>());
    }

    #[test]
    fn bit_length_counts_significant_bits() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01]), 1);
        assert_eq!(bit_length(&[0x00]), 0);
    }
}
