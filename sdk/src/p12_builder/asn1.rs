//! The PKCS#12 structures the builder writes (RFC 7292), one derived type per ASN.1 type.
//!
//! These are the writer's types, DER only; the reader in `crate::pfx` also accepts BER. Field
//! names are the snake_case of the ASN.1 names.

use der::Sequence;
use der::asn1::{Any, ObjectIdentifier, OctetString, SetOfVec};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;

/// RFC 7292 section 4:
/// ```text
/// PFX ::= SEQUENCE {
///     version     INTEGER {v3(3)}(v3,...),
///     authSafe    ContentInfo,
///     macData     MacData OPTIONAL
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct Pfx {
    pub(crate) version: u8,
    pub(crate) auth_safe: ContentInfo,
    #[asn1(optional = "true")]
    pub(crate) mac_data: Option<MacData>,
}

/// RFC 5652 section 3 (PKCS#7):
/// ```text
/// ContentInfo ::= SEQUENCE {
///     contentType ContentType,
///     content [0] EXPLICIT ANY DEFINED BY contentType OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct ContentInfo {
    pub(crate) content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) content: Option<Any>,
}

/// RFC 7292 section 4:
/// ```text
/// AuthenticatedSafe ::= SEQUENCE OF ContentInfo
///     -- Data if unencrypted
///     -- EncryptedData if password-encrypted
/// ```
pub(crate) type AuthenticatedSafe = Vec<ContentInfo>;

/// RFC 5652 section 8:
/// ```text
/// EncryptedData ::= SEQUENCE {
///     version CMSVersion,
///     encryptedContentInfo EncryptedContentInfo,
///     unprotectedAttrs [1] IMPLICIT UnprotectedAttributes OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct EncryptedData {
    pub(crate) version: u8,
    pub(crate) encrypted_content_info: EncryptedContentInfo,
}

/// RFC 5652 section 6.1:
/// ```text
/// EncryptedContentInfo ::= SEQUENCE {
///     contentType ContentType,
///     contentEncryptionAlgorithm ContentEncryptionAlgorithmIdentifier,
///     encryptedContent [0] IMPLICIT EncryptedContent OPTIONAL }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct EncryptedContentInfo {
    pub(crate) content_type: ObjectIdentifier,
    pub(crate) content_encryption_algorithm: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) encrypted_content: Option<OctetString>,
}

/// RFC 7292 section 4.2:
/// ```text
/// SafeContents ::= SEQUENCE OF SafeBag
/// ```
pub(crate) type SafeContents = Vec<SafeBag>;

/// RFC 7292 section 4.2:
/// ```text
/// SafeBag ::= SEQUENCE {
///     bagId         BAG-TYPE.&id ({PKCS12BagSet}),
///     bagValue      [0] EXPLICIT BAG-TYPE.&Type({PKCS12BagSet}{@bagId}),
///     bagAttributes SET OF PKCS12Attribute OPTIONAL
/// }
/// PKCS12Attribute ::= SEQUENCE {
///     attrId      ATTRIBUTE.&id ({PKCS12AttrSet}),
///     attrValues  SET OF ATTRIBUTE.&Type ({PKCS12AttrSet}{@attrId})
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct SafeBag {
    pub(crate) bag_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub(crate) bag_value: Any,
    #[asn1(optional = "true")]
    pub(crate) bag_attributes: Option<SetOfVec<Attribute>>,
}

/// RFC 7292 section 4.2.3:
/// ```text
/// CertBag ::= SEQUENCE {
///     certId      BAG-TYPE.&id   ({CertTypes}),
///     certValue   [0] EXPLICIT BAG-TYPE.&Type ({CertTypes}{@certId})
/// }
/// x509Certificate BAG-TYPE ::= {OCTET STRING IDENTIFIED BY {certTypes 1}}
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct CertBag {
    pub(crate) cert_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub(crate) cert_value: OctetString,
}

/// RFC 5208 section 6 (the value of a pkcs8ShroudedKeyBag, RFC 7292 section 4.2.2):
/// ```text
/// EncryptedPrivateKeyInfo ::= SEQUENCE {
///     encryptionAlgorithm  EncryptionAlgorithmIdentifier,
///     encryptedData        EncryptedData }
/// ```
/// Kept separate from `pkcs8::EncryptedPrivateKeyInfo`, whose algorithm type only knows PBES1
/// and PBES2, not the PKCS#12 PBE schemes of the legacy profile.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct EncryptedPrivateKeyInfo {
    pub(crate) encryption_algorithm: AlgorithmIdentifierOwned,
    pub(crate) encrypted_data: OctetString,
}

/// RFC 7292 section 4:
/// ```text
/// MacData ::= SEQUENCE {
///     mac        DigestInfo,
///     macSalt    OCTET STRING,
///     iterations INTEGER DEFAULT 1
/// }
/// ```
/// The builder never writes 1 iterations, so the DEFAULT never applies to its output.
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct MacData {
    pub(crate) mac: DigestInfo,
    pub(crate) mac_salt: OctetString,
    pub(crate) iterations: u32,
}

/// RFC 8017 section 9.2:
/// ```text
/// DigestInfo ::= SEQUENCE {
///     digestAlgorithm DigestAlgorithm,
///     digest OCTET STRING }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct DigestInfo {
    pub(crate) digest_algorithm: AlgorithmIdentifierOwned,
    pub(crate) digest: OctetString,
}

/// RFC 7292 appendix C:
/// ```text
/// pkcs-12PbeParams ::= SEQUENCE {
///     salt        OCTET STRING,
///     iterations  INTEGER
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub(crate) struct Pkcs12PbeParams {
    pub(crate) salt: OctetString,
    pub(crate) iterations: u32,
}

/// id-data (RFC 5652 section 4).
pub(crate) const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// id-encryptedData (RFC 5652 section 8).
pub(crate) const ID_ENCRYPTED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
/// pkcs8ShroudedKeyBag (RFC 7292 section 4.2.2).
pub(crate) const PKCS8_SHROUDED_KEY_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
/// certBag (RFC 7292 section 4.2.3).
pub(crate) const CERT_BAG: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.3");
/// x509Certificate certTypes 1 (RFC 7292 section 4.2.3; PKCS#9 certTypes arc).
pub(crate) const X509_CERTIFICATE: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");
/// pkcs-9-at-friendlyName (RFC 2985 section 5.5.1), a BMPString.
pub(crate) const FRIENDLY_NAME: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.20");
/// pkcs-9-at-localKeyId (RFC 2985 section 5.5.2), an OCTET STRING.
pub(crate) const LOCAL_KEY_ID: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.21");
