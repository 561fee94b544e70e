// Browser ES-module entry of `mtls-sdk`.
//
// Instantiates the WebAssembly module once, with top-level await, from the `.wasm` file beside
// this one (fetched relative to `import.meta.url`; bundlers understand that form too), so that
// every export can be called synchronously as in Node: no `init()` for the caller. The API client
// needs no WebAssembly: a page that must work before the `.wasm` has loaded imports
// `mtls-sdk/client` (`client/index.js`) alone.
import init, * as wasm from './mtls_sdk.js';
import client from '../client/index.js';

await init();

export * from './mtls_sdk.js';
export * from '../client/index.js';

const { default: _init, ...functions } = wasm;

/** Every export in one object, for `import mtls from 'mtls-sdk'`. */
export default { ...functions, ...client };
