// `MtlsClient.forward` end to end: the real gateway binary (embedded store, loopback targets
// allowed, the test CA as extra target CA) forwards to an mTLS target that is Node's own https
// server requiring a client certificate. Certificates are uploaded and mapped through the client;
// the target reports which certificate it saw and what arrived, the caller what came back.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { freePort, startGateway } from '../browser/gateway.mjs';
import { linkPackage } from './helpers.mjs';
import { makeTargetPki, P12_PASSWORD, startMtlsTarget } from './mtls-target.mjs';

linkPackage();
const { MtlsClient, MtlsError } = await import('mtls-sdk');

const ACCOUNT = 'brand-forward-1';
let pki;
let target;
let gateway;
let bearer;
let oauth1;
let certA; // mapped to `only-a`, and to `shared` for WEBHOOKS
let certB; // mapped to `shared` for IDP
let urls;

before(async () => {
  pki = makeTargetPki(['brand-a', 'brand-b']);
  target = await startMtlsTarget(pki);
  gateway = await startGateway({
    MTLS_ALLOWED_TARGET_CIDRS: '127.0.0.0/8',
    MTLS_EXTRA_TARGET_CA_FILE: pki.rootFile,
  });
  const auth = await gateway.credentials('forward-test', [ACCOUNT]);
  bearer = new MtlsClient({ baseUrl: gateway.url, auth: auth.bearer });
  oauth1 = new MtlsClient({ baseUrl: gateway.url, auth: auth.oauth1 });

  // Upload by file with Bearer, by JSON with oAuth1; the gateway reads the fingerprints openssl made.
  const a = pki.clients['brand-a'];
  const b = pki.clients['brand-b'];
  [certA] = (await bearer.uploadCertificate(ACCOUNT, { file: a.p12, name: 'brand-a', password: P12_PASSWORD }))
    .successfulySavedCertificates;
  [certB] = (await oauth1.createCertificates(ACCOUNT, [{ name: 'brand-b', p12: b.p12, password: P12_PASSWORD }]))
    .successfulySavedCertificates;
  assert.equal(certA.fingerprintSha256, a.fingerprintSha256);
  assert.equal(certB.fingerprintSha256, b.fingerprintSha256);

  urls = {
    onlyA: `${target.url}/only-a`,
    shared: `${target.url}/shared?tenant=brand`,
    down: `https://127.0.0.1:${await freePort()}/down`,
  };
  await bearer.createMappings(ACCOUNT, [
    { certificationId: certA.id, serviceId: '0', url: urls.onlyA, name: 'only-a', enable: true },
    { certificationId: certA.id, serviceId: '2', url: urls.shared, name: 'shared-webhooks', enable: true },
    { certificationId: certB.id, serviceId: '1', url: urls.shared, name: 'shared-idp', enable: true },
    { certificationId: certA.id, serviceId: '0', url: urls.down, name: 'down', enable: true },
  ]);
});
after(async () => {
  await gateway?.stop();
  await target?.close();
  pki?.ca.cleanup();
});

/** What the target saw, from its echo. */
function seenBy(response) {
  assert.equal(response.headers['x-target'], 'echo', 'the answer comes from the target');
  const seen = JSON.parse(Buffer.from(response.body).toString('utf8'));
  return { ...seen, body: Buffer.from(seen.bodyBase64, 'base64') };
}

/** The target never sees the caller's credential or any `LP-*` header. */
function assertNoGatewayHeaders(seen, expectedAuthorization) {
  assert.equal(seen.headers.authorization, expectedAuthorization);
  assert.deepEqual(Object.keys(seen.headers).filter((name) => name.startsWith('lp-')), []);
}

test('GET with Bearer presents the one mapped certificate and not the caller credential', async () => {
  const response = await bearer.forward(ACCOUNT, { url: urls.onlyA, stopIfCertificateNotFound: true });
  assert.equal(response.status, 200);
  assert.equal(response.certificateId, String(certA.id));
  const seen = seenBy(response);
  assert.equal(seen.clientFingerprintSha256, certA.fingerprintSha256);
  assert.equal(seen.method, 'GET');
  assert.equal(seen.path, '/only-a');
  assert.equal(seen.body.length, 0);
  assert.equal(seen.headers.accept, '*/*', "fetch's default, not the client's own JSON Accept");
  assertNoGatewayHeaders(seen, undefined);
});

test('POST with oAuth1: the service picks the certificate, overrides replace method, type and authorization', async () => {
  const body = JSON.stringify({ event: 'conversation.closed', id: 42 });
  const response = await oauth1.forward(ACCOUNT, {
    url: urls.shared,
    method: 'POST',
    serviceName: 'IDP',
    headers: { 'content-type': 'text/plain', 'x-brand-trace': 'trace-1', accept: 'application/xml' },
    body,
    methodOverride: 'PUT',
    contentTypeOverride: 'application/json',
    authorizationOverride: 'Bearer token-for-the-target',
    stopIfCertificateNotFound: true,
  });
  assert.equal(response.status, 200);
  assert.equal(response.certificateId, String(certB.id));
  const seen = seenBy(response);
  assert.equal(seen.clientFingerprintSha256, certB.fingerprintSha256);
  assert.equal(seen.method, 'PUT');
  assert.equal(seen.path, '/shared?tenant=brand');
  assert.equal(seen.headers['content-type'], 'application/json');
  assert.equal(seen.headers['x-brand-trace'], 'trace-1');
  assert.equal(seen.headers.accept, 'application/xml');
  assert.equal(seen.body.toString('utf8'), body);
  assertNoGatewayHeaders(seen, 'Bearer token-for-the-target');
});

test('a binary body arrives byte for byte; the service code picks the other certificate', async () => {
  const bytes = new Uint8Array(256).map((_, i) => i);
  const response = await bearer.forward(ACCOUNT, {
    url: urls.shared, method: 'POST', serviceName: '2', body: bytes,
    headers: { 'content-type': 'application/octet-stream' }, stopIfCertificateNotFound: true,
  });
  assert.equal(response.certificateId, String(certA.id));
  const seen = seenBy(response);
  assert.equal(seen.clientFingerprintSha256, certA.fingerprintSha256);
  assert.deepEqual([...seen.body], [...bytes]);
  assertNoGatewayHeaders(seen, undefined);
});

test('a form-encoded body with oAuth1: the signature covers the form parameters', async () => {
  const body = 'grant_type=client_credentials&scope=read+write&note=caf%C3%A9';
  const response = await oauth1.forward(ACCOUNT, {
    url: urls.onlyA, method: 'POST', body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(response.status, 200);
  const seen = seenBy(response);
  assert.equal(seen.body.toString('utf8'), body);
  assert.equal(seen.headers['content-type'], 'application/x-www-form-urlencoded');
  assertNoGatewayHeaders(seen, undefined);
});

test("the target's own error answers resolve unchanged", async () => {
  for (const status of [401, 404, 500]) {
    const response = await oauth1.forward(ACCOUNT, {
      url: urls.onlyA, headers: { 'x-answer-status': String(status) },
    });
    assert.equal(response.status, status);
    assert.equal(response.certificateId, String(certA.id));
    assert.equal(seenBy(response).clientFingerprintSha256, certA.fingerprintSha256);
  }
});

test('gateway failures reject with MtlsError fields', async () => {
  // A target that is down: 424, the transport kind in details (the LP-error-from-transport value).
  await assert.rejects(bearer.forward(ACCOUNT, { url: urls.down, stopIfCertificateNotFound: true }), (error) => {
    assert.equal(error.name, 'MtlsError');
    assert.equal(error.status, 424);
    assert.equal(error.code, 'transport_error');
    assert.equal(error.details.errorFromTransport, 'connect');
    assert.equal(error.details.target, new URL(urls.down).origin);
    assert.match(error.requestId, /\S/);
    return true;
  });
  // Without a mapped certificate the call goes out over plain TLS, and this target refuses it.
  const unmapped = `${target.url}/not-mapped`;
  await assert.rejects(oauth1.forward(ACCOUNT, { url: unmapped }), (error) => {
    assert.equal(error.status, 424);
    assert.equal(error.code, 'transport_error');
    assert.equal(error.details.errorFromTransport, 'tls');
    return true;
  });
  // The same, told to stop; and a URL two mappings share, without a service: ambiguous, so none.
  for (const url of [unmapped, urls.shared]) {
    await assert.rejects(oauth1.forward(ACCOUNT, { url, stopIfCertificateNotFound: true }),
      { name: 'MtlsError', status: 400, code: 'certificate_not_found' });
  }
  // Another account: 403 before anything is looked up.
  await assert.rejects(bearer.forward('someone-else', { url: urls.onlyA }), { name: 'MtlsError', status: 403, code: 'forbidden' });
  // Arguments the client refuses itself.
  await assert.rejects(bearer.forward(ACCOUNT, { url: urls.onlyA, method: 'TRACE' }), { code: 'invalid_argument' });
  await assert.rejects(bearer.forward(ACCOUNT, { url: urls.onlyA, body: 42 }), { code: 'invalid_argument' });
  // Headers that would replace the client's credential or its own LP-* headers.
  for (const headers of [{ Authorization: 'Bearer for-the-target' }, { 'LP-service-name': 'IDP' }]) {
    await assert.rejects(bearer.forward(ACCOUNT, { url: urls.onlyA, headers, stopIfCertificateNotFound: true }),
      { name: 'MtlsError', status: 0, code: 'invalid_argument' });
  }
});

test('probe explains the handshake with the mapped certificate, an unmapped URL and a dead port', async () => {
  const good = await oauth1.probe(ACCOUNT, { url: urls.onlyA });
  assert.equal(good.ok, true, JSON.stringify(good.problem));
  assert.equal(good.problem, null);
  assert.equal(String(good.certificateId), String(certA.id));
  assert.equal(good.clientCertificateRequested, true);
  assert.match(good.tls.version, /^TLSv1\.[23]$/);
  assert.match(good.tls.serverCertificate.fingerprintSha256, /^[0-9a-f]{64}$/);
  assert.equal(typeof good.httpStatus, 'number');

  // By service and with an explicit certificate.
  const chosen = await bearer.probe(ACCOUNT, { url: urls.shared, serviceName: 'IDP' });
  assert.equal(String(chosen.certificateId), String(certB.id));
  const explicit = await bearer.probe(ACCOUNT, { url: urls.onlyA, certificationId: certB.id });
  assert.equal(String(explicit.certificateId), String(certB.id));

  const unmapped = await bearer.probe(ACCOUNT, { url: `${target.url}/nobody-mapped-this` });
  assert.equal(unmapped.ok, false);
  assert.equal(unmapped.problem.code, 'no_mapping');
  assert.equal(unmapped.certificateId, null);

  const down = await bearer.probe(ACCOUNT, { url: urls.down });
  assert.equal(down.problem.code, 'connect');
  assert.equal(down.tls, null);

  // The gateway's own refusals are MtlsErrors.
  await assert.rejects(bearer.probe(ACCOUNT, { url: 'not a url' }), (error) => error instanceof MtlsError && error.status === 422);
  await assert.rejects(bearer.probe('someone-else', { url: urls.onlyA }), { name: 'MtlsError', status: 403 });
});
