//! The private key of a P12: its type and size, and whether a certificate's public key is its
//! own (SPEC section 2, rules 4 and 5).
//!
//! Matching is by arithmetic, never by names: the public key is derived from the private key
//! (EC scalar multiplication, Ed25519 seed expansion) or read from a private key the `rsa` crate
//! has validated (the primes multiply to the modulus), and compared with the certificate's.

use der::asn1::ObjectIdentifier as Oid;
use der::{Decode, Encode};
use pkcs8::DecodePrivateKey;
use spki::{DecodePublicKey, SubjectPublicKeyInfoOwned};

use crate::report::KeyInfo;

/// `rsaEncryption`.
const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// `id-RSASSA-PSS`.
const RSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
/// `id-ecPublicKey`.
const EC: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
/// `id-Ed25519`.
const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
/// `id-Ed448`.
const ED448: Oid = Oid::new_unwrap("1.3.101.113");
/// `id-dsa`.
const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
/// `secp256r1`.
const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
/// `secp384r1`.
const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
/// `secp521r1`.
const P521: Oid = Oid::new_unwrap("1.3.132.0.35");
/// `secp256k1`.
const SECP256K1: Oid = Oid::new_unwrap("1.3.132.0.10");

/// SPKI DER of the public key of an EC private key on a curve with arithmetic here.
macro_rules! ec_public {
    ($curve:ident, $pkcs8:expr) => {{
        let key = $curve::SecretKey::from_pkcs8_der($pkcs8)
            .map_err(|e| format!("the EC private key does not decode ({e})"))?;
        let spki = spki::EncodePublicKey::to_public_key_der(&key.public_key())
            .map_err(|e| e.to_string())?;
        spki.as_bytes().to_vec()
    }};
}

/// SPKI DER of the public key of an EC private key given by its scalar (for keys whose curve is
/// given as explicit parameters, which the PKCS#8 decoders of the curve crates refuse).
macro_rules! ec_public_from_scalar {
    ($curve:ident, $scalar:expr) => {{
        let key = $curve::SecretKey::from_slice($scalar)
            .map_err(|e| format!("the EC private key does not decode ({e})"))?;
        let spki = spki::EncodePublicKey::to_public_key_der(&key.public_key())
            .map_err(|e| e.to_string())?;
        spki.as_bytes().to_vec()
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
    /// A lower-case description when the bytes are not a consistent private key.
    pub(crate) fn decode(pkcs8_der: &[u8]) -> Result<Self, String> {
        let pki = pkcs8::PrivateKeyInfoOwned::from_der(pkcs8_der)
            .map_err(|e| format!("the private key is not PKCS#8 ({e})"))?;
        let algorithm_der = pki.algorithm.to_der().map_err(|e| e.to_string())?;
        let oid = pki.algorithm.oid;
        let param_oid = pki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| Oid::from_der(&p.to_der().ok()?).ok());
        let mut embedded_public = None;
        let mut explicit_curve_parameters = false;
        let (kind, public_spki) = match oid {
            RSA => {
                let pkcs1 = pkcs1::RsaPrivateKey::<der::asn1::UintRef<'_>>::from_der(
                    pki.private_key.as_bytes(),
                )
                .map_err(|e| format!("the RSA private key does not decode ({e})"))?;
                let bits = bit_length(pkcs1.modulus.as_bytes());
                let key = rsa::PrivateKey::from_pkcs8_der(pkcs8_der)
                    .map_err(|e| format!("the RSA private key is inconsistent ({e})"))?;
                let public = rsa::PublicKey::from(&key);
                let spki = spki::EncodePublicKey::to_public_key_der(&public)
                    .map_err(|e| e.to_string())?;
                (KeyKind::Rsa { bits }, Some(spki.as_bytes().to_vec()))
            }
            EC if param_oid.is_none() => {
                explicit_curve_parameters = true;
                let curve = pki.algorithm.parameters.as_ref().and_then(explicit_named_curve);
                let scalar = sec1::EcPrivateKey::from_der(pki.private_key.as_bytes())
                    .map_err(|e| format!("the EC private key does not decode ({e})"))?
                    .private_key;
                match curve {
                    Some(curve @ P256) => (KeyKind::Ec { curve }, Some(ec_public_from_scalar!(p256, scalar))),
                    Some(curve @ P384) => (KeyKind::Ec { curve }, Some(ec_public_from_scalar!(p384, scalar))),
                    Some(curve @ P521) => (KeyKind::Ec { curve }, Some(ec_public_from_scalar!(p521, scalar))),
                    // Parameters of some other curve: an EC key no TLS client uses.
                    _ => (KeyKind::Other { algorithm: "EC".to_owned() }, None),
                }
            }
            EC => {
                let curve = param_oid.ok_or("the EC private key does not name its curve")?;
                let spki = match curve {
                    P256 => Some(ec_public!(p256, pkcs8_der)),
                    P384 => Some(ec_public!(p384, pkcs8_der)),
                    P521 => Some(ec_public!(p521, pkcs8_der)),
                    _ => {
                        embedded_public = sec1::EcPrivateKey::from_der(pki.private_key.as_bytes())
                            .ok()
                            .and_then(|k| k.public_key.map(<[u8]>::to_vec));
                        None
                    }
                };
                (KeyKind::Ec { curve }, spki)
            }
            ED25519 => {
                let key = ed25519_dalek::SigningKey::from_pkcs8_der(pkcs8_der)
                    .map_err(|e| format!("the Ed25519 private key does not decode ({e})"))?;
                embedded_public = Some(key.verifying_key().to_bytes().to_vec());
                (KeyKind::Ed25519, None)
            }
            other => (KeyKind::Other { algorithm: algorithm_name(&other) }, None),
        };
        let info = match &kind {
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
        };
        Ok(Self {
            kind,
            info,
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
                        P256 => same_ec!(p256, own, point),
                        P384 => same_ec!(p384, own, point),
                        P521 => same_ec!(p521, own, point),
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
    [(P256, curve_order::<p256::NistP256>()), (P384, curve_order::<p384::NistP384>()), (P521, curve_order::<p521::NistP521>())]
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
        P256 => "P-256".to_owned(),
        P384 => "P-384".to_owned(),
        P521 => "P-521".to_owned(),
        SECP256K1 => "secp256k1".to_owned(),
        other => other.to_string(),
    }
}

fn curve_bits(curve: &Oid) -> Option<u32> {
    match *curve {
        P256 | SECP256K1 => Some(256),
        P384 => Some(384),
        P521 => Some(521),
        _ => None,
    }
}

fn algorithm_name(oid: &Oid) -> String {
    match *oid {
        DSA => "DSA".to_owned(),
        ED448 => "Ed448".to_owned(),
        RSA_PSS => "RSASSA-PSS".to_owned(),
        other => match other.to_string().as_str() {
            "1.3.101.110" => "X25519".to_owned(),
            "1.3.101.111" => "X448".to_owned(),
            "1.2.840.10046.2.1" => "DH".to_owned(),
            s => s.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_counts_significant_bits() {
        assert_eq!(bit_length(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_length(&[0x01]), 1);
        assert_eq!(bit_length(&[0x00]), 0);
    }
}
