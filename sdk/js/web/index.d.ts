// Types of the browser entry: each WebAssembly module is fetched on first use, which a browser
// can only do asynchronously, so every WebAssembly function returns a promise here. The Node
// entry's types (../node/index.d.ts) have the same names, with `inspectP12` and `buildP12`
// synchronous.
import type { BuildP12Request, BytesInput, GenerateCsrRequest, GeneratedCsr, P12Report } from '../client/index.js';
import type { InspectP12Options } from '../wasm/inspector.js';
import * as client from '../client/index.js';

export * from '../client/index.js';
export type { InspectP12Options } from '../wasm/inspector.js';

/** @deprecated The package throws one error class, `MtlsError` (status 0 for errors on this
 * side, with the same `code`s); this name is kept for code written against older versions. */
export type MtlsSdkError = client.MtlsError;

/** The package's WebAssembly modules: `inspector` (inspectP12), `csr` (generateCsr, buildP12). */
export type WasmModuleName = 'inspector' | 'csr';

/**
 * Decides whether a PKCS#12 file plus password is usable (SPEC section 2) and resolves to the
 * report; a file that is not usable is not an error, its report says why. The first call fetches
 * the `inspector` module.
 * @param p12 The file: a `File`/`Blob`, `Uint8Array`, another typed array, an `ArrayBuffer` or a
 *   base64 string.
 * The public key of an EC or Ed25519 key is derived by WebCrypto.
 * Rejects with an `MtlsError`: code `invalid_argument` when an argument has the wrong type,
 * `wasm_load_failed` when the module could not be fetched (the next call tries again),
 * `public_key_unavailable` when WebCrypto cannot derive the key's public key (no `crypto.subtle`
 * outside a secure context, or a browser without Ed25519).
 */
export declare function inspectP12(p12: BytesInput, password: string, options?: InspectP12Options): Promise<P12Report>;

/**
 * Generates a key pair (WebCrypto) and a CSR for it; the key never leaves this machine. The
 * first call fetches the `csr` module.
 * WebCrypto (`globalThis.crypto.subtle`) makes the key and signs the CSR; the package's
 * WebAssembly only encodes it.
 * @throws {MtlsError} (the promise rejects) `invalid_subject`, `invalid_subject_alt_name`,
 *   `unsupported_key_type`; `webcrypto_unavailable` where `crypto.subtle` is missing (a browser
 *   page that is not a secure context: https or localhost); `webcrypto_failed`.
 */
export declare function generateCsr(request: GenerateCsrRequest): Promise<GeneratedCsr>;

/**
 * Packs a private key and its certificate chain into a PKCS#12 file. The first call fetches the
 * `csr` module. Rejects with an `MtlsError` with a snake_case `code`.
 */
export declare function buildP12(request: BuildP12Request): Promise<Uint8Array>;

/**
 * Fetches and compiles WebAssembly modules now (all when `modules` is omitted), for example
 * behind a progress indicator. Rejects with code `wasm_load_failed`; a later call tries again.
 */
export declare function loadWasm(modules?: WasmModuleName | WasmModuleName[]): Promise<void>;

/**
 * Fetches WebAssembly modules (all when omitted) when the browser is idle
 * (`requestIdleCallback`), so a later first call finds them ready. Failures are silent: the first
 * real call loads again and reports.
 */
export declare function prefetchWasm(modules?: WasmModuleName | WasmModuleName[]): void;

/** Every export in one object, for `import mtls from 'mtls-sdk'`. */
declare const sdk: typeof client.default & {
  inspectP12: typeof inspectP12;
  generateCsr: typeof generateCsr;
  buildP12: typeof buildP12;
  loadWasm: typeof loadWasm;
  prefetchWasm: typeof prefetchWasm;
};
export default sdk;
