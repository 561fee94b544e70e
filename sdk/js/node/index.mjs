// Node ES-module entry of `mtls-sdk` (`import { inspectP12 } from 'mtls-sdk'`).
//
// Re-exports the CommonJS builds beside it, so `require` and `import` share one instance of the
// WebAssembly module and of the client (one `MtlsError` class for `instanceof`). Node finds the
// names through its CommonJS export detection: the wasm-bindgen nodejs glue assigns each one as
// `exports.name = ...`, and the client's CommonJS is TypeScript's output.
import * as wasm from './mtls_sdk.js';
import * as client from '../client/node.mjs';

export * from './mtls_sdk.js';
export * from '../client/node.mjs';

/** Every export in one object, for `import mtls from 'mtls-sdk'`. */
export default { ...wasm, ...client.default };
