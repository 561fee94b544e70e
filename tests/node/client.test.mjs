// `MtlsClient` of the npm package in Node: each method sends the request SPEC sections 5 and 12
// define (method, path, headers, JSON or multipart body), resolves to the parsed answer, and
// rejects with an `MtlsError` (a class) carrying the gateway's status, code, message, requestId
// and retryAfter; 429 and 503 are retried after `Retry-After`. The oAuth1 signature is verified
// by an independent implementation (Python oauthlib).
//
// The gateway side is a recorder on 127.0.0.1 that answers what each test scripts: it checks the
// client's wire behaviour (what SPEC section 5 fixes) in isolation from the server's own logic.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';

import { linkPackage } from './helpers.mjs';

linkPackage();
const { MtlsClient, MtlsError } = await import('mtls-sdk');
const require = createRequire(import.meta.url);

let server;
let baseUrl;
const seen = [];
let answer = () => ({ status: 200, body: '[]' });

before(async () => {
  server = http.createServer(async (request, response) => {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const recorded = { method: request.method, url: request.url, headers: request.headers, body: Buffer.concat(chunks) };
    seen.push(recorded);
    const { status, body = '', headers = {} } = answer(recorded);
    response.writeHead(status, { 'content-type': 'application/json', 'x-request-id': 'req-1', ...headers });
    response.end(body);
  });
  // verifyOAuth1 blocks this event loop on python: a short keep-alive would close the client's
  // pooled connection meanwhile (ECONNRESET on the next call on a loaded machine).
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${server.address().port}`;
});
after(() => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }));

const bearer = () => new MtlsClient({ baseUrl, auth: { bearer: 'token-abc' } });
const last = () => seen[seen.length - 1];

test('Bearer calls put the token in Authorization and encode the account id', async () => {
  const certificate = { id: 7, name: 'a', status: 'Available' };
  answer = () => ({ status: 200, body: JSON.stringify([certificate]) });
  assert.deepEqual(await bearer().listCertificates('acc/1'), [certificate]);
  assert.equal(last().method, 'GET');
  assert.equal(last().url, '/mtls/account/acc%2F1/certificates');
  assert.equal(last().headers.authorization, 'Bearer token-abc');

  answer = () => ({ status: 200, body: JSON.stringify(certificate) });
  assert.deepEqual(await bearer().getCertificate('acc', 7), certificate);
  assert.equal(last().url, '/mtls/account/acc/certificates/7');
  await assert.rejects(bearer().getCertificate('acc', -1), { code: 'invalid_argument' });
});

test('createCertificates sends p12 bytes as base64 JSON', async () => {
  const p12 = new Uint8Array([0x30, 0x82, 0x01, 0xff, 0x00]);
  answer = () => ({ status: 201, body: JSON.stringify({ successfulySavedCertificates: [], failedSaveToVaultCertificates: [] }) });
  await bearer().createCertificates('acc', [{ name: 'n', password: 'pw', p12 }, { name: 'm', password: 'pw', p12: 'MAA=' }]);
  assert.equal(last().method, 'POST');
  assert.equal(last().headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(last().body), [
    { name: 'n', password: 'pw', p12: Buffer.from(p12).toString('base64') },
    { name: 'm', password: 'pw', p12: 'MAA=' },
  ]);
});

test('uploadCertificate and replaceCertificateFile send multipart file and certificate JSON', async () => {
  const file = new Uint8Array([1, 2, 3, 250]);
  answer = () => ({ status: 201, body: JSON.stringify({ successfulySavedCertificates: [{ id: 1 }], failedSaveToVaultCertificates: [] }) });
  const saved = await bearer().uploadCertificate('acc', { file, name: 'client', password: 'pw', displayName: 'Client' });
  assert.deepEqual(saved.successfulySavedCertificates, [{ id: 1 }]);
  let form = await new Response(last().body, { headers: { 'content-type': last().headers['content-type'] } }).formData();
  assert.equal(last().method, 'POST');
  assert.equal(last().url, '/mtls/account/acc/certificates/by-file');
  assert.deepEqual([...new Uint8Array(await form.get('file').arrayBuffer())], [...file]);
  assert.deepEqual(JSON.parse(form.get('certificate')), { name: 'client', password: 'pw', displayName: 'Client' });

  await bearer().replaceCertificateFile('acc', { file, id: 1, password: 'pw2' });
  form = await new Response(last().body, { headers: { 'content-type': last().headers['content-type'] } }).formData();
  assert.equal(last().method, 'PUT');
  assert.deepEqual(JSON.parse(form.get('certificate')), { id: 1, password: 'pw2' });
});

test('errors reject with an MtlsError carrying the gateway error body', async () => {
  answer = () => ({
    status: 409,
    body: JSON.stringify({ error: { code: 'certificate_in_use', message: 'used by mappings', details: { mappings: [3] } }, requestId: 'req-9' }),
  });
  await assert.rejects(bearer().deleteCertificate('acc', 5), (error) => {
    assert.ok(error instanceof MtlsError);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'MtlsError');
    assert.deepEqual(
      { status: error.status, code: error.code, message: error.message, requestId: error.requestId, details: error.details },
      { status: 409, code: 'certificate_in_use', message: 'used by mappings', requestId: 'req-9', details: { mappings: [3] } },
    );
    return true;
  });
  assert.equal(last().method, 'DELETE');

  answer = () => ({ status: 502, body: 'bad gateway', headers: { 'content-type': 'text/plain' } });
  await assert.rejects(bearer().listMappings('acc'), { name: 'MtlsError', status: 502, code: 'http_502', requestId: 'req-1' });

  const closed = new MtlsClient({ baseUrl: 'http://127.0.0.1:9', auth: { bearer: 't' } });
  await assert.rejects(closed.listCertificates('acc'), { name: 'MtlsError', status: 0, code: 'network_error' });
});

test('testP12 resolves to the report on 200 and on 422', async () => {
  const report = { usable: false, problems: [{ code: 'wrong_password', message: 'x' }], warnings: [] };
  answer = () => ({ status: 422, body: JSON.stringify(report) });
  assert.deepEqual(await bearer().testP12('acc', new Uint8Array([1]), 'pw'), report);
  const form = await new Response(last().body, { headers: { 'content-type': last().headers['content-type'] } }).formData();
  assert.equal(last().url, '/mtls/account/acc/p12-test/multipart');
  assert.equal(form.get('password'), 'pw');
  answer = () => ({ status: 401, body: JSON.stringify({ error: { code: 'unauthenticated', message: 'm' }, requestId: 'r' }) });
  await assert.rejects(bearer().testP12('acc', new Uint8Array([1]), 'pw'), { status: 401, code: 'unauthenticated' });
});

test('mapping calls use the SPEC paths, v=3.0 and If-Match', async () => {
  answer = () => ({ status: 201, body: '[]' });
  await bearer().createMappings('acc', [{ certificationId: 1, serviceId: '0', url: 'https://x.example/', name: 'm', enable: true }]);
  assert.equal(last().url, '/api/account/acc/configuration/ac-common/mtls?v=3.0');
  answer = () => ({ status: 200, body: '{"id":4,"revision":3}' });
  await bearer().updateMapping('acc', 4, { enable: false }, { ifMatch: 2 });
  assert.equal(last().method, 'PUT');
  assert.equal(last().url, '/api/account/acc/configuration/ac-common/mtls/4');
  assert.equal(last().headers['if-match'], '2');
  answer = () => ({ status: 200, body: '' });
  assert.equal(await bearer().deleteMapping('acc', 4), undefined);
  assert.equal(last().headers['if-match'], undefined);
});

test('oAuth1 signatures verify with oauthlib, with and without token, SHA-1 and SHA-256', async () => {
  answer = () => ({ status: 200, body: '[]' });
  const clients = [
    // Secrets long and with '-' so that they cannot turn up by chance in a random nonce or a
    // base64 signature (a two-letter secret did, once in a few hundred runs).
    [{ consumerKey: 'ck', consumerSecret: 'consumer-secret-1', token: 'tk', tokenSecret: 'token-secret-1' }, 'consumer-secret-1', 'token-secret-1', 'HMAC-SHA1'],
    [{ consumerKey: 'ck2', consumerSecret: 'consumer secret/2' }, 'consumer secret/2', '', 'HMAC-SHA1'],
    [{ consumerKey: 'ck3', consumerSecret: 'consumer-secret-3', signatureMethod: 'HMAC-SHA256' }, 'consumer-secret-3', '', 'HMAC-SHA256'],
  ];
  for (const [oauth1, consumerSecret, tokenSecret, method] of clients) {
    const client = new MtlsClient({ baseUrl, auth: { oauth1 } });
    await client.checkMappingsV2([{ serviceName: 'IDP', accountId: 'acc', url: 'https://t.example/x' }]);
    const request = last();
    assert.equal(request.url, '/mtls/mapping?v=2');
    assert.match(request.headers.authorization, /^OAuth /);
    for (const secret of [consumerSecret, encodeURIComponent(consumerSecret), tokenSecret].filter(Boolean)) {
      assert.ok(!request.headers.authorization.includes(secret), `secret ${secret} not sent`);
    }
    const verdict = verifyOAuth1(request, consumerSecret, tokenSecret, method);
    assert.equal(verdict, 'valid', `${method} ${JSON.stringify(oauth1.consumerKey)}`);
    // A different secret must not verify: the check is real.
    assert.equal(verifyOAuth1(request, `${consumerSecret}x`, tokenSecret, method), 'invalid');
  }
});

test('forward sends LP-* headers and returns the target answer unchanged', async () => {
  answer = () => ({ status: 201, body: 'target body', headers: { 'content-type': 'text/plain', 'lp-certificate-id': '7', 'x-target': 'yes' } });
  const reply = await bearer().forward('acc', {
    url: 'https://target.example/hook?q=1',
    method: 'POST',
    serviceName: 'WEBHOOKS',
    headers: { 'X-Custom': 'v' },
    body: 'payload',
    authorizationOverride: 'Basic abc',
    stopIfCertificateNotFound: true,
  });
  assert.equal(reply.status, 201);
  assert.equal(new TextDecoder().decode(reply.body), 'target body');
  assert.equal(reply.certificateId, '7');
  assert.equal(reply.headers['x-target'], 'yes');
  const request = last();
  assert.equal(request.method, 'POST');
  assert.equal(request.url, '/mtls/account/acc');
  assert.equal(request.body.toString(), 'payload');
  assert.equal(request.headers['lp-forward-url'], 'https://target.example/hook?q=1');
  assert.equal(request.headers['lp-service-name'], 'WEBHOOKS');
  assert.equal(request.headers['lp-authorization-override'], 'Basic abc');
  assert.equal(request.headers['lp-stop-if-certificate-not-found'], 'true');
  assert.equal(request.headers['x-custom'], 'v');

  // A target's own 404 is an answer, not an error.
  answer = () => ({ status: 404, body: '{"error":"nope"}' });
  assert.equal((await bearer().forward('acc', { url: 'https://target.example/' })).status, 404);

  // The gateway's transport failure is an error.
  answer = () => ({
    status: 424,
    body: JSON.stringify({ error: { code: 'transport_error', message: 'the call to the target failed: connect refused' }, requestId: 'req-1' }),
    headers: { 'lp-error-from-transport': 'connect', 'lp-message-from-transport': 'target.example: refused' },
  });
  await assert.rejects(bearer().forward('acc', { url: 'https://target.example/' }), { name: 'MtlsError', status: 424, code: 'transport_error' });
});

test('bad constructor options throw invalid_argument', () => {
  for (const options of [undefined, {}, { baseUrl }, { baseUrl: 'ftp://x', auth: { bearer: 't' } },
    { baseUrl, auth: { bearer: 't', oauth1: { consumerKey: 'k', consumerSecret: 's' } } },
    { baseUrl, auth: { oauth1: { consumerKey: 'k', consumerSecret: 's', signatureMethod: 'PLAINTEXT' } } }]) {
    assert.throws(() => new MtlsClient(options), { code: 'invalid_argument' }, JSON.stringify(options));
  }
});

/** Verifies the recorded request's OAuth header with oauthlib; returns 'valid' or 'invalid'. */
function verifyOAuth1(request, consumerSecret, tokenSecret, method) {
  const script = `
import json, sys
from oauthlib.common import Request
from oauthlib.oauth1.rfc5849 import signature
r = json.load(sys.stdin)
req = Request(r["uri"], http_method=r["method"], body=None, headers={"Authorization": r["authorization"]})
req.signature = dict(signature.collect_parameters(headers=req.headers, exclude_oauth_signature=False))["oauth_signature"]
req.params = signature.collect_parameters(uri_query=req.uri_query, headers=req.headers, exclude_oauth_signature=True)
verify = signature.verify_hmac_sha1 if r["method_name"] == "HMAC-SHA1" else signature.verify_hmac_sha256
print("valid" if verify(req, r["consumer_secret"], r["token_secret"]) else "invalid")
`;
  const input = JSON.stringify({
    uri: `${baseUrl}${request.url}`,
    method: request.method,
    authorization: request.headers.authorization,
    consumer_secret: consumerSecret,
    token_secret: tokenSecret,
    method_name: method,
  });
  const run = spawnSync('python3', ['-c', script], { input, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`oauthlib check failed: ${run.stderr}`);
  return run.stdout.trim();
}

test('429 and 503 are retried after Retry-After, each attempt signed afresh', async () => {
  const client = new MtlsClient({ baseUrl, auth: { oauth1: { consumerKey: 'ck', consumerSecret: 'cs' } } });
  let calls = 0;
  answer = () => {
    calls += 1;
    if (calls === 1) return { status: 429, body: JSON.stringify({ error: { code: 'too_many_requests', message: 'slow down' }, requestId: 'req-1' }), headers: { 'retry-after': '0' } };
    if (calls === 2) return { status: 503, body: JSON.stringify({ error: { code: 'store_unavailable', message: 'later' }, requestId: 'req-1' }), headers: { 'retry-after': '0' } };
    return { status: 200, body: '[]' };
  };
  const before = seen.length;
  assert.deepEqual(await client.listMappings('acc'), []);
  const attempts = seen.slice(before);
  assert.equal(attempts.length, 3);
  const nonces = attempts.map((r) => /oauth_nonce="([^"]+)"/.exec(r.headers.authorization)[1]);
  assert.equal(new Set(nonces).size, 3, 'a nonce is never reused');

  // Out of retries: the error carries what the gateway asked for.
  answer = () => ({ status: 429, body: JSON.stringify({ error: { code: 'too_many_requests', message: 'slow down' }, requestId: 'req-7' }), headers: { 'retry-after': '0' } });
  const limited = new MtlsClient({ baseUrl, auth: { bearer: 't' }, retry: { maxRetries: 1 } });
  const count = seen.length;
  await assert.rejects(limited.listMappings('acc'), (error) => error instanceof MtlsError && error.status === 429
    && error.code === 'too_many_requests' && error.retryAfter === 0 && error.requestId === 'req-7');
  assert.equal(seen.length - count, 2);

  // Switched off: one attempt.
  const once = new MtlsClient({ baseUrl, auth: { bearer: 't' }, retry: false });
  const count2 = seen.length;
  await assert.rejects(once.listMappings('acc'), { status: 429 });
  assert.equal(seen.length - count2, 1);

  // A wait longer than maxDelayMs is not waited for (nor is an HTTP-date far ahead).
  for (const retryAfter of ['120', new Date(Date.now() + 3_600_000).toUTCString()]) {
    answer = () => ({ status: 503, body: '{}', headers: { 'retry-after': retryAfter } });
    const count3 = seen.length;
    await assert.rejects(bearer().listMappings('acc'), (error) => error.status === 503 && error.retryAfter >= 120);
    assert.equal(seen.length - count3, 1);
  }
});

test("forward retries the gateway's 429 but returns a target's 503 unchanged", async () => {
  let calls = 0;
  answer = () => {
    calls += 1;
    return calls === 1
      ? { status: 429, body: JSON.stringify({ error: { code: 'too_many_requests', message: 'm' }, requestId: 'req-1' }), headers: { 'retry-after': '0' } }
      : { status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } };
  };
  assert.equal((await bearer().forward('acc', { url: 'https://t.example/' })).status, 200);
  assert.equal(calls, 2);
  calls = 0;
  answer = () => {
    calls += 1;
    return { status: 503, body: 'target busy', headers: { 'content-type': 'text/plain', 'retry-after': '0' } };
  };
  const reply = await bearer().forward('acc', { url: 'https://t.example/' });
  assert.equal(reply.status, 503);
  assert.equal(calls, 1);
});

test('files are accepted as Uint8Array, Buffer, ArrayBuffer, typed views, Blob, File and base64', async () => {
  const bytes = new Uint8Array([0x30, 0x82, 0x00, 0xff, 0x10]);
  answer = () => ({ status: 201, body: JSON.stringify({ successfulySavedCertificates: [], failedSaveToVaultCertificates: [] }) });
  const inputs = [bytes, Buffer.from(bytes), bytes.buffer.slice(0), new DataView(bytes.buffer.slice(0)), new Blob([bytes]),
    new File([bytes], 'x.p12'), Buffer.from(bytes).toString('base64'), ` ${Buffer.from(bytes).toString('base64').replace(/=+$/, '')}\n`];
  for (const file of inputs) {
    await bearer().uploadCertificate('acc', { file, name: 'n', password: 'pw' });
    const form = await new Response(last().body, { headers: { 'content-type': last().headers['content-type'] } }).formData();
    assert.deepEqual([...new Uint8Array(await form.get('file').arrayBuffer())], [...bytes], String(file?.constructor?.name));
    await bearer().createCertificates('acc', [{ name: 'n', password: 'pw', p12: file }]);
    const [sent] = JSON.parse(last().body);
    if (typeof file === 'string') assert.equal(sent.p12, file); // base64 goes as it came
    else assert.equal(sent.p12, Buffer.from(bytes).toString('base64'));
  }
  const count = seen.length;
  for (const file of ['not base64!', 42, { length: 1 }, null]) {
    await assert.rejects(bearer().uploadCertificate('acc', { file, name: 'n', password: 'pw' }),
      (error) => error instanceof MtlsError && error.code === 'invalid_argument' && error.status === 0 && /upload\.file/.test(error.message));
  }
  await assert.rejects(bearer().testP12('acc', 'a=b=', 'pw'), { code: 'invalid_argument' });
  assert.equal(seen.length, count, 'nothing sent for a bad argument');
});

test('unknown option values are errors naming the allowed values', async () => {
  const count = seen.length;
  await assert.rejects(bearer().createCertificateRequest('acc', { name: 'n', subject: { commonName: 'c' }, keyType: 'rsa2048' }),
    (error) => error.code === 'invalid_argument' && error.message.includes('"RSA-2048"') && error.message.includes('"P-384"') && error.message.includes('"rsa2048"'));
  await assert.rejects(bearer().forward('acc', { url: 'https://t.example/', method: 'FETCH' }),
    (error) => error.code === 'invalid_argument' && error.message.includes('"PATCH"'));
  assert.throws(() => new MtlsClient({ baseUrl, auth: { oauth1: { consumerKey: 'k', consumerSecret: 's', signatureMethod: 'hmac-sha1' } } }),
    (error) => error instanceof MtlsError && error.message.includes('"HMAC-SHA256"'));
  assert.throws(() => new MtlsClient({ baseUrl, auth: { bearer: 't' }, retry: { maxRetries: -1 } }), { code: 'invalid_argument' });
  assert.equal(seen.length, count);
});

test('lifecycle methods (SPEC 12) send the SPEC requests', async () => {
  const client = bearer();
  const call = async (run, reply = {}) => {
    answer = () => ({ status: 200, body: JSON.stringify(reply) });
    const result = await run();
    const request = last();
    const type = request.headers['content-type'] ?? '';
    const body = type.startsWith('application/json') ? JSON.parse(request.body)
      : type.startsWith('multipart/') ? await new Response(request.body, { headers: { 'content-type': type } }).formData() : undefined;
    return { method: request.method, url: request.url, body, result };
  };
  let sent = await call(() => client.createCertificateRequest('acc', { name: 'r', subject: { commonName: 'c.example' }, subjectAltNames: ['c.example'], keyType: 'P-256' }), { id: 3 });
  assert.deepEqual([sent.method, sent.url, sent.body.keyType, sent.result.id], ['POST', '/mtls/account/acc/certificate-requests', 'P-256', 3]);
  sent = await call(() => client.listCertificateRequests('acc'), []);
  assert.deepEqual([sent.method, sent.url], ['GET', '/mtls/account/acc/certificate-requests']);
  sent = await call(() => client.getCertificateRequest('acc', 3));
  assert.deepEqual([sent.method, sent.url], ['GET', '/mtls/account/acc/certificate-requests/3']);
  sent = await call(() => client.deleteCertificateRequest('acc', '3'));
  assert.deepEqual([sent.method, sent.url], ['DELETE', '/mtls/account/acc/certificate-requests/3']);
  sent = await call(() => client.completeCertificateRequest('acc', 3, { certificatePem: '-----BEGIN CERTIFICATE-----', replaceCertificateId: 9 }));
  assert.deepEqual([sent.method, sent.url, sent.body], ['POST', '/mtls/account/acc/certificate-requests/3/certificate', { certificatePem: '-----BEGIN CERTIFICATE-----', replaceCertificateId: 9 }]);
  sent = await call(() => client.completeCertificateRequest('acc', 3, { file: new TextEncoder().encode('PEM'), replaceCertificateId: 9 }));
  assert.equal(await sent.body.get('file').text(), 'PEM');
  assert.equal(sent.body.get('replaceCertificateId'), '9');

  sent = await call(() => client.listCertificates('acc', { expiringWithinDays: 30 }), []);
  assert.equal(sent.url, '/mtls/account/acc/certificates?expiringWithinDays=30');
  await assert.rejects(client.listCertificates('acc', { expiringWithinDays: -1 }), { code: 'invalid_argument' });
  const activateAt = new Date('2030-01-02T03:04:05Z');
  sent = await call(() => client.updateCertificate('acc', 4, { p12: new Uint8Array([1]), password: 'pw', activateAt }));
  assert.deepEqual(sent.body, { p12: 'AQ==', password: 'pw', activateAt: '2030-01-02T03:04:05.000Z' });
  sent = await call(() => client.replaceCertificateFile('acc', { file: new Uint8Array([1]), id: 4, password: 'pw', activateAt: '2030-01-02T03:04:05Z' }));
  assert.deepEqual(JSON.parse(sent.body.get('certificate')), { id: 4, password: 'pw', activateAt: '2030-01-02T03:04:05Z' });
  sent = await call(() => client.cancelPendingCertificate('acc', 4));
  assert.deepEqual([sent.method, sent.url], ['DELETE', '/mtls/account/acc/certificates/4/pending']);

  sent = await call(() => client.probe('acc', { url: 'https://t.example/', serviceName: 'IDP' }), { ok: true });
  assert.deepEqual([sent.method, sent.url, sent.body, sent.result.ok], ['POST', '/mtls/account/acc/probe', { url: 'https://t.example/', serviceName: 'IDP' }, true]);
  sent = await call(() => client.listAudit('acc', { since: activateAt, limit: 5, cursor: 'c/1' }), { records: [] });
  assert.equal(sent.url, '/mtls/account/acc/audit?since=2030-01-02T03%3A04%3A05.000Z&limit=5&cursor=c%2F1');
  sent = await call(() => client.listAllAudit());
  assert.equal(sent.url, '/admin/audit');
  sent = await call(() => client.listServices(), []);
  assert.equal(sent.url, '/mtls/services');
  sent = await call(() => client.createAppKey({ name: 'k', accounts: ['*'] }));
  assert.deepEqual([sent.method, sent.url], ['POST', '/admin/app-keys']);
  sent = await call(() => client.issueToken({ sub: 's', accounts: ['a'], ttlSeconds: 60 }));
  assert.deepEqual([sent.method, sent.url], ['POST', '/admin/tokens']);
  sent = await call(() => client.deleteAppKey('k/1'));
  assert.deepEqual([sent.method, sent.url], ['DELETE', '/admin/app-keys/k%2F1']);
});

test('named and default exports, one instance for require and import, client alone', async () => {
  const esm = await import('mtls-sdk');
  const cjs = require('mtls-sdk');
  assert.equal(esm.default.MtlsClient, MtlsClient);
  assert.equal(esm.default.inspectP12, esm.inspectP12);
  assert.equal(cjs.MtlsError, MtlsError);
  assert.equal(cjs.default.MtlsClient, MtlsClient);
  const alone = await import('mtls-sdk/client');
  assert.equal(alone.MtlsClient, MtlsClient);
  assert.equal(alone.default.MtlsError, MtlsError);
  assert.equal(require('mtls-sdk/client').MtlsClient, MtlsClient);
  assert.equal(typeof MtlsClient.prototype.free, 'undefined', 'nothing to free: the client holds no WebAssembly memory');
});

test('the build generates the API reference from the types', async () => {
  const { pkgDir } = await import('./helpers.mjs');
  const fs = await import('node:fs');
  const path = await import('node:path');
  const page = fs.readFileSync(path.join(pkgDir, 'api-reference', 'classes', 'MtlsClient.html'), 'utf8');
  for (const method of Object.getOwnPropertyNames(MtlsClient.prototype).filter((name) => name !== 'constructor')) {
    assert.ok(page.includes(`>${method}<`), `${method} is in the API reference`);
  }
  assert.ok(page.includes('Bearer only'), 'with the doc comments');
});
