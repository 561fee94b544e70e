// `MtlsClient` against the real gateway at its default rate limit (10 requests per second per
// address, burst 10): a 25-call script that fails without retries succeeds with the client's
// default retries, which wait for the gateway's `Retry-After`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { startGateway } from '../browser/gateway.mjs';
import { linkPackage } from './helpers.mjs';

linkPackage();
const { MtlsClient, MtlsError } = await import('mtls-sdk');

let gateway;
let auth;
const ACCOUNT = 'throttled-1';

before(async () => {
  gateway = await startGateway({ MTLS_RATE_LIMIT_PER_SECOND: '10', MTLS_RATE_LIMIT_BURST: '10' });
  auth = (await gateway.credentials('throttle-test', [ACCOUNT])).bearer;
});
after(async () => {
  await gateway?.stop();
});

/** 25 calls at once, as a script firing requests in a loop would. */
const script = (client) => Promise.allSettled(Array.from({ length: 25 }, () => client.listCertificates(ACCOUNT)));

test('without retries the limit refuses calls with 429 and Retry-After', async () => {
  const results = await script(new MtlsClient({ baseUrl: gateway.url, auth, retry: false }));
  const refused = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  assert.ok(refused.length > 0, 'the gateway throttles 25 calls at once');
  for (const error of refused) {
    assert.ok(error instanceof MtlsError);
    assert.equal(error.status, 429);
    assert.equal(error.code, 'too_many_requests');
    assert.ok(error.retryAfter >= 1, `retryAfter ${error.retryAfter}`);
    assert.equal(typeof error.requestId, 'string');
  }
});

test('with the default retries the same 25-call script succeeds', async () => {
  const results = await script(new MtlsClient({ baseUrl: gateway.url, auth }));
  const failed = results.filter((r) => r.status === 'rejected').map((r) => `${r.reason.status} ${r.reason.code}`);
  assert.deepEqual(failed, []);
  assert.ok(results.every((r) => Array.isArray(r.value)));
});
