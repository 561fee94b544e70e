//! Recognising BouncyCastle keystores, so a refusal can say what the file is (SPEC section 2,
//! rule 1), as it does for JKS and JCEKS.
//!
//! - BKS and UBER (`BcKeyStoreSpi`): a `DataOutputStream` header, big-endian: the store version
//!   as an int (0, 1 or 2), the salt length as an int (BouncyCastle writes 20), the salt, the
//!   iteration count as an int; then the entries and an HMAC (BKS) or a cipher stream (UBER).
//!   The header alone identifies the format; a PFX always starts with a SEQUENCE tag (0x30).
//! - BCFKS (`BcFKSKeyStoreSpi`): DER, `ObjectStore ::= SEQUENCE { storeData, integrityCheck }`
//!   with `storeData` an `EncryptedObjectStoreData ::= SEQUENCE { AlgorithmIdentifier, OCTET
//!   STRING }` and `integrityCheck` either a `PbkdMacIntegrityCheck ::= SEQUENCE { macAlgorithm,
//!   pbkdAlgorithm (PBKDF2 or scrypt), mac OCTET STRING }` or a `[0]` signature check. A PFX
//!   starts with the INTEGER 3 instead, so this is only asked of files that are not a PFX.

use der::asn1::OctetString;
use der::{Any, Decode, Sequence, Tagged};
use spki::AlgorithmIdentifierOwned;

use crate::oids;

/// Largest salt length accepted in a BKS header; BouncyCastle writes 20.
const BKS_MAX_SALT: u32 = 64;

/// Whether `bytes` start with a BKS/UBER header.
pub(crate) fn is_bks(bytes: &[u8]) -> bool {
    let int_at = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    };
    let (Some(version), Some(salt_len)) = (int_at(0), int_at(4)) else { return false };
    version <= 2
        && (1..=BKS_MAX_SALT).contains(&salt_len)
        && int_at(8 + salt_len as usize).is_some_and(|iterations| iterations > 0)
}

#[derive(Sequence)]
struct ObjectStore {
    store_data: EncryptedObjectStoreData,
    integrity_check: Any,
}

#[derive(Sequence)]
struct EncryptedObjectStoreData {
    encryption_algorithm: AlgorithmIdentifierOwned,
    encrypted_content: OctetString,
}

#[derive(Sequence)]
struct PbkdMacIntegrityCheck {
    mac_algorithm: AlgorithmIdentifierOwned,
    pbkd_algorithm: AlgorithmIdentifierOwned,
    mac: OctetString,
}

/// Whether the DER `bytes` have the shape of a BCFKS keystore.
pub(crate) fn is_bcfks(bytes: &[u8]) -> bool {
    let Ok(store) = ObjectStore::from_der(bytes) else { return false };
    let check = &store.integrity_check;
    if check.tag().is_context_specific() {
        return true;
    }
    der::Encode::to_der(check)
        .ok()
        .and_then(|der| PbkdMacIntegrityCheck::from_der(&der).ok())
        .is_some_and(|mac| matches!(mac.pbkd_algorithm.oid, oids::PBKDF2 | oids::SCRYPT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bks_header_is_recognised_and_a_pfx_is_not() {
        let mut bks = vec![0, 0, 0, 2, 0, 0, 0, 20];
        bks.extend([7; 20]);
        bks.extend([0, 0, 4, 0]);
        assert!(is_bks(&bks));
        assert!(!is_bks(&bks[..27]), "truncated before the iteration count");
        bks[3] = 3;
        assert!(!is_bks(&bks), "version 3 is not a BKS version");
        assert!(!is_bks(&[0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03, 0x30, 0, 0, 0, 0]));
    }
}
