// The npm package as an ES module in headless Chromium: a page imports `mtls-sdk` through an
// import map pointing at the package's `browser` export, and `inspectP12` run in the page returns
// exactly the native report for the same files.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { makeFixtures, nativeReport, pkgDir } from '../node/helpers.mjs';
import { launchChromium, openPage } from './chromium.mjs';
import { startStaticServer } from './static-server.mjs';

const manifest = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const browserEntry = manifest.exports['.'].browser.default; // for example ./web/index.js
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>mtls-sdk browser test</title><link rel="icon" href="data:,">
<script type="importmap">{ "imports": { "mtls-sdk": "/pkg/${browserEntry.replace(/^\.\//, '')}" } }</script>
<script type="module">
  import * as sdk from 'mtls-sdk';
  window.sdk = sdk;
</script></head><body></body></html>`;

let server;
let browser;
let fixtures;
before(async () => {
  fixtures = makeFixtures();
  server = await startStaticServer({ mounts: { '/pkg/': pkgDir }, pages: { '/': PAGE } });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
  if (fixtures) fs.rmSync(fixtures.dir, { recursive: true, force: true });
});

test('the browser entry loads and inspectP12 equals the native report on every fixture', async () => {
  const { page, problems } = await openPage(browser, `${server.url}/`);
  await page.waitForFunction(() => window.sdk !== undefined, null, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => typeof window.sdk.inspectP12), 'function');

  for (const c of fixtures.cases) {
    const bytes = [...fs.readFileSync(c.file)];
    const inPage = await page.evaluate(({ bytes, password, nowMillis, maxIterations }) => {
      return window.sdk.inspectP12(new Uint8Array(bytes), password, { now: new Date(nowMillis), maxIterations });
    }, { bytes, password: c.password, nowMillis: c.nowUnix * 1000, maxIterations: c.maxIterations });
    assert.deepStrictEqual(inPage, nativeReport(c.file, c.password, c.nowUnix, c.maxIterations), c.name);
    assert.equal(inPage.usable, c.usable, c.name);
  }
  assert.deepEqual(problems, []);
});

test('EC and Ed25519 public keys come from WebCrypto; a key it refuses rejects with public_key_unavailable', async () => {
  const { page, problems } = await openPage(browser, `${server.url}/`);
  await page.waitForFunction(() => window.sdk !== undefined, null, { timeout: 30_000 });
  for (const [name, key] of [['EC P-521 by keytool (no public key in the key)', 'EC P-521'], ['Ed25519', 'Ed25519']]) {
    const c = fixtures.cases.find((x) => x.name === name);
    const outcome = await page.evaluate(async ({ bytes, password }) => {
      const subtle = globalThis.crypto.subtle;
      subtle.importKey = () => Promise.reject(new DOMException('refused by the test', 'NotSupportedError'));
      try {
        await window.sdk.inspectP12(new Uint8Array(bytes), password);
        return null;
      } catch (error) {
        return { isMtlsError: error instanceof window.sdk.MtlsError, status: error.status, code: error.code, message: error.message };
      } finally {
        delete subtle.importKey; // back to SubtleCrypto.prototype.importKey
      }
    }, { bytes: [...fs.readFileSync(c.file)], password: c.password });
    assert.deepEqual(outcome && { isMtlsError: outcome.isMtlsError, status: outcome.status, code: outcome.code },
      { isMtlsError: true, status: 0, code: 'public_key_unavailable' }, name);
    assert.match(outcome.message, new RegExp(`the ${key} private key`));
    const usable = await page.evaluate(async ({ bytes, password, nowMillis }) => {
      return (await window.sdk.inspectP12(new Uint8Array(bytes), password, { now: new Date(nowMillis) })).usable;
    }, { bytes: [...fs.readFileSync(c.file)], password: c.password, nowMillis: c.nowUnix * 1000 });
    assert.equal(usable, true, `${name} with WebCrypto back`);
  }
  assert.deepEqual(problems, []);
});

test('a bad argument in the page rejects with the one error class, MtlsError, and its code', async () => {
  const { page, problems } = await openPage(browser, `${server.url}/`);
  await page.waitForFunction(() => window.sdk !== undefined, null, { timeout: 30_000 });
  const thrown = await page.evaluate(async () => {
    const outcomes = [];
    // Refused by the byte conversion (JavaScript), then by the WebAssembly binding.
    for (const [p12, password] of [[42, 'pw'], [new Uint8Array([48, 0]), 1234]]) {
      try {
        await window.sdk.inspectP12(p12, password);
        outcomes.push(null);
      } catch (error) {
        outcomes.push({ isMtlsError: error instanceof window.sdk.MtlsError, name: error.name, status: error.status, code: error.code });
      }
    }
    return outcomes;
  });
  const expected = { isMtlsError: true, name: 'MtlsError', status: 0, code: 'invalid_argument' };
  assert.deepEqual(thrown, [expected, expected]);
  assert.deepEqual(problems, []);
});
