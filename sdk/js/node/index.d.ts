// Types of the package's main entry: the WebAssembly functions and the API client.
import * as wasm from './mtls_sdk.js';
import * as client from '../client/cjs/index.js';

export * from './mtls_sdk.js';
export * from '../client/cjs/index.js';
// Both declare the P12 report; the client's is the one exported (the same JSON).
export type { Finding, P12Report } from '../client/cjs/index.js';

/** Every export in one object, for `import mtls from 'mtls-sdk'`. */
declare const sdk: Omit<typeof wasm, 'default'> & typeof client.default;
export default sdk;
