//! Certificate signing requests (PKCS#10, RFC 2986) made on the user's machine (SPEC section 10).
//!
//! [`generate_csr`] makes a key (P-256 by default, P-384, RSA-2048/3072/4096) and a CSR signed
//! with it; [`generate_csr_for_key`] does the same for a key made elsewhere (the npm package
//! makes keys with WebCrypto, which is far faster than RSA key generation in WebAssembly). Both
//! return the CSR and the PKCS#8 private key as PEM; with a passphrase the key is encrypted
//! (PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC, RFC 8018).
//!
//! Every CSR carries an extensionRequest attribute (RFC 2985 section 5.4.2) asking for: the
//! subjectAltNames given (see the `san` module for the accepted forms), keyUsage
//! digitalSignature (critical) and extendedKeyUsage clientAuth, which SPEC section 2 rule 6
//! needs of a usable certificate. Signatures: RSA PKCS#1 v1.5 with SHA-256, ECDSA with SHA-256
//! (P-256) or SHA-384 (P-384).
//!
//! Nothing here reads files or a clock; randomness comes from the system generator (getrandom,
//! `crypto.getRandomValues` in WebAssembly).

mod error;
mod san;
mod signature;
mod subject;

use std::fmt;
use std::str::FromStr;

use der::asn1::{BitString, OctetString, SetOfVec};
use der::{Decode, Encode, EncodePem};
use pkcs8::pkcs5::pbes2;
use spki::ObjectIdentifier;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::request::{CertReq, CertReqInfo, ExtensionReq, Version};
use zeroize::Zeroizing;

pub use error::CsrError;
pub use signature::CsrSignatureScheme;

use crate::oids::{CLIENT_AUTH, EXTENDED_KEY_USAGE, KEY_USAGE, SUBJECT_ALT_NAME};
#[cfg(feature = "key-arithmetic")]
use crate::private_key::SigningKey;

/// The subject of a CSR. Only the common name is required; blank optional fields count as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct CsrSubject {
    /// CN, 1-64 characters.
    pub common_name: String,
    /// O, up to 64 characters.
    #[cfg_attr(test, ts(optional))]
    pub organization: Option<String>,
    /// OU, up to 64 characters.
    #[cfg_attr(test, ts(optional))]
    pub organizational_unit: Option<String>,
    /// C, two letters (ISO 3166-1 alpha-2), written upper-case.
    #[cfg_attr(test, ts(optional))]
    pub country: Option<String>,
    /// ST, up to 128 characters.
    #[cfg_attr(test, ts(optional))]
    pub state: Option<String>,
    /// L, up to 128 characters.
    #[cfg_attr(test, ts(optional))]
    pub locality: Option<String>,
    /// emailAddress, an ASCII `local@domain`.
    #[cfg_attr(test, ts(optional))]
    pub email: Option<String>,
}

/// The types of key a CSR can be made for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
// In JS a key type is its `name()`; the test of `crate::typescript` checks the two agree.
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum KeyType {
    /// ECDSA on NIST P-256 (the default: fast everywhere, accepted by every TLS stack).
    #[default]
    #[cfg_attr(test, ts(rename = "P-256"))]
    P256,
    /// ECDSA on NIST P-384.
    #[cfg_attr(test, ts(rename = "P-384"))]
    P384,
    /// RSA, 2048-bit modulus.
    #[cfg_attr(test, ts(rename = "RSA-2048"))]
    Rsa2048,
    /// RSA, 3072-bit modulus.
    #[cfg_attr(test, ts(rename = "RSA-3072"))]
    Rsa3072,
    /// RSA, 4096-bit modulus.
    #[cfg_attr(test, ts(rename = "RSA-4096"))]
    Rsa4096,
}

/// What to put in a CSR.
#[derive(Clone, Default, PartialEq, Eq)]
// In JS (`GenerateCsrRequest`) everything but the subject may be left out.
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "GenerateCsrRequest", rename_all = "camelCase"))]
pub struct CsrRequest {
    /// The subject name.
    pub subject: CsrSubject,
    /// subjectAltName entries: `DNS:`, `IP:`, `email:` and `URI:` prefixed, or bare (recognised
    /// by shape: IP address, then `://` for a URI, then `@` for an email, else a DNS name).
    #[cfg_attr(test, ts(as = "Option<Vec<String>>", optional))]
    pub subject_alt_names: Vec<String>,
    /// The type of key to generate: `P-256` unless set. Unused when the CSR is made for a key
    /// that exists already.
    #[cfg_attr(test, ts(as = "Option<KeyType>", optional))]
    pub key_type: KeyType,
    /// Encrypts the returned private key with this passphrase; absent or empty leaves it
    /// unencrypted.
    #[cfg_attr(test, ts(optional))]
    pub private_key_passphrase: Option<String>,
}

/// A CSR and its private key, both PEM.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct GeneratedCsr {
    /// `-----BEGIN CERTIFICATE REQUEST-----`.
    pub csr_pem: String,
    /// `-----BEGIN PRIVATE KEY-----`, or `-----BEGIN ENCRYPTED PRIVATE KEY-----` with a
    /// passphrase.
    #[cfg_attr(test, ts(type = "string"))]
    pub private_key_pem: Zeroizing<String>,
}

/// PBKDF2 iterations for an encrypted private key: well above OpenSSL's 2048, low enough for a
/// browser to finish in well under a second.
pub const PRIVATE_KEY_PBKDF2_ITERATIONS: u32 = 100_000;

/// Generates a key of `request.key_type` and a CSR for it.
///
/// # Errors
/// [`CsrError`] for an invalid subject or subjectAltName (checked before any key is made), or
/// a failing random number generator.
#[cfg(feature = "key-arithmetic")]
pub fn generate_csr(request: &CsrRequest) -> Result<GeneratedCsr, crate::Error> {
    let template = CsrTemplate::new(request)?;
    let key = match request.key_type {
        KeyType::P256 => SigningKey::generate_p256(),
        KeyType::P384 => SigningKey::generate_p384(),
        KeyType::Rsa2048 => SigningKey::generate_rsa(2048),
        KeyType::Rsa3072 => SigningKey::generate_rsa(3072),
        KeyType::Rsa4096 => SigningKey::generate_rsa(4096),
    }
    .map_err(|_| CsrError::Random)?;
    sign_with_key(template, &key, request)
}

/// Makes a CSR for an existing key given as PKCS#8 `PrivateKeyInfo` DER (RSA, P-256, P-384,
/// P-521 or Ed25519); `request.key_type` is not used.
///
/// # Errors
/// As [`generate_csr`], plus [`CsrError::Key`] when the key cannot be read.
#[cfg(feature = "key-arithmetic")]
pub fn generate_csr_for_key(
    request: &CsrRequest,
    private_key_pkcs8_der: &[u8],
) -> Result<GeneratedCsr, crate::Error> {
    let template = CsrTemplate::new(request)?;
    let key = SigningKey::from_pkcs8_der(private_key_pkcs8_der).map_err(CsrError::Key)?;
    sign_with_key(template, &key, request)
}

/// Encodes the CSR of `request` for the public key `public_key_spki_der` (a DER
/// `SubjectPublicKeyInfo`), up to its signature: for keys held by someone else (WebCrypto in
/// the npm package), who signs [`UnsignedCsr::to_be_signed`] with [`UnsignedCsr::scheme`].
///
/// # Errors
/// [`CsrError::InvalidSubject`], [`CsrError::InvalidSubjectAltName`], or
/// [`CsrError::UnsupportedPublicKey`].
pub fn unsigned_csr(
    request: &CsrRequest,
    public_key_spki_der: &[u8],
) -> Result<UnsignedCsr, crate::Error> {
    let template = CsrTemplate::new(request)?;
    let public_key = spki::SubjectPublicKeyInfoOwned::from_der(public_key_spki_der)
        .map_err(|_| CsrError::UnsupportedPublicKey)?;
    Ok(template.unsigned(public_key)?)
}

/// Checks the subject and subjectAltNames of `request` without making a key, so a caller can
/// refuse bad input before an expensive key generation.
///
/// # Errors
/// [`CsrError::InvalidSubject`] or [`CsrError::InvalidSubjectAltName`].
pub fn validate_csr_request(request: &CsrRequest) -> Result<(), crate::Error> {
    CsrTemplate::new(request)?;
    Ok(())
}

/// The PEM of a PKCS#8 `PrivateKeyInfo` (`private_key_pkcs8_der`), encrypted when `passphrase`
/// is given and not empty (PBES2: PBKDF2-HMAC-SHA256 with [`PRIVATE_KEY_PBKDF2_ITERATIONS`],
/// AES-256-CBC).
///
/// # Errors
/// [`CsrError::Random`] when no salt can be drawn, [`CsrError::Internal`] when the bytes are not
/// PKCS#8.
pub fn private_key_pem(
    private_key_pkcs8_der: &[u8],
    passphrase: Option<&str>,
) -> Result<Zeroizing<String>, crate::Error> {
    Ok(encode_private_key(private_key_pkcs8_der, passphrase.filter(|p| !p.is_empty()))?)
}

/// A CSR encoded up to its signature (see [`unsigned_csr`]).
pub struct UnsignedCsr {
    info: CertReqInfo,
    to_be_signed: Vec<u8>,
    scheme: CsrSignatureScheme,
}

impl UnsignedCsr {
    /// The DER `CertificationRequestInfo`: the bytes to sign.
    pub fn to_be_signed(&self) -> &[u8] {
        &self.to_be_signed
    }

    /// How to sign [`Self::to_be_signed`], chosen by the public key.
    pub fn scheme(&self) -> CsrSignatureScheme {
        self.scheme
    }

    /// The signed CSR as PEM. `signature` is the signer's output for [`Self::scheme`]: RSA
    /// PKCS#1 v1.5 or Ed25519 bytes, or an ECDSA r || s of the curve's size (IEEE P1363, what
    /// WebCrypto returns).
    ///
    /// # Errors
    /// [`CsrError::Internal`] when the signature has not the scheme's form (a signer's bug).
    pub fn into_pem(self, signature: &[u8]) -> Result<String, crate::Error> {
        let value = self.scheme.signature_value(signature).ok_or(CsrError::Internal {
            stage: "encoding the signature",
        })?;
        let request = CertReq {
            info: self.info,
            algorithm: self.scheme.algorithm_identifier(),
            signature: BitString::from_bytes(&value)
                .map_err(internal("encoding the signature"))?,
        };
        Ok(request
            .to_pem(der::pem::LineEnding::LF)
            .map_err(internal("encoding the request as PEM"))?)
    }
}

/// A validated request: the subject name and the extensions to request.
struct CsrTemplate {
    subject: x509_cert::name::Name,
    extensions: Vec<Extension>,
}

impl CsrTemplate {
    fn new(request: &CsrRequest) -> Result<Self, CsrError> {
        let subject = subject::subject_name(&request.subject)?;
        let alt_names = san::subject_alt_names(&request.subject_alt_names)?;
        let extensions = requested_extensions(alt_names).map_err(|_| CsrError::Internal {
            stage: "encoding the extensions",
        })?;
        Ok(Self {
            subject,
            extensions,
        })
    }

    /// Encodes the request for `public_key`, up to its signature.
    fn unsigned(self, public_key: spki::SubjectPublicKeyInfoOwned) -> Result<UnsignedCsr, CsrError> {
        let scheme = CsrSignatureScheme::for_public_key(&public_key)
            .ok_or(CsrError::UnsupportedPublicKey)?;
        let mut attributes = SetOfVec::new();
        let extension_request = ExtensionReq(self.extensions)
            .try_into()
            .map_err(internal("encoding the extension request"))?;
        attributes
            .insert(extension_request)
            .map_err(internal("encoding the attributes"))?;
        let info = CertReqInfo {
            version: Version::V1,
            subject: self.subject,
            public_key,
            attributes,
        };
        let to_be_signed = info.to_der().map_err(internal("encoding the request"))?;
        Ok(UnsignedCsr {
            info,
            to_be_signed,
            scheme,
        })
    }
}

/// Builds the CSR for `key`, signs it with `key` and encodes the key: the path of native
/// callers, through the same encoder WebCrypto's keys take.
#[cfg(feature = "key-arithmetic")]
fn sign_with_key(
    template: CsrTemplate,
    key: &SigningKey,
    request: &CsrRequest,
) -> Result<GeneratedCsr, crate::Error> {
    let public_key = key
        .public_key_info()
        .map_err(internal("encoding the public key"))?;
    let unsigned = template.unsigned(public_key)?;
    let signature = key
        .sign(unsigned.to_be_signed())
        .map_err(internal("signing the request"))?;
    Ok(GeneratedCsr {
        csr_pem: unsigned.into_pem(&signature)?,
        private_key_pem: private_key_pem(key.pkcs8_der(), request.private_key_passphrase.as_deref())?,
    })
}

/// Maps any error to [`CsrError::Internal`] at `stage`: encoders fail only on a bug.
fn internal<E>(stage: &'static str) -> impl FnOnce(E) -> CsrError {
    move |_| CsrError::Internal { stage }
}

/// The PKCS#8 PEM of `pkcs8_der`, encrypted when a passphrase is given.
fn encode_private_key(
    pkcs8_der: &[u8],
    passphrase: Option<&str>,
) -> Result<Zeroizing<String>, CsrError> {
    let line_ending = der::pem::LineEnding::LF;
    let Some(passphrase) = passphrase else {
        // Checked like the encrypted form: a caller's bytes, not necessarily PKCS#8.
        pkcs8::PrivateKeyInfoRef::try_from(pkcs8_der).map_err(internal("encoding the private key"))?;
        return der::pem::encode_string("PRIVATE KEY", line_ending, pkcs8_der)
            .map(Zeroizing::new)
            .map_err(|_| CsrError::Internal {
                stage: "encoding the private key",
            });
    };
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| CsrError::Random)?;
    getrandom::fill(&mut iv).map_err(|_| CsrError::Random)?;
    let encrypt = || -> Result<Zeroizing<String>, pkcs8::Error> {
        let parameters = pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
            PRIVATE_KEY_PBKDF2_ITERATIONS,
            &salt,
            iv,
        )?;
        let info = pkcs8::PrivateKeyInfoRef::try_from(pkcs8_der)?;
        let document = info.encrypt_with_params(parameters, passphrase)?;
        Ok(document.to_pem("ENCRYPTED PRIVATE KEY", line_ending)?)
    };
    encrypt().map_err(|_| CsrError::Internal {
        stage: "encrypting the private key",
    })
}

/// subjectAltName (when any), keyUsage digitalSignature, extendedKeyUsage clientAuth.
fn requested_extensions(alt_names: Vec<GeneralName>) -> der::Result<Vec<Extension>> {
    let mut extensions = Vec::with_capacity(3);
    if !alt_names.is_empty() {
        // RFC 5280 4.2.1.6: critical only when the subject is empty, which it never is here.
        extensions.push(extension(SUBJECT_ALT_NAME, false, &alt_names)?);
    }
    // KeyUsage ::= BIT STRING; digitalSignature is bit 0: one byte 0x80 with 7 unused bits.
    let digital_signature = BitString::new(7, vec![0x80])?;
    extensions.push(extension(KEY_USAGE, true, &digital_signature)?);
    extensions.push(extension(EXTENDED_KEY_USAGE, false, &vec![CLIENT_AUTH])?);
    Ok(extensions)
}

fn extension(
    extn_id: ObjectIdentifier,
    critical: bool,
    value: &impl Encode,
) -> der::Result<Extension> {
    Ok(Extension {
        extn_id,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

// === impl KeyType ===

impl CsrSubject {
    /// The subject as an RFC 4514 string, exactly as a certificate issued for it shows its
    /// subject (most specific first, for example `CN=client,O=Brand,C=US`).
    ///
    /// # Errors
    /// [`CsrError::InvalidSubject`], as [`generate_csr`] would refuse this subject.
    pub fn distinguished_name(&self) -> Result<String, CsrError> {
        Ok(subject::subject_name(self)?.to_string())
    }
}

impl KeyType {
    /// Every key type, in the order of SPEC section 10.
    pub const ALL: [KeyType; 5] = [
        Self::P256,
        Self::P384,
        Self::Rsa2048,
        Self::Rsa3072,
        Self::Rsa4096,
    ];

    /// The name used in the JS API: `P-256`, `P-384`, `RSA-2048`, `RSA-3072`, `RSA-4096`.
    pub fn name(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
            Self::Rsa2048 => "RSA-2048",
            Self::Rsa3072 => "RSA-3072",
            Self::Rsa4096 => "RSA-4096",
        }
    }

    /// The RSA modulus size, or `None` for an EC key.
    pub fn rsa_bits(self) -> Option<usize> {
        match self {
            Self::P256 | Self::P384 => None,
            Self::Rsa2048 => Some(2048),
            Self::Rsa3072 => Some(3072),
            Self::Rsa4096 => Some(4096),
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyType {
    type Err = CsrError;

    /// Reads a [`KeyType::name`], ignoring case, spaces, `-` and `_` (`p256`, `RSA_2048`), or a
    /// curve's SEC/X9.62 name (`secp256r1`, `prime256v1`, `secp384r1`).
    fn from_str(value: &str) -> Result<Self, CsrError> {
        let squashed: String = value
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let key_type = match squashed.as_str() {
            "P256" | "SECP256R1" | "PRIME256V1" => Self::P256,
            "P384" | "SECP384R1" => Self::P384,
            "RSA2048" => Self::Rsa2048,
            "RSA3072" => Self::Rsa3072,
            "RSA4096" => Self::Rsa4096,
            _ => {
                return Err(CsrError::UnsupportedKeyType {
                    key_type: value.to_owned(),
                });
            }
        };
        Ok(key_type)
    }
}

impl fmt::Debug for CsrRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrRequest")
            .field("subject", &self.subject)
            .field("subject_alt_names", &self.subject_alt_names)
            .field("key_type", &self.key_type)
            .field(
                "private_key_passphrase",
                &self.private_key_passphrase.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl fmt::Debug for GeneratedCsr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedCsr")
            .field("csr_pem", &self.csr_pem)
            .field("private_key_pem", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn distinguished_name_reads_like_the_issued_certificate() {
        let subject = CsrSubject {
            common_name: "client".into(),
            organization: Some("Brand, Inc.".into()),
            country: Some("us".into()),
            email: Some("ops@brand.example".into()),
            ..CsrSubject::default()
        };
        assert_eq!(
            subject.distinguished_name().unwrap(),
            "EMAIL=ops@brand.example,CN=client,O=Brand\\, Inc.,C=US"
        );
        let bad = CsrSubject { common_name: "x".into(), country: Some("USA".into()), ..CsrSubject::default() };
        assert_eq!(bad.distinguished_name().unwrap_err().code(), "invalid_subject");
    }

    use der::{Decode, DecodePem};

    use super::*;

    fn request(key_type: KeyType) -> CsrRequest {
        CsrRequest {
            subject: CsrSubject {
                common_name: "client.example.com".into(),
                ..Default::default()
            },
            subject_alt_names: vec!["client.example.com".into(), "IP:192.0.2.1".into()],
            key_type,
            private_key_passphrase: None,
        }
    }

    #[test]
    fn csr_round_trips_and_carries_the_requested_extensions() {
        let generated = generate_csr(&request(KeyType::P256)).unwrap();
        let csr = CertReq::from_pem(&generated.csr_pem).unwrap();
        // Decode, re-encode, compare bytes: the encoder writes canonical DER.
        let der = csr.to_der().unwrap();
        assert_eq!(CertReq::from_der(&der).unwrap().to_der().unwrap(), der);
        let (_, pem_der) = der::pem::decode_vec(generated.csr_pem.as_bytes()).unwrap();
        assert_eq!(pem_der, der);

        let attribute = csr.info.attributes.iter().next().unwrap();
        let requested: Vec<Extension> =
            attribute.values.iter().next().unwrap().decode_as().unwrap();
        let ids: Vec<ObjectIdentifier> = requested.iter().map(|e| e.extn_id).collect();
        assert_eq!(ids, [SUBJECT_ALT_NAME, KEY_USAGE, EXTENDED_KEY_USAGE]);
        assert!(requested[1].critical);
        assert_eq!(requested[1].extn_value.as_bytes(), [0x03, 0x02, 0x07, 0x80]);

        let key = SigningKey::from_pem(&generated.private_key_pem, None).unwrap();
        assert!(key.matches(&csr.info.public_key));
    }

    #[test]
    fn passphrase_encrypts_the_key_with_pbes2() {
        let mut with_passphrase = request(KeyType::P384);
        with_passphrase.private_key_passphrase = Some("correct horse".into());
        let generated = generate_csr(&with_passphrase).unwrap();
        assert!(
            generated
                .private_key_pem
                .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        );
        let csr = CertReq::from_pem(&generated.csr_pem).unwrap();
        let key = SigningKey::from_pem(&generated.private_key_pem, Some("correct horse")).unwrap();
        assert!(key.matches(&csr.info.public_key));
        assert!(SigningKey::from_pem(&generated.private_key_pem, Some("wrong")).is_err());
    }

    #[test]
    fn key_type_names_parse_back() {
        for key_type in KeyType::ALL {
            assert_eq!(key_type.name().parse::<KeyType>().unwrap(), key_type);
        }
        assert_eq!("p-256".parse::<KeyType>().unwrap(), KeyType::P256);
        assert_eq!("prime256v1".parse::<KeyType>().unwrap(), KeyType::P256);
        assert_eq!("rsa_4096".parse::<KeyType>().unwrap(), KeyType::Rsa4096);
        for unsupported in ["RSA-1024", "P-521", "Ed25519", "", "RSA"] {
            assert!(unsupported.parse::<KeyType>().is_err(), "{unsupported}");
        }
    }

    #[test]
    fn debug_output_hides_the_passphrase_and_key() {
        let mut secret = request(KeyType::P256);
        secret.private_key_passphrase = Some("hunter2".into());
        assert!(!format!("{secret:?}").contains("hunter2"));
        let generated = generate_csr(&request(KeyType::P256)).unwrap();
        assert!(!format!("{generated:?}").contains("PRIVATE KEY"));
    }
}
