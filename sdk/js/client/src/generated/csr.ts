// Generated from sdk/src/csr/mod.rs and sdk/src/p12_builder/mod.rs by `UPDATE_TYPESCRIPT=1 cargo test -p mtls-sdk --lib typescript`.
// Do not edit: change the Rust definitions and run that command.

/**
 * What to put in a CSR.
 */
export type GenerateCsrRequest = {
  /**
   * The subject name.
   */
  subject: CsrSubject,
  /**
   * subjectAltName entries: `DNS:`, `IP:`, `email:` and `URI:` prefixed, or bare (recognised
   * by shape: IP address, then `://` for a URI, then `@` for an email, else a DNS name).
   */
  subjectAltNames?: Array<string>,
  /**
   * The type of key to generate: `P-256` unless set. Unused when the CSR is made for a key
   * that exists already.
   */
  keyType?: KeyType,
  /**
   * Encrypts the returned private key with this passphrase; absent or empty leaves it
   * unencrypted.
   */
  privateKeyPassphrase?: string,
};

/**
 * The subject of a CSR. Only the common name is required; blank optional fields count as absent.
 */
export type CsrSubject = {
  /**
   * CN, 1-64 characters.
   */
  commonName: string,
  /**
   * O, up to 64 characters.
   */
  organization?: string,
  /**
   * OU, up to 64 characters.
   */
  organizationalUnit?: string,
  /**
   * C, two letters (ISO 3166-1 alpha-2), written upper-case.
   */
  country?: string,
  /**
   * ST, up to 128 characters.
   */
  state?: string,
  /**
   * L, up to 128 characters.
   */
  locality?: string,
  /**
   * emailAddress, an ASCII `local@domain`.
   */
  email?: string,
};

/**
 * The types of key a CSR can be made for.
 */
export type KeyType = "P-256" | "P-384" | "RSA-2048" | "RSA-3072" | "RSA-4096";

/**
 * A CSR and its private key, both PEM.
 */
export type GeneratedCsr = {
  /**
   * `-----BEGIN CERTIFICATE REQUEST-----`.
   */
  csrPem: string,
  /**
   * `-----BEGIN PRIVATE KEY-----`, or `-----BEGIN ENCRYPTED PRIVATE KEY-----` with a
   * passphrase.
   */
  privateKeyPem: string,
};

/**
 * What the P12 builder packs into a PKCS#12 file.
 */
export type BuildP12Request = {
  /**
   * The private key: PKCS#8, encrypted PKCS#8, PKCS#1 RSA or SEC1 EC, as PEM.
   */
  privateKeyPem: string,
  /**
   * The passphrase of an encrypted private key.
   */
  privateKeyPassphrase?: string,
  /**
   * The leaf certificate and its chain as PEM, in any order.
   */
  certificatePem: string,
  /**
   * The password of the P12: non-empty printable ASCII, the only passwords the JDK opens.
   */
  password: string,
  /**
   * How the P12 is protected: `modern` unless set.
   */
  profile?: P12Profile,
  /**
   * The friendly name (the JDK's alias); defaults to the leaf's common name, else `client`.
   */
  friendlyName?: string,
};

/**
 * How the P12 is protected.
 */
export type P12Profile = "modern" | "legacy";
