// `MtlsClient` (SPEC section 10): one typed async method per endpoint of SPEC sections 5 and 12,
// over the platform's `fetch` (browsers and Node >= 20), with a Bearer token or an oAuth1 app
// key. No WebAssembly: a page can sign in before any `.wasm` loads.
import { isBlob, toBase64, toBlob, toBytes, type BytesInput } from './bytes.js';
import { MtlsError, invalidArgument, oneOf } from './error.js';
import { oauth1Authorization, percentEncode, type OAuth1Credentials, type OAuth1SignatureMethod } from './oauth1.js';
import {
  KEY_TYPES,
  type AppKey, type AuditPage, type AuditQuery, type Certificate, type CertificateFileReplacement,
  type CertificateRequest, type CertificateRequestCompletion, type CertificateUpdate, type CertificateUpload,
  type ForwardMethod, type ForwardRequest, type ForwardResponse, type IssuedToken, type Mapping, type MappingCheck,
  type NewCertificate, type NewCertificateRequest, type NewMapping, type P12Report, type ProbeRequest,
  type ProbeResult, type SaveCertificatesResult, type Service,
} from './types.js';
import { CLIENT_ERROR_CODES, GATEWAY_REALM, LP_HEADERS, REQUEST_ID_HEADER } from './generated/wire.js';

/** How `MtlsClient` authenticates (SPEC section 4): a Bearer JWT (or, for the admin methods,
 * the admin token), or an oAuth1 app key. */
export type MtlsClientAuth = { bearer: string } | { oauth1: OAuth1Credentials };

/** Retries of throttled (429) and unavailable (503) answers. */
export interface RetryOptions {
  /** Retries after the first attempt; default 3. */
  maxRetries?: number;
  /** The longest wait before one retry, in milliseconds; default 10 000. A `Retry-After`
   * asking for longer ends the retries (the error's `retryAfter` says how long). */
  maxDelayMs?: number;
}

export interface MtlsClientOptions {
  /** The gateway, for example `https://mtls.example.com` (a path prefix is kept). */
  baseUrl: string;
  auth: MtlsClientAuth;
  /** 429 and 503 are retried after `Retry-After` (or 0.5, 1, 2 s ... without one); `false`
   * turns retries off. */
  retry?: RetryOptions | false;
  /** The `fetch` to use; default the platform's. */
  fetch?: typeof fetch;
}

/** What came back from the gateway. */
interface Reply {
  status: number;
  headers: Record<string, string>;
  bytes: Uint8Array;
  requestId: string | null;
}

type Json = unknown;
type Body = { json: Json } | { form: FormData } | { bytes: Uint8Array | Blob } | undefined;
/** A resource id: a non-negative integer, or its decimal string. */
export type ResourceId = number | string;

const METHODS: readonly ForwardMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const SIGNATURE_METHODS: readonly OAuth1SignatureMethod[] = ['HMAC-SHA1', 'HMAC-SHA256'];
const P12_TYPE = 'application/x-pkcs12';

/**
 * The gateway's REST API, typed. Every method is async and rejects with an {@link MtlsError}.
 * Each method's doc names the schemes it accepts (SPEC section 4); any other gets 401.
 *
 * ```ts
 * const client = new MtlsClient({ baseUrl: 'https://mtls.example.com', auth: { bearer: token } });
 * const certificates = await client.listCertificates('my-account');
 * ```
 */
export class MtlsClient {
  readonly #base: string;
  readonly #auth: { bearer: string } | { oauth1: OAuth1Credentials };
  readonly #retry: Required<RetryOptions>;
  readonly #fetch: typeof fetch;

  /** @throws {MtlsError} `invalid_argument` for options of the wrong shape. */
  constructor(options: MtlsClientOptions) {
    const expected = '{ baseUrl: string, auth: { bearer } | { oauth1: { consumerKey, consumerSecret, token?, tokenSecret? } } }';
    if (typeof options !== 'object' || options === null) throw invalidArgument('options', expected);
    let base: URL | null = null;
    try {
      base = new URL(options.baseUrl);
    } catch {
      // reported below
    }
    if (!base || !['http:', 'https:'].includes(base.protocol) || base.search || base.hash) {
      throw invalidArgument('options.baseUrl', 'an absolute http(s) URL without a query');
    }
    this.#base = base.href.replace(/\/+$/, '');
    const auth = options.auth as Partial<{ bearer: unknown; oauth1: Partial<OAuth1Credentials> }> | undefined;
    const both = 'exactly one of { bearer } and { oauth1 }, not empty';
    if (auth && typeof auth.bearer === 'string' && auth.bearer && auth.oauth1 === undefined) {
      // A pasted header value works too.
      this.#auth = { bearer: auth.bearer.replace(/^Bearer\s+/i, '') };
    } else if (auth && auth.bearer === undefined && auth.oauth1 && typeof auth.oauth1 === 'object') {
      const o = auth.oauth1;
      if (typeof o.consumerKey !== 'string' || !o.consumerKey || typeof o.consumerSecret !== 'string') {
        throw invalidArgument('options.auth.oauth1', 'consumerKey and consumerSecret strings');
      }
      this.#auth = {
        oauth1: {
          consumerKey: o.consumerKey,
          consumerSecret: o.consumerSecret,
          ...(o.token ? { token: o.token } : {}),
          ...(o.tokenSecret ? { tokenSecret: o.tokenSecret } : {}),
          signatureMethod: oneOf(o.signatureMethod ?? 'HMAC-SHA1', SIGNATURE_METHODS, 'options.auth.oauth1.signatureMethod'),
        },
      };
    } else {
      throw invalidArgument('options.auth', both);
    }
    const retry = options.retry === false ? { maxRetries: 0 } : options.retry ?? {};
    if (typeof retry !== 'object') throw invalidArgument('options.retry', 'false or { maxRetries?, maxDelayMs? }');
    this.#retry = {
      maxRetries: count(retry.maxRetries ?? 3, 'options.retry.maxRetries'),
      maxDelayMs: count(retry.maxDelayMs ?? 10_000, 'options.retry.maxDelayMs'),
    };
    const platformFetch = options.fetch ?? globalThis.fetch;
    if (typeof platformFetch !== 'function') throw invalidArgument('options.fetch', 'a fetch function (this platform has none)');
    this.#fetch = platformFetch;
  }

  // --- certificates (SPEC 5, 12) ---

  /** `GET /mtls/account/{a}/certificates`, optionally only those expiring within N days.
   * Bearer or oAuth1. */
  async listCertificates(accountId: string, options?: { expiringWithinDays?: number }): Promise<Certificate[]> {
    const days = options?.expiringWithinDays;
    const query = days === undefined ? '' : `?expiringWithinDays=${count(days, 'options.expiringWithinDays')}`;
    return this.#json('GET', `${certificates(accountId)}${query}`);
  }

  /** `GET /mtls/account/{a}/certificates/{id}`. Bearer or oAuth1. */
  async getCertificate(accountId: string, id: ResourceId): Promise<Certificate> {
    return this.#json('GET', `${certificates(accountId)}/${idOf(id)}`);
  }

  /** `POST /mtls/account/{a}/certificates` (JSON; bytes are sent as base64). All are validated
   * before any is stored. Bearer or oAuth1. */
  async createCertificates(accountId: string, items: NewCertificate[]): Promise<SaveCertificatesResult> {
    if (!Array.isArray(items)) throw invalidArgument('certificates', 'an array of { name, p12, password }');
    const body = await Promise.all(items.map((item) => withP12AsBase64(item, 'certificates')));
    return this.#json('POST', certificates(accountId), { json: body });
  }

  /** `POST /mtls/account/{a}/certificates/by-file` (multipart). **Bearer only.** */
  async uploadCertificate(accountId: string, upload: CertificateUpload): Promise<SaveCertificatesResult> {
    return this.#json('POST', `${certificates(accountId)}/by-file`, byFileForm(upload, ['name', 'password', 'displayName']));
  }

  /** `PUT /mtls/account/{a}/certificates/by-file` (multipart): a new version keeping the id, now
   * or staged until `activateAt`. **Bearer only.** */
  async replaceCertificateFile(accountId: string, upload: CertificateFileReplacement): Promise<SaveCertificatesResult> {
    return this.#json('PUT', `${certificates(accountId)}/by-file`, byFileForm(upload, ['id', 'password', 'name', 'activateAt']));
  }

  /** `PUT /mtls/account/{a}/certificates/{id}` (JSON): a new version, now or staged until
   * `activateAt`. Bearer or oAuth1. */
  async updateCertificate(accountId: string, id: ResourceId, update: CertificateUpdate): Promise<Certificate> {
    const path = `${certificates(accountId)}/${idOf(id)}`;
    return this.#json('PUT', path, { json: await withP12AsBase64(update, 'update') });
  }

  /** `DELETE /mtls/account/{a}/certificates/{id}`; 409 `certificate_in_use` while mapped.
   * Bearer or oAuth1. */
  async deleteCertificate(accountId: string, id: ResourceId): Promise<Certificate> {
    return this.#json('DELETE', `${certificates(accountId)}/${idOf(id)}`);
  }

  /** `DELETE /mtls/account/{a}/certificates/{id}/pending`: cancels a staged rotation.
   * Bearer or oAuth1. */
  async cancelPendingCertificate(accountId: string, id: ResourceId): Promise<Certificate> {
    return this.#json('DELETE', `${certificates(accountId)}/${idOf(id)}/pending`, undefined, true);
  }

  /** `POST /mtls/account/{a}/p12-test/multipart`: the report whether the file is usable (200)
   * or not (422); nothing is stored. **Bearer only.** */
  async testP12(accountId: string, file: BytesInput, password: string): Promise<P12Report> {
    const form = new FormData();
    form.append('file', toBlob(file, 'file', P12_TYPE), 'client.p12');
    form.append('password', text(password, 'password'));
    const reply = await this.#send('POST', `/mtls/account/${percentEncode(accountId)}/p12-test/multipart`, { form });
    if (reply.status === 200 || reply.status === 422) {
      const report = parseJson(reply.bytes) as P12Report | undefined;
      if (report && typeof report === 'object' && 'usable' in report) return report;
    }
    throw errorOf(reply);
  }

  // --- gateway-held keys (SPEC 12) ---

  /** `POST /mtls/account/{a}/certificate-requests`: the gateway makes a key (default RSA-2048),
   * keeps it, and answers the CSR to have signed. Bearer or oAuth1. */
  async createCertificateRequest(accountId: string, request: NewCertificateRequest): Promise<CertificateRequest> {
    if (typeof request !== 'object' || request === null) throw invalidArgument('request', '{ name, subject, keyType?, ... }');
    if (request.keyType !== undefined) oneOf(request.keyType, KEY_TYPES, 'request.keyType');
    return this.#json('POST', certificateRequests(accountId), { json: request });
  }

  /** `GET /mtls/account/{a}/certificate-requests`. Bearer or oAuth1. */
  async listCertificateRequests(accountId: string): Promise<CertificateRequest[]> {
    return this.#json('GET', certificateRequests(accountId));
  }

  /** `GET /mtls/account/{a}/certificate-requests/{id}`. Bearer or oAuth1. */
  async getCertificateRequest(accountId: string, id: ResourceId): Promise<CertificateRequest> {
    return this.#json('GET', `${certificateRequests(accountId)}/${idOf(id)}`);
  }

  /** `DELETE /mtls/account/{a}/certificate-requests/{id}`: the held key is destroyed.
   * Bearer or oAuth1. */
  async deleteCertificateRequest(accountId: string, id: ResourceId): Promise<CertificateRequest> {
    return this.#json('DELETE', `${certificateRequests(accountId)}/${idOf(id)}`, undefined, true);
  }

  /** `POST /mtls/account/{a}/certificate-requests/{id}/certificate`: completes a request with the
   * CA-signed chain (PEM text as JSON, or a file as multipart); 422 `key_certificate_mismatch`
   * when it is not for the held key. Bearer or oAuth1. */
  async completeCertificateRequest(accountId: string, id: ResourceId, completion: CertificateRequestCompletion): Promise<SaveCertificatesResult> {
    const path = `${certificateRequests(accountId)}/${idOf(id)}/certificate`;
    if (typeof completion !== 'object' || completion === null) throw invalidArgument('completion', '{ certificatePem } or { file }');
    const replace = completion.replaceCertificateId;
    if ('file' in completion && completion.file !== undefined) {
      const form = new FormData();
      form.append('file', toBlob(completion.file, 'completion.file', 'application/x-pem-file'), 'certificate.pem');
      if (replace !== undefined) form.append('replaceCertificateId', idOf(replace, 'completion.replaceCertificateId'));
      return this.#json('POST', path, { form });
    }
    if (!('certificatePem' in completion) || typeof completion.certificatePem !== 'string') {
      throw invalidArgument('completion', '{ certificatePem: string } or { file }');
    }
    const json = { certificatePem: completion.certificatePem, ...(replace === undefined ? {} : { replaceCertificateId: replace }) };
    return this.#json('POST', path, { json });
  }

  // --- mappings (SPEC 5) ---

  /** `POST /api/account/{a}/configuration/ac-common/mtls?v=3.0`. Bearer or oAuth1. */
  async createMappings(accountId: string, mappings: NewMapping[]): Promise<Mapping[]> {
    return this.#json('POST', `${mappingsPath(accountId)}?v=3.0`, { json: mappings });
  }

  /** `GET /api/account/{a}/configuration/ac-common/mtls`. Bearer or oAuth1. */
  async listMappings(accountId: string): Promise<Mapping[]> {
    return this.#json('GET', mappingsPath(accountId));
  }

  /** `GET .../mtls/{id}`; `revision` is the `ETag` to pass as `ifMatch`. Bearer or oAuth1. */
  async getMapping(accountId: string, id: ResourceId): Promise<Mapping> {
    return this.#json('GET', `${mappingsPath(accountId)}/${idOf(id)}`);
  }

  /** `PUT .../mtls/{id}`; with `ifMatch`, a stale revision is 412. Bearer or oAuth1. */
  async updateMapping(accountId: string, id: ResourceId, mapping: Partial<NewMapping>, options?: { ifMatch?: string | number }): Promise<Mapping> {
    return this.#json('PUT', `${mappingsPath(accountId)}/${idOf(id)}`, { json: mapping }, false, ifMatch(options));
  }

  /** `DELETE .../mtls/{id}`; with `ifMatch`, a stale revision is 412. Bearer or oAuth1. */
  async deleteMapping(accountId: string, id: ResourceId, options?: { ifMatch?: string | number }): Promise<void> {
    await this.#json('DELETE', `${mappingsPath(accountId)}/${idOf(id)}`, undefined, true, ifMatch(options));
  }

  // --- runtime checks, services, forwarding, probe (SPEC 5, 6, 12) ---

  /** `POST /mtls/mapping?v=1`: keys `CertificateMappingParamters{serviceName='S', accountId='A',
   * url='U'}`. **oAuth1 only.** */
  async checkMappingsV1(items: MappingCheck[]): Promise<Record<string, boolean>> {
    return this.#json('POST', '/mtls/mapping?v=1', { json: items });
  }

  /** `POST /mtls/mapping?v=2`: each item plus `doExist`. **oAuth1 only.** */
  async checkMappingsV2(items: MappingCheck[]): Promise<(MappingCheck & { doExist: boolean })[]> {
    return this.#json('POST', '/mtls/mapping?v=2', { json: items });
  }

  /** `POST /api/account/{a}/checks/serviceUrlMappings`: each item plus `exist`. Bearer or oAuth1. */
  async checkServiceUrlMappings(accountId: string, items: { serviceName: string; url: string }[]): Promise<{ serviceName: string; url: string; exist: boolean }[]> {
    return this.#json('POST', `/api/account/${percentEncode(accountId)}/checks/serviceUrlMappings`, { json: items });
  }

  /** `GET /mtls/services`: the configured services. Bearer or oAuth1. */
  async listServices(): Promise<Service[]> {
    return this.#json('GET', '/mtls/services');
  }

  /** `{METHOD} /mtls/account/{a}` with the `LP-*` headers of SPEC section 6: the target's answer,
   * whatever its status. Bearer or oAuth1. */
  async forward(accountId: string, request: ForwardRequest): Promise<ForwardResponse> {
    const { method, body, headers } = await forwardParts(request);
    const reply = await this.#send(method, `/mtls/account/${percentEncode(accountId)}`, body, headers, isGatewayError);
    if (isGatewayError(reply)) throw errorOf(reply);
    return { status: reply.status, headers: reply.headers, body: reply.bytes, certificateId: reply.headers[LP_HEADERS.certificateId] ?? null };
  }

  /** `POST /mtls/account/{a}/probe`: connects to `url` as forwarding would and explains the TLS
   * handshake (a failed handshake is a 200 with `ok: false` and a `problem`). Bearer or oAuth1. */
  async probe(accountId: string, request: ProbeRequest): Promise<ProbeResult> {
    return this.#json('POST', `/mtls/account/${percentEncode(accountId)}/probe`, { json: request });
  }

  // --- audit trail (SPEC 12) ---

  /** `GET /mtls/account/{a}/audit`: recorded changes, newest first. Bearer or oAuth1. */
  async listAudit(accountId: string, query?: AuditQuery): Promise<AuditPage> {
    return this.#json('GET', `/mtls/account/${percentEncode(accountId)}/audit${auditQuery(query)}`);
  }

  // --- admin (SPEC 5; the client's auth is `{ bearer: <MTLS_ADMIN_TOKEN> }`) ---

  /** `GET /admin/audit`: every account's changes, newest first. **Admin token.** */
  async listAllAudit(query?: AuditQuery): Promise<AuditPage> {
    return this.#json('GET', `/admin/audit${auditQuery(query)}`);
  }

  /** `POST /admin/app-keys`: an oAuth1 app key for `accounts` (or `['*']`). **Admin token.** */
  async createAppKey(request: { name: string; accounts: string[] }): Promise<AppKey> {
    return this.#json('POST', '/admin/app-keys', { json: request });
  }

  /** `DELETE /admin/app-keys/{consumerKey}`. **Admin token.** */
  async deleteAppKey(consumerKey: string): Promise<void> {
    await this.#json('DELETE', `/admin/app-keys/${percentEncode(text(consumerKey, 'consumerKey'))}`, undefined, true);
  }

  /** `POST /admin/tokens`: a Bearer JWT for `accounts`. **Admin token.** */
  async issueToken(request: { sub: string; accounts: string[]; ttlSeconds: number }): Promise<IssuedToken> {
    return this.#json('POST', '/admin/tokens', { json: request });
  }

  // --- plumbing ---

  /** A call whose successful answer is JSON (or nothing, when `emptyOk`). */
  async #json<T>(method: string, path: string, body?: Body, emptyOk = false, headers: Record<string, string> = {}): Promise<T> {
    const reply = await this.#send(method, path, body, { accept: 'application/json', ...headers });
    if (reply.status < 200 || reply.status > 299) throw errorOf(reply);
    const value = parseJson(reply.bytes);
    if (value !== undefined) return value as T;
    if (emptyOk || reply.bytes.length === 0) return undefined as T;
    throw new MtlsError({
      status: reply.status,
      code: CLIENT_ERROR_CODES.unexpectedResponse,
      message: 'the gateway answered with a body that is not JSON',
      requestId: reply.requestId,
    });
  }

  /** Sends with retries of the gateway's 429 and 503 (`isRetryable` says whether an answer is
   * the gateway's own, for forwards). Every attempt is signed afresh: oAuth1 nonces are single
   * use. */
  async #send(method: string, path: string, body: Body, headers: Record<string, string> = {}, isGatewayAnswer: (r: Reply) => boolean = () => true): Promise<Reply> {
    for (let attempt = 0; ; attempt++) {
      const reply = await this.#sendOnce(method, path, body, headers);
      if ((reply.status !== 429 && reply.status !== 503) || !isGatewayAnswer(reply) || attempt >= this.#retry.maxRetries) {
        return reply;
      }
      const asked = retryAfterSeconds(reply.headers['retry-after']);
      const delay = asked === null ? 500 * 2 ** attempt : asked * 1000;
      if (delay > this.#retry.maxDelayMs) return reply;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  async #sendOnce(method: string, path: string, body: Body, extra: Record<string, string>): Promise<Reply> {
    const url = `${this.#base}${path}`;
    const headers: Record<string, string> = { ...extra };
    let payload: BodyInit | undefined;
    if (body && 'json' in body) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body && 'form' in body) {
      payload = body.form;
    } else if (body) {
      payload = body.bytes as BodyInit;
    }
    headers.authorization = await this.#authorization(method, url, body, headers);
    let response: Response;
    try {
      response = await this.#fetch.call(globalThis, url, { method, headers, body: payload });
    } catch (error) {
      throw new MtlsError({
        status: 0,
        code: CLIENT_ERROR_CODES.networkError,
        message: `the gateway at ${this.#base} did not answer: ${transportReason(error)}`,
      });
    }
    const replyHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      replyHeaders[name.toLowerCase()] = value;
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, headers: replyHeaders, bytes, requestId: replyHeaders[REQUEST_ID_HEADER] ?? null };
  }

  /** The `Authorization` value; an oAuth1 signature covers the parameters of a form-encoded
   * body (RFC 5849 section 3.4.1.3.1), which the gateway checks too. */
  async #authorization(method: string, url: string, body: Body, headers: Record<string, string>): Promise<string> {
    if ('bearer' in this.#auth) return `Bearer ${this.#auth.bearer}`;
    const isForm = /^\s*application\/x-www-form-urlencoded\s*(;|$)/i.test(headers['content-type'] ?? '');
    let formParameters: [string, string][] = [];
    if (isForm && body && 'bytes' in body) {
      const bytes = isBlob(body.bytes) ? new Uint8Array(await body.bytes.arrayBuffer()) : body.bytes;
      formParameters = [...new URLSearchParams(new TextDecoder().decode(bytes))];
    }
    const nonce = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    return oauth1Authorization({
      method,
      url,
      formParameters,
      credentials: this.#auth.oauth1,
      nonce,
      timestamp: Math.floor(Date.now() / 1000),
    });
  }
}

// --- helpers ---

/** Whether a forwarded call failed at the gateway rather than at the target: a transport failure
 * (424 with `LP-error-from-transport`), the gateway's authentication challenge, or the gateway's
 * JSON error body (its `requestId` equals the response's `X-Request-Id`; a target never echoes
 * the id the gateway made up for this request). */
function isGatewayError(reply: Reply): boolean {
  if (reply.status === 424 && reply.headers[LP_HEADERS.errorFromTransport] !== undefined) return true;
  if (reply.status === 401 && (reply.headers['www-authenticate'] ?? '').includes(GATEWAY_REALM)) return true;
  if (reply.status < 400) return false;
  const body = parseJson(reply.bytes) as { error?: unknown; requestId?: unknown } | undefined;
  return typeof body?.error === 'object' && body.error !== null && typeof body.requestId === 'string' && body.requestId === reply.requestId;
}

/** The `MtlsError` of a failed reply, from the SPEC section 5 error body when there is one. */
function errorOf(reply: Reply): MtlsError {
  const body = parseJson(reply.bytes) as { error?: { code?: unknown; message?: unknown; details?: unknown }; requestId?: unknown } | undefined;
  const error = body && typeof body.error === 'object' && body.error !== null ? body.error : undefined;
  return new MtlsError({
    status: reply.status,
    code: typeof error?.code === 'string' ? error.code : `http_${reply.status}`,
    message: typeof error?.message === 'string' ? error.message : `the gateway answered ${reply.status}`,
    requestId: typeof body?.requestId === 'string' ? body.requestId : reply.requestId,
    retryAfter: retryAfterSeconds(reply.headers['retry-after']),
    details: error?.details,
  });
}

/** `Retry-After` in seconds (RFC 9110 section 10.2.3: a number of seconds or an HTTP date). */
function retryAfterSeconds(value: string | undefined): number | null {
  if (value === undefined) return null;
  if (/^\s*\d+\s*$/.test(value)) return Number(value);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

/** The platform's words for a failed `fetch`: its message and its cause's (Node puts the socket
 * error, for example `ECONNREFUSED`, in `cause`). Neither contains request data. */
function transportReason(error: unknown): string {
  const e = error as { message?: unknown; cause?: { code?: unknown; message?: unknown } } | null;
  const message = typeof e?.message === 'string' ? e.message : 'fetch failed';
  const cause = e?.cause?.code ?? e?.cause?.message;
  return typeof cause === 'string' ? `${message} (${cause})` : message;
}

function certificates(accountId: string): string {
  return `/mtls/account/${percentEncode(text(accountId, 'accountId'))}/certificates`;
}

function certificateRequests(accountId: string): string {
  return `/mtls/account/${percentEncode(text(accountId, 'accountId'))}/certificate-requests`;
}

function mappingsPath(accountId: string): string {
  return `/api/account/${percentEncode(text(accountId, 'accountId'))}/configuration/ac-common/mtls`;
}

function text(value: unknown, argument: string): string {
  if (typeof value !== 'string') throw invalidArgument(argument, 'a string');
  return value;
}

/** An id: a non-negative safe integer or its decimal string. */
function idOf(id: unknown, argument = 'id'): string {
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return String(id);
  if (typeof id === 'string' && /^\d+$/.test(id)) return id;
  throw invalidArgument(argument, 'a non-negative integer');
}

function count(value: unknown, argument: string): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw invalidArgument(argument, 'a non-negative integer');
}

function ifMatch(options: { ifMatch?: string | number } | undefined): Record<string, string> {
  const value = options?.ifMatch;
  if (value === undefined || value === null) return {};
  if (typeof value === 'string' || (typeof value === 'number' && Number.isSafeInteger(value))) return { 'if-match': String(value) };
  throw invalidArgument('options.ifMatch', 'a string or an integer revision');
}

function auditQuery(query: AuditQuery | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  if (query.since !== undefined) params.set('since', rfc3339(query.since, 'query.since'));
  if (query.limit !== undefined) params.set('limit', String(count(query.limit, 'query.limit')));
  if (query.cursor !== undefined) params.set('cursor', text(query.cursor, 'query.cursor'));
  const encoded = params.toString();
  return encoded ? `?${encoded}` : '';
}

function rfc3339(value: unknown, argument: string): string {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
  if (typeof value === 'string') return value;
  throw invalidArgument(argument, 'a Date or an RFC 3339 string');
}

/** A shallow copy of `{ p12, ... }` with `p12` as base64 (JSON would otherwise turn bytes into
 * an object of indices) and `activateAt` as RFC 3339. */
async function withP12AsBase64<T extends { p12: BytesInput | number[]; activateAt?: Date | string }>(item: T, argument: string): Promise<T> {
  if (typeof item !== 'object' || item === null) throw invalidArgument(argument, 'objects like { name, p12, password }');
  const p12 = Array.isArray(item.p12) || typeof item.p12 === 'string' ? item.p12 : toBase64(await toBytes(item.p12, `${argument}.p12`));
  const copy = { ...item, p12 };
  if (item.activateAt !== undefined) copy.activateAt = rfc3339(item.activateAt, `${argument}.activateAt`);
  return copy;
}

/** The multipart body of the by-file endpoints: `file` and the `certificate` JSON made of the
 * `fields` present in `upload`. */
function byFileForm(upload: object, fields: string[]): Body {
  if (typeof upload !== 'object' || upload === null) throw invalidArgument('upload', '{ file, password, ... }');
  const source = upload as Record<string, unknown>;
  const certificate: Record<string, unknown> = {};
  for (const field of fields) {
    if (source[field] !== undefined) {
      certificate[field] = field === 'activateAt' ? rfc3339(source[field], 'upload.activateAt') : source[field];
    }
  }
  const form = new FormData();
  form.append('file', toBlob(source.file, 'upload.file', P12_TYPE), 'client.p12');
  form.append('certificate', JSON.stringify(certificate));
  return { form };
}

/** Method, body and headers of a forwarded call. */
async function forwardParts(request: ForwardRequest): Promise<{ method: string; body: Body; headers: Record<string, string> }> {
  if (typeof request !== 'object' || request === null) throw invalidArgument('request', '{ url: string, method?, serviceName?, headers?, body?, ... }');
  const optional = (name: keyof ForwardRequest): string | undefined => {
    const value = request[name];
    if (value === undefined || value === null) return undefined;
    return text(value, `request.${name}`);
  };
  const url = optional('url');
  if (url === undefined) throw invalidArgument('request.url', 'the target URL');
  const method = oneOf((request.method ?? 'GET').toUpperCase(), METHODS, 'request.method');
  const headers: Record<string, string> = {};
  if (request.headers !== undefined) {
    if (typeof request.headers !== 'object' || request.headers === null) throw invalidArgument('request.headers', 'an object of string values');
    for (const [name, value] of Object.entries(request.headers)) {
      const lower = name.toLowerCase();
      if (typeof value !== 'string') throw invalidArgument('request.headers', 'an object of string values');
      // Either would silently replace what the client sends for the caller: its credential, or
      // what the request's own fields ask the gateway for.
      if (lower === 'authorization' || lower.startsWith('lp-')) {
        throw invalidArgument('request.headers', 'headers other than Authorization (use authorizationOverride) and LP-* (use the request fields)');
      }
      headers[lower] = value;
    }
  }
  headers[LP_HEADERS.forwardUrl] = url;
  for (const field of ['serviceName', 'authorizationOverride', 'contentTypeOverride', 'methodOverride'] as const) {
    const value = optional(field);
    if (value !== undefined) headers[LP_HEADERS[field]] = value;
  }
  if (request.stopIfCertificateNotFound === true) headers[LP_HEADERS.stopIfCertificateNotFound] = 'true';
  let body: Body;
  if (request.body === undefined || request.body === null) body = undefined;
  else if (typeof request.body === 'string') body = { bytes: new TextEncoder().encode(request.body) };
  else if (isBlob(request.body)) body = { bytes: request.body };
  else if (request.body instanceof Uint8Array || request.body instanceof ArrayBuffer) body = { bytes: await toBytes(request.body, 'request.body') };
  else throw invalidArgument('request.body', 'a string, Uint8Array, ArrayBuffer or Blob');
  return { method, body, headers };
}
