import { CLIENT_ERROR_CODES, type ClientErrorCode, type GatewayErrorCode } from './generated/wire.js';

/** An `MtlsError`'s `code`: the gateway's, the client's own, or another one (the WebAssembly
 * functions' codes, `http_<status>`); the named ones are listed for completion. */
export type MtlsErrorCode = GatewayErrorCode | ClientErrorCode | (string & {});

/** What an `MtlsError` is made from. */
export interface MtlsErrorInit {
  status: number;
  code: MtlsErrorCode;
  message: string;
  requestId?: string | null;
  retryAfter?: number | null;
  details?: unknown;
  /** What caused a failure on this side (the standard `Error.cause`), e.g. a failed fetch. */
  cause?: unknown;
}

/**
 * Every error the package throws: a failed `MtlsClient` call (the gateway's error body, SPEC
 * section 5), or, with `status` 0, a failure on this side: the client's (`invalid_argument`,
 * `network_error`) and the WebAssembly functions' (`inspectP12`, `generateCsr`, `buildP12`:
 * `invalid_argument`, `key_certificate_mismatch`, `wasm_load_failed`, ...).
 *
 * ```ts
 * try { await client.deleteCertificate('acc', 7); }
 * catch (error) { if (error instanceof MtlsError && error.code === 'certificate_in_use') ... }
 * ```
 */
export class MtlsError extends Error {
  override readonly name = 'MtlsError';
  /** The HTTP status, or 0 when no answer came (or the call was refused before it was sent). */
  readonly status: number;
  /** Stable snake_case code: the gateway's (`certificate_in_use`, `too_many_requests`, ...), one
   * of the client's own (`invalid_argument`, `network_error`, `unexpected_response`), or
   * `http_<status>` for an answer without an error body. */
  readonly code: MtlsErrorCode;
  /** The gateway's `X-Request-Id` for this call: quote it when asking for help. */
  readonly requestId: string | null;
  /** Seconds the gateway asked to wait (`Retry-After` of a 429 or 503), after the client's own
   * retries ran out; null otherwise. */
  readonly retryAfter: number | null;
  /** The error body's `details`: for `p12_not_usable`, the P12 report. */
  readonly details?: unknown;

  constructor(init: MtlsErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId ?? null;
    this.retryAfter = init.retryAfter ?? null;
    if (init.details !== undefined) this.details = init.details;
  }
}

/** The `invalid_argument` error for `argument` (named as in the TypeScript signature). */
export function invalidArgument(argument: string, expected: string): MtlsError {
  return new MtlsError({
    status: 0,
    code: CLIENT_ERROR_CODES.invalidArgument,
    message: `invalid argument \`${argument}\`: expected ${expected}`,
  });
}

/** `value` when it is one of `allowed`, else an `invalid_argument` naming every allowed value. */
export function oneOf<T extends string>(value: unknown, allowed: readonly T[], argument: string): T {
  if ((allowed as readonly unknown[]).includes(value)) return value as T;
  const list = allowed.map((a) => JSON.stringify(a)).join(', ');
  throw invalidArgument(argument, `one of ${list}, not ${JSON.stringify(value) ?? String(value)}`);
}
