//! The PKCS#12 key derivation function (RFC 7292 appendix B.2) and the password encoding it
//! takes (appendix B.1): the BMPString of the password with a two-byte zero terminator.
//!
//! Used for the MAC key in both profiles and for the key and IV of the legacy profile's
//! pbeWithSHAAnd3-KeyTripleDES-CBC. PBES2 (the modern profile) uses PBKDF2 over the UTF-8
//! password instead, as OpenSSL and the JDK do.

use sha2::Digest;
use zeroize::Zeroizing;

/// The ID byte of appendix B.3: what the derived bytes are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Purpose {
    /// ID 1: a cipher key.
    EncryptionKey = 1,
    /// ID 2: an initialisation vector.
    Iv = 2,
    /// ID 3: a MAC key.
    MacKey = 3,
}

/// The block size `v` of SHA-1 and SHA-256, the only hashes the builder derives with.
const BLOCK_SIZE: usize = 64;

/// The password as appendix B.1 encodes it: UTF-16 big-endian code units plus `00 00`.
/// `None` when the password has a character outside the Basic Multilingual Plane, which a
/// BMPString cannot hold.
pub(crate) fn bmp_password(password: &str) -> Option<Zeroizing<Vec<u8>>> {
    let mut encoded = Zeroizing::new(Vec::with_capacity(2 * password.len() + 2));
    for character in password.chars() {
        let code = u16::try_from(u32::from(character)).ok()?;
        encoded.extend_from_slice(&code.to_be_bytes());
    }
    encoded.extend_from_slice(&[0, 0]);
    Some(encoded)
}

/// Derives `length` bytes from the BMP-encoded `password` and `salt` with hash `D` (a 64-byte
/// block hash: SHA-1 or SHA-256), following appendix B.2 step by step.
pub(crate) fn derive<D: Digest>(
    password: &[u8],
    salt: &[u8],
    purpose: Purpose,
    iterations: u32,
    length: usize,
) -> Zeroizing<Vec<u8>> {
    let hash_size = <D as Digest>::output_size();
    // Steps 1-4: D = ID repeated v times; I = S || P, each repeated to a multiple of v bytes.
    let diversifier = [purpose as u8; BLOCK_SIZE];
    let mut input = Zeroizing::new(repeat_to_blocks(salt));
    input.extend_from_slice(&repeat_to_blocks(password));
    let mut output = Zeroizing::new(Vec::with_capacity(length));
    loop {
        // Step 6a: A = H^r(D || I).
        let mut hasher = D::new();
        hasher.update(diversifier);
        hasher.update(input.as_slice());
        let mut digest = Zeroizing::new(hasher.finalize().to_vec());
        for _ in 1..iterations {
            *digest = D::digest(digest.as_slice()).to_vec();
        }
        let take = hash_size.min(length - output.len());
        output.extend_from_slice(&digest[..take]);
        if output.len() == length {
            return output;
        }
        // Steps 6b-6c: B = A repeated to v bytes; every v-byte block of I becomes I + B + 1.
        let addend: Zeroizing<Vec<u8>> =
            Zeroizing::new(digest.iter().cycle().take(BLOCK_SIZE).copied().collect());
        for block in input.chunks_mut(BLOCK_SIZE) {
            let mut carry = 1u16;
            for (byte, add) in block.iter_mut().zip(addend.iter()).rev() {
                let sum = u16::from(*byte) + u16::from(*add) + carry;
                *byte = (sum & 0xff) as u8;
                carry = sum >> 8;
            }
        }
    }
}

/// `data` repeated to the smallest multiple of the block size that holds it (empty stays empty).
fn repeat_to_blocks(data: &[u8]) -> Vec<u8> {
    let length = BLOCK_SIZE * data.len().div_ceil(BLOCK_SIZE);
    data.iter().cycle().take(length).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_passwords_as_terminated_bmp_strings() {
        assert_eq!(
            bmp_password("aé").unwrap().as_slice(),
            [0, b'a', 0, 0xe9, 0, 0]
        );
        assert_eq!(bmp_password("").unwrap().as_slice(), [0, 0]);
        assert!(bmp_password("🔑").is_none());
    }

    /// The classic PKCS#12 KDF known answers (password "smeg", salt 0A58CF64530D823F, one
    /// iteration, SHA-1), as used by OpenSSL's and Bouncy Castle's PKCS#12 tests. Interop with
    /// real readers is proven by `sdk/tests/csr_p12_round_trip.rs` (OpenSSL 3 and the JDK).
    #[test]
    fn matches_published_sha1_vectors() {
        let password = bmp_password("smeg").unwrap();
        let salt = hex::decode("0A58CF64530D823F").unwrap();
        let key = derive::<sha1::Sha1>(&password, &salt, Purpose::EncryptionKey, 1, 24);
        assert_eq!(
            hex::encode_upper(key.as_slice()),
            "8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3"
        );
        let iv = derive::<sha1::Sha1>(&password, &salt, Purpose::Iv, 1, 8);
        assert_eq!(hex::encode_upper(iv.as_slice()), "79993DFE048D3B76");
    }
}
