// The portal page (www/) in headless Chromium: it loads the npm package's browser entry under the
// portal's Content-Security-Policy, and its P12 tester shows inspectP12's verdict for a file
// chosen in the page, matching the native report.
//
// The page is served with the URL layout and CSP of server/src/http/portal.rs (`/`, `/portal/`,
// `/pkg/`); the server's own serving of those paths is tested in server/tests/portal.rs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { makeFixtures, nativeReport, pkgDir, repoRoot } from '../node/helpers.mjs';
import { launchChromium, openPage } from './chromium.mjs';
import { startStaticServer } from './static-server.mjs';

const wwwDir = path.join(repoRoot, 'www');
// Same policy as CONTENT_SECURITY_POLICY in server/src/http/portal.rs.
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; "
  + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

let server;
let browser;
let fixtures;
before(async () => {
  fixtures = makeFixtures();
  server = await startStaticServer({
    mounts: { '/portal/': wwwDir, '/pkg/': pkgDir },
    pages: { '/': fs.readFileSync(path.join(wwwDir, 'index.html'), 'utf8') },
    headers: { 'content-security-policy': CSP },
  });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
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
