//! Password-based encryption schemes of PKCS#12 bags: what an AlgorithmIdentifier names, whether
//! the JDK reads it, and decryption.
//!
//! Which schemes the JDK 17 `KeyStore.getInstance("PKCS12")` reads was measured on this project's
//! machine with `sdk/tests/jdk/P12Oracle.java` over files from `openssl pkcs12 -keypbe/-certpbe`
//! and keytool: PKCS#12 PBE with SHA-1 and 3-key 3DES, RC2-128, RC2-40, RC4-128, RC4-40; PBES1
//! `pbeWithMD5AndDES-CBC`; PBES2 with PBKDF2 (HMAC-SHA1/224/256/384/512) and AES-128/256-CBC.
//! It fails on 2-key 3DES, PBES1 with SHA-1 or RC2 or with a salt other than 8 bytes (NSS writes
//! 16), and PBES2 with AES-192, (3)DES, Camellia, ARIA or SM4 ("expecting the object identifier
//! for AES cipher").

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, InnerIvInit, KeyInit, KeyIvInit};
use der::asn1::{Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use super::hash::{Hash, KDF_IV, KDF_KEY};
use super::pbe_params::{Pbes2Params, Pbkdf2Params, Pkcs12PbeParams};
use crate::oids;

/// The PBES1 salt length of RFC 8018 section 6.1.1.
const PBES1_SALT_LEN: usize = 8;

/// A parsed encryption scheme with its parameters.
#[derive(Debug, Clone)]
pub(crate) enum Scheme {
    /// RFC 7292 appendix C: the PKCS#12 KDF over SHA-1 and a cipher.
    Pkcs12 { cipher: Pkcs12Cipher, salt: Vec<u8>, iterations: u64 },
    /// RFC 8018 section 6.1: PBKDF1 and DES or RC2 (64-bit effective key).
    Pbes1 { hash: Hash, cipher: Pbes1Cipher, salt: Vec<u8>, iterations: u64 },
    /// RFC 8018 section 6.2: PBKDF2 and a block cipher in CBC mode.
    Pbes2 {
        prf: Hash,
        salt: Vec<u8>,
        iterations: u64,
        key_length: Option<u64>,
        cipher: Pbes2Cipher,
        iv: Vec<u8>,
    },
}

/// Ciphers of the PKCS#12 PBE schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pkcs12Cipher {
    TripleDes3Key,
    TripleDes2Key,
    Rc2_128,
    Rc2_40,
    Rc4_128,
    Rc4_40,
}

/// Ciphers of PBES1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pbes1Cipher {
    Des,
    Rc2_64,
}

/// Ciphers of PBES2 that this crate decrypts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pbes2Cipher {
    Aes128,
    Aes192,
    Aes256,
    DesEde3,
    Des,
}

/// Why an AlgorithmIdentifier cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SchemeError {
    /// A scheme this crate does not implement (and the JDK does not read either); the name.
    Unsupported(String),
    /// The parameters do not decode.
    Malformed(String),
}

/// Why decryption failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecryptError {
    /// Bad padding or length: with a verified MAC this means a corrupt file, without one most
    /// likely a wrong password.
    BadCiphertext,
}

impl Scheme {
    /// Parses an encryption AlgorithmIdentifier.
    ///
    /// # Errors
    /// [`SchemeError`] naming the unsupported algorithm or the malformed part.
    pub(crate) fn parse(alg: &AlgorithmIdentifierOwned) -> Result<Self, SchemeError> {
        let pkcs12 = |cipher| -> Result<Self, SchemeError> {
            let params: Pkcs12PbeParams = decode_params(alg)?;
            Ok(Self::Pkcs12 {
                cipher,
                salt: params.salt.as_bytes().to_vec(),
                iterations: iteration_count(&params.iterations),
            })
        };
        let pbes1 = |hash, cipher| -> Result<Self, SchemeError> {
            let params: Pkcs12PbeParams = decode_params(alg)?;
            Ok(Self::Pbes1 {
                hash,
                cipher,
                salt: params.salt.as_bytes().to_vec(),
                iterations: iteration_count(&params.iterations),
            })
        };
        match alg.oid {
            oids::PBE_SHA1_3DES => pkcs12(Pkcs12Cipher::TripleDes3Key),
            oids::PBE_SHA1_2DES => pkcs12(Pkcs12Cipher::TripleDes2Key),
            oids::PBE_SHA1_RC2_128 => pkcs12(Pkcs12Cipher::Rc2_128),
            oids::PBE_SHA1_RC2_40 => pkcs12(Pkcs12Cipher::Rc2_40),
            oids::PBE_SHA1_RC4_128 => pkcs12(Pkcs12Cipher::Rc4_128),
            oids::PBE_SHA1_RC4_40 => pkcs12(Pkcs12Cipher::Rc4_40),
            oids::PBE_MD5_DES => pbes1(Hash::Md5, Pbes1Cipher::Des),
            oids::PBE_SHA1_DES => pbes1(Hash::Sha1, Pbes1Cipher::Des),
            oids::PBE_MD5_RC2 => pbes1(Hash::Md5, Pbes1Cipher::Rc2_64),
            oids::PBE_SHA1_RC2 => pbes1(Hash::Sha1, Pbes1Cipher::Rc2_64),
            oids::PBES2 => Self::parse_pbes2(alg),
            other => Err(SchemeError::Unsupported(format!("encryption algorithm {other}"))),
        }
    }

    fn parse_pbes2(alg: &AlgorithmIdentifierOwned) -> Result<Self, SchemeError> {
        let params: Pbes2Params = decode_params(alg)?;
        let kdf = &params.key_derivation_func;
        if kdf.oid == oids::SCRYPT {
            return Err(SchemeError::Unsupported("PBES2 with scrypt".to_owned()));
        }
        if kdf.oid != oids::PBKDF2 {
            return Err(SchemeError::Unsupported(format!("PBES2 key derivation {}", kdf.oid)));
        }
        let kdf_params: Pbkdf2Params = decode_params(kdf)?;
        let salt = OctetString::from_der(&kdf_params.salt.to_der().map_err(malformed)?)
            .map_err(|_| SchemeError::Unsupported("PBKDF2 with a non-literal salt".to_owned()))?;
        let prf = match &kdf_params.prf {
            None => Hash::Sha1,
            Some(prf) => Hash::from_hmac_oid(&prf.oid).ok_or_else(|| {
                SchemeError::Unsupported(format!("PBKDF2 pseudo-random function {}", prf.oid))
            })?,
        };
        let enc = &params.encryption_scheme;
        let cipher = match enc.oid {
            oids::AES_128_CBC => Pbes2Cipher::Aes128,
            oids::AES_192_CBC => Pbes2Cipher::Aes192,
            oids::AES_256_CBC => Pbes2Cipher::Aes256,
            oids::DES_EDE3_CBC => Pbes2Cipher::DesEde3,
            oids::DES_CBC => Pbes2Cipher::Des,
            other => {
                return Err(SchemeError::Unsupported(format!(
                    "PBES2 with cipher {}",
                    cipher_name(&other)
                )));
            }
        };
        let iv: OctetString = decode_params(enc)?;
        if iv.as_bytes().len() != cipher.block_len() {
            return Err(SchemeError::Malformed("PBES2 IV of the wrong length".to_owned()));
        }
        Ok(Self::Pbes2 {
            prf,
            salt: salt.as_bytes().to_vec(),
            iterations: iteration_count(&kdf_params.iteration_count),
            key_length: kdf_params.key_length.as_ref().map(iteration_count),
            cipher,
            iv: iv.as_bytes().to_vec(),
        })
    }

    /// The name the report shows, for example `PBES2/PBKDF2-HMAC-SHA256/AES-256-CBC`.
    pub(crate) fn name(&self) -> String {
        match self {
            Self::Pkcs12 { cipher, .. } => format!("PBE-SHA1-{}", cipher.name()),
            Self::Pbes1 { hash, cipher, .. } => {
                let hash = if *hash == Hash::Md5 { "MD5" } else { "SHA1" };
                format!("PBES1-{hash}-{}", cipher.name())
            }
            Self::Pbes2 { prf, cipher, .. } => {
                format!("PBES2/PBKDF2-HMAC-{}/{}", prf.name().replace('-', ""), cipher.name())
            }
        }
    }

    /// The iteration count of the key derivation.
    pub(crate) fn iterations(&self) -> u64 {
        match self {
            Self::Pkcs12 { iterations, .. }
            | Self::Pbes1 { iterations, .. }
            | Self::Pbes2 { iterations, .. } => *iterations,
        }
    }

    /// Whether the JDK 17 PKCS12 keystore reads this scheme (see the module docs).
    pub(crate) fn java_reads(&self) -> bool {
        match self {
            Self::Pkcs12 { cipher, .. } => *cipher != Pkcs12Cipher::TripleDes2Key,
            Self::Pbes1 { hash, cipher, salt, .. } => {
                *hash == Hash::Md5 && *cipher == Pbes1Cipher::Des && salt.len() == PBES1_SALT_LEN
            }
            Self::Pbes2 { prf, cipher, key_length, .. } => {
                matches!(prf, Hash::Sha1 | Hash::Sha224 | Hash::Sha256 | Hash::Sha384 | Hash::Sha512)
                    && matches!(cipher, Pbes2Cipher::Aes128 | Pbes2Cipher::Aes256)
                    && key_length.is_none_or(|len| len == cipher.key_len() as u64)
            }
        }
    }

    /// The salt length of a PBES1 scheme whose salt is not the 8 bytes RFC 8018 fixes and the
    /// JDK insists on ("Salt must be 8 bytes long"; NSS writes 16).
    pub(crate) fn salt_java_refuses(&self) -> Option<usize> {
        match self {
            Self::Pbes1 { salt, .. } if salt.len() != PBES1_SALT_LEN => Some(salt.len()),
            _ => None,
        }
    }

    /// Legacy protection worth a warning: RC2, RC4, DES and 3DES.
    pub(crate) fn is_legacy(&self) -> bool {
        match self {
            Self::Pkcs12 { .. } | Self::Pbes1 { .. } => true,
            Self::Pbes2 { cipher, .. } => matches!(cipher, Pbes2Cipher::DesEde3 | Pbes2Cipher::Des),
        }
    }

    /// Decrypts `data`. `bmp_password` feeds the PKCS#12 KDF, `byte_password` (UTF-8) PBKDF1/2.
    /// The caller has checked [`Self::iterations`] against the cap.
    ///
    /// # Errors
    /// [`DecryptError::BadCiphertext`] on bad padding or length (wrong password or corrupt file).
    pub(crate) fn decrypt(
        &self,
        bmp_password: &[u8],
        byte_password: &[u8],
        data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
        match self {
            Self::Pkcs12 { cipher, salt, iterations } => {
                let key_len = cipher.key_len();
                let key = Hash::Sha1.pkcs12_kdf(bmp_password, salt, KDF_KEY, *iterations, key_len);
                match cipher {
                    Pkcs12Cipher::Rc4_128 | Pkcs12Cipher::Rc4_40 => {
                        Ok(super::rc4::rc4_apply(&key, data))
                    }
                    _ => {
                        let iv = Hash::Sha1.pkcs12_kdf(bmp_password, salt, KDF_IV, *iterations, 8);
                        match cipher {
                            Pkcs12Cipher::TripleDes3Key => cbc_decrypt::<des::TdesEde3>(&key, &iv, data),
                            Pkcs12Cipher::TripleDes2Key => cbc_decrypt::<des::TdesEde2>(&key, &iv, data),
                            Pkcs12Cipher::Rc2_128 => rc2_decrypt(&key, 128, &iv, data),
                            _ => rc2_decrypt(&key, 40, &iv, data),
                        }
                    }
                }
            }
            Self::Pbes1 { hash, cipher, salt, iterations } => {
                let dk = hash.pbkdf1(byte_password, salt, *iterations);
                let (key, iv) = (&dk[..8], &dk[8..16]);
                match cipher {
                    Pbes1Cipher::Des => cbc_decrypt::<des::Des>(key, iv, data),
                    Pbes1Cipher::Rc2_64 => rc2_decrypt(key, 64, iv, data),
                }
            }
            Self::Pbes2 { prf, salt, iterations, cipher, iv, .. } => {
                let rounds = u32::try_from(*iterations).map_err(|_| DecryptError::BadCiphertext)?;
                let key = prf.pbkdf2(byte_password, salt, rounds, cipher.key_len());
                match cipher {
                    Pbes2Cipher::Aes128 => cbc_decrypt::<aes::Aes128>(&key, iv, data),
                    Pbes2Cipher::Aes192 => cbc_decrypt::<aes::Aes192>(&key, iv, data),
                    Pbes2Cipher::Aes256 => cbc_decrypt::<aes::Aes256>(&key, iv, data),
                    Pbes2Cipher::DesEde3 => cbc_decrypt::<des::TdesEde3>(&key, iv, data),
                    Pbes2Cipher::Des => cbc_decrypt::<des::Des>(&key, iv, data),
                }
            }
        }
    }
}

impl Pkcs12Cipher {
    fn name(self) -> &'static str {
        match self {
            Self::TripleDes3Key => "3DES",
            Self::TripleDes2Key => "2DES",
            Self::Rc2_128 => "RC2-128",
            Self::Rc2_40 => "RC2-40",
            Self::Rc4_128 => "RC4-128",
            Self::Rc4_40 => "RC4-40",
        }
    }

    fn key_len(self) -> usize {
        match self {
            Self::TripleDes3Key => 24,
            Self::TripleDes2Key | Self::Rc2_128 | Self::Rc4_128 => 16,
            Self::Rc2_40 | Self::Rc4_40 => 5,
        }
    }
}

impl Pbes1Cipher {
    fn name(self) -> &'static str {
        match self {
            Self::Des => "DES",
            Self::Rc2_64 => "RC2-64",
        }
    }
}

impl Pbes2Cipher {
    fn name(self) -> &'static str {
        match self {
            Self::Aes128 => "AES-128-CBC",
            Self::Aes192 => "AES-192-CBC",
            Self::Aes256 => "AES-256-CBC",
            Self::DesEde3 => "DES-EDE3-CBC",
            Self::Des => "DES-CBC",
        }
    }

    fn key_len(self) -> usize {
        match self {
            Self::Aes128 => 16,
            Self::Aes192 | Self::DesEde3 => 24,
            Self::Aes256 => 32,
            Self::Des => 8,
        }
    }

    fn block_len(self) -> usize {
        match self {
            Self::Aes128 | Self::Aes192 | Self::Aes256 => 16,
            Self::DesEde3 | Self::Des => 8,
        }
    }
}

/// An INTEGER iteration count as u64: negative or zero reads as 0 (refused later), beyond
/// u64 as `u64::MAX` (over any cap).
pub(crate) fn iteration_count(int: &Int) -> u64 {
    let bytes = int.as_bytes();
    if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        return 0;
    }
    let significant: &[u8] = &bytes[bytes.iter().take_while(|&&b| b == 0).count()..];
    if significant.len() > 8 {
        return u64::MAX;
    }
    significant.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

fn decode_params<T>(alg: &AlgorithmIdentifierOwned) -> Result<T, SchemeError>
where
    T: for<'a> Decode<'a, Error = der::Error>,
{
    let params = alg
        .parameters
        .as_ref()
        .ok_or_else(|| SchemeError::Malformed(format!("{} without parameters", alg.oid)))?;
    T::from_der(&params.to_der().map_err(malformed)?).map_err(malformed)
}

fn malformed(err: der::Error) -> SchemeError {
    SchemeError::Malformed(err.to_string())
}

/// Names of PBES2 ciphers the JDK and this crate do not read, for messages.
fn cipher_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.392.200011.61.1.1.1.2" => "Camellia-128-CBC".to_owned(),
        "1.2.392.200011.61.1.1.1.3" => "Camellia-192-CBC".to_owned(),
        "1.2.392.200011.61.1.1.1.4" => "Camellia-256-CBC".to_owned(),
        "1.2.410.200046.1.1.2" => "ARIA-128-CBC".to_owned(),
        "1.2.410.200046.1.1.7" => "ARIA-192-CBC".to_owned(),
        "1.2.410.200046.1.1.12" => "ARIA-256-CBC".to_owned(),
        "1.2.156.10197.1.104.2" => "SM4-CBC".to_owned(),
        "1.2.840.113549.3.2" => "RC2-CBC".to_owned(),
        other => other.to_owned(),
    }
}

fn cbc_decrypt<C>(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Zeroizing<Vec<u8>>, DecryptError>
where
    C: cbc::cipher::BlockCipherDecrypt + KeyInit,
{
    let decryptor = cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| DecryptError::BadCiphertext)?;
    decryptor
        .decrypt_padded_vec::<Pkcs7>(data)
        .map(Zeroizing::new)
        .map_err(|_| DecryptError::BadCiphertext)
}

fn rc2_decrypt(
    key: &[u8],
    effective_bits: usize,
    iv: &[u8],
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, DecryptError> {
    let cipher = rc2::Rc2::new_with_eff_key_len(key, effective_bits);
    let decryptor = cbc::Decryptor::<rc2::Rc2>::inner_iv_slice_init(cipher, iv)
        .map_err(|_| DecryptError::BadCiphertext)?;
    decryptor
        .decrypt_padded_vec::<Pkcs7>(data)
        .map(Zeroizing::new)
        .map_err(|_| DecryptError::BadCiphertext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iteration_counts_saturate_and_refuse_negative() {
        let int = |bytes: &[u8]| Int::new(bytes).unwrap();
        assert_eq!(iteration_count(&int(&[0x08, 0x00])), 2048);
        assert_eq!(iteration_count(&int(&[0xff])), 0);
        assert_eq!(iteration_count(&int(&[0x7f; 12])), u64::MAX);
    }
}
