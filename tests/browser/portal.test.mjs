// The portal in headless Chromium, served by the real gateway binary at `/` (server/src/http/
// portal.rs serves www/ and the built pkg/ under its Content-Security-Policy): the page loads the
// npm package's browser entry, and its P12 tester shows inspectP12's verdict for a file chosen in
// the page, matching the native report.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import { linkPackage, makeFixtures, nativeReport } from '../node/helpers.mjs';
import { launchChromium, openPage } from './chromium.mjs';
import { startGateway } from './gateway.mjs';

let server;
let browser;
let fixtures;
before(async () => {
  linkPackage(); // fails early with a clear message when pkg/ is not built
  fixtures = makeFixtures();
  nativeReport(fixtures.cases[0].file, fixtures.cases[0].password); // build the inspector first
  server = await startGateway();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  if (fixtures) fs.rmSync(fixtures.dir, { recursive: true, force: true });
});

async function testFile(page, c) {
  await page.setInputFiles('#tester-file', c.file);
  await page.fill('#tester-password', c.password);
  await page.click('#tester-run');
  await page.waitForSelector('#tester-report .report');
  return page.evaluate(() => {
    const report = document.querySelector('#tester-report .report');
    return {
      usable: report.dataset.usable,
      verdict: report.querySelector('.verdict').textContent,
      problems: [...report.querySelectorAll('.finding.problem')].map((li) => li.dataset.code),
      text: report.textContent,
    };
  });
}

test('the portal loads the SDK and tests P12 files in the page', async () => {
  const { page, problems } = await openPage(browser, `${server.url}/`);
  await page.waitForSelector('body[data-sdk="ready"]', { state: 'attached', timeout: 30_000 });
  assert.equal(await page.isEnabled('#tester-run'), true);

  const usable = fixtures.cases.find((c) => c.name === 'EC P-384 leaf with its CA chain');
  const shown = await testFile(page, usable);
  const native = nativeReport(usable.file, usable.password);
  assert.equal(native.usable, true);
  assert.equal(shown.usable, 'true');
  assert.match(shown.verdict, /^Usable/);
  assert.ok(shown.text.includes(native.certificate.fingerprintSha256), 'fingerprint shown');
  assert.ok(shown.text.includes(native.certificate.subject), 'subject shown');

  const wrong = fixtures.cases.find((c) => c.name === 'wrong password');
  const refused = await testFile(page, wrong);
  assert.equal(refused.usable, 'false');
  assert.deepEqual(refused.problems, nativeReport(wrong.file, wrong.password).problems.map((p) => p.code));
  assert.ok(refused.problems.includes('wrong_password'));

  assert.deepEqual(problems, []);
});

test('the gateway serves the built package with the types browsers need', async () => {
  const manifest = await (await fetch(`${server.url}/pkg/package.json`)).json();
  const entry = manifest.exports['.'].browser.default.replace(/^\.\//, '');
  const module = await fetch(`${server.url}/pkg/${entry}`);
  assert.equal(module.status, 200);
  assert.equal(module.headers.get('content-type'), 'text/javascript; charset=utf-8');
  const wasm = await fetch(`${server.url}/pkg/wasm/inspector_bg.wasm`);
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  const bytes = new Uint8Array(await wasm.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d]); // "\0asm"
  const page = await fetch(`${server.url}/`);
  assert.match(page.headers.get('content-security-policy'), /script-src 'self' 'wasm-unsafe-eval'/);
});
