// The portal in headless Chromium, served by the real gateway binary at `/` (server/src/http/
// portal.rs serves www/ and the built pkg/ under its Content-Security-Policy):
// - the page loads no WebAssembly (only the package's plain-JavaScript client) until a
//   certificate tool is used, and sign-in and the lists work while the WebAssembly side cannot
//   load at all; the tools then say so;
// - on first use the P12 tester loads the package (with progress) and shows inspectP12's verdict
//   for a file chosen in the page, matching the native report;
// - the key + CSR maker and the P12 builder run in the page; the key is never sent, and the
//   built P12 is usable by the gateway's own rules.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import { makeTestCa } from '../node/csr-helpers.mjs';
import { linkPackage, makeFixtures, nativeReport } from '../node/helpers.mjs';
import { launchChromium, openPage } from './chromium.mjs';
import { startGateway } from './gateway.mjs';
import { checkState, feedback, WIDTHS } from './portal-support.mjs';

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

/** Every HTTP request the page makes (not its blob: downloads), as `METHOD /path`, in order. */
function recordRequests(page) {
  const paths = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol.startsWith('http')) paths.push(`${request.method()} ${url.pathname}`);
  });
  return paths;
}

async function signIn(page, token) {
  await page.getByLabel('Bearer token').fill(token);
  return feedback(page, 'session-feedback', () => page.getByRole('button', { name: 'Sign in' }).click());
}

test('sign-in and the lists work while the package cannot load; the tools then say so clearly', async () => {
  const { accessToken } = await server.admin('/admin/tokens', { sub: 'no-wasm', accounts: ['brand-nowasm'], ttlSeconds: 600 });
  const page = await browser.newPage();
  const paths = recordRequests(page);
  // The package's WebAssembly cannot load; its client (plain JavaScript) can.
  await page.route('**/pkg/wasm/**', (route) => route.abort('failed'));
  await page.goto(`${server.url}/`);
  assert.equal(await page.getByText('Account: brand-nowasm').isVisible(), false);
  await page.getByLabel('Bearer token').fill(accessToken);
  assert.equal(await page.getByText('Account: brand-nowasm').isVisible(), true);
  assert.equal(await signIn(page, accessToken), 'Signed in to account brand-nowasm: 0 certificate(s), 0 mapping(s).');
  assert.deepEqual(paths.filter((p) => p.includes('/pkg/web/') || p.includes('/pkg/wasm/')), []);

  const c = fixtures.cases.find((x) => x.name === 'EC P-384 leaf with its CA chain');
  const tester = page.getByRole('form', { name: 'Test a P12 file' });
  await tester.getByLabel('P12 / PFX file').setInputFiles(c.file);
  await tester.getByLabel('Password').fill(c.password);
  const failed = await feedback(page, 'tester-report', () => tester.getByRole('button', { name: 'Test locally' }).click());
  assert.match(failed, /^The certificate tools could not load: .+\.$/);
  assert.match(await page.textContent('#sdk-message'), /could not load .+ Everything else on this page still works/);
  await page.setViewportSize({ width: 1280, height: 800 });
  await checkState(page, 'tools-failed');
  await page.close();
});

test('the P12 tester loads the package on first use and shows the native verdict', async () => {
  for (const size of WIDTHS) {
    const { page, problems } = await openPage(browser, `${server.url}/`);
    await page.setViewportSize({ width: size.width, height: size.height });
    const paths = recordRequests(page);
    await checkState(page, 'first-visit');
    assert.equal(await page.textContent('#sdk-message'), 'Not loaded yet: the tools load when you first use one.');

    const tester = page.getByRole('form', { name: 'Test a P12 file' });
    const run = async (c) => {
      await tester.getByLabel('P12 / PFX file').setInputFiles(c.file);
      await tester.getByLabel('Password').fill(c.password);
      await feedback(page, 'tester-report', () => tester.getByRole('button', { name: 'Test locally' }).click());
      return page.evaluate(() => {
        const report = document.querySelector('#tester-report .report');
        return {
          usable: report.dataset.usable,
          verdict: report.querySelector('.verdict').textContent,
          problems: [...report.querySelectorAll('.finding.problem')].map((li) => li.dataset.code),
          text: report.textContent,
        };
      });
    };
    const usable = fixtures.cases.find((c) => c.name === 'EC P-384 leaf with its CA chain');
    // Hold the WebAssembly back until the page has shown that it is loading.
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    await page.route('**/*.wasm', async (route) => { await held; await route.continue(); });
    const running = run(usable);
    await page.getByRole('progressbar', { name: 'Loading the certificate tools' }).waitFor();
    assert.equal(await page.textContent('#sdk-message'), 'Loading the certificate tools…');
    await checkState(page, 'tools-loading');
    release();
    const shown = await running;
    assert.equal(await page.getByRole('progressbar').isVisible(), false);
    assert.ok(paths.some((p) => /^GET \/pkg\/wasm\/inspector.*\.wasm$/.test(p)), 'the inspector loads on first use');
    assert.ok(!paths.some((p) => p.startsWith('GET /pkg/wasm/csr')), 'the CSR module waits for its own first use');
    assert.equal(await page.getAttribute('body', 'data-sdk'), 'ready');
    const native = nativeReport(usable.file, usable.password);
    assert.equal(shown.usable, 'true');
    assert.match(shown.verdict, /^Usable/);
    assert.ok(shown.text.includes(native.certificate.fingerprintSha256), 'fingerprint shown');
    assert.ok(shown.text.includes(native.certificate.subject), 'subject shown');
    await checkState(page, 'tester-usable');

    const wrong = fixtures.cases.find((c) => c.name === 'wrong password');
    const refused = await run(wrong);
    assert.equal(refused.usable, 'false');
    assert.deepEqual(refused.problems, nativeReport(wrong.file, wrong.password).problems.map((p) => p.code));
    await checkState(page, 'tester-unusable');
    // Nothing of the file or password went to the gateway.
    assert.deepEqual(paths.filter((p) => !p.startsWith('GET ')), []);
    assert.deepEqual(problems, []);
    await page.close();
  }
});

test('a key and CSR made in the page are downloaded, never sent; a P12 built in the page is usable', async () => {
  const { page, problems } = await openPage(browser, `${server.url}/`);
  await page.setViewportSize({ width: 390, height: 844 });
  const paths = recordRequests(page);
  const csrForm = page.getByRole('form', { name: 'Make a key and CSR' });
  await csrForm.getByLabel('Common name').fill('browser.example');
  await csrForm.getByLabel('Key type').selectOption('P-256');
  const made = await feedback(page, 'csr-feedback', () => csrForm.getByRole('button', { name: 'Make key and CSR' }).click());
  assert.match(made, /^Made a key and CSR in this browser/);
  assert.equal(await csrForm.getByLabel('Common name').inputValue(), '');
  const read = async (name) => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name }).click()]);
    return fs.readFileSync(await download.path(), 'utf8');
  };
  const keyPem = await read('Download the private key browser.example.key.pem');
  const csrPem = await read('Download the CSR browser.example.csr');
  assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----/);
  assert.match(csrPem, /^-----BEGIN CERTIFICATE REQUEST-----/);
  await checkState(page, 'csr-made');

  const testCa = makeTestCa();
  try {
    const chain = testCa.sign(csrPem, 'browser') + testCa.intermediatePem;
    const build = page.getByRole('form', { name: 'Build a P12 from key and signed chain' });
    await build.getByLabel('Private key (PEM file)').setInputFiles({ name: 'browser.key.pem', mimeType: 'text/plain', buffer: Buffer.from(keyPem) });
    await build.getByLabel('Signed chain (PEM file, leaf first)').setInputFiles({ name: 'browser.pem', mimeType: 'text/plain', buffer: Buffer.from(chain) });
    await build.getByLabel('New P12 password').fill('built in the page');
    const built = await feedback(page, 'build-feedback', () => build.getByRole('button', { name: 'Build P12' }).click());
    assert.match(built, /^Built a modern P12 in this browser/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download browser.p12' }).click()]);
    const p12File = await download.path();
    const report = nativeReport(p12File, 'built in the page');
    assert.equal(report.usable, true, JSON.stringify(report.problems));
    await checkState(page, 'p12-built');
  } finally {
    testCa.cleanup();
  }
  // The key, the CSR and the P12 were made here: nothing but the package was fetched.
  assert.deepEqual(paths.filter((p) => !p.startsWith('GET /pkg/')), []);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the gateway serves the built package with the types browsers need', async () => {
  const manifest = await (await fetch(`${server.url}/pkg/package.json`)).json();
  const entry = manifest.exports['.'].browser.default.replace(/^\.\//, '');
  assert.equal(`/pkg/${entry}`, '/pkg/web/index.js', 'www/sdk.js imports the browser entry');
  const module = await fetch(`${server.url}/pkg/${entry}`);
  assert.equal(module.status, 200);
  assert.equal(module.headers.get('content-type'), 'text/javascript; charset=utf-8');
  const page = await fetch(`${server.url}/`);
  assert.match(page.headers.get('content-security-policy'), /script-src 'self' 'wasm-unsafe-eval'/);
});
