// The portal's self-service in headless Chromium against the real gateway binary: sign in with a
// Bearer token, upload (checked in the page first), replace, delete certificates, add, disable
// and delete mappings, all through the page's controls; after each step the server's state is
// read back over REST with the npm package's MtlsClient in Node, and errors must show the
// gateway's status, code, message and request id.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { opensslOk } from '../node/csr-helpers.mjs';
import { linkPackage } from '../node/helpers.mjs';
import { makeTargetPki, P12_PASSWORD } from '../node/mtls-target.mjs';
import { launchChromium, openPage } from './chromium.mjs';
import { startGateway } from './gateway.mjs';

linkPackage();
const { MtlsClient } = await import('mtls-sdk');

const ACCOUNT = 'portal-brand-1';
const HOOK_URL = 'https://hooks.example.com/receive';
/** The tail of every error the page shows: the request id to quote to support. */
const REQUEST_ID = /\(request [\w-]+\)$/;

let pki;
let server;
let browser;
let token;
let rest; // Bearer, as the page uses it
let checks; // oAuth1, for the check endpoints
before(async () => {
  pki = makeTargetPki(['brand-a', 'brand-b']);
  // OpenSSL's default 2048 iterations pass this cap; brand-a-slow's 5000 pass the page's default
  // (1,000,000) but not this server: a refusal only the server makes.
  opensslOk(['pkcs12', '-export', '-inkey', 'brand-a.key', '-in', 'brand-a.crt', '-out', 'brand-a-slow.p12',
    '-iter', '5000', '-passout', `pass:${P12_PASSWORD}`], { cwd: pki.ca.dir });
  server = await startGateway({ MTLS_P12_MAX_ITERATIONS: '2048' });
  const auth = await server.credentials('portal-test', [ACCOUNT]);
  token = auth.bearer.bearer;
  rest = new MtlsClient({ baseUrl: server.url, auth: auth.bearer });
  checks = new MtlsClient({ baseUrl: server.url, auth: auth.oauth1 });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  pki?.ca.cleanup();
});

const p12 = (name) => ({ name: `${name}.p12`, mimeType: 'application/x-pkcs12', buffer: Buffer.from(pki.clients[name].p12) });

/** Clears `selector`, runs `action`, and resolves to the text that then appears there. */
async function outcome(page, selector, action) {
  await page.$eval(selector, (node) => node.replaceChildren());
  await action();
  await page.waitForFunction((s) => document.querySelector(s).textContent.trim() !== '', selector);
  return (await page.textContent(selector)).trim();
}

const message = (page, action) => outcome(page, '#account-message', action);

async function signIn(page, account, bearer) {
  await page.fill('#account-id', account);
  await page.fill('#account-token', bearer);
  return message(page, () => page.getByRole('button', { name: 'Sign in' }).click());
}

async function upload(page, name, file, password) {
  await page.fill('#upload-name', name);
  await page.setInputFiles('#upload-file', file);
  await page.fill('#upload-password', password);
  return outcome(page, '#upload-report', () => page.getByRole('button', { name: 'Check and upload' }).click());
}

const checkHook = async () => (await checks.checkMappingsV2([{ serviceName: 'WEBHOOKS', accountId: ACCOUNT, url: HOOK_URL }]))[0].doExist;

test('a brand manages its certificates and mappings in the portal', async () => {
  const { page, problems } = await openPage(browser, `${server.url}/`);
  await page.waitForSelector('body[data-sdk="ready"]', { state: 'attached', timeout: 30_000 });
  const uploads = [];
  page.on('request', (request) => {
    if (request.method() !== 'GET') uploads.push(`${request.method()} ${new URL(request.url()).pathname}`);
  });

  // Refused sign-ins show the gateway's answer and keep the workspace hidden.
  assert.match(await signIn(page, ACCOUNT, 'not-a-token'), /^401 \w+: .+ \(request [\w-]+\)$/);
  assert.match(await signIn(page, 'someone-else', token), /^403 forbidden: .+ \(request [\w-]+\)$/);
  assert.equal(await page.isVisible('#workspace'), false);
  assert.equal(await signIn(page, ACCOUNT, token), `Signed in to account ${ACCOUNT}: 0 certificate(s).`);
  assert.equal(await page.isVisible('#workspace'), true);

  // A wrong password is caught in the page: the report shows and nothing is sent.
  const refused = await upload(page, 'brand-a', p12('brand-a'), 'wrong');
  assert.match(refused, /^Not usable/);
  assert.equal(await page.getAttribute('#upload-report .finding.problem', 'data-code'), 'wrong_password');
  assert.deepEqual(uploads, []);
  assert.deepEqual(await rest.listCertificates(ACCOUNT), []);

  // Upload: the certificate is stored and listed in the page.
  const a = pki.clients['brand-a'];
  assert.match(await upload(page, 'brand-a', p12('brand-a'), P12_PASSWORD), /^Uploaded brand-a \(id \d+\)\.$/);
  assert.deepEqual(uploads, [`POST /mtls/account/${ACCOUNT}/certificates/by-file`]);
  const [stored] = await rest.listCertificates(ACCOUNT);
  assert.equal(stored.name, 'brand-a');
  assert.equal(stored.fingerprintSha256, a.fingerprintSha256);
  const row = page.locator(`#certificates tr[data-id="${stored.id}"]`);
  assert.equal(await row.locator('td.fingerprint').textContent(), a.fingerprintSha256);

  // The server's refusal (a name already taken) shows with its code and request id.
  const taken = await upload(page, 'brand-a', p12('brand-b'), P12_PASSWORD);
  assert.match(taken, /^409 \w+: .+ \(request [\w-]+\)$/);
  assert.equal((await rest.listCertificates(ACCOUNT)).length, 1);

  // A refusal only the server makes shows its message, request id and report.
  const slow = { name: 'slow.p12', mimeType: 'application/x-pkcs12', buffer: fs.readFileSync(path.join(pki.ca.dir, 'brand-a-slow.p12')) };
  const overCap = await upload(page, 'brand-a-slow', slow, P12_PASSWORD);
  assert.match(overCap, /^422 p12_not_usable: .+ \(request [\w-]+\)Not usable/);
  assert.equal(await page.getAttribute('#upload-report .finding.problem', 'data-code'), 'too_many_iterations');
  assert.equal((await rest.listCertificates(ACCOUNT)).length, 1);

  // Rotation: brand-b's file replaces brand-a's under the same id.
  await page.selectOption('#replace-id', String(stored.id));
  await page.setInputFiles('#replace-file', p12('brand-b'));
  await page.fill('#replace-password', P12_PASSWORD);
  const replaced = await outcome(page, '#replace-report', () => page.getByRole('button', { name: 'Check and replace' }).click());
  const b = pki.clients['brand-b'];
  assert.equal(replaced, `Replaced brand-a (id ${stored.id}): now version 2, fingerprint ${b.fingerprintSha256}.`);
  const rotated = await rest.getCertificate(ACCOUNT, stored.id);
  assert.equal(rotated.version, 2);
  assert.equal(rotated.fingerprintSha256, b.fingerprintSha256);
  assert.equal(await row.locator('td.fingerprint').textContent(), b.fingerprintSha256);

  // A mapping the server refuses (plain http) shows why; a good one is stored and active.
  await page.fill('#mapping-name', 'hooks');
  await page.fill('#mapping-service', 'WEBHOOKS');
  await page.fill('#mapping-url', 'http://hooks.example.com/receive');
  await page.selectOption('#mapping-certificate', String(stored.id));
  const addMapping = page.getByRole('button', { name: 'Add mapping' });
  assert.match(await message(page, () => addMapping.click()), /^422 invalid_url: .+ \(request [\w-]+\)$/);
  await page.fill('#mapping-url', HOOK_URL);
  const added = await message(page, () => addMapping.click());
  const [mapping] = await rest.listMappings(ACCOUNT);
  assert.equal(added, `Added mapping hooks (id ${mapping.id}): WEBHOOKS ${HOOK_URL}.`);
  assert.equal(mapping.certificationId, stored.id);
  assert.equal(mapping.enable, true);
  assert.equal(await checkHook(), true);
  const mappingRow = page.locator(`#mappings tr[data-id="${mapping.id}"]`);
  assert.deepEqual(await mappingRow.locator('td').allTextContents(),
    [String(mapping.id), 'hooks', 'WEBHOOKS (2)', HOOK_URL, 'brand-a', 'yes', 'yes', 'DisableDelete']);

  // A mapped certificate cannot be deleted: the page names the mapping that holds it.
  const blocked = await message(page, () => page.getByRole('button', { name: 'Delete certificate brand-a' }).click());
  assert.match(blocked, /^409 certificate_in_use: /);
  assert.ok(blocked.includes(`Used by: hooks (id ${mapping.id}).`), blocked);
  assert.match(blocked, REQUEST_ID);
  assert.equal((await rest.listCertificates(ACCOUNT)).length, 1);

  // A change made elsewhere meanwhile: the page's revision is stale, so the server refuses (412)
  // and the page reloads; the next click acts on the current revision.
  const elsewhere = await rest.updateMapping(ACCOUNT, mapping.id, { ...mapping });
  assert.equal(elsewhere.revision, mapping.revision + 1);
  const stale = await message(page, () => page.getByRole('button', { name: 'Disable mapping hooks' }).click());
  assert.match(stale, /^412 \w+: .+ \(request [\w-]+\)$/);
  assert.equal((await rest.getMapping(ACCOUNT, mapping.id)).enable, true);

  // Disable: stored, no longer active, and the check says so.
  assert.equal(await message(page, () => page.getByRole('button', { name: 'Disable mapping hooks' }).click()), 'Disabled mapping hooks.');
  assert.equal((await rest.getMapping(ACCOUNT, mapping.id)).enable, false);
  assert.equal(await checkHook(), false);
  assert.deepEqual((await mappingRow.locator('td').allTextContents()).slice(5, 7), ['no', 'no']);

  // Delete the mapping, then the certificate.
  assert.equal(await message(page, () => page.getByRole('button', { name: 'Delete mapping hooks' }).click()), 'Deleted mapping hooks.');
  assert.deepEqual(await rest.listMappings(ACCOUNT), []);
  assert.equal(await message(page, () => page.getByRole('button', { name: 'Delete certificate brand-a' }).click()), 'Deleted certificate brand-a.');
  assert.deepEqual(await rest.listCertificates(ACCOUNT), []);
  assert.equal(await page.locator('#certificates tbody tr').count(), 0);

  // The refused calls above answered 4xx on purpose; nothing else may have gone wrong.
  assert.deepEqual(problems.filter((p) => !/^(HTTP (401|403|409|412|422)|console error: Failed to load resource)/.test(p)), []);
});
