//! Parameters of the password-based encryption schemes found in PKCS#12 files.

use der::asn1::{Int, OctetString};
use der::{Any, Sequence};
use spki::AlgorithmIdentifierOwned;

/// [RFC 7292 appendix C](https://www.rfc-editor.org/rfc/rfc7292#appendix-C); PBES1's
/// `PBEParameter` ([RFC 8018 appendix A.3](https://www.rfc-editor.org/rfc/rfc8018#appendix-A.3))
/// has the same shape.
///
/// ```text
/// pkcs-12PbeParams ::= SEQUENCE {
///     salt        OCTET STRING,
///     iterations  INTEGER
/// }
/// ```
#[derive(Clone, Debug, Sequence)]
pub(crate) struct Pkcs12PbeParams {
    pub(crate) salt: OctetString,
    pub(crate) iterations: Int,
}

/// [RFC 8018 appendix A.4](https://www.rfc-editor.org/rfc/rfc8018#appendix-A.4).
///
/// ```text
/// PBES2-params ::= SEQUENCE {
///     keyDerivationFunc AlgorithmIdentifier {{PBES2-KDFs}},
///     encryptionScheme AlgorithmIdentifier {{PBES2-Encs}} }
/// ```
#[derive(Clone, Debug, Sequence)]
pub(crate) struct Pbes2Params {
    pub(crate) key_derivation_func: AlgorithmIdentifierOwned,
    pub(crate) encryption_scheme: AlgorithmIdentifierOwned,
}

/// [RFC 8018 appendix A.2](https://www.rfc-editor.org/rfc/rfc8018#appendix-A.2).
///
/// ```text
/// PBKDF2-params ::= SEQUENCE {
///     salt CHOICE {
///         specified OCTET STRING,
///         otherSource AlgorithmIdentifier {{PBKDF2-SaltSources}}
///     },
///     iterationCount INTEGER (1..MAX),
///     keyLength INTEGER (1..MAX) OPTIONAL,
///     prf AlgorithmIdentifier {{PBKDF2-PRFs}} DEFAULT algid-hmacWithSHA1 }
/// ```
/// `prf` is OPTIONAL here rather than DEFAULT so an explicitly encoded default still decodes.
#[derive(Clone, Debug, Sequence)]
pub(crate) struct Pbkdf2Params {
    pub(crate) salt: Any,
    pub(crate) iteration_count: Int,
    pub(crate) key_length: Option<Int>,
    pub(crate) prf: Option<AlgorithmIdentifierOwned>,
}
