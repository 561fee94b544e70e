// Browser entry of `mtls-sdk`: the client (no WebAssembly) and the WebAssembly functions, each
// module fetched on first use (or `loadWasm`/`prefetchWasm`), so all are async here.
import client, { KEY_TYPES, MtlsError, toBytes } from '../client/index.js';

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

/** The core's errors (`Error`s named `MtlsError`, with a `code`) as `MtlsError`s, status 0;
 * anything else (a WebAssembly trap is a bug) unchanged. */
function sdkError(error) {
  if (error instanceof MtlsError || error?.name !== 'MtlsError' || typeof error.code !== 'string') return error;
  return new MtlsError({ status: 0, code: error.code, message: error.message });
}

export * from '../client/index.js';

/** Each module's glue; its `init` fetches `<module>_bg.wasm` relative to `import.meta.url`. */
const IMPORTS = {
  inspector: () => import('../wasm/inspector.js'),
  csr: () => import('../wasm/csr.js'),
};
const loading = {};

/** The module's glue once its WebAssembly is instantiated. A failed load is forgotten, so the
 * next call tries again (a flaky network is not fatal for the page). */
function wasmModule(name) {
  loading[name] ??= IMPORTS[name]()
    .then(async (glue) => {
      await glue.default();
      return glue;
    })
    .catch((cause) => {
      delete loading[name];
      throw loadFailed(name, cause);
    });
  return loading[name];
}

function loadFailed(name, cause) {
  return new MtlsError({ status: 0, code: 'wasm_load_failed', message: `could not load the WebAssembly module \`${name}\``, cause });
}

export async function inspectP12(p12, password, options) {
  const bytes = await toBytes(p12, 'p12');
  const glue = await wasmModule('inspector');
  try {
    const result = glue.inspectP12(bytes, password, options);
    return result instanceof glue.PendingInspection ? await finishWithPublicKey(result) : result;
  } catch (error) {
    throw sdkError(error);
  }
}

/** EC and Ed25519 keys (no curve arithmetic in the modules): WebCrypto derives the public key
 * (JWK, imported as public, exported as SPKI); `undefined` gives `public_key_unavailable`. */
async function finishWithPublicKey(result) {
  try {
    const subtle = globalThis.crypto?.subtle;
    const algorithm = result.curve ? { name: 'ECDSA', namedCurve: result.curve } : result.algorithm;
    return result.finish(await subtle
      ?.importKey('pkcs8', result.privateKeyPkcs8(), algorithm, true, ['sign'])
      .then((key) => subtle.exportKey('jwk', key))
      .then(({ d, key_ops, ...jwk }) => subtle.importKey('jwk', jwk, algorithm, true, ['verify']))
      .then((key) => subtle.exportKey('spki', key))
      .catch(() => {}));
  } finally {
    result.free();
  }
}

export async function generateCsr(request) {
  if (request?.keyType !== undefined) oneOf(request.keyType, KEY_TYPES, 'request.keyType', 'unsupported_key_type');
  const glue = await wasmModule('csr');
  try {
    return await glue.generateCsr(request);
  } catch (error) {
    throw sdkError(error);
  }
}

export async function buildP12(request) {
  if (request?.profile !== undefined) oneOf(request.profile, P12_PROFILES, 'request.profile', 'unsupported_profile');
  const glue = await wasmModule('csr');
  try {
    const result = glue.buildP12(request);
    return result instanceof glue.PendingP12Build ? await finishWithPublicKey(result) : result;
  } catch (error) {
    throw sdkError(error);
  }
}

/** The module names `which` stands for (all when omitted), or an `invalid_argument` error. */
function moduleNames(which) {
  const names = which === undefined ? Object.keys(IMPORTS) : [which].flat();
  for (const name of names) {
    if (!Object.hasOwn(IMPORTS, name)) {
      throw new MtlsError({
        status: 0,
        code: 'invalid_argument',
        message: `invalid argument \`modules\`: expected "inspector", "csr" or an array of them, not ${JSON.stringify(name)}`,
      });
    }
  }
  return names;
}

export async function loadWasm(modules) {
  await Promise.all(moduleNames(modules).map(wasmModule));
}

export function prefetchWasm(modules) {
  const names = moduleNames(modules);
  const idle = globalThis.requestIdleCallback ?? ((callback) => setTimeout(callback, 1));
  idle(() => {
    // A failed prefetch is not reported: the first real call loads again and reports.
    for (const name of names) wasmModule(name).catch(() => {});
  });
}

export default { ...client, inspectP12, generateCsr, buildP12, loadWasm, prefetchWasm };
