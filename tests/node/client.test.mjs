// `MtlsClient` of the npm package in Node: each method sends the request SPEC section 5 defines
// (method, path, headers, JSON or multipart body), resolves to the parsed answer, and rejects
// with an `MtlsError` carrying the gateway's status, code, message and requestId. The oAuth1
// signature is verified by an independent implementation (Python oauthlib).
//
// The gateway side is a recorder on 127.0.0.1 that answers what each test scripts: it checks the
// client's wire behaviour (what SPEC section 5 fixes) in isolation from the server's own logic.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { after, before, test } from 'node:test';

import { linkPackage } from './helpers.mjs';

linkPackage();
const { MtlsClient } = await import('mtls-sdk');

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
    [{ consumerKey: 'ck', consumerSecret: 'cs', token: 'tk', tokenSecret: 'ts' }, 'cs', 'ts', 'HMAC-SHA1'],
    [{ consumerKey: 'ck2', consumerSecret: 'c s/2' }, 'c s/2', '', 'HMAC-SHA1'],
    [{ consumerKey: 'ck3', consumerSecret: 'cs3', signatureMethod: 'HMAC-SHA256' }, 'cs3', '', 'HMAC-SHA256'],
  ];
  for (const [oauth1, consumerSecret, tokenSecret, method] of clients) {
    const client = new MtlsClient({ baseUrl, auth: { oauth1 } });
    await client.checkMappingsV2([{ serviceName: 'IDP', accountId: 'acc', url: 'https://t.example/x' }]);
    const request = last();
    assert.equal(request.url, '/mtls/mapping?v=2');
    assert.match(request.headers.authorization, /^OAuth /);
    assert.ok(!request.headers.authorization.includes(consumerSecret), 'secret not sent');
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
    body: JSON.stringify({ error: { code: 'target_unreachable', message: 'connect refused' }, requestId: 'req-1' }),
    headers: { 'lp-error-from-transport': 'connect', 'lp-message-from-transport': 'target.example: refused' },
  });
  await assert.rejects(bearer().forward('acc', { url: 'https://target.example/' }), { name: 'MtlsError', status: 424, code: 'target_unreachable' });
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
