// Browser ES-module entry of `mtls-sdk`.
//
// Instantiates the WebAssembly module once, with top-level await, from the `.wasm` file beside
// this one (fetched relative to `import.meta.url`; bundlers understand that form too), so that
// every export can be called synchronously as in Node: no `init()` for the caller.
import init from './mtls_sdk.js';

await init();

export * from './mtls_sdk.js';
