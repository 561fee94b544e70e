//! The object identifiers the SDK reads and writes, in one list: PKCS#12 (RFC 7292), PKCS#5
//! (RFC 8018), PKCS#7 (RFC 2315), the digests they use, key algorithms and curves (RFC 5480,
//! RFC 8410), the signature algorithms of CSRs and the X.509 extensions the SDK writes or
//! checks. Each const's doc gives its ASN.1 name.

use der::asn1::ObjectIdentifier as Oid;

/// `id-data` (PKCS#7 data content).
pub(crate) const DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
/// `id-signedData` (public-key integrity mode).
pub(crate) const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
/// `id-envelopedData` (public-key privacy mode).
pub(crate) const ENVELOPED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.3");
/// `id-encryptedData` (password privacy mode).
pub(crate) const ENCRYPTED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.6");

/// `keyBag`: an unencrypted PKCS#8 PrivateKeyInfo.
pub(crate) const KEY_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.1");
/// `pkcs8ShroudedKeyBag`: an EncryptedPrivateKeyInfo.
pub(crate) const PKCS8_SHROUDED_KEY_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.2");
/// `certBag`.
pub(crate) const CERT_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.3");
/// `safeContentsBag`: nested SafeContents.
pub(crate) const SAFE_CONTENTS_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.6");
/// `x509Certificate` cert type of a CertBag.
pub(crate) const X509_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.22.1");
/// `friendlyName` bag attribute.
pub(crate) const FRIENDLY_NAME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.20");
/// `localKeyId` bag attribute.
pub(crate) const LOCAL_KEY_ID: Oid = Oid::new_unwrap("1.2.840.113549.1.9.21");

/// `pbeWithSHAAnd128BitRC4`.
pub(crate) const PBE_SHA1_RC4_128: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.1");
/// `pbeWithSHAAnd40BitRC4`.
pub(crate) const PBE_SHA1_RC4_40: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.2");
/// `pbeWithSHAAnd3-KeyTripleDES-CBC`.
pub(crate) const PBE_SHA1_3DES: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.3");
/// `pbeWithSHAAnd2-KeyTripleDES-CBC`.
pub(crate) const PBE_SHA1_2DES: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.4");
/// `pbeWithSHAAnd128BitRC2-CBC`.
pub(crate) const PBE_SHA1_RC2_128: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.5");
/// `pbewithSHAAnd40BitRC2-CBC`.
pub(crate) const PBE_SHA1_RC2_40: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.6");

/// `pbeWithMD5AndDES-CBC` (PBES1).
pub(crate) const PBE_MD5_DES: Oid = Oid::new_unwrap("1.2.840.113549.1.5.3");
/// `pbeWithMD5AndRC2-CBC` (PBES1).
pub(crate) const PBE_MD5_RC2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.6");
/// `pbeWithSHA1AndDES-CBC` (PBES1).
pub(crate) const PBE_SHA1_DES: Oid = Oid::new_unwrap("1.2.840.113549.1.5.10");
/// `pbeWithSHA1AndRC2-CBC` (PBES1).
pub(crate) const PBE_SHA1_RC2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.11");
/// `id-PBES2`.
pub(crate) const PBES2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.13");
/// `id-PBKDF2`.
pub(crate) const PBKDF2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.12");
/// `id-scrypt` (RFC 7914).
pub(crate) const SCRYPT: Oid = Oid::new_unwrap("1.3.6.1.4.1.11591.4.11");
/// `id-PBMAC1` (RFC 9579).
pub(crate) const PBMAC1: Oid = Oid::new_unwrap("1.2.840.113549.1.5.14");

/// `id-hmacWithSHA1`.
pub(crate) const HMAC_SHA1: Oid = Oid::new_unwrap("1.2.840.113549.2.7");
/// `id-hmacWithSHA224`.
pub(crate) const HMAC_SHA224: Oid = Oid::new_unwrap("1.2.840.113549.2.8");
/// `id-hmacWithSHA256`.
pub(crate) const HMAC_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.2.9");
/// `id-hmacWithSHA384`.
pub(crate) const HMAC_SHA384: Oid = Oid::new_unwrap("1.2.840.113549.2.10");
/// `id-hmacWithSHA512`.
pub(crate) const HMAC_SHA512: Oid = Oid::new_unwrap("1.2.840.113549.2.11");
/// `id-hmacWithSHA512-224`.
pub(crate) const HMAC_SHA512_224: Oid = Oid::new_unwrap("1.2.840.113549.2.12");
/// `id-hmacWithSHA512-256`.
pub(crate) const HMAC_SHA512_256: Oid = Oid::new_unwrap("1.2.840.113549.2.13");

/// `aes128-CBC`.
pub(crate) const AES_128_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.2");
/// `aes192-CBC`.
pub(crate) const AES_192_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.22");
/// `aes256-CBC`.
pub(crate) const AES_256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");
/// `des-EDE3-CBC`.
pub(crate) const DES_EDE3_CBC: Oid = Oid::new_unwrap("1.2.840.113549.3.7");
/// `desCBC`.
pub(crate) const DES_CBC: Oid = Oid::new_unwrap("1.3.14.3.2.7");

/// `md5`.
pub(crate) const MD5: Oid = Oid::new_unwrap("1.2.840.113549.2.5");
/// `id-sha1`.
pub(crate) const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
/// `id-sha224`.
pub(crate) const SHA224: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.4");
/// `id-sha256`.
pub(crate) const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
/// `id-sha384`.
pub(crate) const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
/// `id-sha512`.
pub(crate) const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
/// `id-sha512-224`.
pub(crate) const SHA512_224: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.5");
/// `id-sha512-256`.
pub(crate) const SHA512_256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.6");

/// `rsaEncryption` (RFC 8017 appendix C).
pub(crate) const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// `id-RSASSA-PSS` (RFC 8017 appendix C).
pub(crate) const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
/// `id-ecPublicKey` (RFC 5480 section 2.1.1).
pub(crate) const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
/// `id-Ed25519` (RFC 8410 section 3).
pub(crate) const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
/// `id-Ed448` (RFC 8410 section 3).
pub(crate) const ED448: Oid = Oid::new_unwrap("1.3.101.113");
/// `id-X25519` (RFC 8410 section 3).
pub(crate) const X25519: Oid = Oid::new_unwrap("1.3.101.110");
/// `id-X448` (RFC 8410 section 3).
pub(crate) const X448: Oid = Oid::new_unwrap("1.3.101.111");
/// `id-dsa` (RFC 3279 section 2.3.2).
pub(crate) const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
/// `dhpublicnumber` (RFC 3279 section 2.3.3).
pub(crate) const DH_PUBLIC_NUMBER: Oid = Oid::new_unwrap("1.2.840.10046.2.1");

/// `secp256r1`, P-256 (RFC 5480 section 2.1.1.1).
pub(crate) const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
/// `secp384r1`, P-384.
pub(crate) const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
/// `secp521r1`, P-521.
pub(crate) const SECP521R1: Oid = Oid::new_unwrap("1.3.132.0.35");
/// `secp256k1` (SEC 2 section 2.4.1).
pub(crate) const SECP256K1: Oid = Oid::new_unwrap("1.3.132.0.10");

/// `sha256WithRSAEncryption` (RFC 8017 appendix C).
pub(crate) const SHA256_WITH_RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
/// `ecdsa-with-SHA256` (RFC 5758 section 3.2).
pub(crate) const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
/// `ecdsa-with-SHA384`.
pub(crate) const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
/// `ecdsa-with-SHA512`.
pub(crate) const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");

/// `id-ce-subjectAltName` (RFC 5280 section 4.2.1.6).
pub(crate) const SUBJECT_ALT_NAME: Oid = Oid::new_unwrap("2.5.29.17");
/// `id-ce-keyUsage` (RFC 5280 section 4.2.1.3).
pub(crate) const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
/// `id-ce-extKeyUsage` (RFC 5280 section 4.2.1.12).
pub(crate) const EXTENDED_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
/// `id-kp-clientAuth` (RFC 5280 section 4.2.1.12).
pub(crate) const CLIENT_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.2");
