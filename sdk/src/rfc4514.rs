//! RFC 4514 strings of X.501 names for certificate reports (`CN=client,O=Brand`).
//!
//! The same strings x509-cert's `Display` for `Name` writes, from a table of attribute type
//! names instead of const-oid's whole OID database, which that `Display` links into every build
//! (about 20 KiB gzip of the npm package's WebAssembly). The table holds, for every attribute
//! arc where standard attribute types live (X.520 `2.5.4`, RFC 4519's `0.9.2342.19200300.100.1`,
//! PKCS #9 `1.2.840.113549.1.9`, RFC 3739 `1.3.6.1.5.5.7.9`), the name that database gives
//! (its shortest, upper-cased); a test compares the two over those arcs. A type outside the
//! table is written as its dotted OID and the hex DER of its value, RFC 4514's form for types
//! without a name.

use std::fmt::Write;

use der::asn1::{Ia5StringRef, ObjectIdentifier as Oid, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use der::{Encode, Tag, Tagged};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::Name;

/// The name as RFC 4514 writes it: relative names last-first, separated by `,`, the attributes
/// of a multi-valued one by `+`.
pub(crate) fn name_string(name: &Name) -> String {
    let mut out = String::new();
    let rdns: Vec<_> = name.iter_rdn().collect();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attribute) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            push_attribute(&mut out, attribute);
        }
    }
    out
}

fn push_attribute(out: &mut String, attribute: &AttributeTypeAndValue) {
    let value = &attribute.value;
    let text = match value.tag() {
        Tag::PrintableString => PrintableStringRef::try_from(value).ok().map(|s| s.as_str()),
        Tag::Utf8String => Utf8StringRef::try_from(value).ok().map(|s| s.as_str()),
        Tag::Ia5String => Ia5StringRef::try_from(value).ok().map(|s| s.as_str()),
        Tag::TeletexString => TeletexStringRef::try_from(value).ok().map(|s| s.as_str()),
        _ => None,
    };
    match (attribute_type_name(&attribute.oid), text) {
        (Some(type_name), Some(text)) => {
            out.push_str(type_name);
            out.push('=');
            push_escaped(out, text);
        }
        _ => {
            let _ = write!(out, "{}=#", attribute.oid);
            out.push_str(&hex::encode(value.to_der().unwrap_or_default()));
        }
    }
}

/// RFC 4514 section 2.4 escaping, as x509-cert writes it.
fn push_escaped(out: &mut String, text: &str) {
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || chars.peek().is_none() => out.push_str("\\ "),
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\x00'..='\x1f' | '\x7f' => {
                let _ = write!(out, "\\{:02x}", c as u8);
            }
            _ => out.push(c),
        }
    }
}

fn attribute_type_name(oid: &Oid) -> Option<&'static str> {
    ATTRIBUTE_TYPE_NAMES.iter().find(|(known, _)| known == oid).map(|(_, name)| *name)
}

/// Attribute types and their names (see the module documentation for where they come from).
const ATTRIBUTE_TYPE_NAMES: &[(Oid, &str)] = &[
    (Oid::new_unwrap("2.5.4.0"), "OBJECTCLASS"),
    (Oid::new_unwrap("2.5.4.1"), "ALIASEDOBJECTNAME"),
    (Oid::new_unwrap("2.5.4.2"), "KNOWLEDGEINFORMATION"),
    (Oid::new_unwrap("2.5.4.3"), "CN"),
    (Oid::new_unwrap("2.5.4.4"), "SN"),
    (Oid::new_unwrap("2.5.4.5"), "SERIALNUMBER"),
    (Oid::new_unwrap("2.5.4.6"), "C"),
    (Oid::new_unwrap("2.5.4.7"), "L"),
    (Oid::new_unwrap("2.5.4.8"), "ST"),
    (Oid::new_unwrap("2.5.4.9"), "STREET"),
    (Oid::new_unwrap("2.5.4.10"), "O"),
    (Oid::new_unwrap("2.5.4.11"), "OU"),
    (Oid::new_unwrap("2.5.4.12"), "TITLE"),
    (Oid::new_unwrap("2.5.4.13"), "DESCRIPTION"),
    (Oid::new_unwrap("2.5.4.14"), "SEARCHGUIDE"),
    (Oid::new_unwrap("2.5.4.15"), "BUSINESSCATEGORY"),
    (Oid::new_unwrap("2.5.4.16"), "POSTALADDRESS"),
    (Oid::new_unwrap("2.5.4.17"), "POSTALCODE"),
    (Oid::new_unwrap("2.5.4.18"), "POSTOFFICEBOX"),
    (Oid::new_unwrap("2.5.4.19"), "PHYSICALDELIVERYOFFICENAME"),
    (Oid::new_unwrap("2.5.4.20"), "TELEPHONENUMBER"),
    (Oid::new_unwrap("2.5.4.21"), "TELEXNUMBER"),
    (Oid::new_unwrap("2.5.4.22"), "TELETEXTERMINALIDENTIFIER"),
    (Oid::new_unwrap("2.5.4.23"), "FACSIMILETELEPHONENUMBER"),
    (Oid::new_unwrap("2.5.4.24"), "X121ADDRESS"),
    (Oid::new_unwrap("2.5.4.25"), "INTERNATIONALISDNNUMBER"),
    (Oid::new_unwrap("2.5.4.26"), "REGISTEREDADDRESS"),
    (Oid::new_unwrap("2.5.4.27"), "DESTINATIONINDICATOR"),
    (Oid::new_unwrap("2.5.4.28"), "PREFERREDDELIVERYMETHOD"),
    (Oid::new_unwrap("2.5.4.29"), "PRESENTATIONADDRESS"),
    (Oid::new_unwrap("2.5.4.30"), "SUPPORTEDAPPLICATIONCONTEXT"),
    (Oid::new_unwrap("2.5.4.31"), "MEMBER"),
    (Oid::new_unwrap("2.5.4.32"), "OWNER"),
    (Oid::new_unwrap("2.5.4.33"), "ROLEOCCUPANT"),
    (Oid::new_unwrap("2.5.4.34"), "SEEALSO"),
    (Oid::new_unwrap("2.5.4.35"), "USERPASSWORD"),
    (Oid::new_unwrap("2.5.4.36"), "USERCERTIFICATE"),
    (Oid::new_unwrap("2.5.4.37"), "CACERTIFICATE"),
    (Oid::new_unwrap("2.5.4.38"), "AUTHORITYREVOCATIONLIST"),
    (Oid::new_unwrap("2.5.4.39"), "CERTIFICATEREVOCATIONLIST"),
    (Oid::new_unwrap("2.5.4.40"), "CROSSCERTIFICATEPAIR"),
    (Oid::new_unwrap("2.5.4.41"), "NAME"),
    (Oid::new_unwrap("2.5.4.42"), "GN"),
    (Oid::new_unwrap("2.5.4.43"), "INITIALS"),
    (Oid::new_unwrap("2.5.4.44"), "GENERATIONQUALIFIER"),
    (Oid::new_unwrap("2.5.4.45"), "X500UNIQUEIDENTIFIER"),
    (Oid::new_unwrap("2.5.4.46"), "DNQUALIFIER"),
    (Oid::new_unwrap("2.5.4.47"), "ENHANCEDSEARCHGUIDE"),
    (Oid::new_unwrap("2.5.4.48"), "PROTOCOLINFORMATION"),
    (Oid::new_unwrap("2.5.4.49"), "DISTINGUISHEDNAME"),
    (Oid::new_unwrap("2.5.4.50"), "UNIQUEMEMBER"),
    (Oid::new_unwrap("2.5.4.51"), "HOUSEIDENTIFIER"),
    (Oid::new_unwrap("2.5.4.52"), "SUPPORTEDALGORITHMS"),
    (Oid::new_unwrap("2.5.4.53"), "DELTAREVOCATIONLIST"),
    (Oid::new_unwrap("2.5.4.54"), "DMDNAME"),
    (Oid::new_unwrap("2.5.4.65"), "PSEUDONYM"),
    (Oid::new_unwrap("2.5.4.72"), "ID-AT-ROLE"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.1"), "UID"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.2"), "TEXTENCODEDORADDRESS"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.3"), "MAIL"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.4"), "INFO"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.5"), "DRINK"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.6"), "ROOMNUMBER"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.7"), "PHOTO"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.8"), "USERCLASS"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.9"), "HOST"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.10"), "MANAGER"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.11"), "DOCUMENTIDENTIFIER"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.12"), "DOCUMENTTITLE"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.13"), "DOCUMENTVERSION"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.14"), "DOCUMENTAUTHOR"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.15"), "DOCUMENTLOCATION"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.20"), "HOMEPHONE"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.21"), "SECRETARY"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.22"), "OTHERMAILBOX"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.23"), "LASTMODIFIEDTIME"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.24"), "LASTMODIFIEDBY"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.25"), "DC"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.26"), "ARECORD"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.27"), "MDRECORD"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.28"), "MXRECORD"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.29"), "NSRECORD"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.30"), "SOARECORD"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.31"), "CNAMERECORD"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.37"), "ASSOCIATEDDOMAIN"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.38"), "ASSOCIATEDNAME"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.39"), "HOMEPOSTALADDRESS"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.40"), "PERSONALTITLE"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.41"), "MOBILE"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.42"), "PAGER"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.43"), "CO"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.44"), "UNIQUEIDENTIFIER"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.45"), "ORGANIZATIONALSTATUS"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.46"), "JANETMAILBOX"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.47"), "MAILPREFERENCEOPTION"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.48"), "BUILDINGNAME"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.49"), "DSAQUALITY"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.50"), "SINGLELEVELQUALITY"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.51"), "SUBTREEMINIMUMQUALITY"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.52"), "SUBTREEMAXIMUMQUALITY"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.53"), "PERSONALSIGNATURE"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.54"), "DITREDIRECT"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.55"), "AUDIO"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.56"), "DOCUMENTPUBLISHER"),
    (Oid::new_unwrap("0.9.2342.19200300.100.1.60"), "JPEGPHOTO"),
    (Oid::new_unwrap("1.2.840.113549.1.9.0"), "PKCS-9-MO"),
    (Oid::new_unwrap("1.2.840.113549.1.9.1"), "EMAIL"),
    (Oid::new_unwrap("1.2.840.113549.1.9.2"), "PKCS-9-AT-UNSTRUCTUREDNAME"),
    (Oid::new_unwrap("1.2.840.113549.1.9.3"), "ID-CONTENTTYPE"),
    (Oid::new_unwrap("1.2.840.113549.1.9.4"), "ID-MESSAGEDIGEST"),
    (Oid::new_unwrap("1.2.840.113549.1.9.5"), "ID-SIGNINGTIME"),
    (Oid::new_unwrap("1.2.840.113549.1.9.6"), "ID-COUNTERSIGNATURE"),
    (Oid::new_unwrap("1.2.840.113549.1.9.7"), "PKCS-9-AT-CHALLENGEPASSWORD"),
    (Oid::new_unwrap("1.2.840.113549.1.9.8"), "PKCS-9-AT-UNSTRUCTUREDADDRESS"),
    (Oid::new_unwrap("1.2.840.113549.1.9.9"), "PKCS-9-AT-EXTENDEDCERTIFICATEATTRIBUTES"),
    (Oid::new_unwrap("1.2.840.113549.1.9.10"), "PKCS-9-AT-ISSUERANDSERIALNUMBER"),
    (Oid::new_unwrap("1.2.840.113549.1.9.11"), "PKCS-9-AT-PASSWORDCHECK"),
    (Oid::new_unwrap("1.2.840.113549.1.9.12"), "PKCS-9-AT-PUBLICKEY"),
    (Oid::new_unwrap("1.2.840.113549.1.9.13"), "PKCS-9-AT-SIGNINGDESCRIPTION"),
    (Oid::new_unwrap("1.2.840.113549.1.9.14"), "ID-EXTENSIONREQ"),
    (Oid::new_unwrap("1.2.840.113549.1.9.15"), "SMIMECAPABILITIES"),
    (Oid::new_unwrap("1.2.840.113549.1.9.16"), "SMIME"),
    (Oid::new_unwrap("1.2.840.113549.1.9.20"), "PKCS-9-AT-FRIENDLYNAME"),
    (Oid::new_unwrap("1.2.840.113549.1.9.21"), "PKCS-9-AT-LOCALKEYID"),
    (Oid::new_unwrap("1.2.840.113549.1.9.22"), "CERTTYPES"),
    (Oid::new_unwrap("1.2.840.113549.1.9.23"), "CRLTYPES"),
    (Oid::new_unwrap("1.2.840.113549.1.9.24"), "PKCS-9-OC"),
    (Oid::new_unwrap("1.2.840.113549.1.9.25"), "PKCS-9-AT"),
    (Oid::new_unwrap("1.2.840.113549.1.9.26"), "PKCS-9-SX"),
    (Oid::new_unwrap("1.2.840.113549.1.9.27"), "PKCS-9-MR"),
    (Oid::new_unwrap("1.3.6.1.5.5.7.9.1"), "PKCS-9-AT-DATEOFBIRTH"),
    (Oid::new_unwrap("1.3.6.1.5.5.7.9.2"), "PKCS-9-AT-PLACEOFBIRTH"),
    (Oid::new_unwrap("1.3.6.1.5.5.7.9.3"), "PKCS-9-AT-GENDER"),
    (Oid::new_unwrap("1.3.6.1.5.5.7.9.4"), "PKCS-9-AT-COUNTRYOFCITIZENSHIP"),
    (Oid::new_unwrap("1.3.6.1.5.5.7.9.5"), "PKCS-9-AT-COUNTRYOFRESIDENCE"),
];

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use der::Decode;
    use der::asn1::{Any, SetOfVec};
    use x509_cert::name::{RdnSequence, RelativeDistinguishedName};

    use super::*;

    fn one_attribute(oid: Oid, value: Any) -> Name {
        let mut set = SetOfVec::new();
        set.insert(AttributeTypeAndValue { oid, value }).unwrap();
        let rdns: Vec<RelativeDistinguishedName> = vec![RelativeDistinguishedName::from(set)];
        Name::from_der(&RdnSequence::from(rdns).to_der().unwrap()).unwrap()
    }

    /// Every type in the standard attribute arcs is named as const-oid's database names it,
    /// and everything else (and non-string values) falls back the same way.
    #[test]
    fn names_every_standard_attribute_type_as_x509_cert_does() {
        let arcs = [
            ("2.5.4", 120),
            ("0.9.2342.19200300.100.1", 80),
            ("1.2.840.113549.1.9", 40),
            ("1.3.6.1.5.5.7.9", 10),
            ("1.3.6.1.4.1.311.60.2.1", 5),
        ];
        let utf8 = Any::from_der(&Utf8StringRef::new("x").unwrap().to_der().unwrap()).unwrap();
        let integer = Any::from_der(&[0x02, 0x01, 0x05]).unwrap();
        let mut compared = 0;
        for (arc, last) in arcs {
            for n in 0..=last {
                let oid = Oid::new(&format!("{arc}.{n}")).unwrap();
                for value in [&utf8, &integer] {
                    let name = one_attribute(oid, value.clone());
                    assert_eq!(name_string(&name), name.to_string(), "{oid}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 500);
    }

    #[test]
    fn writes_relative_names_last_first_with_escapes_as_x509_cert_does() {
        for text in [
            "CN=client,O=Brand\\, Inc.,C=US",
            "UID=jdoe,DC=example,DC=com",
            "CN=caf\u{e9},SERIALNUMBER=42",
            "CN=multi+OU=valued,O=x",
        ] {
            let name = Name::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(name_string(&name), name.to_string(), "{text}");
        }
        assert_eq!(name_string(&Name::default()), "");
        let utf8 = |text: &str| Any::from_der(&Utf8StringRef::new(text).unwrap().to_der().unwrap()).unwrap();
        for (value, expected) in [
            ("#hash ", "CN=\\#hash\\ "),
            (" lead", "CN=\\ lead"),
            ("a+b,c;d<e>f\"g\\h", "CN=a\\+b\\,c\\;d\\<e\\>f\\\"g\\\\h"),
        ] {
            let name = one_attribute(Oid::new_unwrap("2.5.4.3"), utf8(value));
            assert_eq!(name_string(&name), expected);
            assert_eq!(name_string(&name), name.to_string());
        }
        let control = one_attribute(
            Oid::new_unwrap("2.5.4.3"),
            Any::from_der(&Utf8StringRef::new("a\u{1}b\u{7f}").unwrap().to_der().unwrap()).unwrap(),
        );
        assert_eq!(name_string(&control), "CN=a\\01b\\7f");
        assert_eq!(name_string(&control), control.to_string());
    }
}
