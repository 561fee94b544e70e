// The JSON shapes of the gateway's REST API (SPEC sections 2, 5 and 12), as `MtlsClient`
// returns them.
import type { BytesInput } from './bytes.js';

/** One problem or warning: a stable snake_case code and a human message. */
export interface Finding {
  code: string;
  message: string;
}

/** The P12 tester's answer: the SPEC section 2 report (the same JSON `inspectP12` returns). */
export interface P12Report {
  usable: boolean;
  problems: Finding[];
  warnings: Finding[];
  certificate: {
    subject: string; issuer: string; serialNumber: string; notBefore: string; notAfter: string;
    fingerprintSha256: string; keyUsage: string[]; extendedKeyUsage: string[]; subjectAltNames: string[];
  } | null;
  chain: P12Report['certificate'][];
  key: { algorithm: string; bits: number | null; curve?: string } | null;
  container: { macAlgorithm: string; macIterations: number; encryption: { bag: string; algorithm: string; iterations: number }[] } | null;
}

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

/** Key types of a CSR key (RSA-2048 is the gateway's default). */
export type KeyType = 'P-256' | 'P-384' | 'RSA-2048' | 'RSA-3072' | 'RSA-4096';
/** The key types, in the order the docs list them. */
export const KEY_TYPES: readonly KeyType[] = ['RSA-2048', 'RSA-3072', 'RSA-4096', 'P-256', 'P-384'];

export interface Subject {
  commonName: string;
  organization?: string;
  organizationalUnit?: string;
  country?: string;
  state?: string;
  locality?: string;
  email?: string;
}

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
  keyAlgorithm: string;
  subject: string;
  subjectAltNames: string[];
  csrPem: string;
  /** The certificate made from it, once completed. */
  certificateId?: number | null;
  createdAt: string;
}

/** `completeCertificateRequest`: the CA's answer as PEM text (leaf first, then the chain) or as a
 * file; with `replaceCertificateId` it becomes the new version of that certificate. */
export type CertificateRequestCompletion =
  | { certificatePem: string; replaceCertificateId?: number }
  | { file: BytesInput; replaceCertificateId?: number };

/** `probe`: what to test; the certificate comes from the mappings unless `certificationId` is
 * given. */
export interface ProbeRequest {
  url: string;
  serviceName?: string;
  certificationId?: number;
}

/** Why a probe failed. */
export type ProbeProblemCode =
  | 'no_mapping' | 'dns' | 'connect' | 'timeout' | 'server_certificate_untrusted'
  | 'client_certificate_not_requested' | 'issuer_not_accepted' | 'client_certificate_rejected';

/** The handshake probe's answer (SPEC 12). */
export interface ProbeResult {
  ok: boolean;
  url: string;
  certificateId: number | null;
  tls: {
    version: string;
    cipherSuite: string;
    serverCertificate: { subject: string; issuer: string; notAfter: string; fingerprintSha256: string };
  } | null;
  clientCertificateRequested: boolean;
  /** Distinguished names from the server's CertificateRequest. */
  acceptableIssuers: string[];
  httpStatus: number | null;
  problem: { code: ProbeProblemCode | (string & {}); message: string } | null;
}

/** One change recorded by the gateway (never a secret). */
export interface AuditRecord {
  id: string;
  /** RFC 3339. */
  at: string;
  account: string;
  actor: { scheme: string; subject: string };
  action: string;
  resource: { type: string; id: string | number; name?: string | null };
  requestId: string;
}

/** A page of the audit trail, newest first. */
export interface AuditPage {
  items: AuditRecord[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export interface AuditQuery {
  /** Only records at or after this time. */
  since?: Date | string;
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
