// Browser entry of `mtls-sdk` (ES module): the API client, which needs no WebAssembly, and the
// WebAssembly functions, each of whose modules is fetched and compiled on its first use (or
// earlier through `loadWasm` / `prefetchWasm`), so importing this file downloads no WebAssembly.
// A browser cannot fetch synchronously, so here `inspectP12` and `buildP12` return promises
// (in Node they are synchronous; `await` works on both).
import client, { KEY_TYPES, toBytes } from '../client/index.js';

/** `buildP12` profiles; the Rust core reads more spellings, the package accepts these only. */
const P12_PROFILES = ['modern', 'legacy'];

/** Throws an `MtlsSdkError` with `code` unless `value` is one of `allowed`, naming them all. */
function oneOf(value, allowed, argument, code) {
  if (allowed.includes(value)) return;
  const error = new Error(
    `\`${argument}\` ${JSON.stringify(value) ?? String(value)} is not supported: expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
  );
  error.name = 'MtlsSdkError';
  error.code = code;
  throw error;
}

export * from '../client/index.js';

/** Each module's glue, imported and instantiated on first use (`init` fetches `<module>_bg.wasm`
 * beside the glue, relative to `import.meta.url`, which bundlers also understand). */
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
  const error = new Error(`could not load the WebAssembly module \`${name}\``, { cause });
  error.name = 'MtlsSdkError';
  error.code = 'wasm_load_failed';
  return error;
}

export async function inspectP12(p12, password, options) {
  const bytes = await toBytes(p12, 'p12');
  return (await wasmModule('inspector')).inspectP12(bytes, password, options);
}

export async function generateCsr(request) {
  if (request?.keyType !== undefined) oneOf(request.keyType, KEY_TYPES, 'request.keyType', 'unsupported_key_type');
  return (await wasmModule('csr')).generateCsr(request);
}

export async function buildP12(request) {
  if (request?.profile !== undefined) oneOf(request.profile, P12_PROFILES, 'request.profile', 'unsupported_profile');
  return (await wasmModule('csr')).buildP12(request);
}

/** The module names `which` stands for (all when omitted), or an `invalid_argument` error. */
function moduleNames(which) {
  const names = which === undefined ? Object.keys(IMPORTS) : [which].flat();
  for (const name of names) {
    if (!Object.hasOwn(IMPORTS, name)) {
      const error = new Error(
        `invalid argument \`modules\`: expected "inspector", "csr" or an array of them, not ${JSON.stringify(name)}`,
      );
      error.name = 'MtlsSdkError';
      error.code = 'invalid_argument';
      throw error;
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
