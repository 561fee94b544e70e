// `const { inspectP12 } = require('mtls-sdk')` in Node: the CommonJS entry loads synchronously,
// shares its WebAssembly instance with the ES-module entry, and returns the native report.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { after, test } = require('node:test');

let helpers;
let fixtures;
let sdk;

test('require loads the package synchronously', async () => {
  helpers = await import('./helpers.mjs');
  helpers.linkPackage();
  sdk = require('mtls-sdk');
  assert.equal(typeof sdk.inspectP12, 'function');
  assert.equal(require.resolve('mtls-sdk'), require('node:path').join(helpers.pkgDir, 'node', 'index.cjs'));
});

test('import and require share one module instance', async () => {
  const esm = await import('mtls-sdk');
  assert.equal(esm.inspectP12, sdk.inspectP12);
});

test('reports equal the native ones', () => {
  fixtures = helpers.makeFixtures();
  for (const c of fixtures.cases) {
    const options = { now: new Date(c.nowUnix * 1000), maxIterations: c.maxIterations };
    const wasm = sdk.inspectP12(fs.readFileSync(c.file), c.password, options);
    assert.deepStrictEqual(wasm, helpers.nativeReport(c.file, c.password, c.nowUnix, c.maxIterations), c.name);
    assert.equal(wasm.usable, c.usable, c.name);
  }
});

after(() => fixtures && fs.rmSync(fixtures.dir, { recursive: true, force: true }));
