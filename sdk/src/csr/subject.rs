//! The subject of a CSR: validated fields to an X.501 `Name` (RFC 5280 section 4.1.2.6).
//!
//! Rules: `commonName` is required; every field is trimmed, an empty optional field counts as
//! absent; no control characters; lengths within the upper bounds of RFC 5280 appendix A
//! (64 characters for CN, O and OU; 128 for L and ST; 255 for the email address); `country` is
//! two ASCII letters (ISO 3166-1 alpha-2, upper-cased); `email` is an ASCII `local@domain`.
//! Strings are UTF8String (RFC 5280 section 4.1.2.6 says MUST for new names), the country a
//! PrintableString and the email an IA5String, as their ASN.1 types require. RDNs are written in
//! OpenSSL's order: C, ST, L, O, OU, CN, emailAddress.

use der::asn1::{Any, Ia5StringRef, PrintableStringRef, SetOfVec, Utf8StringRef};
use der::{Decode, Encode};
use spki::ObjectIdentifier;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::Name;

use super::san::is_email_address;
use super::{CsrError, CsrSubject};

/// id-at-countryName (RFC 5280 appendix A.1).
const COUNTRY_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.6");
/// id-at-stateOrProvinceName.
const STATE_OR_PROVINCE_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.8");
/// id-at-localityName.
const LOCALITY_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.7");
/// id-at-organizationName.
const ORGANIZATION_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
/// id-at-organizationalUnitName.
const ORGANIZATIONAL_UNIT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
/// id-at-commonName.
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
/// id-emailAddress (PKCS#9, RFC 2985 section 5.2.1), legacy but what OpenSSL and CAs read.
const EMAIL_ADDRESS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");

/// How an attribute's value is encoded.
#[derive(Clone, Copy)]
enum StringKind {
    Utf8,
    Printable,
    Ia5,
}

/// Validates `subject` and encodes it as a `Name`.
///
/// # Errors
/// [`CsrError::InvalidSubject`] naming the first field that breaks a rule.
pub(super) fn subject_name(subject: &CsrSubject) -> Result<Name, CsrError> {
    let common_name = required("commonName", &subject.common_name, 64)?;
    let country = optional("country", subject.country.as_deref(), 64)?
        .map(|country| {
            if country.len() == 2 && country.bytes().all(|byte| byte.is_ascii_alphabetic()) {
                Ok(country.to_ascii_uppercase())
            } else {
                Err(invalid(
                    "country",
                    "must be two letters (ISO 3166-1), for example US".into(),
                ))
            }
        })
        .transpose()?;
    let state = optional("state", subject.state.as_deref(), 128)?;
    let locality = optional("locality", subject.locality.as_deref(), 128)?;
    let organization = optional("organization", subject.organization.as_deref(), 64)?;
    let unit = optional(
        "organizationalUnit",
        subject.organizational_unit.as_deref(),
        64,
    )?;
    let email = optional("email", subject.email.as_deref(), 255)?;
    if email.is_some_and(|email| !is_email_address(email)) {
        return Err(invalid(
            "email",
            "is not an ASCII email address like name@example.com".into(),
        ));
    }

    let fields = [
        (COUNTRY_NAME, country.as_deref(), StringKind::Printable),
        (STATE_OR_PROVINCE_NAME, state, StringKind::Utf8),
        (LOCALITY_NAME, locality, StringKind::Utf8),
        (ORGANIZATION_NAME, organization, StringKind::Utf8),
        (ORGANIZATIONAL_UNIT_NAME, unit, StringKind::Utf8),
        (COMMON_NAME, Some(common_name), StringKind::Utf8),
        (EMAIL_ADDRESS, email, StringKind::Ia5),
    ];
    let mut rdns: Vec<SetOfVec<AttributeTypeAndValue>> = Vec::new();
    for (oid, value, kind) in fields {
        let Some(value) = value else { continue };
        let value = encode_string(value, kind).map_err(|_| internal())?;
        let mut rdn = SetOfVec::new();
        rdn.insert(AttributeTypeAndValue { oid, value })
            .map_err(|_| internal())?;
        rdns.push(rdn);
    }
    // `Vec` encodes as SEQUENCE OF, which is exactly RDNSequence; decoding it as `Name` keeps
    // x509-cert's own checks on the result.
    let der = rdns.to_der().map_err(|_| internal())?;
    Name::from_der(&der).map_err(|_| internal())
}

fn encode_string(value: &str, kind: StringKind) -> der::Result<Any> {
    match kind {
        StringKind::Utf8 => Any::encode_from(&Utf8StringRef::new(value)?),
        StringKind::Printable => Any::encode_from(&PrintableStringRef::new(value)?),
        StringKind::Ia5 => Any::encode_from(&Ia5StringRef::new(value)?),
    }
}

fn required<'a>(
    field: &'static str,
    value: &'a str,
    max_chars: usize,
) -> Result<&'a str, CsrError> {
    optional(field, Some(value), max_chars)?.ok_or_else(|| invalid(field, "is required".into()))
}

/// The trimmed value, `None` when absent or blank; checks length and control characters.
fn optional<'a>(
    field: &'static str,
    value: Option<&'a str>,
    max_chars: usize,
) -> Result<Option<&'a str>, CsrError> {
    let Some(value) = value.map(str::trim).filter(|value| !value.is_empty()) else {
        return Ok(None);
    };
    if value.chars().any(char::is_control) {
        return Err(invalid(field, "contains a control character".into()));
    }
    let length = value.chars().count();
    if length > max_chars {
        return Err(invalid(
            field,
            format!("is {length} characters long; at most {max_chars} are allowed"),
        ));
    }
    Ok(Some(value))
}

fn invalid(field: &'static str, problem: String) -> CsrError {
    CsrError::InvalidSubject { field, problem }
}

fn internal() -> CsrError {
    CsrError::Internal {
        stage: "encoding the subject",
    }
}

#[cfg(test)]
mod tests {
    use der::Tagged;

    use super::*;

    fn subject(common_name: &str) -> CsrSubject {
        CsrSubject {
            common_name: common_name.into(),
            ..CsrSubject::default()
        }
    }

    #[test]
    fn writes_fields_in_openssl_order_with_their_string_types() {
        let full = CsrSubject {
            common_name: " client.example.com ".into(),
            organization: Some("Brand, Inc.".into()),
            organizational_unit: Some("Ops".into()),
            country: Some("de".into()),
            state: Some("Bayern".into()),
            locality: Some("München".into()),
            email: Some("ops@example.com".into()),
        };
        let name = subject_name(&full).unwrap();
        let oids: Vec<ObjectIdentifier> = name.iter().map(|atv| atv.oid).collect();
        assert_eq!(
            oids,
            [
                COUNTRY_NAME,
                STATE_OR_PROVINCE_NAME,
                LOCALITY_NAME,
                ORGANIZATION_NAME,
                ORGANIZATIONAL_UNIT_NAME,
                COMMON_NAME,
                EMAIL_ADDRESS
            ]
        );
        let values: Vec<&[u8]> = name.iter().map(|atv| atv.value.value()).collect();
        assert_eq!(values[0], b"DE");
        assert_eq!(values[2], "München".as_bytes());
        assert_eq!(values[5], b"client.example.com");
        let tags: Vec<der::Tag> = name.iter().map(|atv| atv.value.tag()).collect();
        assert_eq!(tags[0], der::Tag::PrintableString);
        assert_eq!(tags[1], der::Tag::Utf8String);
        assert_eq!(tags[6], der::Tag::Ia5String);
    }

    #[test]
    fn blank_optional_fields_are_absent() {
        let mut only_cn = subject("a");
        only_cn.organization = Some("  ".into());
        assert_eq!(subject_name(&only_cn).unwrap().iter().count(), 1);
    }

    #[test]
    fn refuses_each_broken_rule_naming_the_field() {
        let cases: Vec<(CsrSubject, &str)> = vec![
            (subject("   "), "commonName"),
            (subject(&"x".repeat(65)), "commonName"),
            (subject("a\u{7}b"), "commonName"),
            (
                CsrSubject {
                    country: Some("USA".into()),
                    ..subject("a")
                },
                "country",
            ),
            (
                CsrSubject {
                    country: Some("1A".into()),
                    ..subject("a")
                },
                "country",
            ),
            (
                CsrSubject {
                    email: Some("no-at-sign".into()),
                    ..subject("a")
                },
                "email",
            ),
            (
                CsrSubject {
                    email: Some("ü@example.com".into()),
                    ..subject("a")
                },
                "email",
            ),
            (
                CsrSubject {
                    locality: Some("l".repeat(129)),
                    ..subject("a")
                },
                "locality",
            ),
        ];
        for (subject, expected_field) in cases {
            match subject_name(&subject) {
                Err(CsrError::InvalidSubject { field, .. }) => assert_eq!(field, expected_field),
                other => panic!("{subject:?}: expected an invalid {expected_field}, got {other:?}"),
            }
        }
    }
}
