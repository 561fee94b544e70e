//! The digests PKCS#12 files use, and the primitives built on them: the PKCS#12 KDF
//! ([RFC 7292 appendix B](https://www.rfc-editor.org/rfc/rfc7292#appendix-B)), HMAC, PBKDF1 and
//! PBKDF2 ([RFC 8018](https://www.rfc-editor.org/rfc/rfc8018)).
//!
//! Callers check iteration counts against the cap before calling any KDF here.

use der::asn1::ObjectIdentifier;
use hmac::{KeyInit, Mac};
use sha2::Digest;
use zeroize::Zeroizing;

use crate::oids;

/// A digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
    Sha512_224,
    Sha512_256,
}

/// Runs `$body` with `$d` bound to the concrete digest type of `$hash`.
macro_rules! with_digest {
    ($hash:expr, $d:ident => $body:expr) => {
        match $hash {
            Hash::Md5 => {
                type $d = md5::Md5;
                $body
            }
            Hash::Sha1 => {
                type $d = sha1::Sha1;
                $body
            }
            Hash::Sha224 => {
                type $d = sha2::Sha224;
                $body
            }
            Hash::Sha256 => {
                type $d = sha2::Sha256;
                $body
            }
            Hash::Sha384 => {
                type $d = sha2::Sha384;
                $body
            }
            Hash::Sha512 => {
                type $d = sha2::Sha512;
                $body
            }
            Hash::Sha512_224 => {
                type $d = sha2::Sha512_224;
                $body
            }
            Hash::Sha512_256 => {
                type $d = sha2::Sha512_256;
                $body
            }
        }
    };
}

impl Hash {
    /// The digest named by a DigestInfo algorithm OID (the MAC of a PFX).
    pub(crate) fn from_digest_oid(oid: &ObjectIdentifier) -> Option<Self> {
        Some(match *oid {
            oids::MD5 => Self::Md5,
            oids::SHA1 => Self::Sha1,
            oids::SHA224 => Self::Sha224,
            oids::SHA256 => Self::Sha256,
            oids::SHA384 => Self::Sha384,
            oids::SHA512 => Self::Sha512,
            oids::SHA512_224 => Self::Sha512_224,
            oids::SHA512_256 => Self::Sha512_256,
            _ => return None,
        })
    }

    /// The digest of a PBKDF2 PRF OID (`id-hmacWithSHA256`, ...).
    pub(crate) fn from_hmac_oid(oid: &ObjectIdentifier) -> Option<Self> {
        Some(match *oid {
            oids::HMAC_SHA1 => Self::Sha1,
            oids::HMAC_SHA224 => Self::Sha224,
            oids::HMAC_SHA256 => Self::Sha256,
            oids::HMAC_SHA384 => Self::Sha384,
            oids::HMAC_SHA512 => Self::Sha512,
            oids::HMAC_SHA512_224 => Self::Sha512_224,
            oids::HMAC_SHA512_256 => Self::Sha512_256,
            _ => return None,
        })
    }

    /// Name as the report shows it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha1 => "SHA-1",
            Self::Sha224 => "SHA-224",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
            Self::Sha512_224 => "SHA-512/224",
            Self::Sha512_256 => "SHA-512/256",
        }
    }

    /// Output size in bytes.
    pub(crate) fn output_len(self) -> usize {
        match self {
            Self::Md5 => 16,
            Self::Sha1 => 20,
            Self::Sha224 | Self::Sha512_224 => 28,
            Self::Sha256 | Self::Sha512_256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// Input block size in bytes (the `v` of RFC 7292 appendix B).
    fn block_len(self) -> usize {
        match self {
            Self::Md5 | Self::Sha1 | Self::Sha224 | Self::Sha256 => 64,
            Self::Sha384 | Self::Sha512 | Self::Sha512_224 | Self::Sha512_256 => 128,
        }
    }

    /// Verifies an HMAC tag in constant time.
    pub(crate) fn hmac_verify(self, key: &[u8], data: &[u8], tag: &[u8]) -> bool {
        with_digest!(self, D => {
            let Ok(mut mac) = hmac::Hmac::<D>::new_from_slice(key) else { return false };
            mac.update(data);
            mac.verify_slice(tag).is_ok()
        })
    }

    /// PBKDF2 with HMAC over this digest, `iterations` already checked against the cap.
    pub(crate) fn pbkdf2(
        self,
        password: &[u8],
        salt: &[u8],
        iterations: u32,
        out_len: usize,
    ) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(vec![0u8; out_len]);
        with_digest!(self, D => pbkdf2::pbkdf2_hmac::<D>(password, salt, iterations, &mut out));
        out
    }

    /// PBKDF1 (RFC 8018 section 5.1): the digest of password and salt, iterated.
    pub(crate) fn pbkdf1(self, password: &[u8], salt: &[u8], iterations: u64) -> Zeroizing<Vec<u8>> {
        with_digest!(self, D => {
            let mut t = D::new().chain_update(password).chain_update(salt).finalize();
            for _ in 1..iterations {
                t = D::digest(t);
            }
            Zeroizing::new(t.to_vec())
        })
    }

    /// The PKCS#12 KDF of RFC 7292 appendix B.2. `password` is already the BMPString form
    /// ([`bmp_password`]); `id` is 1 (key), 2 (IV) or 3 (MAC key).
    pub(crate) fn pkcs12_kdf(
        self,
        password: &[u8],
        salt: &[u8],
        id: u8,
        iterations: u64,
        out_len: usize,
    ) -> Zeroizing<Vec<u8>> {
        with_digest!(self, D => pkcs12_kdf::<D>(
            self.block_len(), password, salt, id, iterations, out_len))
    }
}

/// The ID bytes of RFC 7292 appendix B.3.
pub(crate) const KDF_KEY: u8 = 1;
/// See [`KDF_KEY`].
pub(crate) const KDF_IV: u8 = 2;
/// See [`KDF_KEY`].
pub(crate) const KDF_MAC: u8 = 3;

fn pkcs12_kdf<D: Digest>(
    v: usize,
    password: &[u8],
    salt: &[u8],
    id: u8,
    iterations: u64,
    out_len: usize,
) -> Zeroizing<Vec<u8>> {
    let u = <D as Digest>::output_size();
    let repeat = |data: &[u8]| -> Vec<u8> {
        let len = data.len().div_ceil(v) * v;
        data.iter().copied().cycle().take(len).collect()
    };
    let d = vec![id; v];
    let mut i = Zeroizing::new(repeat(salt));
    i.extend_from_slice(&repeat(password));
    let mut out = Zeroizing::new(Vec::with_capacity(out_len.div_ceil(u) * u));
    while out.len() < out_len {
        let mut a = D::new().chain_update(&d).chain_update(&*i).finalize();
        for _ in 1..iterations {
            a = D::digest(&a);
        }
        out.extend_from_slice(&a);
        if out.len() >= out_len {
            break;
        }
        // I_j = (I_j + B + 1) mod 2^(8v), B = A repeated to v bytes.
        let b: Vec<u8> = a.iter().copied().cycle().take(v).collect();
        for block in i.chunks_mut(v) {
            let mut carry = 1u16;
            for (x, y) in block.iter_mut().rev().zip(b.iter().rev()) {
                let sum = u16::from(*x) + u16::from(*y) + carry;
                *x = sum as u8;
                carry = sum >> 8;
            }
        }
    }
    out.truncate(out_len);
    out
}

/// The password as the PKCS#12 KDF takes it: UTF-16 big-endian with a two-byte NUL terminator
/// (RFC 7292 appendix B.1), as the JDK and OpenSSL derive it.
pub(crate) fn bmp_password(password: &str) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(password.len() * 2 + 2));
    for unit in password.encode_utf16() {
        out.extend_from_slice(&unit.to_be_bytes());
    }
    out.extend_from_slice(&[0, 0]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bmp_password_is_utf16be_with_terminator() {
        assert_eq!(&*bmp_password("ab"), &[0, b'a', 0, b'b', 0, 0]);
        assert_eq!(&*bmp_password(""), &[0, 0]);
        assert_eq!(&*bmp_password("\u{1F600}"), &[0xd8, 0x3d, 0xde, 0x00, 0, 0]);
    }

    /// Known answers. The `smeg` key and IV are Bouncy Castle's published PKCS#12 KDF vectors;
    /// the others were computed by OpenSSL 3's independent implementation (`openssl kdf
    /// -kdfopt digest:SHA256 -kdfopt hexpass:<BMPString> -kdfopt hexsalt:FF.. -kdfopt iter:2048
    /// -kdfopt id:1 -keylen 100 PKCS12KDF`): several output blocks, a salt of 0xFF bytes so
    /// the `I_j + B + 1` addition carries through whole blocks, an empty password, SHA-512.
    #[test]
    fn pkcs12_kdf_known_answers() {
        let hex = |text: &str| -> Vec<u8> { hex::decode(text).unwrap() };
        let smeg = bmp_password("smeg");
        let smeg_salt = hex("0A58CF64530D823F");
        assert_eq!(
            *Hash::Sha1.pkcs12_kdf(&smeg, &smeg_salt, KDF_KEY, 1, 24),
            hex("8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3")
        );
        assert_eq!(
            *Hash::Sha1.pkcs12_kdf(&smeg, &smeg_salt, KDF_IV, 1, 24),
            hex("79993DFE048D3B76BA33EDF670C54CA09C58CB5CF20FC18C")
        );
        let long = bmp_password(
            "p\u{e4}ssw\u{f6}rd-long-enough-to-span-two-blocks-of-the-kdf-input-xxxxxxxxxxxx",
        );
        assert_eq!(
            *Hash::Sha256.pkcs12_kdf(&long, &[0xFF; 41], KDF_KEY, 2048, 100),
            hex(
                "B47704045D304A7E63081D1602F979CE834CD63785D5485B20F83DF5D8D8A289AA7DE123A98ABEFA\
                 CF90863187C841F6ABD89CD5E8329CAF9D68CA10C90D8B7F6A85F67C36F32D4922A2935D5519504E\
                 2E9E4B885C3C2DB8D1CCA3EF1D38BAF5EFCAA3D7"
            )
        );
        assert_eq!(
            *Hash::Sha512.pkcs12_kdf(&bmp_password(""), &[0], KDF_MAC, 3, 48),
            hex(
                "54877A88A6B12C6CD6402732BCCEB870FB28A70BE037CB40849893777FCEDA8B\
                 3B9A50B006B73634517753DFBBCFAC51"
            )
        );
    }

    /// The KDF is checked end to end against OpenSSL- and JDK-made files (MAC and every PBE
    /// scheme) in `tests/`; here, that the ID byte matters and longer output extends shorter.
    #[test]
    fn pkcs12_kdf_output_depends_on_id_and_length() {
        let pass = bmp_password("secret");
        let salt = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let key = Hash::Sha256.pkcs12_kdf(&pass, &salt, KDF_KEY, 3, 40);
        let iv = Hash::Sha256.pkcs12_kdf(&pass, &salt, KDF_IV, 3, 40);
        assert_eq!(key.len(), 40);
        assert_ne!(&*key, &*iv);
        assert_eq!(&key[..20], &Hash::Sha256.pkcs12_kdf(&pass, &salt, KDF_KEY, 3, 20)[..]);
    }
}
