//! SafeBag and the bag values of RFC 7292 section 4.2.

use der::asn1::{ObjectIdentifier, OctetString};
use der::{Any, Decode, Encode, Sequence, SliceReader};
use spki::AlgorithmIdentifierOwned;

/// [RFC 7292 section 4.2](https://www.rfc-editor.org/rfc/rfc7292#section-4.2).
///
/// ```text
/// SafeContents ::= SEQUENCE OF SafeBag
/// ```
pub(crate) type SafeContents = Vec<SafeBag>;

/// [RFC 7292 section 4.2](https://www.rfc-editor.org/rfc/rfc7292#section-4.2).
///
/// ```text
/// SafeBag ::= SEQUENCE {
///     bagId         BAG-TYPE.&id ({PKCS12BagSet}),
///     bagValue      [0] EXPLICIT BAG-TYPE.&Type({PKCS12BagSet}{@bagId}),
///     bagAttributes SET OF PKCS12Attribute OPTIONAL
/// }
/// ```
/// `bagAttributes` is kept raw and read by [`SafeBag::local_key_id`]: DER's SET OF ordering rule
/// is not something writers respect. The builder encodes a DER-sorted `SetOfVec` into it.
#[derive(Clone, Debug, Sequence)]
pub(crate) struct SafeBag {
    pub(crate) bag_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub(crate) bag_value: Any,
    pub(crate) bag_attributes: Option<Any>,
}

/// [RFC 7292 section 4.2.3](https://www.rfc-editor.org/rfc/rfc7292#section-4.2.3).
///
/// ```text
/// CertBag ::= SEQUENCE {
///     certId    BAG-TYPE.&id   ({CertTypes}),
///     certValue [0] EXPLICIT BAG-TYPE.&Type ({CertTypes}{@certId})
/// }
/// x509Certificate BAG-TYPE ::= {OCTET STRING IDENTIFIED BY {certTypes 1}}
/// ```
/// `certValue` is kept as [`Any`]: the reader reports a value that is not an OCTET STRING.
#[derive(Clone, Debug, Sequence)]
pub(crate) struct CertBag {
    pub(crate) cert_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub(crate) cert_value: Any,
}

/// [RFC 5958 section 3](https://www.rfc-editor.org/rfc/rfc5958#section-3), the value of a
/// `pkcs8ShroudedKeyBag` and of an `ENCRYPTED PRIVATE KEY` PEM block.
///
/// ```text
/// EncryptedPrivateKeyInfo ::= SEQUENCE {
///     encryptionAlgorithm  EncryptionAlgorithmIdentifier,
///     encryptedData        EncryptedData }
/// ```
/// Not `pkcs8::EncryptedPrivateKeyInfo`, whose algorithm type knows only PBES1 and PBES2, not
/// the PKCS#12 PBE schemes of the legacy profile and of older files.
#[derive(Clone, Debug, Sequence)]
pub(crate) struct EncryptedPrivateKeyInfo {
    pub(crate) encryption_algorithm: AlgorithmIdentifierOwned,
    pub(crate) encrypted_data: OctetString,
}

/// [RFC 7292 section 4.2](https://www.rfc-editor.org/rfc/rfc7292#section-4.2).
///
/// ```text
/// PKCS12Attribute ::= SEQUENCE {
///     attrId      ATTRIBUTE.&id ({PKCS12AttrSet}),
///     attrValues  SET OF ATTRIBUTE.&Type ({PKCS12AttrSet}{@attrId})
/// }
/// ```
#[derive(Clone, Debug, Sequence)]
pub(crate) struct Pkcs12Attribute {
    pub(crate) attr_id: ObjectIdentifier,
    pub(crate) attr_values: Any,
}

impl SafeBag {
    /// The first value of the `localKeyId` attribute, when present and well formed.
    pub(crate) fn local_key_id(&self) -> Option<Vec<u8>> {
        let value = self.first_attribute_value(&crate::oids::LOCAL_KEY_ID)?;
        Some(OctetString::from_der(&value).ok()?.as_bytes().to_vec())
    }

    /// The first value of the `friendlyName` attribute (a BMPString), when present.
    pub(crate) fn friendly_name(&self) -> Option<String> {
        let value = self.first_attribute_value(&crate::oids::FRIENDLY_NAME)?;
        let bmp = der::asn1::BmpString::from_der(&value).ok()?;
        Some(bmp.to_string())
    }

    /// DER of the first value of the attribute `id`.
    fn first_attribute_value(&self, id: &ObjectIdentifier) -> Option<Vec<u8>> {
        let attributes = self.bag_attributes.as_ref()?;
        let mut reader = SliceReader::new(attributes.value()).ok()?;
        while let Ok(attribute) = Pkcs12Attribute::decode(&mut reader) {
            if attribute.attr_id == *id {
                let mut values = SliceReader::new(attribute.attr_values.value()).ok()?;
                return der::Any::decode(&mut values).ok()?.to_der().ok();
            }
        }
        None
    }
}
