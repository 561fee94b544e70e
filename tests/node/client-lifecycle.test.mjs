// `MtlsClient`'s SPEC 12 methods against the real gateway binary: a gateway-held key and its
// CSR signed by an outside CA (openssl), completion, the expiry fields and filter, a staged
// rotation and its cancellation, and the audit trail of those changes. Each test runs once its
// endpoints are in the gateway's /openapi.json (they are built on other branches) and is skipped,
// saying why, until then.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { startGateway } from '../browser/gateway.mjs';
import { makeTestCa } from './csr-helpers.mjs';
import { linkPackage } from './helpers.mjs';

linkPackage();
const { MtlsClient, MtlsError } = await import('mtls-sdk');

const ACCOUNT = 'lifecycle-1';
let gateway;
let ca;
let bearer;
let oauth1;
let paths = new Set();

before(async () => {
  ca = makeTestCa();
  gateway = await startGateway();
  paths = new Set(Object.keys((await (await fetch(`${gateway.url}/openapi.json`)).json()).paths));
  const auth = await gateway.credentials('lifecycle-test', [ACCOUNT]);
  bearer = new MtlsClient({ baseUrl: gateway.url, auth: auth.bearer });
  oauth1 = new MtlsClient({ baseUrl: gateway.url, auth: auth.oauth1 });
});
after(async () => {
  await gateway?.stop();
  ca?.cleanup();
});

const unless = (...required) => () => {
  const missing = required.filter((p) => !paths.has(p));
  return missing.length ? `not in this gateway's /openapi.json yet: ${missing.join(', ')}` : false;
};
const chainOf = (leafPem) => leafPem + fs.readFileSync(path.join(ca.dir, 'intermediate.pem'), 'utf8');

test('a gateway-held key: request, CSR signed outside, completion, expiry, renewal', async (t) => {
  const skip = unless('/mtls/account/{account}/certificate-requests', '/mtls/account/{account}/certificate-requests/{id}/certificate')();
  if (skip) return t.skip(skip);
  await assert.rejects(bearer.createCertificateRequest(ACCOUNT, { name: 'x', subject: { commonName: 'x' }, keyType: 'rsa2048' }),
    (error) => error instanceof MtlsError && error.code === 'invalid_argument');

  const request = await oauth1.createCertificateRequest(ACCOUNT, { name: 'held', subject: { commonName: 'held.brand.example', organization: 'Brand' }, subjectAltNames: ['held.brand.example'], keyType: 'P-256' });
  assert.equal(request.status, 'Pending');
  assert.equal(request.keyAlgorithm, 'P-256');
  assert.match(request.csrPem, /BEGIN CERTIFICATE REQUEST/);
  assert.ok(!JSON.stringify(request).includes('PRIVATE KEY'));
  assert.deepEqual((await bearer.listCertificateRequests(ACCOUNT)).map((r) => r.id), [request.id]);

  // A chain for another key is refused; the right one (as JSON) completes the request.
  const stranger = await bearer.createCertificateRequest(ACCOUNT, { name: 'stranger', subject: { commonName: 'stranger' }, keyType: 'P-256' });
  await assert.rejects(bearer.completeCertificateRequest(ACCOUNT, request.id, { certificatePem: chainOf(ca.sign(stranger.csrPem, 'stranger')) }),
    (error) => error instanceof MtlsError && error.status === 422 && error.code === 'key_certificate_mismatch');
  const saved = await bearer.completeCertificateRequest(ACCOUNT, request.id, { certificatePem: chainOf(ca.sign(request.csrPem, 'held')) });
  const [certificate] = saved.successfulySavedCertificates;
  assert.equal(certificate.name, 'held');
  assert.equal((await bearer.getCertificateRequest(ACCOUNT, request.id)).status, 'Completed');

  // The test CA signs for 2 days: expiring soon, and in the filter.
  assert.equal(certificate.expiringSoon, true);
  assert.ok(certificate.daysToExpiry <= 2, String(certificate.daysToExpiry));
  assert.deepEqual((await bearer.listCertificates(ACCOUNT, { expiringWithinDays: 3 })).map((c) => c.id), [certificate.id]);

  // Renewal with the same flow, by file (multipart), under the existing certificate.
  const renewal = await bearer.createCertificateRequest(ACCOUNT, { name: 'held-renewal', subject: { commonName: 'held.brand.example' } });
  assert.equal(renewal.keyAlgorithm, 'RSA-2048');
  const renewed = await bearer.completeCertificateRequest(ACCOUNT, renewal.id, { file: new Blob([chainOf(ca.sign(renewal.csrPem, 'renewal'))]), replaceCertificateId: certificate.id });
  assert.equal(renewed.successfulySavedCertificates[0].id, certificate.id);

  const deleted = await bearer.deleteCertificateRequest(ACCOUNT, stranger.id);
  assert.equal(deleted.id, stranger.id);
  await assert.rejects(bearer.getCertificateRequest(ACCOUNT, stranger.id), { name: 'MtlsError', status: 404 });
});

test('a staged rotation is visible as pending and can be cancelled; the audit trail has it all', async (t) => {
  const skip = unless('/mtls/account/{account}/certificates/{id}/pending', '/mtls/account/{account}/audit')();
  if (skip) return t.skip(skip);
  // A certificate to rotate: a CA-signed leaf made by openssl, as a P12.
  const { execFileSync } = await import('node:child_process');
  const leaf = (name) => {
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-keyout', `${name}.key`, '-out', `${name}.csr`,
      '-subj', `/CN=${name}/O=Brand`], { cwd: ca.dir, stdio: 'ignore' });
    const cert = ca.write(`${name}.chain.pem`, chainOf(ca.sign(fs.readFileSync(path.join(ca.dir, `${name}.csr`), 'utf8'), name)));
    execFileSync('openssl', ['pkcs12', '-export', '-in', cert, '-inkey', `${name}.key`, '-out', `${name}.p12`, '-passout', 'pass:pw'], { cwd: ca.dir, stdio: 'ignore' });
    return fs.readFileSync(path.join(ca.dir, `${name}.p12`));
  };
  const [current] = (await bearer.uploadCertificate(ACCOUNT, { file: leaf('rotating'), name: 'rotating', password: 'pw' })).successfulySavedCertificates;
  const activateAt = new Date(Date.now() + 3_600_000);
  const staged = await bearer.replaceCertificateFile(ACCOUNT, { file: leaf('rotating-next'), id: current.id, password: 'pw', activateAt });
  const [withPending] = staged.successfulySavedCertificates;
  assert.equal(withPending.id, current.id);
  assert.equal(withPending.fingerprintSha256, current.fingerprintSha256, 'the current version stays until activateAt');
  assert.ok(Math.abs(Date.parse(withPending.pending.activateAt) - activateAt.getTime()) < 1000, withPending.pending.activateAt);
  const cancelled = await oauth1.cancelPendingCertificate(ACCOUNT, current.id);
  assert.ok(!cancelled.pending);
  await assert.rejects(bearer.cancelPendingCertificate(ACCOUNT, current.id), { name: 'MtlsError', status: 404 });

  const page = await oauth1.listAudit(ACCOUNT, { limit: 3 });
  assert.equal(page.records.length, 3);
  assert.deepEqual(page.records.map((r) => r.action).slice(0, 2), ['certificate.pending.cancel', 'certificate.stage']);
  assert.ok(page.records.every((r) => r.account === ACCOUNT && typeof r.requestId === 'string'));
  if (page.nextCursor) {
    const older = await oauth1.listAudit(ACCOUNT, { limit: 3, cursor: page.nextCursor });
    assert.ok(older.records.every((r) => !page.records.some((n) => n.id === r.id)));
  }
  await assert.rejects(bearer.listAudit(ACCOUNT, { limit: 0 }), { name: 'MtlsError', status: 400 });
});
