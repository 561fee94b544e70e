//! subjectAltName entries of a CSR (RFC 5280 section 4.2.1.6) from the strings users write.
//!
//! Each entry is either prefixed, as OpenSSL prints them (`DNS:`, `IP:` or `IP Address:`,
//! `email:`, `URI:`; prefixes are case-insensitive), or bare and recognised by shape, in this
//! order: an IPv4/IPv6 address is an IP; a string containing `://` is a URI; a string containing
//! `@` is an email address; anything else is a DNS name. Rules: DNS names are ASCII (IDNs in
//! their `xn--` form), labels of 1-63 letters, digits or hyphens not starting or ending with a
//! hyphen, at most 253 characters, and may start with one `*.` wildcard label; email addresses
//! are ASCII `local@domain` with a DNS-name domain; URIs are ASCII absolute URIs with a scheme
//! (RFC 3986 syntax, and a host when they have an authority, as RFC 5280 asks).
//! Exact duplicates are dropped.

use std::net::IpAddr;

use der::asn1::Ia5String;
use x509_cert::ext::pkix::name::GeneralName;

use super::CsrError;

/// Parses every entry; the result keeps the given order.
///
/// # Errors
/// [`CsrError::InvalidSubjectAltName`] for the first entry that is not valid.
pub(super) fn subject_alt_names(entries: &[String]) -> Result<Vec<GeneralName>, CsrError> {
    let mut names: Vec<GeneralName> = Vec::with_capacity(entries.len());
    for entry in entries {
        let name = general_name(entry)?;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// One entry to a `GeneralName`.
fn general_name(entry: &str) -> Result<GeneralName, CsrError> {
    let invalid = |problem| CsrError::InvalidSubjectAltName {
        value: entry.to_owned(),
        problem,
    };
    let trimmed = entry.trim();
    let (kind, value) = match split_prefix(trimmed) {
        Some((kind, value)) => (kind, value.trim()),
        None => (kind_by_shape(trimmed), trimmed),
    };
    if value.is_empty() {
        return Err(invalid("is empty"));
    }
    match kind {
        Kind::Ip => value
            .parse::<IpAddr>()
            .map(GeneralName::from)
            .map_err(|_| invalid("is not an IPv4 or IPv6 address")),
        Kind::Uri => {
            if !value.is_ascii() || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(invalid("is not an ASCII URI without spaces"));
            }
            if !is_absolute_uri(value) {
                return Err(invalid("is not an absolute URI"));
            }
            ia5(value)
                .map(GeneralName::UniformResourceIdentifier)
                .ok_or(invalid("is too long"))
        }
        Kind::Email => {
            if !is_email_address(value) {
                return Err(invalid(
                    "is not an ASCII email address like name@example.com",
                ));
            }
            ia5(value)
                .map(GeneralName::Rfc822Name)
                .ok_or(invalid("is too long"))
        }
        Kind::Dns => {
            if !value.is_ascii() {
                return Err(invalid(
                    "is not ASCII; write internationalised names as xn--",
                ));
            }
            let host = value.strip_prefix("*.").unwrap_or(value);
            if !is_dns_name(host) {
                return Err(invalid(
                    "is not a DNS name (labels of letters, digits and inner hyphens, up to 253 \
                     characters, optionally starting with *.)",
                ));
            }
            ia5(value)
                .map(GeneralName::DnsName)
                .ok_or(invalid("is too long"))
        }
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Dns,
    Ip,
    Email,
    Uri,
}

/// The kind named by an OpenSSL-style prefix, and the rest of the entry.
fn split_prefix(entry: &str) -> Option<(Kind, &str)> {
    const PREFIXES: [(&str, Kind); 5] = [
        ("dns:", Kind::Dns),
        ("ip address:", Kind::Ip),
        ("ip:", Kind::Ip),
        ("email:", Kind::Email),
        ("uri:", Kind::Uri),
    ];
    PREFIXES.iter().find_map(|(prefix, kind)| {
        let head = entry.get(..prefix.len())?;
        head.eq_ignore_ascii_case(prefix)
            .then(|| (*kind, &entry[prefix.len()..]))
    })
}

fn kind_by_shape(value: &str) -> Kind {
    if value.parse::<IpAddr>().is_ok() {
        Kind::Ip
    } else if value.contains("://") {
        Kind::Uri
    } else if value.contains('@') {
        Kind::Email
    } else {
        Kind::Dns
    }
}

/// `local@domain`, ASCII, printable, with a DNS-name domain (RFC 5321 section 4.1.2, simplified:
/// no quoted local parts).
pub(super) fn is_email_address(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && local
            .bytes()
            .all(|byte| byte.is_ascii_graphic() && !matches!(byte, b'@' | b'"' | b','))
        && is_dns_name(domain)
}

/// A preferred-syntax host name (RFC 1034 section 3.5, RFC 1123 section 2.1).
fn is_dns_name(value: &str) -> bool {
    value.len() <= 253
        && value.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// An absolute URI (RFC 3986 section 4.3): a scheme, `:`, and a non-empty rest made of URI
/// characters (percent signs starting `%XX` escapes). When the rest starts with `//`, the
/// authority must name a host, as RFC 5280 section 4.2.1.6 requires of a URI subjectAltName: a
/// registered name, or an IPv6 literal in brackets, with an optional port of 0-65535.
/// A syntax check, not a URL parser: nothing is normalised, the entry is stored as written.
fn is_absolute_uri(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.bytes().next().is_some_and(|first| first.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.'));
    if !scheme_ok || rest.is_empty() || !is_uri_text(rest) {
        return false;
    }
    let Some(hierarchical) = rest.strip_prefix("//") else {
        return true;
    };
    let authority = hierarchical
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(literal) => match literal.split_once(']') {
            Some((address, after)) if address.parse::<std::net::Ipv6Addr>().is_ok() => {
                match after.strip_prefix(':') {
                    Some(port) => (address, Some(port)),
                    None if after.is_empty() => (address, None),
                    None => return false,
                }
            }
            _ => return false,
        },
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    let port_ok = port.is_none_or(|port| port.is_empty() || port.parse::<u16>().is_ok());
    !host.is_empty() && !host.contains(['[', ']']) && port_ok
}

/// Only URI characters (RFC 3986 section 2: unreserved, reserved, and `%` followed by two hex
/// digits).
fn is_uri_text(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let escape = bytes.get(index + 1..index + 3);
            if !escape.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit)) {
                return false;
            }
            index += 3;
            continue;
        }
        let allowed = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'.' | b'_' | b'~' | b':' | b'/' | b'?' | b'#' | b'[' | b']' | b'@'
                    | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
            );
        if !allowed {
            return false;
        }
        index += 1;
    }
    true
}

fn ia5(value: &str) -> Option<Ia5String> {
    Ia5String::new(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(entries: &[&str]) -> Result<Vec<GeneralName>, CsrError> {
        subject_alt_names(
            &entries
                .iter()
                .map(|entry| entry.to_string())
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn reads_prefixed_and_bare_entries_by_shape() {
        let names = parse(&[
            "DNS:client.example.com",
            "*.example.com",
            "IP:10.0.0.1",
            "2001:db8::1",
            "ip address: 192.0.2.7",
            "email:ops@example.com",
            "dev@example.com",
            "URI:spiffe://example.com/brand/1",
            "https://example.com/x",
            "localhost",
        ])
        .unwrap();
        let kinds: Vec<&str> = names
            .iter()
            .map(|name| match name {
                GeneralName::DnsName(_) => "dns",
                GeneralName::IpAddress(_) => "ip",
                GeneralName::Rfc822Name(_) => "email",
                GeneralName::UniformResourceIdentifier(_) => "uri",
                _ => "other",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "dns", "dns", "ip", "ip", "ip", "email", "email", "uri", "uri", "dns"
            ]
        );
        assert_eq!(
            names[3],
            GeneralName::from("2001:db8::1".parse::<IpAddr>().unwrap())
        );
    }

    #[test]
    fn drops_exact_duplicates() {
        assert_eq!(parse(&["a.example", "DNS:a.example"]).unwrap().len(), 1);
    }

    #[test]
    fn refuses_malformed_entries_with_the_entry_in_the_error() {
        for bad in [
            "",
            "DNS:",
            "-bad.example.com",
            "bad..example.com",
            "under_score.example.com",
            "bücher.example",
            "IP:300.1.1.1",
            "email:@example.com",
            "email:a@-example.com",
            "URI:not a uri",
            "URI:relative/path",
            "a.b.*.example.com",
        ] {
            match parse(&[bad]) {
                Err(CsrError::InvalidSubjectAltName { value, .. }) => assert_eq!(value, bad),
                other => panic!("{bad:?}: expected invalid, got {other:?}"),
            }
        }
        let long_label = format!("{}.example.com", "a".repeat(64));
        assert!(parse(&[&long_label]).is_err());
    }

    #[test]
    fn uris_are_absolute_with_a_host_when_they_have_an_authority() {
        for good in [
            "spiffe://example.com/brand/1",
            "https://user@gw.example.com:8443/a%20b?q=1#top",
            "https://[2001:db8::1]:443/",
            "ldap://[::1]",
            "https://example.com:/",
            "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
            "mailto:brand@example.com",
            "x-custom+v1.2:opaque",
        ] {
            assert!(is_absolute_uri(good), "{good}");
            assert!(parse(&[&format!("URI:{good}")]).is_ok(), "{good}");
        }
        for bad in [
            "https://",
            "https:///path",
            "https://user@/x",
            "https://example.com:65536/",
            "https://example.com:80a/",
            "https://[2001:db8::1/",
            "https://[not-v6]/",
            "https://[::1]x/",
            "https://ex[a]mple.com/",
            "1https://example.com/",
            "://example.com",
            "https:",
            "no-colon",
            "https://example.com/a%2",
            "https://example.com/a%zz",
            "https://example.com/{braces}",
            "https://example.com/\"quoted\"",
            "https://example.com/a|b",
        ] {
            assert!(!is_absolute_uri(bad), "{bad}");
            assert!(parse(&[&format!("URI:{bad}")]).is_err(), "{bad}");
        }
    }
}
