//! Password-based encryption and the integrity MAC of the two profiles.
//!
//! - modern: PBES2 (RFC 8018 section 6.2) with PBKDF2-HMAC-SHA256 over the UTF-8 password and
//!   AES-256-CBC; MAC HMAC-SHA256 keyed by the PKCS#12 KDF with SHA-256. What OpenSSL 3 writes
//!   by default and JDK 12+ (and 11.0.12+, 8u301+) reads.
//! - legacy: pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292 appendix C) for both the key and the
//!   certificates; MAC HMAC-SHA1. Every JDK 8 reads it, and OpenSSL 3 reads it without
//!   `-legacy` because 3DES lives in its default provider (RC2-40, OpenSSL's own legacy choice
//!   for certificates, does not).
//!
//! The PKCS#12 KDF and decryption are the reader's (`crate::pfx::hash`, `crate::pfx::scheme`):
//! one implementation for writing and reading.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
use der::asn1::{Any, ObjectIdentifier, OctetString};
use hmac::{Hmac, KeyInit, Mac};
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use super::P12Profile;
use crate::oids::{PBE_SHA1_3DES, SHA1, SHA256};
use crate::pfx::hash::{Hash, KDF_IV, KDF_KEY, KDF_MAC};
use crate::pfx::pbe_params::Pkcs12PbeParams;
use crate::pfx::pfx_types::{DigestInfo, MacData, integer};

const SALT_LENGTH: usize = 16;

/// A failure of the random generator or of an encoder (the latter is a bug).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EncryptionError {
    Random,
    Internal,
}

/// A password in the two encodings the schemes use.
pub(crate) struct Password<'a> {
    /// For PBKDF2 (PBES2).
    pub(crate) utf8: &'a str,
    /// For the PKCS#12 KDF: BMPString plus terminator.
    pub(crate) bmp: &'a [u8],
}

/// Encrypts `plaintext` under the profile's scheme with `iterations` and fresh salt (and IV);
/// returns the algorithm identifier to store beside the ciphertext.
pub(crate) fn encrypt(
    profile: P12Profile,
    password: &Password<'_>,
    iterations: u32,
    plaintext: &[u8],
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>), EncryptionError> {
    let salt = random::<SALT_LENGTH>()?;
    match profile {
        P12Profile::Modern => {
            let iv = random::<16>()?;
            // The SDK's one PBES2 writer (not pkcs5's `encrypt`, whose dispatch over every
            // scheme would follow into the csr module).
            crate::pbes2::encrypt_pbes2_sha256_aes256(
                password.utf8.as_bytes(),
                &salt,
                iterations,
                iv,
                plaintext,
            )
            .map_err(|_| EncryptionError::Internal)
        }
        P12Profile::Legacy => {
            let (key, iv) = triple_des_key_iv(password.bmp, &salt, iterations);
            let cipher = cbc::Encryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
                .map_err(|_| EncryptionError::Internal)?;
            let ciphertext = cipher.encrypt_padded_vec::<Pkcs7>(plaintext);
            let parameters = Pkcs12PbeParams {
                salt: OctetString::new(salt.to_vec()).map_err(|_| EncryptionError::Internal)?,
                iterations: integer(iterations).map_err(|_| EncryptionError::Internal)?,
            };
            let parameters =
                Any::encode_from(&parameters).map_err(|_| EncryptionError::Internal)?;
            Ok((
                AlgorithmIdentifierOwned {
                    oid: PBE_SHA1_3DES,
                    parameters: Some(parameters),
                },
                ciphertext,
            ))
        }
    }
}

/// The MAC of `auth_safe` (the content octets of the PFX's authSafe) under the profile.
pub(crate) fn mac_data(
    profile: P12Profile,
    password_bmp: &[u8],
    iterations: u32,
    auth_safe: &[u8],
) -> Result<MacData, EncryptionError> {
    let salt = random::<SALT_LENGTH>()?;
    let (digest_oid, digest) = compute_mac(profile, password_bmp, &salt, iterations, auth_safe)
        .ok_or(EncryptionError::Internal)?;
    let internal = |_| EncryptionError::Internal;
    Ok(MacData {
        mac: DigestInfo {
            // RFC 7292 writes DigestInfo with the digest's NULL parameters, as OpenSSL and the
            // JDK do.
            digest_algorithm: AlgorithmIdentifierOwned {
                oid: digest_oid,
                parameters: Some(Any::null()),
            },
            digest: OctetString::new(digest).map_err(internal)?,
        },
        mac_salt: OctetString::new(salt.to_vec()).map_err(internal)?,
        iterations: Some(integer(iterations).map_err(internal)?),
    })
}

/// HMAC of `data` keyed by the PKCS#12 KDF (ID 3) with the profile's hash; `None` only if the
/// HMAC rejects the key length, which it never does.
pub(crate) fn compute_mac(
    profile: P12Profile,
    password_bmp: &[u8],
    salt: &[u8],
    iterations: u32,
    data: &[u8],
) -> Option<(ObjectIdentifier, Vec<u8>)> {
    match profile {
        P12Profile::Modern => {
            let key = Hash::Sha256.pkcs12_kdf(password_bmp, salt, KDF_MAC, iterations.into(), 32);
            let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).ok()?;
            mac.update(data);
            Some((SHA256, mac.finalize().into_bytes().to_vec()))
        }
        P12Profile::Legacy => {
            let key = Hash::Sha1.pkcs12_kdf(password_bmp, salt, KDF_MAC, iterations.into(), 20);
            let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&key).ok()?;
            mac.update(data);
            Some((SHA1, mac.finalize().into_bytes().to_vec()))
        }
    }
}

/// The 24-byte key and 8-byte IV of pbeWithSHAAnd3-KeyTripleDES-CBC (RFC 7292 appendix B.2
/// with SHA-1; DES parity bits are ignored by the cipher).
fn triple_des_key_iv(
    password_bmp: &[u8],
    salt: &[u8],
    iterations: u32,
) -> (Zeroizing<Vec<u8>>, Zeroizing<Vec<u8>>) {
    let key = Hash::Sha1.pkcs12_kdf(password_bmp, salt, KDF_KEY, iterations.into(), 24);
    let iv = Hash::Sha1.pkcs12_kdf(password_bmp, salt, KDF_IV, iterations.into(), 8);
    (key, iv)
}

fn random<const N: usize>() -> Result<[u8; N], EncryptionError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| EncryptionError::Random)?;
    Ok(bytes)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pfx::hash::bmp_password;

    /// Decrypts with the reader's implementation (`crate::pfx::scheme`).
    pub(crate) fn open(
        algorithm: &AlgorithmIdentifierOwned,
        password: &str,
        ciphertext: &[u8],
    ) -> Option<Zeroizing<Vec<u8>>> {
        let scheme = crate::pfx::scheme::Scheme::parse(algorithm).ok()?;
        scheme
            .decrypt(&bmp_password(password), password.as_bytes(), ciphertext)
            .ok()
    }

    #[test]
    fn the_reader_decrypts_what_both_schemes_encrypt_and_only_with_the_password() {
        let bmp = bmp_password("pass word");
        let password = Password {
            utf8: "pass word",
            bmp: &bmp,
        };
        for profile in [P12Profile::Modern, P12Profile::Legacy] {
            let (algorithm, ciphertext) =
                encrypt(profile, &password, 1000, b"secret bytes").unwrap();
            assert_ne!(ciphertext.as_slice(), b"secret bytes");
            let plaintext = open(&algorithm, "pass word", &ciphertext).unwrap();
            assert_eq!(plaintext.as_slice(), b"secret bytes");
            // A wrong password fails the padding check or yields other bytes.
            assert!(
                open(&algorithm, "password", &ciphertext)
                    .is_none_or(|bytes| bytes.as_slice() != b"secret bytes")
            );
        }
    }
}
