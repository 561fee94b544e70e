// How the browser entry loads WebAssembly (SPEC section 14): importing it fetches no `.wasm`;
// each module is fetched on the first call that needs it, or by `loadWasm` / `prefetchWasm`;
// a failed fetch rejects with `wasm_load_failed` and the next call fetches again.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { makeFixtures, pkgDir } from '../node/helpers.mjs';
import { launchChromium, openPage } from './chromium.mjs';
import { startStaticServer } from './static-server.mjs';

const manifest = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const browserEntry = manifest.exports['.'].browser.default;
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>mtls-sdk loading test</title><link rel="icon" href="data:,">
<script type="importmap">{ "imports": { "mtls-sdk": "/pkg/${browserEntry.replace(/^\.\//, '')}" } }</script>
<script type="module">
  import * as sdk from 'mtls-sdk';
  window.sdk = sdk;
</script></head><body></body></html>`;
const INSPECTOR = '/pkg/wasm/inspector_bg.wasm';
const CSR = '/pkg/wasm/csr_bg.wasm';

let server;
let browser;
let fixtures;
const failNext = new Set();
before(async () => {
  fixtures = makeFixtures();
  server = await startStaticServer({ mounts: { '/pkg/': pkgDir }, pages: { '/': PAGE }, failNext });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
  if (fixtures) fs.rmSync(fixtures.dir, { recursive: true, force: true });
});

async function freshPage() {
  server.requests.length = 0;
  const { page, problems } = await openPage(browser, `${server.url}/`);
  await page.waitForFunction(() => window.sdk !== undefined, null, { timeout: 30_000 });
  return { page, problems };
}
const wasmRequests = () => server.requests.filter((p) => p.endsWith('.wasm'));

test('importing the entry fetches no WebAssembly; inspectP12 fetches the inspector module only', async () => {
  const { page, problems } = await freshPage();
  assert.deepEqual(wasmRequests(), []);
  const [rsa] = fixtures.cases;
  const report = await page.evaluate(
    ({ bytes, password }) => window.sdk.inspectP12(new Uint8Array(bytes), password),
    { bytes: [...fs.readFileSync(rsa.file)], password: rsa.password },
  );
  assert.equal(report.usable, rsa.usable);
  assert.deepEqual(wasmRequests(), [INSPECTOR]);
  // Later calls reuse the instance.
  await page.evaluate(() => window.sdk.inspectP12(new Uint8Array([48, 0]), 'pw'));
  assert.deepEqual(wasmRequests(), [INSPECTOR]);
  assert.deepEqual(problems, []);
});

test('prefetchWasm fetches a module when the page is idle; loadWasm refuses unknown names', async () => {
  const { page, problems } = await freshPage();
  await page.evaluate(() => window.sdk.prefetchWasm('csr'));
  // Waits for the request itself (no timing assumption); the test runner's timeout bounds it.
  while (!wasmRequests().includes(CSR)) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(wasmRequests(), [CSR]);
  const refused = await page.evaluate(async () => {
    try {
      await window.sdk.loadWasm(['inspector', 'x509']);
      return null;
    } catch (error) {
      return { name: error.name, code: error.code, message: error.message };
    }
  });
  assert.equal(refused?.code, 'invalid_argument');
  assert.match(refused.message, /"inspector", "csr"/);
  assert.deepEqual(wasmRequests(), [CSR]);
  assert.deepEqual(problems, []);
});

test('a failed fetch rejects with wasm_load_failed and the next call fetches again', async () => {
  const { page } = await freshPage();
  failNext.add(INSPECTOR);
  const first = await page.evaluate(async () => {
    try {
      await window.sdk.loadWasm('inspector');
      return null;
    } catch (error) {
      return { isMtlsError: error instanceof window.sdk.MtlsError, code: error.code, hasCause: error.cause !== undefined };
    }
  });
  assert.deepEqual(first, { isMtlsError: true, code: 'wasm_load_failed', hasCause: true });
  const report = await page.evaluate(() => window.sdk.inspectP12(new Uint8Array([48, 0]), 'pw'));
  assert.equal(report.usable, false);
  assert.deepEqual(wasmRequests(), [INSPECTOR, INSPECTOR]);
});
