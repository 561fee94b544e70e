// `MtlsClient` against the real gateway binary (embedded store): credentials from the admin API,
// then certificates, the P12 tester, mappings, checks and a refused forward through the client,
// with the scheme matrix and account isolation of SPEC section 4 seen as `MtlsError`s.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import { startGateway } from '../browser/gateway.mjs';
import { linkPackage, makeFixtures, nativeReport } from './helpers.mjs';

linkPackage();
const { MtlsClient } = await import('mtls-sdk');

let gateway;
let fixtures;
let bearer;
let oauth1;
const ACCOUNT = 'le-portal-1';

before(async () => {
  fixtures = makeFixtures();
  // Build the native inspector now: building it later blocks the event loop for longer than the
  // gateway's keep-alive timeout, and fetch would then write to a socket the server closed.
  nativeReport(fixtures.cases[0].file, fixtures.cases[0].password);
  gateway = await startGateway();
  const auth = await gateway.credentials('client-test', [ACCOUNT]);
  bearer = new MtlsClient({ baseUrl: gateway.url, auth: auth.bearer });
  oauth1 = new MtlsClient({ baseUrl: gateway.url, auth: auth.oauth1 });
});
after(async () => {
  await gateway?.stop();
  if (fixtures) fs.rmSync(fixtures.dir, { recursive: true, force: true });
});

const fixture = (name) => fixtures.cases.find((c) => c.name === name);

test('certificates, P12 tester, mappings and checks through the client', async () => {
  const ec = fixture('EC P-256');
  const rsa = fixture('RSA-2048, OpenSSL 3 default');

  // The P12 tester answers the report the SDK computes locally, usable or not.
  const local = nativeReport(ec.file, ec.password);
  const tested = await bearer.testP12(ACCOUNT, fs.readFileSync(ec.file), ec.password);
  assert.equal(tested.usable, true, JSON.stringify(tested.problems));
  assert.equal(tested.certificate.fingerprintSha256, local.certificate.fingerprintSha256);
  const wrong = await bearer.testP12(ACCOUNT, fs.readFileSync(rsa.file), 'wrong');
  assert.equal(wrong.usable, false);
  assert.ok(wrong.problems.some((p) => p.code === 'wrong_password'));

  // Upload by file (multipart) and by JSON (bytes sent as base64).
  const byFile = await bearer.uploadCertificate(ACCOUNT, { file: fs.readFileSync(ec.file), name: 'ec-client', password: ec.password, displayName: 'EC client' });
  const [created] = byFile.successfulySavedCertificates;
  assert.equal(created.name, 'ec-client');
  assert.equal(created.status, 'Available');
  assert.equal(created.fingerprintSha256, local.certificate.fingerprintSha256);
  const byJson = await bearer.createCertificates(ACCOUNT, [{ name: 'rsa-client', p12: new Uint8Array(fs.readFileSync(rsa.file)), password: rsa.password }]);
  const rsaCertificate = byJson.successfulySavedCertificates[0];
  assert.equal(rsaCertificate.keyAlgorithm.startsWith('RSA'), true, rsaCertificate.keyAlgorithm);

  const listed = await oauth1.listCertificates(ACCOUNT); // JSON CRUD takes oAuth1 too
  assert.deepEqual(listed.map((c) => c.name).sort(), ['ec-client', 'rsa-client']);
  assert.equal((await bearer.getCertificate(ACCOUNT, created.id)).id, created.id);

  // An unusable upload is refused with the report as details.
  await assert.rejects(
    bearer.uploadCertificate(ACCOUNT, { file: fs.readFileSync(fixture('RSA-1024').file), name: 'weak', password: ec.password }),
    (error) => error.name === 'MtlsError' && error.status === 422 && error.code === 'p12_not_usable'
      && error.details.problems.some((p) => p.code === 'weak_key') && typeof error.requestId === 'string',
  );

  // A mapping makes the check say "exists"; the certificate cannot be deleted while mapped.
  const url = 'https://hooks.example.com/receive';
  const [mapping] = await bearer.createMappings(ACCOUNT, [{ certificationId: created.id, serviceId: '2', url, name: 'hooks', enable: true }]);
  assert.equal(mapping.serviceName, 'WEBHOOKS');
  const v2 = await oauth1.checkMappingsV2([{ serviceName: 'WEBHOOKS', accountId: ACCOUNT, url }, { serviceName: 'IDP', accountId: ACCOUNT, url }]);
  assert.deepEqual(v2.map((item) => item.doExist), [true, false]);
  const checks = await oauth1.checkServiceUrlMappings(ACCOUNT, [{ serviceName: 'WEBHOOKS', url: 'HTTPS://hooks.example.com:443/receive' }]);
  assert.equal(checks[0].exist, true);
  await assert.rejects(bearer.deleteCertificate(ACCOUNT, created.id), { name: 'MtlsError', status: 409, code: 'certificate_in_use' });

  const fetched = await bearer.getMapping(ACCOUNT, mapping.id);
  await bearer.updateMapping(ACCOUNT, mapping.id, { ...fetched, enable: false }, { ifMatch: fetched.revision });
  await assert.rejects(
    bearer.updateMapping(ACCOUNT, mapping.id, { ...fetched, enable: true }, { ifMatch: fetched.revision }),
    { name: 'MtlsError', status: 412 },
  );
  await bearer.deleteMapping(ACCOUNT, mapping.id);
  const deleted = await bearer.deleteCertificate(ACCOUNT, created.id);
  assert.equal(deleted.deleted, true);
});

test('scheme matrix and account isolation surface as MtlsErrors', async () => {
  const ec = fixture('EC P-256');
  // The P12 tester is Bearer only; the checks are oAuth1 only.
  await assert.rejects(oauth1.testP12(ACCOUNT, fs.readFileSync(ec.file), ec.password), { name: 'MtlsError', status: 401 });
  await assert.rejects(bearer.checkMappingsV2([{ serviceName: 'IDP', accountId: ACCOUNT, url: 'https://x.example/' }]), { status: 401 });
  // Another account: 403, whatever exists there.
  await assert.rejects(bearer.listCertificates('someone-else'), { name: 'MtlsError', status: 403, code: 'forbidden' });
  const outsider = new MtlsClient({ baseUrl: gateway.url, auth: { bearer: 'not-a-jwt' } });
  await assert.rejects(outsider.listCertificates(ACCOUNT), { status: 401 });
});

test('a forward the gateway refuses rejects, carrying the gateway request id', async () => {
  await assert.rejects(
    bearer.forward(ACCOUNT, { url: 'https://unmapped.example.com/x', stopIfCertificateNotFound: true }),
    (error) => error.name === 'MtlsError' && error.status === 400 && error.code === 'certificate_not_found'
      && typeof error.requestId === 'string' && error.requestId.length > 0,
  );
});
