//! PKCS#12 (RFC 7292): BER/DER reading, PBE/PBES2 decryption, MAC verification, writing.
//!
//! Reading: [`read::read_pfx`] turns bytes and a password into keys, certificates and the
//! container's facts; the "usable" rules on top live in `crate::policy`.
//!
//! The ASN.1 types of `pfx_types`, `safe_bag` and `pbe_params` are the SDK's one PKCS#12
//! vocabulary: the reader decodes them after [`ber::normalize_ber`] turned BER (indefinite
//! lengths, chunked strings) into DER, and `crate::p12_builder` encodes them.

pub(crate) mod ber;
pub(crate) mod hash;
pub(crate) mod other_keystores;
pub(crate) mod pbe_params;
pub(crate) mod pfx_types;
pub(crate) mod rc4;
pub(crate) mod read;
pub(crate) mod safe_bag;
pub(crate) mod scheme;
