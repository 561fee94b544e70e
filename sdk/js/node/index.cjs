// Node entry of `mtls-sdk` for `require` (index.mjs re-exports it for `import`, so both share
// one instance of every module).
//
// Node reads files synchronously, so here `inspectP12` and `buildP12` are synchronous like the
// Rust core they call: each WebAssembly module is read and compiled by its wasm-bindgen glue
// (`../wasm/<module>.cjs`) on the first call that needs it, and requiring the package loads none.
// `generateCsr` returns a promise everywhere (WebCrypto makes the key). The browser entry
// (`../web/index.js`) has the same names, but fetching a module there is asynchronous, so its
// `inspectP12` and `buildP12` return promises.
'use strict';
const crypto = require('node:crypto');
const { toBytesSync } = require('../client/cjs/bytes.js');
const { MtlsError } = require('../client/cjs/error.js');
const { KEY_TYPES } = require('../client/cjs/types.js');

/** `buildP12` profiles; the Rust core reads more spellings, the package accepts these only. */
const P12_PROFILES = ['modern', 'legacy'];

/** Throws an `MtlsError` with `code` unless `value` is one of `allowed`, naming them all. */
function oneOf(value, allowed, argument, code) {
  if (allowed.includes(value)) return;
  throw new MtlsError({
    status: 0,
    code,
    message: `\`${argument}\` ${JSON.stringify(value) ?? String(value)} is not supported: expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
  });
}

/** The package throws one error class: the Rust core's errors (plain `Error`s named
 * `MtlsError` with a `code`, made in WebAssembly, which cannot construct this class) become
 * `MtlsError`s with status 0 (nothing was sent). Anything else passes unchanged (a WebAssembly
 * trap is a bug, not an API error). */
function sdkError(error) {
  if (error instanceof MtlsError || error?.name !== 'MtlsError' || typeof error.code !== 'string') return error;
  return new MtlsError({ status: 0, code: error.code, message: error.message });
}

/** `call()`, its thrown error as `sdkError`. */
function sdkCall(call) {
  try {
    return call();
  } catch (error) {
    throw sdkError(error);
  }
}

let inspectorGlue;
let csrGlue;
/** The `inspector` module's glue (inspectP12), loaded on first use. */
function inspector() {
  return (inspectorGlue ??= require('../wasm/inspector.cjs'));
}
/** The `csr` module's glue (generateCsr, buildP12), loaded on first use. */
function csr() {
  return (csrGlue ??= require('../wasm/csr.cjs'));
}
const MODULES = { inspector, csr };

function inspectP12(p12, password, options) {
  const bytes = toBytesSync(p12, 'p12');
  const glue = inspector();
  return sdkCall(() => {
    const result = glue.inspectP12(bytes, password, options);
    return result instanceof glue.PendingInspection ? finishWithPublicKey(result) : result;
  });
}

/** Finishes what a module left pending for an EC or Ed25519 key (the modules have no curve
 * arithmetic): Node's crypto derives the public key (synchronously, so the functions stay
 * synchronous) and the module judges it. */
function finishWithPublicKey(result) {
  try {
    return result.finish(publicKeySpki(result.privateKeyPkcs8()));
  } finally {
    result.free();
  }
}

/** The public key of a PKCS#8 private key as SubjectPublicKeyInfo DER, or `undefined` when
 * Node's crypto refuses the key (the module then throws `public_key_unavailable`). */
function publicKeySpki(pkcs8) {
  try {
    const key = crypto.createPublicKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
    return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
  } catch {
    return undefined;
  }
}

function generateCsr(request) {
  try {
    if (request?.keyType !== undefined) oneOf(request.keyType, KEY_TYPES, 'request.keyType', 'unsupported_key_type');
    const glue = csr();
    return sdkCall(() => glue.generateCsr(request)).catch((error) => {
      throw sdkError(error);
    });
  } catch (error) {
    return Promise.reject(error);
  }
}

function buildP12(request) {
  if (request?.profile !== undefined) oneOf(request.profile, P12_PROFILES, 'request.profile', 'unsupported_profile');
  const glue = csr();
  return sdkCall(() => {
    const result = glue.buildP12(request);
    return result instanceof glue.PendingP12Build ? finishWithPublicKey(result) : result;
  });
}

/** The module names `which` stands for (all when omitted), or an `invalid_argument` error. */
function moduleNames(which) {
  const names = which === undefined ? Object.keys(MODULES) : [which].flat();
  for (const name of names) {
    if (!Object.hasOwn(MODULES, name)) {
      throw new MtlsError({
        status: 0,
        code: 'invalid_argument',
        message: `invalid argument \`modules\`: expected "inspector", "csr" or an array of them, not ${JSON.stringify(name)}`,
      });
    }
  }
  return names;
}

/** Loads WebAssembly modules now (here synchronously; the promise is for code shared with browsers). */
function loadWasm(modules) {
  try {
    for (const name of moduleNames(modules)) MODULES[name]();
    return Promise.resolve();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Loads WebAssembly modules after the current I/O callbacks, so a later first call finds them ready. */
function prefetchWasm(modules) {
  const names = moduleNames(modules);
  setImmediate(() => {
    for (const name of names) MODULES[name]();
  }).unref();
}

module.exports = {
  ...require('../client/cjs/index.js'),
  inspectP12,
  generateCsr,
  buildP12,
  loadWasm,
  prefetchWasm,
};
module.exports.default = module.exports;
