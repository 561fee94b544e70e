// The JSON shapes of the gateway's REST API (SPEC sections 2, 5 and 12), as `MtlsClient`
// returns them.
import type { BytesInput } from './bytes.js';
import type { CsrSubject, KeyType } from './generated/csr.js';
import type { Finding } from './generated/report.js';

// The P12 tester's answer is the report `inspectP12` returns, declared from the SDK's Rust types.
export type { CertificateInfo, ContainerInfo, EncryptionInfo, Finding, KeyInfo, P12Report } from './generated/report.js';
// `generateCsr` and `buildP12` take and return these (declared from the SDK's Rust types); the
// gateway's certificate requests use the same subject and key types.
export type { BuildP12Request, CsrSubject, GenerateCsrRequest, GeneratedCsr, KeyType, P12Profile } from './generated/csr.js';

/** A version of a certificate waiting for its `activateAt` (staged rotation, SPEC 12). */
export interface PendingVersion {
  version: number;
  /** RFC 3339. */
  activateAt: string;
  expirationDate: string;
  fingerprintSha256: string;
  subject: string;
}

export interface Certificate {
  id: number;
  name: string;
  displayName: string;
  siteId: string;
  status: 'Available' | 'UnAvailable' | 'Expired';
  expirationDate: string;
  deleted: boolean;
  subject: string;
  issuer: string;
  serialNumber: string;
  fingerprintSha256: string;
  keyAlgorithm: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  /** Whole days until `expirationDate`; negative once expired. */
  daysToExpiry: number;
  /** Within the gateway's warning window (`MTLS_EXPIRY_WARNING_DAYS`, default 30 days). */
  expiringSoon: boolean;
  /** The staged version, when a rotation is scheduled. */
  pending?: PendingVersion | null;
}

/** A saved certificate in an upload or replace answer, with the report's warnings. */
export interface SavedCertificate extends Certificate {
  warnings?: Finding[];
}

export interface SaveCertificatesResult {
  successfulySavedCertificates: SavedCertificate[];
  failedSaveToVaultCertificates: unknown[];
}

/** A certificate for `createCertificates`. */
export interface NewCertificate {
  name: string;
  displayName?: string;
  /** The P12: bytes, a `Blob`/`File`, base64, or the array of byte values the API also takes. */
  p12: BytesInput | number[];
  password: string;
}

/** `uploadCertificate`: a new certificate from a P12 file (multipart). */
export interface CertificateUpload {
  file: BytesInput;
  name: string;
  password: string;
  displayName?: string;
}

/** `replaceCertificateFile`: a new version of certificate `id` (multipart), now or at
 * `activateAt`. */
export interface CertificateFileReplacement {
  file: BytesInput;
  id: number;
  password: string;
  name?: string;
  /** Stage the new version until this time (in the future); see `cancelPendingCertificate`. */
  activateAt?: Date | string;
}

/** `updateCertificate`: a new version by JSON, now or at `activateAt`. */
export interface CertificateUpdate {
  p12: BytesInput | number[];
  password: string;
  name?: string;
  displayName?: string;
  activateAt?: Date | string;
}

export interface Mapping {
  id: number;
  name: string;
  certificationId: number;
  serviceId: string;
  serviceName: string;
  url: string;
  enable: boolean;
  siteId: string;
  deleted: boolean;
  revision: number;
}

export interface NewMapping {
  certificationId: number;
  serviceId: string | number;
  url: string;
  name: string;
  enable: boolean;
  siteId?: string;
  deleted?: boolean;
}

export interface MappingCheck {
  serviceName: string;
  accountId: string;
  url: string;
}

/** A configured service (`GET /mtls/services`). */
export interface Service {
  name: string;
  code: number;
}

/** The key types of a CSR key, in the order the docs list them (RSA-2048 is the gateway's
 * default for the keys it holds). */
export const KEY_TYPES: readonly KeyType[] = ['RSA-2048', 'RSA-3072', 'RSA-4096', 'P-256', 'P-384'];

/** The subject of a certificate request: the same fields as a CSR's. */
export type Subject = CsrSubject;

/** `createCertificateRequest`: the gateway makes and keeps the key, and answers the CSR. */
export interface NewCertificateRequest {
  name: string;
  displayName?: string;
  subject: Subject;
  /** `DNS:x`/`IP:x`/`email:x`/`URI:x`, or a bare DNS name. */
  subjectAltNames?: string[];
  /** Default `RSA-2048`. */
  keyType?: KeyType;
}

/** A CSR whose key the gateway holds (SPEC 12). The key itself is never returned. */
export interface CertificateRequest {
  id: number;
  name: string;
  displayName: string;
  siteId: string;
  status: 'Pending' | 'Completed';
  keyAlgorithm: KeyType;
  /** RFC 4514, as the issued certificate's subject will read (for example `CN=client,O=Brand`). */
  subject: string;
  subjectAltNames: string[];
  csrPem: string;
  /** The certificate made from it, once completed. */
  certificateId?: number;
  createdAt: string;
  completedAt?: string;
}

/** `completeCertificateRequest`: the CA's answer as PEM text (leaf first, then the chain) or as a
 * file; with `replaceCertificateId` it becomes the new version of that certificate. */
export type CertificateRequestCompletion =
  | { certificatePem: string; replaceCertificateId?: number }
  | { file: BytesInput; replaceCertificateId?: number };

/** `probe`: what to test; the certificate comes from the mappings unless `certificationId` is
 * given. */
export interface ProbeRequest {
  /** An absolute https URL. */
  url: string;
  /** A service name or code, as `LP-service-name`. */
  serviceName?: string | number;
  /** Present this certificate instead of the mapped one. */
  certificationId?: number;
}

/** Why a probe failed: the first thing that went wrong. */
export type ProbeProblemCode =
  | 'no_mapping' | 'dns' | 'connect' | 'timeout' | 'server_certificate_untrusted'
  | 'client_certificate_not_requested' | 'issuer_not_accepted' | 'client_certificate_rejected'
  | 'tls' | 'io';

/** The handshake probe's answer (SPEC 12): 200 whatever the target did. */
export interface ProbeResult {
  /** True when `problem` is null. */
  ok: boolean;
  /** The normalised URL probed. */
  url: string;
  /** The certificate presented; null when none would be. */
  certificateId: number | null;
  /** Null when no TLS handshake started (dns, connect). */
  tls: {
    /** Null when the handshake did not complete. */
    version: 'TLSv1.3' | 'TLSv1.2' | null;
    /** IANA name, for example `TLS_AES_256_GCM_SHA384`. */
    cipherSuite: string | null;
    /** The target's leaf certificate, also when it is not trusted. */
    serverCertificate: { subject: string; issuer: string; notAfter: string; fingerprintSha256: string } | null;
  } | null;
  /** The target sent a CertificateRequest. */
  clientCertificateRequested: boolean;
  /** The issuers the CertificateRequest lists (RFC 4514), in its order. */
  acceptableIssuers: string[];
  /** The status of the target's answer to `HEAD`. */
  httpStatus: number | null;
  problem: {
    code: ProbeProblemCode;
    message: string;
    /** `server_certificate_untrusted` only: why. */
    reason?: 'unknown_issuer' | 'expired' | 'not_valid_yet' | 'name_mismatch' | 'revoked' | 'wrong_purpose' | 'bad_signature' | 'invalid';
    /** `client_certificate_rejected`: the TLS alert the target sent, for example `unknown_ca`. */
    alert?: string;
  } | null;
}

/** One change, recorded before it was made (SPEC 12). Never holds a secret. */
export interface AuditRecord {
  id: string;
  /** RFC 3339. */
  at: string;
  /** Null for admin changes (app keys, tokens), which are in the admin trail only. */
  account: string | null;
  /** `subject`: the JWT `sub`, the oAuth1 consumer key, or `admin`. */
  actor: { scheme: 'bearer' | 'oauth1' | 'admin'; subject: string };
  /** For example `certificate.create`, `certificate.stage`, `mapping.update`, `token.issue`. */
  action: string;
  resource: { type: string; id: string | null; name: string | null };
  /** The `X-Request-Id` of the call that made the change. */
  requestId: string;
}

/** A page of the audit trail, newest first. */
export interface AuditPage {
  records: AuditRecord[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  nextCursor?: string;
}

export interface AuditQuery {
  /** Only records at or after this time. */
  since?: Date | string;
  /** Records per page, 1 to 500 (default 50). */
  limit?: number;
  cursor?: string;
}

/** `POST /admin/app-keys` answer. */
export interface AppKey {
  consumerKey: string;
  consumerSecret: string;
  token: string;
  tokenSecret: string;
  accounts: string[];
}

/** `POST /admin/tokens` answer. */
export interface IssuedToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

export type ForwardMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ForwardRequest {
  /** The target URL (`LP-forward-url`). */
  url: string;
  /** Default `GET`. */
  method?: ForwardMethod;
  /** `LP-service-name`: a service name or code. */
  serviceName?: string;
  /** Sent to the target. Not `Authorization` (the client's own; use `authorizationOverride`)
   * nor `LP-*` (use the fields). */
  headers?: Record<string, string>;
  /** A string is sent as UTF-8 text; bytes as they are. */
  body?: string | Uint8Array | ArrayBuffer | Blob;
  /** Sent to the target as `Authorization`. */
  authorizationOverride?: string;
  contentTypeOverride?: string;
  methodOverride?: string;
  /** Refuse (400 `certificate_not_found`) instead of sending without a client certificate. */
  stopIfCertificateNotFound?: boolean;
}

/** The target's answer, unchanged. Gateway failures (424 transport errors, authentication,
 * throttling, refused targets) reject with an `MtlsError` instead. */
export interface ForwardResponse {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: Uint8Array;
  /** `LP-certificate-id`: the certificate presented, or null. */
  certificateId: string | null;
}
