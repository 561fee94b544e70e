//! RC4, for the PKCS#12 `pbeWithSHAAnd128BitRC4`/`40BitRC4` schemes that the JDK still reads.
//! Only decryption of legacy files; never used to protect anything new.

use zeroize::Zeroizing;

/// Applies the RC4 keystream of `key` (1 to 256 bytes) to `data`.
pub(crate) fn rc4_apply(key: &[u8], data: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut s: Zeroizing<[u8; 256]> = Zeroizing::new([0; 256]);
    for (i, x) in s.iter_mut().enumerate() {
        *x = i as u8;
    }
    if !key.is_empty() {
        let mut j = 0u8;
        for i in 0..256 {
            j = j.wrapping_add(s[i]).wrapping_add(key[i % key.len()]);
            s.swap(i, j as usize);
        }
    }
    let (mut i, mut j) = (0u8, 0u8);
    let mut out = Zeroizing::new(Vec::with_capacity(data.len()));
    for &byte in data {
        i = i.wrapping_add(1);
        j = j.wrapping_add(s[i as usize]);
        s.swap(i as usize, j as usize);
        let k = s[(s[i as usize].wrapping_add(s[j as usize])) as usize];
        out.push(byte ^ k);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6229 section 2, key 0x0102030405 (40 bits), keystream offset 0.
    #[test]
    fn rfc6229_keystream() {
        let stream = rc4_apply(&[1, 2, 3, 4, 5], &[0u8; 16]);
        assert_eq!(hex::encode(&*stream), "b2396305f03dc027ccc3524a0a1118a8");
    }
}
