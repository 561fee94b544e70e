//! The outer PFX structures of RFC 7292 section 4 and the PKCS#7 ContentInfo they carry.

use der::asn1::{Int, ObjectIdentifier, OctetString};
use der::{Any, Sequence};
use spki::AlgorithmIdentifierOwned;

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
///
/// AuthenticatedSafe ::= SEQUENCE OF ContentInfo
/// ```
#[derive(Clone, Debug, Sequence)]
pub(crate) struct ContentInfo {
    pub(crate) content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) content: Option<Any>,
}

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
