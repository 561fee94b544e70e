// `mtls-sdk`'s API client, loadable alone (no WebAssembly): `import { MtlsClient } from
// 'mtls-sdk/client'`, or through the package's main entry with everything else.
export { MtlsClient, type MtlsClientAuth, type MtlsClientOptions, type ResourceId, type RetryOptions } from './client.js';
export { MtlsError, type MtlsErrorCode, type MtlsErrorInit } from './error.js';
export type { ClientErrorCode, GatewayErrorCode } from './generated/wire.js';
export { oauth1Authorization, type OAuth1Credentials, type OAuth1Request, type OAuth1SignatureMethod } from './oauth1.js';
export { toBytes, type BytesInput } from './bytes.js';
export * from './types.js';

import { MtlsClient } from './client.js';
import { MtlsError } from './error.js';
import { oauth1Authorization } from './oauth1.js';
import { toBytes } from './bytes.js';
import { KEY_TYPES } from './types.js';

/** The same values as the named exports, for `import mtls from 'mtls-sdk/client'`. */
const client = { MtlsClient, MtlsError, oauth1Authorization, toBytes, KEY_TYPES };
export default client;
