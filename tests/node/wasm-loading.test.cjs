// How the Node entry loads WebAssembly (SPEC section 14): `require('mtls-sdk')` reads no `.wasm`;
// each module is read and compiled synchronously by the first call that needs it (so
// `inspectP12` stays synchronous in Node), or by `loadWasm` / `prefetchWasm`.
const assert = require('node:assert/strict');
const path = require('node:path');
const { test } = require('node:test');

let helpers;
let sdk;
const loaded = (module) =>
  Object.keys(require.cache).some((file) => file === path.join(helpers.pkgDir, 'wasm', `${module}.cjs`));

test('require reads no WebAssembly; a synchronous first call reads only its module', async () => {
  helpers = await import('./helpers.mjs');
  helpers.linkPackage();
  sdk = require('mtls-sdk');
  assert.deepEqual([loaded('inspector'), loaded('csr')], [false, false]);
  const report = sdk.inspectP12(new Uint8Array([48, 0]), 'pw');
  assert.equal(report.usable, false); // a value, not a promise
  assert.deepEqual([loaded('inspector'), loaded('csr')], [true, false]);
});

test('loadWasm resolves once the module is loaded and refuses unknown names', async () => {
  await assert.rejects(sdk.loadWasm('x509'), (error) => error.code === 'invalid_argument' && /"inspector", "csr"/.test(error.message));
  assert.equal(loaded('csr'), false);
  await sdk.loadWasm(['csr']);
  assert.equal(loaded('csr'), true);
  assert.throws(() => sdk.prefetchWasm(['inspector', 7]), (error) => error.code === 'invalid_argument');
});

test('the default export is the named exports in one object', async () => {
  const esm = await import('mtls-sdk');
  assert.equal(sdk.default.inspectP12, sdk.inspectP12);
  assert.equal(esm.default.buildP12, esm.buildP12);
  assert.equal(esm.loadWasm, sdk.loadWasm);
});

test('prefetchWasm loads after the current callbacks, not during the call', async () => {
  // A fresh copy of the entry (and its glue), so the modules above do not count.
  for (const file of Object.keys(require.cache)) if (file.startsWith(helpers.pkgDir)) delete require.cache[file];
  const fresh = require('mtls-sdk');
  fresh.prefetchWasm();
  assert.deepEqual([loaded('inspector'), loaded('csr')], [false, false]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual([loaded('inspector'), loaded('csr')], [true, true]);
});
