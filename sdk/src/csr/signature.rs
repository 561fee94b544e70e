//! How a CSR is signed: the scheme follows from the public key (RFC 5758 section 3.2 pairs each
//! ECDSA curve with the hash of its size, as OpenSSL and WebCrypto do), and the signature value
//! the signer returns becomes the BIT STRING content X.509 wants.
//!
//! Signers return ECDSA signatures as r || s, each the size of the curve's order (IEEE P1363):
//! WebCrypto's `subtle.sign` has no other form, and the native signer uses the same so both go
//! through [`CsrSignatureScheme::signature_value`]. X.509 wants `Ecdsa-Sig-Value ::= SEQUENCE
//! { r INTEGER, s INTEGER }` (RFC 3279 section 2.2.3), written here with `der` alone: no curve
//! arithmetic, so the WebAssembly module needs none.

use der::Encode;
use der::asn1::UintRef;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::oids::{
    EC_PUBLIC_KEY, ECDSA_WITH_SHA256, ECDSA_WITH_SHA384, ECDSA_WITH_SHA512, ED25519,
    RSA_ENCRYPTION, SECP256R1, SECP384R1, SECP521R1, SHA256_WITH_RSA_ENCRYPTION,
};

/// The signature algorithm of a CSR, chosen by its public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CsrSignatureScheme {
    /// RSA PKCS#1 v1.5 with SHA-256 (WebCrypto `RSASSA-PKCS1-v1_5`, the key's hash SHA-256).
    RsaPkcs1Sha256,
    /// ECDSA on P-256 with SHA-256.
    EcdsaP256Sha256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384Sha384,
    /// ECDSA on P-521 with SHA-512.
    EcdsaP521Sha512,
    /// Ed25519 (RFC 8410).
    Ed25519,
}

/// `Ecdsa-Sig-Value` of RFC 3279 section 2.2.3.
#[derive(der::Sequence)]
struct EcdsaSigValue<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

impl CsrSignatureScheme {
    /// The scheme for a public key, or `None` for a key type CSRs are not made for (RSA, EC on
    /// P-256/P-384/P-521 and Ed25519 are).
    pub(crate) fn for_public_key(spki: &SubjectPublicKeyInfoOwned) -> Option<Self> {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|parameters| parameters.decode_as::<spki::ObjectIdentifier>().ok());
        match (spki.algorithm.oid, curve) {
            (RSA_ENCRYPTION, _) => Some(Self::RsaPkcs1Sha256),
            (EC_PUBLIC_KEY, Some(SECP256R1)) => Some(Self::EcdsaP256Sha256),
            (EC_PUBLIC_KEY, Some(SECP384R1)) => Some(Self::EcdsaP384Sha384),
            (EC_PUBLIC_KEY, Some(SECP521R1)) => Some(Self::EcdsaP521Sha512),
            (ED25519, _) => Some(Self::Ed25519),
            _ => None,
        }
    }

    /// The hash WebCrypto names for this scheme (`SHA-256`, `SHA-384`, `SHA-512`); `None` for
    /// Ed25519, which hashes internally.
    pub fn hash_name(self) -> Option<&'static str> {
        match self {
            Self::RsaPkcs1Sha256 | Self::EcdsaP256Sha256 => Some("SHA-256"),
            Self::EcdsaP384Sha384 => Some("SHA-384"),
            Self::EcdsaP521Sha512 => Some("SHA-512"),
            Self::Ed25519 => None,
        }
    }

    /// The size of r and of s in an ECDSA signature (the order's size in bytes), `None` for
    /// the other schemes.
    pub fn ecdsa_scalar_len(self) -> Option<usize> {
        match self {
            Self::EcdsaP256Sha256 => Some(32),
            Self::EcdsaP384Sha384 => Some(48),
            Self::EcdsaP521Sha512 => Some(66),
            Self::RsaPkcs1Sha256 | Self::Ed25519 => None,
        }
    }

    /// The `signatureAlgorithm` of the CSR.
    pub(crate) fn algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        let (oid, parameters) = match self {
            // RFC 4055 section 5: the parameters of sha256WithRSAEncryption are NULL.
            Self::RsaPkcs1Sha256 => (SHA256_WITH_RSA_ENCRYPTION, Some(der::asn1::Any::null())),
            // RFC 5758 section 3.2: ECDSA algorithm identifiers have no parameters.
            Self::EcdsaP256Sha256 => (ECDSA_WITH_SHA256, None),
            Self::EcdsaP384Sha384 => (ECDSA_WITH_SHA384, None),
            Self::EcdsaP521Sha512 => (ECDSA_WITH_SHA512, None),
            Self::Ed25519 => (ED25519, None),
        };
        AlgorithmIdentifierOwned { oid, parameters }
    }

    /// The content of the CSR's signature BIT STRING for a signer's `signature`: the RSA and
    /// Ed25519 signatures as they are, an ECDSA r || s as its DER `Ecdsa-Sig-Value`. `None`
    /// when an ECDSA signature is not two non-zero numbers of the curve's size.
    pub(crate) fn signature_value(self, signature: &[u8]) -> Option<Vec<u8>> {
        let Some(scalar_len) = self.ecdsa_scalar_len() else {
            return (!signature.is_empty()).then(|| signature.to_vec());
        };
        if signature.len() != 2 * scalar_len {
            return None;
        }
        let (r, s) = signature.split_at(scalar_len);
        if r.iter().all(|&byte| byte == 0) || s.iter().all(|&byte| byte == 0) {
            return None;
        }
        EcdsaSigValue {
            r: UintRef::new(r).ok()?,
            s: UintRef::new(s).ok()?,
        }
        .to_der()
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_signature_becomes_der_integers_without_leading_zeros_and_with_sign_padding() {
        let mut fixed = vec![0u8; 64];
        fixed[31] = 0x01; // r = 1: 31 leading zero bytes dropped
        fixed[32] = 0x80; // s has its high bit set: a 0x00 keeps it positive
        let der = CsrSignatureScheme::EcdsaP256Sha256
            .signature_value(&fixed)
            .unwrap();
        let mut expected = vec![0x30, 3 + 2 + 33, 0x02, 0x01, 0x01, 0x02, 0x21, 0x00];
        expected.extend_from_slice(&fixed[32..]);
        assert_eq!(der, expected);
    }

    #[test]
    fn ecdsa_signature_of_the_wrong_size_or_zero_is_refused() {
        let scheme = CsrSignatureScheme::EcdsaP384Sha384;
        assert_eq!(scheme.signature_value(&[1u8; 64]), None);
        assert_eq!(scheme.signature_value(&[1u8; 97]), None);
        let mut zero_r = vec![1u8; 96];
        zero_r[..48].fill(0);
        assert_eq!(scheme.signature_value(&zero_r), None);
        assert!(scheme.signature_value(&[1u8; 96]).is_some());
    }

    #[test]
    fn rsa_and_ed25519_signatures_pass_unchanged() {
        let signature = [7u8; 256];
        assert_eq!(
            CsrSignatureScheme::RsaPkcs1Sha256.signature_value(&signature),
            Some(signature.to_vec())
        );
        assert_eq!(
            CsrSignatureScheme::RsaPkcs1Sha256.signature_value(&[]),
            None
        );
        assert_eq!(
            CsrSignatureScheme::Ed25519.signature_value(&[9u8; 64]),
            Some(vec![9u8; 64])
        );
    }
}
