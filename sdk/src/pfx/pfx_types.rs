//! The outer PFX structures of RFC 7292 section 4 and the PKCS#7 ContentInfo they carry.
//!
//! With `safe_bag` and `pbe_params`, the one ASN.1 vocabulary of PKCS#12 in the SDK: the reader
//! decodes these types (after `super::ber` turned BER into DER) and the builder
//! (`crate::p12_builder`) encodes them. Where files in the wild differ from DER, a field is
//! kept wider than the ASN.1 type ([`Int`] for INTEGERs, [`Any`] for values read later, OPTIONAL
//! for DEFAULT), so the reader reports on them instead of failing to decode; the builder fills
//! those fields with the DER forms through the constructors here.

use der::asn1::{Int, ObjectIdentifier, OctetString};
use der::{Any, EncodeValue, Sequence, Tag, TagNumber, Tagged};
use spki::AlgorithmIdentifierOwned;

use crate::oids;

/// PFX PDU, [RFC 7292 section 4](https://www.rfc-editor.org/rfc/rfc7292#section-4).
///
/// ```text
/// PFX ::= SEQUENCE {
///     version     INTEGER {v3(3)}(v3,...),
///     authSafe    ContentInfo,
///     macData     MacData OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, Sequence)]
pub(crate) struct Pfx {
    pub(crate) version: Int,
    pub(crate) auth_safe: ContentInfo,
    pub(crate) mac_data: Option<MacData>,
}

/// [RFC 7292 section 4](https://www.rfc-editor.org/rfc/rfc7292#section-4).
///
/// ```text
/// MacData ::= SEQUENCE {
///     mac         DigestInfo,
///     macSalt     OCTET STRING,
///     iterations  INTEGER DEFAULT 1
/// }
/// ```
/// `iterations` is OPTIONAL here rather than DEFAULT so a file that encodes the default value
/// explicitly (not DER, but written by some toolkits) still decodes.
#[derive(Clone, Debug, Sequence)]
pub(crate) struct MacData {
    pub(crate) mac: DigestInfo,
    pub(crate) mac_salt: OctetString,
    pub(crate) iterations: Option<Int>,
}

/// [RFC 8017 section 9.2](https://www.rfc-editor.org/rfc/rfc8017#section-9.2).
///
/// ```text
/// DigestInfo ::= SEQUENCE {
///     digestAlgorithm DigestAlgorithmIdentifier,
///     digest          Digest }
/// ```
#[derive(Clone, Debug, Sequence)]
pub(crate) struct DigestInfo {
    pub(crate) digest_algorithm: AlgorithmIdentifierOwned,
    pub(crate) digest: OctetString,
}

/// [RFC 2315 section 7](https://www.rfc-editor.org/rfc/rfc2315#section-7).
///
/// ```text
/// ContentInfo ::= SEQUENCE {
///     contentType ContentType,
///     content     [0] EXPLICIT ANY DEFINED BY contentType OPTIONAL }
/// ```
#[derive(Clone, Debug, Sequence)]
pub(crate) struct ContentInfo {
    pub(crate) content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) content: Option<Any>,
}

/// [RFC 7292 section 4](https://www.rfc-editor.org/rfc/rfc7292#section-4).
///
/// ```text
/// AuthenticatedSafe ::= SEQUENCE OF ContentInfo
///     -- Data if unencrypted
///     -- EncryptedData if password-encrypted
/// ```
pub(crate) type AuthenticatedSafe = Vec<ContentInfo>;

/// [RFC 2315 section 13](https://www.rfc-editor.org/rfc/rfc2315#section-13).
///
/// ```text
/// EncryptedData ::= SEQUENCE {
///     version Version,
///     encryptedContentInfo EncryptedContentInfo }
/// ```
#[derive(Clone, Debug, Sequence)]
pub(crate) struct EncryptedData {
    pub(crate) version: Int,
    pub(crate) encrypted_content_info: EncryptedContentInfo,
}

/// [RFC 2315 section 10.1](https://www.rfc-editor.org/rfc/rfc2315#section-10.1).
///
/// ```text
/// EncryptedContentInfo ::= SEQUENCE {
///     contentType ContentType,
///     contentEncryptionAlgorithm ContentEncryptionAlgorithmIdentifier,
///     encryptedContent [0] IMPLICIT EncryptedContent OPTIONAL }
/// ```
/// `encryptedContent` is kept as [`Any`]: BER writers chunk it into a constructed `[0]`, which
/// [`super::ber::implicit_octets`] joins.
#[derive(Clone, Debug, Sequence)]
pub(crate) struct EncryptedContentInfo {
    pub(crate) content_type: ObjectIdentifier,
    pub(crate) content_encryption_algorithm: AlgorithmIdentifierOwned,
    pub(crate) encrypted_content: Option<Any>,
}

impl ContentInfo {
    /// A ContentInfo of type `content_type` holding `content`.
    ///
    /// # Errors
    /// When `content` cannot be encoded (a bug, not bad input).
    pub(crate) fn new<T: Tagged + EncodeValue>(
        content_type: ObjectIdentifier,
        content: &T,
    ) -> der::Result<Self> {
        Ok(Self { content_type, content: Some(Any::encode_from(content)?) })
    }

    /// A ContentInfo of type Data holding `content` in an OCTET STRING.
    ///
    /// # Errors
    /// When `content` is too long for DER.
    pub(crate) fn data(content: Vec<u8>) -> der::Result<Self> {
        Self::new(oids::DATA, &OctetString::new(content)?)
    }
}

impl EncryptedContentInfo {
    /// `encryptedContent` as DER writes it: `[0] IMPLICIT OCTET STRING`, primitive.
    ///
    /// # Errors
    /// When `ciphertext` is too long for DER.
    pub(crate) fn encrypted_content(ciphertext: Vec<u8>) -> der::Result<Any> {
        Any::new(Tag::ContextSpecific { constructed: false, number: TagNumber(0) }, ciphertext)
    }
}

/// A DER INTEGER of `value` in the reader's wide [`Int`] type.
///
/// # Errors
/// None in practice: every `u32` is a valid INTEGER.
pub(crate) fn integer(value: u32) -> der::Result<Int> {
    Int::try_from(i64::from(value))
}

#[cfg(test)]
mod tests {
    use der::{Decode, Encode};

    use super::*;

    #[test]
    fn integer_encodes_as_the_minimal_der_integer() {
        assert_eq!(integer(3).unwrap().to_der().unwrap(), [0x02, 0x01, 0x03]);
        assert_eq!(integer(128).unwrap().to_der().unwrap(), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(integer(10_000).unwrap().to_der().unwrap(), 10_000u32.to_der().unwrap());
    }

    #[test]
    fn written_encrypted_content_is_primitive_implicit_octets_the_reader_joins() {
        let content = EncryptedContentInfo::encrypted_content(vec![1, 2, 3]).unwrap();
        assert_eq!(content.to_der().unwrap(), [0x80, 0x03, 1, 2, 3]);
        assert_eq!(super::super::ber::implicit_octets(&content).unwrap(), [1, 2, 3]);
    }

    #[test]
    fn data_content_info_round_trips_through_the_reader_types() {
        let info = ContentInfo::data(vec![7; 200]).unwrap();
        let der = info.to_der().unwrap();
        let again = ContentInfo::from_der(&der).unwrap();
        assert_eq!(again.content_type, oids::DATA);
        let octets: OctetString = again.content.unwrap().decode_as().unwrap();
        assert_eq!(octets.as_bytes(), [7; 200]);
    }
}
