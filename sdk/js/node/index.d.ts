// Types of the Node entry (`require` and `import`): the WebAssembly functions are synchronous
// here, each module loaded on the first call that needs it. The browser entry's types
// (../web/index.d.ts) have the same names returning promises.
import type { BuildP12Request, BytesInput, GenerateCsrRequest, GeneratedCsr, P12Report } from '../client/cjs/index.js';
import type { InspectP12Options } from '../wasm/inspector.cjs';
import * as client from '../client/cjs/index.js';

export * from '../client/cjs/index.js';
export type { InspectP12Options } from '../wasm/inspector.cjs';

/** @deprecated The package throws one error class, `MtlsError` (status 0 for errors on this
 * side, with the same `code`s); this name is kept for code written against older versions. */
export type MtlsSdkError = client.MtlsError;

/** The package's WebAssembly modules: `inspector` (inspectP12), `csr` (generateCsr, buildP12). */
export type WasmModuleName = 'inspector' | 'csr';

/**
 * Decides whether a PKCS#12 file plus password is usable (SPEC section 2) and returns the
 * report; a file that is not usable is not an error, its report says why. Synchronous in Node
 * (the first call reads and compiles the `inspector` module); in browsers it returns a promise.
 * @param p12 The file: a `Uint8Array` (a `Buffer` is one), another typed array, an `ArrayBuffer`
 *   or a base64 string.
 * The public key of an EC or Ed25519 key is derived by Node's `crypto`.
 * @throws {MtlsError} code `invalid_argument` when an argument has the wrong type,
 *   `public_key_unavailable` when Node's `crypto` cannot derive the key's public key.
 */
export declare function inspectP12(p12: Exclude<BytesInput, Blob>, password: string, options?: InspectP12Options): P12Report;

/**
 * Generates a key pair (WebCrypto) and a CSR for it; the key never leaves this machine.
 * Asynchronous everywhere: WebCrypto is.
 * WebCrypto (`globalThis.crypto.subtle`) makes the key and signs the CSR; the package's
 * WebAssembly only encodes it.
 * @throws {MtlsError} (the promise rejects) `invalid_subject`, `invalid_subject_alt_name`,
 *   `unsupported_key_type`; `webcrypto_unavailable` where `crypto.subtle` is missing (a browser
 *   page that is not a secure context: https or localhost); `webcrypto_failed`.
 */
export declare function generateCsr(request: GenerateCsrRequest): Promise<GeneratedCsr>;

/**
 * Packs a private key and its certificate chain into a PKCS#12 file. Synchronous in Node (the
 * first call reads and compiles the `csr` module); in browsers it returns a promise.
 * @throws {MtlsError} with a snake_case `code`, for example `key_certificate_mismatch`.
 */
export declare function buildP12(request: BuildP12Request): Uint8Array;

/**
 * Loads WebAssembly modules now (all when `modules` is omitted). In Node the load is synchronous
 * and the promise already settled; it exists so code shared with browsers can `await` it.
 */
export declare function loadWasm(modules?: WasmModuleName | WasmModuleName[]): Promise<void>;

/** Loads WebAssembly modules (all when omitted) once the current I/O callbacks have run. */
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
