//! Certificate facts for reports: names (RFC 4514), serial, dates (RFC 3339), fingerprint,
//! key usages, extended key usages and subject alternative names.
//!
//! Entry point: [`Cert::parse`]. Reads no clock: validity is compared with the caller's time.

use der::asn1::ObjectIdentifier as Oid;
use der::{Decode, Encode};
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoOwned;
use x509_cert::Certificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName};
use x509_cert::time::Time;

use crate::oids::EC_PUBLIC_KEY;
use crate::report::CertificateInfo;

/// A parsed certificate with what the rules need.
#[derive(Debug, Clone)]
pub(crate) struct Cert {
    pub(crate) der: Vec<u8>,
    pub(crate) info: CertificateInfo,
    pub(crate) spki: SubjectPublicKeyInfoOwned,
    /// DER of the subject and issuer names, for chain ordering.
    pub(crate) subject_der: Vec<u8>,
    pub(crate) issuer_der: Vec<u8>,
    pub(crate) not_before_unix: i64,
    pub(crate) not_after_unix: i64,
    /// keyUsage, when the extension is present.
    pub(crate) key_usage: Option<KeyUsage>,
    /// extendedKeyUsage purposes, when the extension is present.
    pub(crate) extended_key_usage: Option<Vec<Oid>>,
    pub(crate) signature_algorithm: Oid,
}

/// EC public key encodings valid in X.509 that JDK 17 cannot parse: a certificate holding one
/// fails `CertificateFactory`, so `KeyStore.load` fails on the whole file (as a wrong password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JavaUnreadableEcKey {
    /// The point is compressed (first byte 2 or 3): "Invalid EC key".
    CompressedPoint,
    /// The curve is given as explicit parameters: "Only named ECParameters supported".
    ExplicitParameters,
}

impl Cert {
    /// Parses a DER (or BER) certificate.
    ///
    /// # Errors
    /// A lower-case description when the bytes are not an X.509 certificate.
    pub(crate) fn parse(der_bytes: &[u8]) -> Result<Self, String> {
        // The bytes as stored are the certificate (its fingerprint is over them); a BER
        // encoding is normalised first, which for a certificate signed as DER restores the DER.
        let (cert, der) = match Certificate::from_der(der_bytes) {
            Ok(cert) => (cert, der_bytes.to_vec()),
            Err(first) => {
                let normalized = crate::pfx::ber::normalize_ber(der_bytes)
                    .map_err(|_| format!("a certificate does not parse ({first})"))?;
                let cert = Certificate::from_der(&normalized)
                    .map_err(|e| format!("a certificate does not parse ({e})"))?;
                (cert, normalized)
            }
        };
        let tbs = cert.tbs_certificate();
        let key_usage = tbs.get_extension::<KeyUsage>().ok().flatten().map(|(_, ku)| ku);
        let extended_key_usage =
            tbs.get_extension::<ExtendedKeyUsage>().ok().flatten().map(|(_, eku)| eku.0);
        let subject_alt_names = tbs
            .get_extension::<SubjectAltName>()
            .ok()
            .flatten()
            .map(|(_, san)| san.0.iter().map(general_name).collect())
            .unwrap_or_default();
        let validity = tbs.validity();
        let info = CertificateInfo {
            subject: crate::rfc4514::name_string(tbs.subject()),
            issuer: crate::rfc4514::name_string(tbs.issuer()),
            serial_number: serial_hex(tbs.serial_number().as_bytes()),
            not_before: rfc3339(&validity.not_before),
            not_after: rfc3339(&validity.not_after),
            fingerprint_sha256: hex::encode(Sha256::digest(&der)),
            key_usage: key_usage.as_ref().map(key_usage_names).unwrap_or_default(),
            extended_key_usage: extended_key_usage
                .as_ref()
                .map(|purposes| purposes.iter().map(purpose_name).collect())
                .unwrap_or_default(),
            subject_alt_names,
        };
        Ok(Self {
            info,
            spki: tbs.subject_public_key_info().clone(),
            subject_der: tbs.subject().to_der().map_err(|e| e.to_string())?,
            issuer_der: tbs.issuer().to_der().map_err(|e| e.to_string())?,
            not_before_unix: unix(&validity.not_before),
            not_after_unix: unix(&validity.not_after),
            key_usage,
            extended_key_usage,
            signature_algorithm: cert.signature_algorithm().oid,
            der,
        })
    }

    /// Whether the certificate's EC public key is encoded in a way JDK 17 cannot parse.
    pub(crate) fn java_unreadable_ec_key(&self) -> Option<JavaUnreadableEcKey> {
        if self.spki.algorithm.oid != EC_PUBLIC_KEY {
            return None;
        }
        let named = self.spki.algorithm.parameters.as_ref().is_some_and(|p| p.decode_as::<Oid>().is_ok());
        if !named {
            return Some(JavaUnreadableEcKey::ExplicitParameters);
        }
        match self.spki.subject_public_key.raw_bytes().first() {
            Some(2 | 3) => Some(JavaUnreadableEcKey::CompressedPoint),
            _ => None,
        }
    }

    /// Whether subject and issuer are the same name (a root or a self-signed leaf).
    pub(crate) fn is_self_issued(&self) -> bool {
        self.subject_der == self.issuer_der
    }
}

fn unix(time: &Time) -> i64 {
    i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// RFC 3339 UTC, for example `2026-11-29T04:03:09Z`.
pub(crate) fn rfc3339(time: &Time) -> String {
    let t = time.to_date_time();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minutes(),
        t.seconds()
    )
}

/// Lower-case hex of the serial's magnitude (without the DER sign byte).
fn serial_hex(bytes: &[u8]) -> String {
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(bytes.len().saturating_sub(1));
    hex::encode(&bytes[skip..])
}

fn key_usage_names(key_usage: &KeyUsage) -> Vec<String> {
    const NAMES: [(KeyUsages, &str); 9] = [
        (KeyUsages::DigitalSignature, "digitalSignature"),
        (KeyUsages::NonRepudiation, "nonRepudiation"),
        (KeyUsages::KeyEncipherment, "keyEncipherment"),
        (KeyUsages::DataEncipherment, "dataEncipherment"),
        (KeyUsages::KeyAgreement, "keyAgreement"),
        (KeyUsages::KeyCertSign, "keyCertSign"),
        (KeyUsages::CRLSign, "cRLSign"),
        (KeyUsages::EncipherOnly, "encipherOnly"),
        (KeyUsages::DecipherOnly, "decipherOnly"),
    ];
    NAMES
        .iter()
        .filter(|(flag, _)| key_usage.0.contains(*flag))
        .map(|(_, name)| (*name).to_owned())
        .collect()
}

/// RFC 5280 section 4.2.1.12 purpose names; anything else as its dotted OID.
fn purpose_name(oid: &Oid) -> String {
    match oid.to_string().as_str() {
        "1.3.6.1.5.5.7.3.1" => "serverAuth".to_owned(),
        "1.3.6.1.5.5.7.3.2" => "clientAuth".to_owned(),
        "1.3.6.1.5.5.7.3.3" => "codeSigning".to_owned(),
        "1.3.6.1.5.5.7.3.4" => "emailProtection".to_owned(),
        "1.3.6.1.5.5.7.3.8" => "timeStamping".to_owned(),
        "1.3.6.1.5.5.7.3.9" => "OCSPSigning".to_owned(),
        "2.5.29.37.0" => "anyExtendedKeyUsage".to_owned(),
        other => other.to_owned(),
    }
}

fn general_name(name: &GeneralName) -> String {
    match name {
        GeneralName::DnsName(dns) => format!("DNS:{}", dns.as_str()),
        GeneralName::Rfc822Name(email) => format!("email:{}", email.as_str()),
        GeneralName::UniformResourceIdentifier(uri) => format!("URI:{}", uri.as_str()),
        GeneralName::IpAddress(ip) => format!("IP:{}", ip_string(ip.as_bytes())),
        GeneralName::DirectoryName(dn) => format!("DirName:{}", crate::rfc4514::name_string(dn)),
        GeneralName::RegisteredId(oid) => format!("RID:{oid}"),
        GeneralName::OtherName(other) => format!("othername:{}", other.type_id),
        GeneralName::EdiPartyName(_) => "EdiPartyName".to_owned(),
    }
}

/// An IP address SAN as `std::net`'s `Display` writes it (IPv6 per RFC 5952: lower-case hex,
/// the first longest run of two or more zero groups as `::`, IPv4-mapped as `::ffff:a.b.c.d`),
/// written out so the WebAssembly module does not carry `std::net`'s formatting; a test compares
/// it with `std::net`.
fn ip_string(bytes: &[u8]) -> String {
    let dotted = |v4: &[u8]| format!("{}.{}.{}.{}", v4[0], v4[1], v4[2], v4[3]);
    if bytes.len() == 4 {
        return dotted(bytes);
    }
    if bytes.len() != 16 {
        return hex::encode(bytes);
    }
    if bytes[..10].iter().all(|&b| b == 0) && bytes[10..12] == [0xff, 0xff] {
        return format!("::ffff:{}", dotted(&bytes[12..]));
    }
    let groups: Vec<u16> = bytes.chunks(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]])).collect();
    let (mut best, mut run) = ((0, 0), (0, 0));
    for (i, &group) in groups.iter().enumerate() {
        run = if group == 0 { (if run.1 == 0 { i } else { run.0 }, run.1 + 1) } else { (0, 0) };
        if run.1 > best.1 {
            best = run;
        }
    }
    let hex = |groups: &[u16]| groups.iter().map(|g| format!("{g:x}")).collect::<Vec<_>>().join(":");
    if best.1 > 1 {
        format!("{}::{}", hex(&groups[..best.0]), hex(&groups[best.0 + best.1..]))
    } else {
        hex(&groups)
    }
}

/// Signature algorithms worth a warning, by name: MD5 and SHA-1 based.
pub(crate) fn weak_signature_name(oid: &Oid) -> Option<&'static str> {
    Some(match oid.to_string().as_str() {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.2" => "md2WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10040.4.3" => "dsa-with-sha1",
        "1.3.14.3.2.29" => "sha1WithRSASignature",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_hex_drops_the_sign_byte_only() {
        assert_eq!(serial_hex(&[0x00, 0x80, 0x01]), "8001");
        assert_eq!(serial_hex(&[0x00]), "00");
        assert_eq!(serial_hex(&[0x12, 0x00]), "1200");
    }

    #[test]
    fn rfc3339_formats_utc() {
        let t = Time::GeneralTime(
            der::asn1::GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(
                1_764_388_989,
            ))
            .unwrap(),
        );
        assert_eq!(rfc3339(&t), "2025-11-29T04:03:09Z");
    }
}

#[cfg(test)]
mod ip_tests {
    /// The addresses `std::net` formats in each of its ways, and many with random zero runs.
    #[test]
    fn ip_strings_are_std_nets() {
        let mut addresses: Vec<[u8; 16]> = vec![
            [0; 16],
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1],
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1],
            [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0x20, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1],
        ];
        // Every pattern of zero and non-zero groups (2^8), with values that need 1 to 4 digits.
        for pattern in 0u16..256 {
            let mut address = [0u8; 16];
            for group in 0..8 {
                if pattern & (1 << group) != 0 {
                    let value = [0x1u16, 0xab, 0xabc, 0xabcd][group % 4].to_be_bytes();
                    address[2 * group..2 * group + 2].copy_from_slice(&value);
                }
            }
            addresses.push(address);
        }
        for address in addresses {
            assert_eq!(super::ip_string(&address), std::net::Ipv6Addr::from(address).to_string());
        }
        for v4 in [[0, 0, 0, 0], [192, 168, 1, 20], [255, 255, 255, 255]] {
            assert_eq!(super::ip_string(&v4), std::net::Ipv4Addr::from(v4).to_string());
        }
        assert_eq!(super::ip_string(&[1, 2, 3]), "010203");
    }
}
