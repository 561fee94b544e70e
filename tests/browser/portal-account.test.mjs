// The portal's self-service in headless Chromium against the real gateway binary on a real
// OpenBao, at 390 px and 1280 px: every flow is driven through visible labels and roles, the
// server's state is read back over REST after each step, every state passes axe-core with no
// violation and does not scroll sideways, and a screenshot of each state is kept under
// tests/test-artifacts/portal/. Flows of SPEC 12 run once the gateway documents their endpoint.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { makeTargetPki, P12_PASSWORD, startMtlsTarget } from '../node/mtls-target.mjs';
import { launchChromium, openPage } from './chromium.mjs';
import { startGateway, startOpenBao } from './gateway.mjs';
import { checkState, feedback, WIDTHS } from './portal-support.mjs';

/** The tail of every error the page shows: the request id to quote to support. */
const REQUEST_ID = /\(request [\w-]+\)$/;
/** A service only this gateway's configuration has: the page's list must come from the gateway. */
const SERVICES = 'TEST_SERVICE=0,IDP=1,WEBHOOKS=2,FAAS=3,PAYMENTS=17';

let pki;
let openbao;
let server;
let target;
let browser;
let documented; // paths of /openapi.json
before(async () => {
  pki = makeTargetPki(['brand-a', 'brand-b']);
  target = await startMtlsTarget(pki);
  openbao = await startOpenBao();
  server = await startGateway({
    MTLS_SERVICES: SERVICES,
    MTLS_ALLOWED_TARGET_CIDRS: '127.0.0.1/32',
    MTLS_EXTRA_TARGET_CA_FILE: pki.rootFile,
  }, { openbao });
  documented = Object.keys((await (await fetch(`${server.url}/openapi.json`)).json()).paths);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await openbao?.stop();
  await target?.close();
  pki?.ca.cleanup();
});

const has = (path) => documented.includes(path);
/** A test of a SPEC 12 flow: skipped (saying why) while the gateway does not document `path`. */
const needs = (path, why, body) => async (t) => {
  if (!has(path)) return t.skip(why);
  return body();
};
const p12 = (name) => ({ name: `${name}.p12`, mimeType: 'application/x-pkcs12', buffer: Buffer.from(pki.clients[name].p12) });

/** A REST call with the brand's token, as the state's independent reader. */
async function rest(token, method, path, body) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

for (const size of WIDTHS) {
  describe(`at ${size.width} px`, () => {
    const account = `brand-${size.width}`;
    const other = `brand-${size.width}-second`;
    let token;
    let page;
    let problems;
    const form = (name) => page.getByRole('form', { name });
    const certificates = () => rest(token, 'GET', `/mtls/account/${account}/certificates`);
    const mappings = () => rest(token, 'GET', `/api/account/${account}/configuration/ac-common/mtls`);
    const confirm = async (name) => {
      const dialog = page.getByRole('dialog');
      await dialog.waitFor();
      const text = await dialog.textContent();
      await dialog.getByRole('button', { name }).click();
      return text;
    };

    before(async () => {
      ({ accessToken: token } = await server.admin('/admin/tokens', { sub: `portal-${size.width}`, accounts: [account, other], ttlSeconds: 900 }));
      ({ page, problems } = await openPage(browser, `${server.url}/`));
      await page.setViewportSize({ width: size.width, height: size.height });
    });
    after(async () => page?.close());

    test('sign-in: refused tokens show why; a "Bearer " token with two accounts offers a picker', async () => {
      await checkState(page, 'signed-out');
      await page.getByLabel('Bearer token').fill('not-a-token');
      await page.getByLabel('Account id').fill(account);
      const refused = await feedback(page, 'session-feedback', () => page.getByRole('button', { name: 'Sign in' }).click());
      assert.match(refused, /^401 \w+: .+ \(request [\w-]+\)$/);
      assert.equal(await page.isVisible('#workspace'), false);
      await checkState(page, 'sign-in-refused');

      await page.getByLabel('Bearer token').fill(`Bearer ${token}`);
      const picker = page.getByLabel('Account', { exact: true });
      assert.deepEqual(await picker.locator('option').allTextContents(), [account, other]);
      await picker.selectOption(account);
      // Keyboard only: Enter in the form signs in.
      const signedIn = await feedback(page, 'session-feedback', () => page.getByLabel('Bearer token').press('Enter'));
      assert.equal(signedIn, `Signed in to account ${account}: 0 certificate(s), 0 mapping(s).`);
      assert.equal(await page.isVisible('#workspace'), true);
      assert.equal(await page.getByLabel('Bearer token').isVisible(), false);
      // The services come from the gateway's configuration.
      const offered = await form('Add a mapping').getByLabel('Service').locator('option').allTextContents();
      assert.ok(offered.includes('PAYMENTS (17)'), offered.join());
      await checkState(page, 'signed-in-empty');
    });

    let stored;
    test('upload: the server refuses with its message and report; a good file is stored, the form resets', async () => {
      const upload = form('Upload a certificate');
      await upload.getByLabel('Name', { exact: true }).fill('brand-a');
      await upload.getByLabel('P12 / PFX file').setInputFiles(p12('brand-a'));
      await upload.getByLabel('Password').fill('wrong');
      const refused = await feedback(page, 'upload-feedback', () => upload.getByRole('button', { name: 'Upload' }).click());
      assert.match(refused, /^422 p12_not_usable: .+ \(request [\w-]+\)Not usable/);
      assert.equal(await page.getAttribute('#upload-feedback .finding.problem', 'data-code'), 'wrong_password');
      assert.deepEqual(await certificates(), []);
      await checkState(page, 'upload-refused');

      await upload.getByLabel('Password').fill(P12_PASSWORD);
      const uploaded = await feedback(page, 'upload-feedback', () => upload.getByRole('button', { name: 'Upload' }).click());
      [stored] = await certificates();
      assert.match(uploaded, new RegExp(`^Uploaded brand-a \\(id ${stored.id}\\)\\.`));
      assert.equal(stored.fingerprintSha256, pki.clients['brand-a'].fingerprintSha256);
      assert.equal(await upload.getByLabel('Name', { exact: true }).inputValue(), '');
      const row = page.getByRole('row').filter({ hasText: pki.clients['brand-a'].fingerprintSha256 });
      assert.equal(await row.count(), 1);
      // The test CA issues for two days: the list warns.
      assert.match(await row.textContent(), /Expires in \d+ days?/);

      const taken = await feedback(page, 'upload-feedback', async () => {
        await upload.getByLabel('Name', { exact: true }).fill('brand-a');
        await upload.getByLabel('P12 / PFX file').setInputFiles(p12('brand-b'));
        await upload.getByLabel('Password').fill(P12_PASSWORD);
        await upload.getByRole('button', { name: 'Upload' }).click();
      });
      assert.match(taken, /^409 \w+: .+ \(request [\w-]+\)$/);
      assert.equal((await certificates()).length, 1);
      await checkState(page, 'certificate-listed');
    });

    test('expiry filter: certificates expiring within N days', async () => {
      await page.getByLabel('Days until expiry').fill('0');
      await page.getByLabel('Only certificates expiring within').check();
      await page.getByText('No certificates to show.').waitFor();
      await page.getByLabel('Days until expiry').fill('30');
      await page.getByLabel('Days until expiry').dispatchEvent('change');
      await page.getByRole('row').filter({ hasText: 'brand-a' }).first().waitFor();
      await checkState(page, 'expiry-filter');
      await page.getByLabel('Only certificates expiring within').uncheck();
    });

    let mapping;
    test('mappings: add (refusal shown beside the form), edit and repoint, disable', async () => {
      const add = form('Add a mapping');
      await add.getByLabel('Name').fill('hooks');
      await add.getByLabel('Service').selectOption('WEBHOOKS');
      await add.getByLabel('Target URL').fill('http://hooks.example.com/receive');
      await add.getByLabel('Certificate').selectOption(String(stored.id));
      const refused = await feedback(page, 'mapping-feedback', () => add.getByRole('button', { name: 'Add mapping' }).click());
      assert.match(refused, /^422 invalid_url: .+ \(request [\w-]+\)$/);
      await checkState(page, 'mapping-refused');

      await add.getByLabel('Target URL').fill(`${target.url}/first`);
      const added = await feedback(page, 'mapping-feedback', () => add.getByRole('button', { name: 'Add mapping' }).click());
      [mapping] = await mappings();
      assert.equal(added, `Added mapping hooks (id ${mapping.id}): WEBHOOKS ${target.url}/first.`);
      assert.equal(mapping.certificationId, stored.id);
      assert.equal(await add.getByLabel('Name').inputValue(), '');

      await page.getByRole('button', { name: 'Edit mapping hooks' }).click();
      const edit = form('Edit mapping hooks');
      assert.equal(await edit.getByLabel('Target URL').inputValue(), `${target.url}/first`);
      await edit.getByLabel('Target URL').fill(`${target.url}/second`);
      await edit.getByLabel('Service').selectOption('PAYMENTS');
      await checkState(page, 'mapping-editing');
      const saved = await feedback(page, 'mapping-feedback', () => edit.getByRole('button', { name: 'Save mapping' }).click());
      assert.equal(saved, `Saved mapping hooks: PAYMENTS ${target.url}/second presents brand-a.`);
      [mapping] = await mappings();
      assert.equal(mapping.url, `${target.url}/second`);
      assert.equal(mapping.serviceName, 'PAYMENTS');
      assert.equal(await form('Add a mapping').isVisible(), true);

      const disabled = await feedback(page, 'mappings-feedback', () => page.getByRole('button', { name: 'Disable mapping hooks' }).click());
      assert.equal(disabled, 'Disabled mapping hooks.');
      assert.equal((await mappings())[0].enable, false);
      await feedback(page, 'mappings-feedback', () => page.getByRole('button', { name: 'Enable mapping hooks' }).click());
      [mapping] = await mappings();
      assert.equal(mapping.enable, true);
      await checkState(page, 'mapping-listed');
    });

    test('probe: a mapped target explains the handshake', needs('/mtls/account/{account}/probe', 'probe not in this gateway yet', async () => {
      const shown = await feedback(page, 'mappings-feedback', () => page.getByRole('button', { name: 'Probe mapping hooks' }).click());
      assert.match(shown, /Handshake with .+ succeeded/);
      assert.match(shown, /Client certificate requestedyes/);
      await checkState(page, 'probe-ok');
      const probeForm = form('Probe a target');
      await probeForm.getByLabel('Target URL').fill('https://127.0.0.1:1/nothing');
      const unmapped = await feedback(page, 'probe-feedback', () => probeForm.getByRole('button', { name: 'Probe' }).click());
      assert.match(unmapped, /^Problem with .+: \w+/);
      await checkState(page, 'probe-problem');
    }));

    test('staged rotation and its cancellation', needs('/mtls/account/{account}/certificates/{id}/pending', 'staged rotation not in this gateway yet', async () => {
      const replace = form('Replace a certificate or stage a rotation');
      await replace.getByLabel('Certificate to replace').selectOption(String(stored.id));
      await replace.getByLabel('New P12 / PFX file').setInputFiles(p12('brand-b'));
      await replace.getByLabel('Password').fill(P12_PASSWORD);
      await replace.getByLabel(/Activate at/).fill('2099-01-01T10:00');
      const staged = await feedback(page, 'replace-feedback', () => replace.getByRole('button', { name: 'Replace' }).click());
      assert.match(staged, /^Staged version 2 of brand-a/);
      const pending = (await certificates())[0].pending;
      assert.equal(pending.fingerprintSha256, pki.clients['brand-b'].fingerprintSha256);
      await checkState(page, 'rotation-staged');
      const cancelled = await feedback(page, 'certificates-feedback', () => page.getByRole('button', { name: 'Cancel rotation of brand-a' }).click());
      assert.match(cancelled, /^Cancelled the staged rotation of brand-a/);
      assert.equal((await certificates())[0].pending ?? null, null);
    }));

    test('replace at once: every mapping presents the new file', async () => {
      const replace = form('Replace a certificate or stage a rotation');
      await replace.getByLabel('Certificate to replace').selectOption(String(stored.id));
      await replace.getByLabel('New P12 / PFX file').setInputFiles(p12('brand-b'));
      await replace.getByLabel('Password').fill(P12_PASSWORD);
      const replaced = await feedback(page, 'replace-feedback', () => replace.getByRole('button', { name: 'Replace' }).click());
      const [now] = await certificates();
      assert.match(replaced, new RegExp(`^Replaced brand-a \\(id ${stored.id}\\): now version ${now.version}, fingerprint ${now.fingerprintSha256}\\.`));
      assert.equal(now.fingerprintSha256, pki.clients['brand-b'].fingerprintSha256);
      assert.equal(await replace.getByLabel('Password').inputValue(), '');
    });

    test('gateway-held key: create a request, download its CSR, complete it with the signed chain', needs('/mtls/account/{account}/certificate-requests', 'certificate requests not in this gateway yet', async () => {
      const create = form('Create a request');
      await create.getByLabel('Name', { exact: true }).fill('held');
      await create.getByLabel('Common name').fill(`held-${size.width}.example`);
      await create.getByLabel('Key type').selectOption('P-256');
      const made = await feedback(page, 'request-create-feedback', () => create.getByRole('button', { name: 'Create request' }).click());
      const [request] = await rest(token, 'GET', `/mtls/account/${account}/certificate-requests`);
      assert.match(made, new RegExp(`^Created request held \\(id ${request.id}\\)`));
      const link = page.getByRole('link', { name: 'Download held.csr' });
      const [csrDownload] = await Promise.all([page.waitForEvent('download'), link.click()]);
      const csrPem = fs.readFileSync(await csrDownload.path(), 'utf8');
      assert.equal(csrPem, request.csrPem);
      await checkState(page, 'request-created');

      const chain = pki.ca.sign(csrPem, `held-${size.width}`) + pki.ca.intermediatePem;
      const complete = form('Complete a request');
      await complete.getByLabel('Pending request').selectOption(String(request.id));
      await complete.getByLabel('or paste the PEM').fill('-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----');
      const refused = await feedback(page, 'request-complete-feedback', () => complete.getByRole('button', { name: 'Complete request' }).click());
      assert.match(refused, /^4\d\d \w+: .+ \(request [\w-]+\)$/);
      await complete.getByLabel('or paste the PEM').fill(chain);
      const completed = await feedback(page, 'request-complete-feedback', () => complete.getByRole('button', { name: 'Complete request' }).click());
      const held = (await certificates()).find((c) => c.name === 'held');
      assert.ok(held, 'the completed request is a certificate');
      assert.match(completed, new RegExp(`^Completed: certificate held \\(id ${held.id}\\) is stored\\.`));
      assert.equal((await rest(token, 'GET', `/mtls/account/${account}/certificate-requests/${request.id}`)).status, 'Completed');
      await checkState(page, 'request-completed');

      await page.getByRole('button', { name: 'Delete request held' }).click();
      assert.match(await confirm('Delete request'), /Delete request held\?/);
      await page.waitForFunction(() => document.querySelectorAll('#requests tbody tr').length === 0);
      assert.deepEqual(await rest(token, 'GET', `/mtls/account/${account}/certificate-requests`), []);
    }));

    test('audit trail lists the changes made here', needs('/mtls/account/{account}/audit', 'audit trail not in this gateway yet', async () => {
      await page.getByRole('button', { name: 'Refresh audit trail' }).click();
      await page.locator('#audit tbody tr').first().waitFor();
      const shown = await page.locator('#audit tbody tr').count();
      assert.ok(shown > 0);
      await checkState(page, 'audit');
    }));

    test('delete: the confirmation names the mapping that breaks; the server refuses while it is mapped', async () => {
      await page.getByRole('button', { name: 'Delete certificate brand-a' }).click();
      await checkState(page, 'delete-confirmation');
      // Escape cancels, keyboard only.
      await page.keyboard.press('Escape');
      await page.getByRole('dialog').waitFor({ state: 'hidden' });
      assert.equal((await certificates()).filter((c) => c.name === 'brand-a').length, 1);

      await page.getByRole('button', { name: 'Delete certificate brand-a' }).click();
      const blocked = await feedback(page, 'certificates-feedback', async () => {
        assert.match(await confirm('Delete certificate'), new RegExp(`hooks: PAYMENTS ${target.url}/second`));
      });
      assert.match(blocked, /^409 certificate_in_use: /);
      assert.ok(blocked.includes(`Used by: hooks (id ${mapping.id})`), blocked);
      assert.match(blocked, REQUEST_ID);
      await checkState(page, 'delete-refused');

      // A change made elsewhere meanwhile: the page's revision is stale (412), and it reloads.
      await rest(token, 'PUT', `/api/account/${account}/configuration/ac-common/mtls/${mapping.id}`, { ...mapping });
      const stale = await feedback(page, 'mappings-feedback', () => page.getByRole('button', { name: 'Disable mapping hooks' }).click());
      assert.match(stale, /^412 \w+: .+ \(request [\w-]+\)$/);

      await page.getByRole('button', { name: 'Delete mapping hooks' }).click();
      await feedback(page, 'mappings-feedback', () => confirm('Delete mapping'));
      assert.deepEqual(await mappings(), []);
      await page.getByRole('button', { name: 'Delete certificate brand-a' }).click();
      const deleted = await feedback(page, 'certificates-feedback', () => confirm('Delete certificate'));
      assert.equal(deleted, 'Deleted certificate brand-a.');
      assert.equal((await certificates()).filter((c) => c.name === 'brand-a').length, 0);
    });

    test('every control is reachable with Tab', async () => {
      const reached = new Set();
      await page.locator('body').focus();
      for (let i = 0; i < 150; i += 1) {
        await page.keyboard.press('Tab');
        const id = await page.evaluate(() => {
          const a = document.activeElement;
          return a?.id || a?.getAttribute('aria-label') || a?.textContent?.trim() || a?.tagName;
        });
        reached.add(id);
      }
      const controls = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea, button, a[href]')]
        .filter((n) => n.offsetParent !== null && !n.disabled && n.type !== 'hidden')
        .map((n) => n.id || n.getAttribute('aria-label') || n.textContent.trim()));
      assert.deepEqual(controls.filter((c) => !reached.has(c)), []);
    });

    test('sign-out clears the token, the lists and every form', async () => {
      await form('Add a mapping').getByLabel('Name').fill('left over');
      const out = await feedback(page, 'session-feedback', () => page.getByRole('button', { name: 'Sign out' }).click());
      assert.match(out, /^Signed out/);
      assert.equal(await page.isVisible('#workspace'), false);
      assert.equal(await page.getByLabel('Bearer token').inputValue(), '');
      assert.equal(await page.evaluate(() => document.querySelectorAll('#workspace tbody tr').length), 0);
      assert.equal(await page.$eval('#mapping-name', (n) => n.value), '');
      await checkState(page, 'signed-out-again');
      // Refused calls above answered 4xx on purpose; nothing else may have gone wrong.
      assert.deepEqual(problems.filter((p) => !/^(HTTP (400|401|403|404|409|412|422)|console error: Failed to load resource)/.test(p)), []);
    });
  });
}
