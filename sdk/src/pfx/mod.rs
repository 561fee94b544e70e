//! PKCS#12 (RFC 7292): BER/DER reading, PBE/PBES2 decryption, MAC verification, writing.
//! Owned by the P12 inspection work (issue 2) and the builder (issue 6).
