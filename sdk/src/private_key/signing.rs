//! A private key the SDK signs CSRs with or packs into a P12, read from any PEM form users have.
//!
//! Accepted: PKCS#8 `PRIVATE KEY` (RFC 5208), encrypted PKCS#8 `ENCRYPTED PRIVATE KEY` (RFC 5958,
//! given the passphrase, under any scheme the P12 reader decrypts: PBES2, PKCS#12 PBE, PBES1;
//! at most 1,000,000 iterations), PKCS#1 `RSA PRIVATE KEY` (RFC 8017) and SEC1 `EC PRIVATE KEY`
//! (RFC 5915, named curves). Other blocks in the text (`EC PARAMETERS`, certificates) are
//! skipped. Key types: RSA, ECDSA on P-256/P-384/P-521, Ed25519.
//!
//! Entry point: [`SigningKey::from_pem`]. Every key, whatever its form, is decoded as PKCS#8 by
//! [`PrivateKey::decode`], the decoder the P12 reader uses, so [`SigningKey::matches`] answers
//! as the reader does (arithmetic, not names: SPEC section 2 rule 4).

use der::{Decode, Encode};
#[cfg(feature = "key-arithmetic")]
use pkcs8::EncodePrivateKey;
#[cfg(feature = "key-arithmetic")]
use signature::{SignatureEncoding, Signer};
#[cfg(feature = "key-arithmetic")]
use spki::{AlgorithmIdentifierOwned, EncodePublicKey};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoOwned};
use zeroize::Zeroizing;

use super::{KeyMatch, KeyMaterial, PrivateKey};
use crate::DEFAULT_MAX_ITERATIONS;
use crate::oids::{EC_PUBLIC_KEY, ED25519, RSA_ENCRYPTION, SECP256R1, SECP384R1, SECP521R1};
use crate::pem_bundle::{PemBundleError, pem_blocks};
use crate::pfx::hash::bmp_password;
use crate::pfx::safe_bag::EncryptedPrivateKeyInfo;
use crate::pfx::scheme::{Scheme, SchemeError};

/// Why a private key could not be read. Messages never contain key material or the passphrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrivateKeyError {
    /// The text holds no private key PEM block; `found` lists the labels that were there.
    #[error(
        "no private key found in the PEM text (found: {found}); expected a block labelled \
             PRIVATE KEY, ENCRYPTED PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY"
    )]
    NotFound {
        /// The PEM labels present, comma-separated, or `nothing`.
        found: String,
    },
    /// The key block's base64 or DER structure is malformed.
    #[error("the {label} block is malformed: {reason}")]
    Malformed {
        /// The PEM label of the block.
        label: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The key is encrypted and no passphrase was given.
    #[error("the private key is encrypted; give its passphrase")]
    PassphraseRequired,
    /// Decryption with the given passphrase failed (wrong passphrase or damaged key).
    #[error("the private key could not be decrypted: wrong passphrase or damaged key")]
    WrongPassphrase,
    /// An encryption the SDK does not read, such as OpenSSL's "traditional" `Proc-Type`
    /// encrypted PEM.
    #[error(
        "unsupported private key encryption ({what}); convert it with `openssl pkcs8 -topk8 \
             -v2 aes256` first"
    )]
    UnsupportedEncryption {
        /// What was found.
        what: String,
    },
    /// A key algorithm other than RSA, ECDSA (P-256/P-384/P-521) or Ed25519.
    #[error(
        "unsupported private key algorithm {algorithm}; expected RSA, EC (P-256, P-384, \
             P-521) or Ed25519"
    )]
    UnsupportedAlgorithm {
        /// The algorithm or curve OID, dotted.
        algorithm: String,
    },
}

impl PrivateKeyError {
    /// The stable snake_case code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } | Self::Malformed { .. } => "invalid_private_key",
            Self::PassphraseRequired => "passphrase_required",
            Self::WrongPassphrase => "wrong_passphrase",
            Self::UnsupportedEncryption { .. } => "unsupported_key_encryption",
            Self::UnsupportedAlgorithm { .. } => "unsupported_key_type",
        }
    }
}

/// A private key the SDK can sign with (RSA, ECDSA on a named P-256/P-384/P-521 curve,
/// Ed25519) and its PKCS#8 encoding.
pub(crate) struct SigningKey {
    /// The key as the decoder saw it, for matching certificates.
    key: PrivateKey,
    /// The key itself, taken from `key`.
    #[cfg_attr(
        not(feature = "key-arithmetic"),
        allow(dead_code, reason = "only key generation and signing read the key itself")
    )]
    material: KeyMaterial,
    pkcs8_der: Zeroizing<Vec<u8>>,
}

impl SigningKey {
    /// Reads the first private key block of `pem`; `passphrase` opens an encrypted PKCS#8 key
    /// and is ignored for unencrypted ones.
    ///
    /// # Errors
    /// [`PrivateKeyError`] saying what was found instead of a readable key.
    pub(crate) fn from_pem(pem: &str, passphrase: Option<&str>) -> Result<Self, PrivateKeyError> {
        let read = signing_key_pkcs8_from_pem(pem, passphrase)?;
        Self::from_pkcs8_der(&read.der).map_err(|error| match error {
            PrivateKeyError::Malformed { .. } => read.invalid,
            other => other,
        })
    }

    /// Reads a PKCS#8 `PrivateKeyInfo` (as WebCrypto's `exportKey("pkcs8")` gives it).
    ///
    /// # Errors
    /// [`PrivateKeyError::Malformed`] or [`PrivateKeyError::UnsupportedAlgorithm`].
    pub(crate) fn from_pkcs8_der(der: &[u8]) -> Result<Self, PrivateKeyError> {
        let invalid = signing_algorithm_check(der)?;
        let malformed = || PrivateKeyError::Malformed {
            label: "PRIVATE KEY".into(),
            reason: invalid,
        };
        let mut key = PrivateKey::decode(der).map_err(|_| malformed())?;
        // The decoder keeps the material of every type accepted above.
        let material = key.material.take().ok_or_else(malformed)?;
        // Keep the caller's encoding (it may carry the optional public key or attributes).
        Ok(Self {
            key,
            material,
            pkcs8_der: Zeroizing::new(der.to_vec()),
        })
    }

    /// The PKCS#8 `PrivateKeyInfo` DER of this key.
    pub(crate) fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8_der
    }

    /// Whether `certificate_key` (a certificate's `SubjectPublicKeyInfo`) is this key's public
    /// key, as [`PrivateKey::matches`] decides it for the P12 reader: compared as numbers or
    /// curve points, so an equivalent encoding (compressed point, absent NULL parameters) still
    /// matches.
    pub(crate) fn matches(&self, certificate_key: &SubjectPublicKeyInfoOwned) -> bool {
        self.key.matches(certificate_key) == KeyMatch::Matches
    }


}

/// Key generation and signing: arithmetic the WebAssembly modules leave to WebCrypto.
#[cfg(feature = "key-arithmetic")]
impl SigningKey {
    /// A freshly generated RSA key of `bits` bits (exponent 65537).
    pub(crate) fn generate_rsa(bits: usize) -> Result<Self, KeyGenerationError> {
        let mut rng = getrandom::SysRng;
        let key = rsa::PrivateKey::new(&mut rng, bits).map_err(|_| KeyGenerationError)?;
        Self::from_material(KeyMaterial::Rsa(Box::new(key))).map_err(|_| KeyGenerationError)
    }

    /// A freshly generated P-256 key.
    pub(crate) fn generate_p256() -> Result<Self, KeyGenerationError> {
        use p256::elliptic_curve::Generate;
        let key = p256::SecretKey::try_generate().map_err(|_| KeyGenerationError)?;
        Self::from_material(KeyMaterial::P256(key)).map_err(|_| KeyGenerationError)
    }

    /// A freshly generated P-384 key.
    pub(crate) fn generate_p384() -> Result<Self, KeyGenerationError> {
        use p384::elliptic_curve::Generate;
        let key = p384::SecretKey::try_generate().map_err(|_| KeyGenerationError)?;
        Self::from_material(KeyMaterial::P384(key)).map_err(|_| KeyGenerationError)
    }

    /// Encodes a key read from PKCS#1 or SEC1, or generated, as PKCS#8 and decodes that.
    fn from_material(key: KeyMaterial) -> Result<Self, PrivateKeyError> {
        let encoded = match &key {
            KeyMaterial::Rsa(key) => key.to_pkcs8_der().ok(),
            KeyMaterial::P256(key) => key.to_pkcs8_der().ok(),
            KeyMaterial::P384(key) => key.to_pkcs8_der().ok(),
            KeyMaterial::P521(key) => key.to_pkcs8_der().ok(),
            // Ed25519 keys only ever arrive as PKCS#8, which `from_pkcs8_der` keeps as given.
            KeyMaterial::Ed25519(_) => None,
        }
        .ok_or_else(|| PrivateKeyError::Malformed {
            label: "PRIVATE KEY".into(),
            reason: "the key cannot be encoded as PKCS#8",
        })?;
        Self::from_pkcs8_der(encoded.as_bytes())
    }

    /// The `SubjectPublicKeyInfo` of the matching public key.
    pub(crate) fn public_key_info(&self) -> Result<SubjectPublicKeyInfoOwned, spki::Error> {
        let der = match &self.material {
            KeyMaterial::Rsa(key) => key.to_public_key().to_public_key_der()?,
            KeyMaterial::P256(key) => key.public_key().to_public_key_der()?,
            KeyMaterial::P384(key) => key.public_key().to_public_key_der()?,
            KeyMaterial::P521(key) => key.public_key().to_public_key_der()?,
            KeyMaterial::Ed25519(key) => {
                let public = key.verifying_key().to_bytes();
                return Ok(SubjectPublicKeyInfoOwned {
                    algorithm: AlgorithmIdentifierOwned {
                        oid: ED25519,
                        parameters: None,
                    },
                    subject_public_key: der::asn1::BitString::from_bytes(&public)?,
                });
            }
        };
        Ok(SubjectPublicKeyInfoOwned::from_der(der.as_bytes())?)
    }

    /// Signs `message` with the scheme of its public key ([`crate::CsrSignatureScheme`]): RSA
    /// PKCS#1 v1.5 with SHA-256, ECDSA with the curve's hash, Ed25519. ECDSA signatures come as
    /// r || s, each the size of the curve's order (IEEE P1363), the form WebCrypto gives too;
    /// the CSR encoder turns them into DER.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        Ok(match &self.material {
            KeyMaterial::Rsa(key) => {
                let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key.as_ref().clone());
                signer.try_sign(message)?.to_vec()
            }
            KeyMaterial::P256(key) => {
                let signer = p256::ecdsa::SigningKey::from(key);
                let signature: p256::ecdsa::Signature = signer.try_sign(message)?;
                signature.to_bytes().to_vec()
            }
            KeyMaterial::P384(key) => {
                let signer = p384::ecdsa::SigningKey::from(key);
                let signature: p384::ecdsa::Signature = signer.try_sign(message)?;
                signature.to_bytes().to_vec()
            }
            KeyMaterial::P521(key) => {
                let signer = p521::ecdsa::SigningKey::from_bytes(&key.to_bytes())
                    .map_err(|_| signature::Error::new())?;
                let signature: p521::ecdsa::Signature = signer.try_sign(message)?;
                signature.to_bytes().to_vec()
            }
            KeyMaterial::Ed25519(key) => key.try_sign(message)?.to_vec(),
        })
    }

}

/// A private key [`SigningKey::from_pem`] accepts, read without key arithmetic: its PKCS#8 DER,
/// and the error `from_pem` gives when the key's decoder then refuses it.
pub(crate) struct SigningKeyPkcs8 {
    /// The key as PKCS#8 `PrivateKeyInfo` DER.
    pub(crate) der: Zeroizing<Vec<u8>>,
    /// The error for a key that does not decode, worded for the form it came in.
    pub(crate) invalid: PrivateKeyError,
}

/// Reads the first private key block of `pem` as [`SigningKey::from_pem`] does, up to decoding
/// the key itself (which the caller does, with or without key arithmetic): the same errors for
/// what can be told without the key's numbers (no key, bad PEM, wrong passphrase, a key type
/// or curve the SDK does not sign with).
///
/// # Errors
/// [`PrivateKeyError`] saying what was found instead of a readable key.
pub(crate) fn signing_key_pkcs8_from_pem(
    pem: &str,
    passphrase: Option<&str>,
) -> Result<SigningKeyPkcs8, PrivateKeyError> {
    let (form, der) = read_pem(pem, passphrase)?;
    let invalid = match (form, signing_algorithm_check(&der)) {
        // Garbage after a "successful" CBC unpadding means the passphrase was wrong.
        (PemKeyForm::EncryptedPkcs8, Err(PrivateKeyError::Malformed { .. })) => {
            return Err(PrivateKeyError::WrongPassphrase);
        }
        (_, Err(error)) => return Err(error),
        (PemKeyForm::EncryptedPkcs8, Ok(_)) => PrivateKeyError::WrongPassphrase,
        // The wrapped forms report against their own block, as before wrapping.
        (PemKeyForm::Pkcs1, Ok(_)) => PrivateKeyError::Malformed {
            label: "RSA PRIVATE KEY".to_owned(),
            reason: "not a PKCS#1 RSAPrivateKey",
        },
        (PemKeyForm::Sec1, Ok(_)) => PrivateKeyError::Malformed {
            label: "EC PRIVATE KEY".to_owned(),
            reason: "invalid EC private key for its curve",
        },
        (PemKeyForm::Pkcs8, Ok(reason)) => PrivateKeyError::Malformed {
            label: "PRIVATE KEY".to_owned(),
            reason,
        },
    };
    Ok(SigningKeyPkcs8 { der, invalid })
}

/// Checks that PKCS#8 DER names a key type the SDK signs with and returns the reason to give
/// if the key itself then does not decode.
fn signing_algorithm_check(der: &[u8]) -> Result<&'static str, PrivateKeyError> {
    let malformed = |reason| PrivateKeyError::Malformed {
        label: "PRIVATE KEY".into(),
        reason,
    };
    let info = pkcs8::PrivateKeyInfoRef::from_der(der)
        .map_err(|_| malformed("not a PKCS#8 PrivateKeyInfo"))?;
    let (algorithm, parameter) = info
        .algorithm
        .oids()
        .map_err(|_| malformed("invalid algorithm parameters"))?;
    // Only what CSRs and Java's P12 reader take: named curves, not explicit parameters.
    match (algorithm, parameter) {
        (RSA_ENCRYPTION, _) => Ok("invalid RSA private key"),
        (EC_PUBLIC_KEY, Some(SECP256R1)) => Ok("invalid P-256 private key"),
        (EC_PUBLIC_KEY, Some(SECP384R1)) => Ok("invalid P-384 private key"),
        (EC_PUBLIC_KEY, Some(SECP521R1)) => Ok("invalid P-521 private key"),
        (ED25519, _) => Ok("invalid Ed25519 private key"),
        (EC_PUBLIC_KEY, curve) => Err(PrivateKeyError::UnsupportedAlgorithm {
            algorithm: format!(
                "EC curve {}",
                curve.map_or_else(|| "(none)".to_owned(), |oid| oid.to_string())
            ),
        }),
        (other, _) => Err(PrivateKeyError::UnsupportedAlgorithm {
            algorithm: other.to_string(),
        }),
    }
}

/// The PEM form a private key arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PemKeyForm {
    Pkcs8,
    EncryptedPkcs8,
    Pkcs1,
    Sec1,
}

/// The first private key block of `pem` as PKCS#8 `PrivateKeyInfo` DER, read without any key
/// arithmetic: PKCS#8 as it is, encrypted PKCS#8 decrypted with `passphrase`, PKCS#1 and SEC1
/// wrapped by DER encoding alone; and the form the key was in. The key's consistency is not
/// checked here; the decoder (`PrivateKey::decode`) does that.
fn read_pem(
    pem: &str,
    passphrase: Option<&str>,
) -> Result<(PemKeyForm, Zeroizing<Vec<u8>>), PrivateKeyError> {
    let blocks = pem_blocks(pem).map_err(|error| PrivateKeyError::Malformed {
        label: "PEM".to_owned(),
        reason: match error {
            PemBundleError::Unterminated => "a BEGIN line has no matching END line",
            PemBundleError::Malformed { .. } => "invalid base64 or framing",
        },
    })?;
    let Some(block) = blocks
        .iter()
        .find(|block| block.label.ends_with("PRIVATE KEY"))
    else {
        let labels: Vec<&str> = blocks.iter().map(|block| block.label.as_str()).collect();
        let found = if labels.is_empty() {
            "nothing".to_owned()
        } else {
            labels.join(", ")
        };
        return Err(PrivateKeyError::NotFound { found });
    };
    if block.has_headers {
        return Err(PrivateKeyError::UnsupportedEncryption {
            what: format!("{} with Proc-Type/DEK-Info headers", block.label),
        });
    }
    let malformed = |reason| PrivateKeyError::Malformed {
        label: block.label.clone(),
        reason,
    };
    match block.label.as_str() {
        "PRIVATE KEY" => Ok((PemKeyForm::Pkcs8, block.der.clone())),
        "ENCRYPTED PRIVATE KEY" => {
            let passphrase = passphrase.ok_or(PrivateKeyError::PassphraseRequired)?;
            let encrypted = EncryptedPrivateKeyInfo::from_der(&block.der)
                .map_err(|_| malformed("not an EncryptedPrivateKeyInfo"))?;
            let decrypted = decrypt_private_key(&encrypted, passphrase)?;
            // Garbage after a "successful" CBC unpadding means the passphrase was wrong.
            pkcs8::PrivateKeyInfoRef::from_der(&decrypted)
                .map_err(|_| PrivateKeyError::WrongPassphrase)?;
            Ok((PemKeyForm::EncryptedPkcs8, decrypted))
        }
        "RSA PRIVATE KEY" => {
            pkcs1::RsaPrivateKey::<der::asn1::UintRef<'_>>::from_der(&block.der)
                .map_err(|_| malformed("not a PKCS#1 RSAPrivateKey"))?;
            // RFC 8017 appendix A.1: the parameters of rsaEncryption are NULL.
            let algorithm = AlgorithmIdentifierRef {
                oid: RSA_ENCRYPTION,
                parameters: Some(der::asn1::AnyRef::NULL),
            };
            let pkcs8 = wrap_pkcs8(algorithm, &block.der)
                .map_err(|_| malformed("not a PKCS#1 RSAPrivateKey"))?;
            Ok((PemKeyForm::Pkcs1, pkcs8))
        }
        "EC PRIVATE KEY" => {
            let ec = sec1::EcPrivateKey::from_der(&block.der)
                .map_err(|_| malformed("not a SEC1 ECPrivateKey"))?;
            let curve = ec
                .parameters
                .as_ref()
                .and_then(|parameters| parameters.named_curve())
                .ok_or(malformed("the EC key names no curve"))?;
            let scalar_len = match curve {
                SECP256R1 => 32,
                SECP384R1 => 48,
                SECP521R1 => 66,
                other => {
                    return Err(PrivateKeyError::UnsupportedAlgorithm {
                        algorithm: format!("EC curve {other}"),
                    });
                }
            };
            let invalid = || malformed("invalid EC private key for its curve");
            if ec.private_key.is_empty()
                || ec.private_key.len() > scalar_len
                || ec.private_key.iter().all(|&byte| byte == 0)
            {
                return Err(invalid());
            }
            // RFC 5915 section 3: the scalar has the order's length; pad a shortened one.
            let mut scalar = Zeroizing::new(vec![0u8; scalar_len]);
            scalar[scalar_len - ec.private_key.len()..].copy_from_slice(ec.private_key);
            // RFC 5915 section 3: inside PKCS#8 the curve is named by the algorithm's
            // parameters, so the key's own copy is left out; the public key is kept.
            let inner = sec1::EcPrivateKey {
                private_key: &scalar,
                parameters: None,
                public_key: ec.public_key,
            };
            let inner_der = Zeroizing::new(inner.to_der().map_err(|_| invalid())?);
            let curve_der = curve.to_der().map_err(|_| invalid())?;
            let algorithm = AlgorithmIdentifierRef {
                oid: EC_PUBLIC_KEY,
                parameters: Some(der::asn1::AnyRef::try_from(curve_der.as_slice()).map_err(|_| invalid())?),
            };
            let pkcs8 = wrap_pkcs8(algorithm, &inner_der).map_err(|_| invalid())?;
            Ok((PemKeyForm::Sec1, pkcs8))
        }
        other => Err(PrivateKeyError::UnsupportedEncryption {
            what: other.to_owned(),
        }),
    }
}

/// A PKCS#8 v1 `PrivateKeyInfo` of `private_key` under `algorithm`.
fn wrap_pkcs8(
    algorithm: AlgorithmIdentifierRef<'_>,
    private_key: &[u8],
) -> der::Result<Zeroizing<Vec<u8>>> {
    let private_key = der::asn1::OctetStringRef::new(private_key)?;
    pkcs8::PrivateKeyInfoRef::new(algorithm, private_key)
        .to_der()
        .map(Zeroizing::new)
}

/// Decrypts an encrypted PKCS#8 key with the P12 reader's schemes (PBES2, PKCS#12 PBE, PBES1),
/// refusing more than [`DEFAULT_MAX_ITERATIONS`] before deriving anything, so a hostile key
/// costs nothing.
fn decrypt_private_key(
    encrypted: &EncryptedPrivateKeyInfo,
    passphrase: &str,
) -> Result<Zeroizing<Vec<u8>>, PrivateKeyError> {
    let scheme = Scheme::parse(&encrypted.encryption_algorithm).map_err(|error| match error {
        SchemeError::Unsupported(what) => PrivateKeyError::UnsupportedEncryption { what },
        SchemeError::Malformed(_) => PrivateKeyError::Malformed {
            label: "ENCRYPTED PRIVATE KEY".to_owned(),
            reason: "invalid encryption parameters",
        },
    })?;
    if scheme.iterations() > DEFAULT_MAX_ITERATIONS {
        return Err(PrivateKeyError::UnsupportedEncryption {
            what: format!(
                "{} iterations; at most 1,000,000 are accepted",
                scheme.iterations()
            ),
        });
    }
    scheme
        .decrypt(
            &bmp_password(passphrase),
            passphrase.as_bytes(),
            encrypted.encrypted_data.as_bytes(),
        )
        .map_err(|_| PrivateKeyError::WrongPassphrase)
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let algorithm = match &self.material {
            KeyMaterial::Rsa(_) => "RSA",
            KeyMaterial::P256(_) => "P-256",
            KeyMaterial::P384(_) => "P-384",
            KeyMaterial::P521(_) => "P-521",
            KeyMaterial::Ed25519(_) => "Ed25519",
        };
        f.debug_struct("SigningKey")
            .field("algorithm", &algorithm)
            .finish_non_exhaustive()
    }
}

/// The system random number generator failed while generating a key.
#[cfg(feature = "key-arithmetic")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyGenerationError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_match_their_own_public_key_and_not_others() {
        let first = SigningKey::generate_p256().unwrap();
        let second = SigningKey::generate_p256().unwrap();
        let p384 = SigningKey::generate_p384().unwrap();
        assert!(first.matches(&first.public_key_info().unwrap()));
        assert!(!first.matches(&second.public_key_info().unwrap()));
        assert!(!first.matches(&p384.public_key_info().unwrap()));
    }

    #[test]
    fn pkcs8_round_trips_through_pem() {
        let key = SigningKey::generate_p384().unwrap();
        let pem = der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, key.pkcs8_der())
            .unwrap();
        let again = SigningKey::from_pem(&format!("junk before\n{pem}"), None).unwrap();
        assert_eq!(again.pkcs8_der(), key.pkcs8_der());
    }

    #[test]
    fn explains_what_was_found_instead_of_a_key() {
        let cert = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
        let error = SigningKey::from_pem(cert, None).unwrap_err();
        assert_eq!(
            error,
            PrivateKeyError::NotFound {
                found: "CERTIFICATE".into()
            }
        );
        let error = SigningKey::from_pem("", None).unwrap_err();
        assert_eq!(
            error,
            PrivateKeyError::NotFound {
                found: "nothing".into()
            }
        );
        let garbage = "-----BEGIN PRIVATE KEY-----\nAQID\n-----END PRIVATE KEY-----\n";
        assert!(matches!(
            SigningKey::from_pem(garbage, None),
            Err(PrivateKeyError::Malformed { .. })
        ));
    }
    fn pem(label: &str, der: &[u8]) -> String {
        der::pem::encode_string(label, der::pem::LineEnding::LF, der).unwrap()
    }

    #[test]
    fn pkcs1_and_sec1_keys_are_wrapped_into_pkcs8_without_key_arithmetic() {
        use pkcs1::EncodeRsaPrivateKey;
        let rsa = rsa::PrivateKey::new(&mut getrandom::SysRng, 1024).unwrap();
        let pkcs1 = rsa.to_pkcs1_der().unwrap();
        let wrapped = signing_key_pkcs8_from_pem(&pem("RSA PRIVATE KEY", pkcs1.as_bytes()), None)
            .unwrap()
            .der;
        // The rsa crate's own PKCS#8 is the same wrapping (rsaEncryption, NULL parameters).
        assert_eq!(wrapped.as_slice(), rsa.to_pkcs8_der().unwrap().as_bytes());

        let signer = SigningKey::generate_p256().unwrap();
        let p256 = <p256::SecretKey as pkcs8::DecodePrivateKey>::from_pkcs8_der(signer.pkcs8_der())
            .unwrap();
        let sec1 = p256.to_sec1_der().unwrap();
        let wrapped = signing_key_pkcs8_from_pem(&pem("EC PRIVATE KEY", &sec1), None).unwrap().der;
        let again = SigningKey::from_pkcs8_der(&wrapped).unwrap();
        assert!(again.matches(&signer.public_key_info().unwrap()));
    }

    #[test]
    fn sec1_keys_with_a_short_zero_or_unsupported_scalar_are_handled_like_before() {
        let signer = SigningKey::generate_p384().unwrap();
        let info = pkcs8::PrivateKeyInfoRef::from_der(signer.pkcs8_der()).unwrap();
        let inner = sec1::EcPrivateKey::from_der(info.private_key.as_bytes()).unwrap();
        let with_curve = |private_key: &[u8], curve: spki::ObjectIdentifier| {
            let key = sec1::EcPrivateKey {
                private_key,
                parameters: Some(sec1::EcParameters::NamedCurve(curve)),
                public_key: None,
            };
            pem("EC PRIVATE KEY", &key.to_der().unwrap())
        };
        // A scalar written without its leading zero bytes is padded back to the order's size.
        let mut short_scalar = inner.private_key.to_vec();
        short_scalar[0] = 0;
        let padded = signing_key_pkcs8_from_pem(&with_curve(&short_scalar[1..], SECP384R1), None)
            .unwrap()
            .der;
        let padded = pkcs8::PrivateKeyInfoRef::from_der(&padded).unwrap();
        let padded = sec1::EcPrivateKey::from_der(padded.private_key.as_bytes()).unwrap();
        assert_eq!(padded.private_key, short_scalar.as_slice());

        let zero = SigningKey::from_pem(&with_curve(&[0u8; 48], SECP384R1), None).unwrap_err();
        assert_eq!(
            zero,
            PrivateKeyError::Malformed {
                label: "EC PRIVATE KEY".into(),
                reason: "invalid EC private key for its curve",
            }
        );
        let secp256k1 = spki::ObjectIdentifier::new_unwrap("1.3.132.0.10");
        let other = SigningKey::from_pem(&with_curve(&[1u8; 32], secp256k1), None).unwrap_err();
        assert_eq!(
            other,
            PrivateKeyError::UnsupportedAlgorithm {
                algorithm: "EC curve 1.3.132.0.10".into()
            }
        );
        // A scalar at or above the order passes the wrapping and fails the decoder.
        let too_big = SigningKey::from_pem(&with_curve(&[0xff; 48], SECP384R1), None).unwrap_err();
        assert!(matches!(too_big, PrivateKeyError::Malformed { label, .. } if label == "EC PRIVATE KEY"));
    }

}
