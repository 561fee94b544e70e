//! PBES2 encryption (RFC 8018 section 6.2) with PBKDF2-HMAC-SHA256 and AES-256-CBC: the one
//! scheme the SDK writes (encrypted private keys of `generate_csr`, shrouded keys and
//! certificates of the `modern` P12 profile).
//!
//! Written with the hash, KDF and cipher the P12 reader links anyway (`pfx::hash`, `aes`, `cbc`),
//! rather than through `pkcs5`'s `encrypt`, whose dispatch over every scheme it supports (scrypt,
//! AES-GCM, other key sizes and hashes) would follow into the WebAssembly modules. `pkcs5` still
//! encodes the parameters.

use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
use der::asn1::Any;
use pkcs8::pkcs5::pbes2;
use spki::AlgorithmIdentifierOwned;

use crate::oids::PBES2;
use crate::pfx::hash::Hash;

/// Encrypts `plaintext` under `password` (UTF-8 bytes, as RFC 8018 and OpenSSL take it) with
/// PBKDF2-HMAC-SHA256 (`salt`, `iterations`) and AES-256-CBC (`iv`, PKCS#7 padding); returns the
/// `AlgorithmIdentifier` (id-PBES2 with its parameters) and the ciphertext.
///
/// # Errors
/// [`Pbes2Error`] when the parameters cannot be encoded (a salt the parameters refuse).
pub(crate) fn encrypt_pbes2_sha256_aes256(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    iv: [u8; 16],
    plaintext: &[u8],
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>), Pbes2Error> {
    let parameters = pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(iterations, salt, iv)
        .map_err(|_| Pbes2Error)?;
    let key = Hash::Sha256.pbkdf2(password, salt, iterations, 32);
    let cipher =
        cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &iv).map_err(|_| Pbes2Error)?;
    let ciphertext = cipher.encrypt_padded_vec::<Pkcs7>(plaintext);
    let algorithm = AlgorithmIdentifierOwned {
        oid: PBES2,
        parameters: Some(Any::encode_from(&parameters).map_err(|_| Pbes2Error)?),
    };
    Ok((algorithm, ciphertext))
}

/// The PBES2 parameters could not be made or encoded: a bug of the caller, not bad input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pbes2Error;

#[cfg(test)]
mod tests {
    use super::*;

    /// The same bytes as `pkcs5`'s own PBES2 encryption of the same parameters, which the SDK
    /// used before (and OpenSSL reads: see the CSR and P12 round trips).
    #[test]
    fn matches_pkcs5_for_the_same_parameters() {
        let (salt, iv, iterations) = ([7u8; 16], [9u8; 16], 2048);
        let plaintext = b"a private key, or any bytes";
        let (algorithm, ciphertext) =
            encrypt_pbes2_sha256_aes256(b"pass phrase", &salt, iterations, iv, plaintext).unwrap();
        let parameters =
            pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(iterations, &salt, iv).unwrap();
        assert_eq!(ciphertext, parameters.encrypt(b"pass phrase", plaintext).unwrap());
        assert_eq!(algorithm.oid, PBES2);
        let decoded: pbes2::Parameters = algorithm.parameters.unwrap().decode_as().unwrap();
        assert_eq!(decoded, parameters);
        assert_eq!(decoded.decrypt(b"pass phrase", &ciphertext).unwrap(), plaintext);
    }
}
