// Node ES-module entry of `mtls-sdk` (`import { inspectP12 } from 'mtls-sdk'`).
//
// Re-exports the CommonJS build next to it, so `require` and `import` share one instance of the
// WebAssembly module. Node finds the names through its CommonJS export detection: the
// wasm-bindgen nodejs glue assigns each one as `exports.name = ...`.
export * from './mtls_sdk.js';
