// `MtlsClient` in headless Chromium, loaded alone from the gateway (`/pkg/client/index.js`, no
// WebAssembly): its WebCrypto oAuth1 signer gives the Rust signer's bytes on the shared vectors,
// and a client in the page signs calls the real gateway accepts (oAuth1-only checks) and reads
// certificates with a Bearer token.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { linkPackage } from '../node/helpers.mjs';
import { rustSignatures, vectors } from '../node/oauth1-vectors.mjs';
import { launchChromium, openPage } from './chromium.mjs';
import { startGateway } from './gateway.mjs';

const ACCOUNT = 'browser-client-1';
let server;
let browser;
let expected;
before(async () => {
  linkPackage(); // fails early with a clear message when pkg/ is not built
  // Before the gateway starts: building the signer blocks this process's event loop.
  expected = rustSignatures();
  server = await startGateway();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the client alone signs like the Rust signer and talks to the gateway from a page', async () => {
  const auth = await server.credentials('browser-client', [ACCOUNT]);
  // A page of the gateway's origin that loads nothing itself.
  const { page, problems } = await openPage(browser, 'about:blank');
  const requested = [];
  page.on('request', (request) => requested.push(new URL(request.url()).pathname));
  // A JSON page has no icon link: Chromium would ask the gateway for /favicon.ico (404).
  await page.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }));
  await page.goto(`${server.url}/healthz`);

  const result = await page.evaluate(async ({ vectors, auth, account }) => {
    const { MtlsClient, MtlsError, oauth1Authorization } = await import('/pkg/client/index.js');
    const signatures = await Promise.all(vectors.map((v) => oauth1Authorization({
      method: v.method, url: v.url, formParameters: v.form, nonce: v.nonce, timestamp: v.timestamp,
      credentials: { consumerKey: v.consumerKey, consumerSecret: v.consumerSecret, token: v.token, tokenSecret: v.tokenSecret, signatureMethod: v.signatureMethod },
    })));
    const oauth1 = new MtlsClient({ baseUrl: location.origin, auth: auth.oauth1 });
    const checks = await oauth1.checkMappingsV2([{ serviceName: 'IDP', accountId: account, url: 'https://hooks.example.com/x' }]);
    const bearer = new MtlsClient({ baseUrl: location.origin, auth: auth.bearer });
    const certificates = await bearer.listCertificates(account);
    let refused = null;
    try {
      await bearer.listCertificates('someone-else');
    } catch (error) {
      refused = { isMtlsError: error instanceof MtlsError, status: error.status, code: error.code, requestId: typeof error.requestId };
    }
    return { signatures, checks, certificates, refused, hasGetBuiltinModule: typeof globalThis.process };
  }, { vectors, auth, account: ACCOUNT });

  assert.equal(result.hasGetBuiltinModule, 'undefined', 'a browser: WebCrypto signs');
  assert.deepEqual(result.signatures, expected);
  assert.deepEqual(result.checks.map((c) => c.doExist), [false]);
  assert.deepEqual(result.certificates, []);
  assert.deepEqual(result.refused, { isMtlsError: true, status: 403, code: 'forbidden', requestId: 'string' });
  assert.ok(!requested.some((p) => p.endsWith('.wasm')), 'the client loads no WebAssembly');
  assert.ok(requested.includes('/pkg/client/index.js'));
  assert.deepEqual(problems.filter((p) => !p.includes('403')), []);
});
