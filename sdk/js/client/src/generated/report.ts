// Generated from sdk/src/report.rs by `UPDATE_TYPESCRIPT=1 cargo test -p mtls-sdk --lib typescript`.
// Do not edit: change the Rust definitions and run that command.

/**
 * Whether a P12 is usable, and everything learnt while deciding.
 */
export type P12Report = {
  /**
   * True only when `problems` is empty.
   */
  usable: boolean,
  /**
   * Reasons the file is not usable; stable snake_case codes.
   */
  problems: Array<Finding>,
  /**
   * Facts worth knowing that never make the file unusable.
   */
  warnings: Array<Finding>,
  /**
   * The leaf certificate (the one matching the private key), when found.
   */
  certificate: CertificateInfo | null,
  /**
   * The other certificates, leaf's issuer first when it can be ordered.
   */
  chain: Array<CertificateInfo>,
  /**
   * The private key's type and size, when the key could be decrypted.
   */
  key: KeyInfo | null,
  /**
   * How the container is protected, when it parsed.
   */
  container: ContainerInfo | null,
};

/**
 * One problem or warning: a stable code and a human message (never a secret).
 */
export type Finding = {
  /**
   * Stable snake_case identifier, for example `weak_key`.
   */
  code: string,
  /**
   * Lower-case English explanation, saying what was found and what is expected.
   */
  message: string,
};

/**
 * Facts about one certificate.
 */
export type CertificateInfo = {
  /**
   * RFC 4514 string of the subject, for example `CN=client,O=Brand`.
   */
  subject: string,
  /**
   * RFC 4514 string of the issuer.
   */
  issuer: string,
  /**
   * Serial number, lower-case hex without separators.
   */
  serialNumber: string,
  /**
   * Start of validity, RFC 3339 UTC.
   */
  notBefore: string,
  /**
   * End of validity, RFC 3339 UTC.
   */
  notAfter: string,
  /**
   * SHA-256 of the DER certificate, lower-case hex.
   */
  fingerprintSha256: string,
  /**
   * keyUsage bits by their RFC 5280 names (`digitalSignature`, ...); empty when absent.
   */
  keyUsage: Array<string>,
  /**
   * extendedKeyUsage purposes by name (`clientAuth`, ...) or dotted OID; empty when absent.
   */
  extendedKeyUsage: Array<string>,
  /**
   * subjectAltName entries as `DNS:x`, `IP:x`, `email:x`, `URI:x`.
   */
  subjectAltNames: Array<string>,
};

/**
 * Type and size of the private key.
 */
export type KeyInfo = {
  /**
   * `RSA`, `EC`, `Ed25519`, `DSA`, or the dotted OID of anything else.
   */
  algorithm: string,
  /**
   * Key size in bits (RSA modulus, EC field size, 255 for Ed25519).
   */
  bits: number | null,
  /**
   * Named curve for EC keys: `P-256`, `P-384`, `P-521`, or the curve OID.
   */
  curve?: string,
};

/**
 * How the PFX is protected.
 */
export type ContainerInfo = {
  /**
   * MAC digest (`SHA-1`, `SHA-256`, ...), or `none` when the file has no MAC.
   */
  macAlgorithm: string,
  /**
   * MAC iteration count (1 when the field is absent, as RFC 7292 defaults it).
   */
  macIterations: number,
  /**
   * One entry per encrypted part.
   */
  encryption: Array<EncryptionInfo>,
};

/**
 * One encrypted part of the PFX.
 */
export type EncryptionInfo = {
  /**
   * `key` or `certificates`.
   */
  bag: string,
  /**
   * Algorithm name, for example `PBES2/PBKDF2-HMAC-SHA256/AES-256-CBC`.
   */
  algorithm: string,
  /**
   * Iteration count of the key derivation.
   */
  iterations: number,
};
