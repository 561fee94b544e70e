//! The one private key decoder of the SDK: a PKCS#8 `PrivateKeyInfo` becomes a [`PrivateKey`]
//! with its type and size, and [`PrivateKey::matches`] says whether a certificate's public key
//! is its own (SPEC section 2, rules 4 and 5). The P12 reader (`crate::policy`) reports on any
//! key it finds; the CSR and P12 builders sign with the keys of [`SigningKey`], which are made
//! by this decoder too.
//!
//! Matching is by arithmetic, never by names: the public key is derived from the private key
//! (EC scalar multiplication, Ed25519 seed expansion) or read from a private key the `rsa` crate
//! has validated (the primes multiply to the modulus), and compared with the certificate's.

mod signing;

use der::asn1::ObjectIdentifier as Oid;
use der::{Decode, Encode};
use pkcs8::DecodePrivateKey;
use spki::{DecodePublicKey, SubjectPublicKeyInfoOwned};

use crate::oids::{
    DH_PUBLIC_NUMBER, DSA, EC_PUBLIC_KEY, ED25519, ED448, RSASSA_PSS, RSA_ENCRYPTION, SECP256K1,
    SECP256R1, SECP384R1, SECP521R1, X25519, X448,
};
use crate::report::KeyInfo;

pub use signing::PrivateKeyError;
pub(crate) use signing::SigningKey;

/// SPKI DER of the public key of an EC private key on a curve with arithmetic here, and the key.
macro_rules! ec_public {
    ($curve:ident, $variant:ident, $pkcs8:expr) => {{
        let key = $curve::SecretKey::from_pkcs8_der($pkcs8)
            .map_err(|e| KeyDecodeError::Ec(e.to_string()))?;
        let spki = spki::EncodePublicKey::to_public_key_der(&key.public_key())
            .map_err(|e| KeyDecodeError::Encoding(e.to_string()))?;
        (spki.as_bytes().to_vec(), KeyMaterial::$variant(key))
    }};
}

/// SPKI DER of the public key of an EC private key given by its scalar (for keys whose curve is
/// given as explicit parameters, which the PKCS#8 decoders of the curve crates refuse), and the
/// key.
macro_rules! ec_public_from_scalar {
    ($curve:ident, $variant:ident, $scalar:expr) => {{
        let key = $curve::SecretKey::from_slice($scalar)
            .map_err(|e| KeyDecodeError::Ec(e.to_string()))?;
        let spki = spki::EncodePublicKey::to_public_key_der(&key.public_key())
            .map_err(|e| KeyDecodeError::Encoding(e.to_string()))?;
        (spki.as_bytes().to_vec(), KeyMaterial::$variant(key))
    }};
}

/// Whether an SPKI DER and a SEC1 point (compressed or not) are the same point on the curve;
/// decoding the point checks that it lies on the curve.
macro_rules! same_ec {
    ($curve:ident, $spki:expr, $point:expr) => {{
        match ($curve::PublicKey::from_public_key_der($spki), $curve::PublicKey::from_sec1_bytes($point)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }};
}

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
    /// named or explicit curve parameters, Ed25519); `None` for the others.
    material: Option<KeyMaterial>,
    pub(crate) kind: KeyKind,
    pub(crate) info: KeyInfo,
    /// An EC key whose curve is given as explicit parameters instead of a curve OID: valid, but
    /// Java reads only named curves ("Only named ECParameters supported").
    pub(crate) explicit_curve_parameters: bool,
    /// The public key derived from the private key, as SPKI DER, when it could be derived.
    public_spki: Option<Vec<u8>>,
    /// For key types without derivation: the algorithm OID and parameters to compare.
    algorithm_der: Vec<u8>,
    algorithm_oid: Oid,
    /// For keys whose PKCS#8 carries its public key (EC of other curves): those bits.
    embedded_public: Option<Vec<u8>>,
}

/// The key itself, by algorithm.
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

impl PrivateKey {
    /// Decodes a PKCS#8 PrivateKeyInfo.
    ///
    /// # Errors
    /// [`KeyDecodeError`] when the bytes are not a consistent private key.
    pub(crate) fn decode(pkcs8_der: &[u8]) -> Result<Self, KeyDecodeError> {
        let pki =
            pkcs8::PrivateKeyInfoOwned::from_der(pkcs8_der).map_err(KeyDecodeError::NotPkcs8)?;
        let algorithm_der =
            pki.algorithm.to_der().map_err(|e| KeyDecodeError::Encoding(e.to_string()))?;
        let oid = pki.algorithm.oid;
        let param_oid = pki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| Oid::from_der(&p.to_der().ok()?).ok());
        let mut embedded_public = None;
        let mut explicit_curve_parameters = false;
        let (kind, public_spki, material) = match (oid, param_oid) {
            (RSA_ENCRYPTION, _) => {
                let pkcs1 = pkcs1::RsaPrivateKey::<der::asn1::UintRef<'_>>::from_der(
                    pki.private_key.as_bytes(),
                )
                .map_err(KeyDecodeError::RsaSyntax)?;
                let bits = bit_length(pkcs1.modulus.as_bytes());
                let key = rsa::PrivateKey::from_pkcs8_der(pkcs8_der)
                    .map_err(KeyDecodeError::RsaInconsistent)?;
                let public = rsa::PublicKey::from(&key);
                let spki = spki::EncodePublicKey::to_public_key_der(&public)
                    .map_err(|e| KeyDecodeError::Encoding(e.to_string()))?;
                (
                    KeyKind::Rsa { bits },
                    Some(spki.as_bytes().to_vec()),
                    Some(KeyMaterial::Rsa(Box::new(key))),
                )
            }
            (EC_PUBLIC_KEY, None) => {
                explicit_curve_parameters = true;
                let curve = pki.algorithm.parameters.as_ref().and_then(explicit_named_curve);
                let scalar = sec1::EcPrivateKey::from_der(pki.private_key.as_bytes())
                    .map_err(|e| KeyDecodeError::Ec(e.to_string()))?
                    .private_key;
                match curve {
                    Some(curve @ SECP256R1) => {
                        ec(curve, ec_public_from_scalar!(p256, P256, scalar))
                    }
                    Some(curve @ SECP384R1) => {
                        ec(curve, ec_public_from_scalar!(p384, P384, scalar))
                    }
                    Some(curve @ SECP521R1) => {
                        ec(curve, ec_public_from_scalar!(p521, P521, scalar))
                    }
                    // Parameters of some other curve: an EC key no TLS client uses.
                    _ => (KeyKind::Other { algorithm: "EC".to_owned() }, None, None),
                }
            }
            (EC_PUBLIC_KEY, Some(curve)) => match curve {
                SECP256R1 => ec(curve, ec_public!(p256, P256, pkcs8_der)),
                SECP384R1 => ec(curve, ec_public!(p384, P384, pkcs8_der)),
                SECP521R1 => ec(curve, ec_public!(p521, P521, pkcs8_der)),
                _ => {
                    embedded_public = sec1::EcPrivateKey::from_der(pki.private_key.as_bytes())
                        .ok()
                        .and_then(|k| k.public_key.map(<[u8]>::to_vec));
                    (KeyKind::Ec { curve }, None, None)
                }
            },
            (ED25519, _) => {
                let key = ed25519_dalek::SigningKey::from_pkcs8_der(pkcs8_der)
                    .map_err(KeyDecodeError::Ed25519)?;
                embedded_public = Some(key.verifying_key().to_bytes().to_vec());
                (KeyKind::Ed25519, None, Some(KeyMaterial::Ed25519(Box::new(key))))
            }
            (other, _) => (KeyKind::Other { algorithm: algorithm_name(&other) }, None, None),
        };
        Ok(Self {
            material,
            info: key_info(&kind),
            kind,
            explicit_curve_parameters,
            public_spki,
            algorithm_der,
            algorithm_oid: oid,
            embedded_public,
        })
    }

    /// Whether `spki` is this key's public key.
    pub(crate) fn matches(&self, spki: &SubjectPublicKeyInfoOwned) -> KeyMatch {
        // Cheap answers first, so a file with thousands of certificates costs little.
        if spki.algorithm.oid != self.algorithm_oid {
            return KeyMatch::Differs;
        }
        let theirs = spki.to_der().unwrap_or_default();
        if self.public_spki.as_ref().is_some_and(|own| *own == theirs) {
            return KeyMatch::Matches;
        }
        if let Some(own) = &self.public_spki {
            return match &self.kind {
                KeyKind::Rsa { .. } => {
                    let (Ok(a), Ok(b)) = (
                        rsa::PublicKey::from_public_key_der(own),
                        spki.to_der().map_err(|_| ()).and_then(|d| {
                            rsa::PublicKey::from_public_key_der(&d).map_err(|_| ())
                        }),
                    ) else {
                        return KeyMatch::Differs;
                    };
                    if a == b { KeyMatch::Matches } else { KeyMatch::Differs }
                }
                KeyKind::Ec { curve } => {
                    // A certificate naming another curve differs; one giving its curve as
                    // explicit parameters is compared by its point, which must lie on ours.
                    if named_curve(spki).is_some_and(|named| named != *curve) {
                        return KeyMatch::Differs;
                    }
                    let point = spki.subject_public_key.raw_bytes();
                    let same = match *curve {
                        SECP256R1 => same_ec!(p256, own, point),
                        SECP384R1 => same_ec!(p384, own, point),
                        SECP521R1 => same_ec!(p521, own, point),
                        _ => false,
                    };
                    if same { KeyMatch::Matches } else { KeyMatch::Differs }
                }
                _ => {
                    let same = spki.to_der().is_ok_and(|theirs| &theirs == own);
                    if same { KeyMatch::Matches } else { KeyMatch::Differs }
                }
            };
        }
        let same_algorithm = spki.algorithm.to_der().is_ok_and(|a| a == self.algorithm_der);
        if !same_algorithm {
            return KeyMatch::Differs;
        }
        match &self.embedded_public {
            Some(bits) if bits.as_slice() == spki.subject_public_key.raw_bytes() => KeyMatch::Matches,
            Some(_) => KeyMatch::Differs,
            None => KeyMatch::Unknown,
        }
    }
}

/// The decoder's result for an EC key on `curve` with arithmetic here.
fn ec(
    curve: Oid,
    (public_spki, material): (Vec<u8>, KeyMaterial),
) -> (KeyKind, Option<Vec<u8>>, Option<KeyMaterial>) {
    (KeyKind::Ec { curve }, Some(public_spki), Some(material))
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
fn explicit_named_curve(parameters: &der::Any) -> Option<Oid> {
    let domain = SpecifiedEcDomain::from_der(&parameters.to_der().ok()?).ok()?;
    let order = domain.order.as_bytes();
    [(SECP256R1, curve_order::<p256::NistP256>()), (SECP384R1, curve_order::<p384::NistP384>()), (SECP521R1, curve_order::<p521::NistP521>())]
        .into_iter()
        .find(|(_, known)| known.as_slice() == order)
        .map(|(oid, _)| oid)
}

/// The order of curve `C`, big-endian without leading zeros (as a DER INTEGER's magnitude).
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

    #[test]
    fn bit_length_counts_significant_bits() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01]), 1);
        assert_eq!(bit_length(&[0x00]), 0);
    }
}
