// generateCsr and buildP12 from the npm package in headless Chromium: keys and CSR signatures come
// from the page's WebCrypto (`crypto.subtle.generateKey` and `sign` are observed being called,
// and without `crypto.subtle` generateCsr refuses with `webcrypto_unavailable`), the CSRs verify with
// `openssl req -verify`, a test CA signs them, and the P12 built in the page opens in OpenSSL 3
// and is usable by inspectP12.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { makeTestCa, opensslOk, opensslP12Info } from '../node/csr-helpers.mjs';
import { linkPackage, pkgDir } from '../node/helpers.mjs';
import { launchChromium, openPage } from './chromium.mjs';
import { startStaticServer } from './static-server.mjs';

linkPackage();
const sdk = await import('mtls-sdk');
const manifest = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const browserEntry = manifest.exports['.'].browser.default;
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>mtls-sdk CSR test</title>
<script type="importmap">{ "imports": { "mtls-sdk": "/pkg/${browserEntry.replace(/^\.\//, '')}" } }</script>
<script type="module">
  // Count WebCrypto key generations, to prove the keys come from the browser's WebCrypto.
  const generateKey = crypto.subtle.generateKey.bind(crypto.subtle);
  window.generateKeyCalls = [];
  crypto.subtle.generateKey = (algorithm, ...rest) => {
    window.generateKeyCalls.push(algorithm.name + ' ' + (algorithm.namedCurve ?? algorithm.modulusLength));
    return generateKey(algorithm, ...rest);
  };
  // And signatures: the CSR is signed by WebCrypto too, not in WebAssembly.
  const sign = crypto.subtle.sign.bind(crypto.subtle);
  window.signCalls = [];
  crypto.subtle.sign = (algorithm, key, data) => {
    window.signCalls.push(algorithm.name + ' ' + (algorithm.hash ?? key.algorithm.hash.name));
    return sign(algorithm, key, data);
  };
  import * as sdk from 'mtls-sdk';
  window.sdk = sdk;
</script></head><body></body></html>`;

const PASSWORD = 'browser P12 pass';
let server;
let browser;
let ca;
before(async () => {
  ca = makeTestCa();
  server = await startStaticServer({ mounts: { '/pkg/': pkgDir }, pages: { '/': PAGE, '/favicon.ico': '' } });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.close();
  ca?.cleanup();
});

test('generateCsr in Chromium uses WebCrypto, and its CSR and key make a usable P12', async () => {
  const { page, problems } = await openPage(browser, `${server.url}/`);
  await page.waitForFunction(() => window.sdk !== undefined, null, { timeout: 30_000 });
  const cases = [
    ['P-256', 'ECDSA P-256', 'ECDSA SHA-256'],
    ['P-384', 'ECDSA P-384', 'ECDSA SHA-384'],
    ['RSA-2048', 'RSASSA-PKCS1-v1_5 2048', 'RSASSA-PKCS1-v1_5 SHA-256'],
    ['RSA-3072', 'RSASSA-PKCS1-v1_5 3072', 'RSASSA-PKCS1-v1_5 SHA-256'],
    ['RSA-4096', 'RSASSA-PKCS1-v1_5 4096', 'RSASSA-PKCS1-v1_5 SHA-256'],
  ];
  for (const [keyType, webCryptoCall, signCall] of cases) {
    const generated = await page.evaluate(async (keyType) => {
      window.generateKeyCalls.length = 0;
      window.signCalls.length = 0;
      const result = await window.sdk.generateCsr({
        subject: { commonName: `browser-${keyType}`, organization: 'Brand' },
        subjectAltNames: ['browser.example.com'],
        keyType,
      });
      return { ...result, calls: [...window.generateKeyCalls], signCalls: [...window.signCalls] };
    }, keyType);
    assert.deepEqual(generated.calls, [webCryptoCall], `${keyType}: WebCrypto generateKey calls`);
    assert.deepEqual(generated.signCalls, [signCall], `${keyType}: WebCrypto sign calls`);
    const text = ca.verifyCsr(generated.csrPem, `browser-${keyType}`);
    const expectedKey = keyType.startsWith('RSA') ? `Public-Key: (${keyType.slice(4)} bit)` : `NIST CURVE: ${keyType}`;
    assert.ok(text.includes(expectedKey), `${keyType}: ${text}`);
    assert.ok(text.includes('TLS Web Client Authentication'), text);
    assert.ok(text.includes('DNS:browser.example.com'), text);

    const leaf = ca.sign(generated.csrPem, `browser-${keyType}`);
    const bytes = await page.evaluate(async ({ privateKeyPem, certificatePem, password }) => {
      return [...(await window.sdk.buildP12({ privateKeyPem, certificatePem, password, profile: 'legacy' }))];
    }, { privateKeyPem: generated.privateKeyPem, certificatePem: ca.intermediatePem + leaf, password: PASSWORD });
    const p12 = new Uint8Array(bytes);
    const info = opensslP12Info(ca.write(`browser-${keyType}.p12`, p12), PASSWORD);
    assert.ok(info.includes('pbeWithSHA1And3-KeyTripleDES-CBC'), info);
    const report = sdk.inspectP12(p12, PASSWORD);
    assert.equal(report.usable, true, JSON.stringify(report.problems));
  }

  const code = await page.evaluate(async () => {
    try {
      await window.sdk.generateCsr({ subject: { commonName: 'a', country: 'Germany' } });
      return null;
    } catch (error) {
      return error.code;
    }
  });
  assert.equal(code, 'invalid_subject');

  // Keys whose public key the csr module cannot see (no curve arithmetic in it): WebCrypto derives
  // it for buildP12; when WebCrypto refuses, buildP12 rejects with public_key_unavailable.
  for (const [name, keyPem] of [['ed25519', opensslOk(['genpkey', '-algorithm', 'ed25519'])],
    ['ec-no-public', opensslOk(['ec', '-in', ca.write('browser-ec.key', opensslOk(['ecparam', '-genkey', '-noout', '-name', 'prime256v1'])), '-no_public'])]]) {
    const leaf = ca.sign(opensslOk(['req', '-new', '-key', ca.write(`browser-${name}.key`, keyPem), '-subj', `/CN=browser-${name}`]), `browser-${name}`);
    const built = await page.evaluate(async ({ privateKeyPem, certificatePem, password }) => {
      const bytes = [...(await window.sdk.buildP12({ privateKeyPem, certificatePem, password }))];
      const importKey = crypto.subtle.importKey;
      crypto.subtle.importKey = () => Promise.reject(new Error('refused by the test'));
      try {
        await window.sdk.buildP12({ privateKeyPem, certificatePem, password });
        return { bytes, refused: null };
      } catch (error) {
        return { bytes, refused: error.code };
      } finally {
        crypto.subtle.importKey = importKey;
      }
    }, { privateKeyPem: keyPem, certificatePem: leaf, password: PASSWORD });
    const info = opensslP12Info(ca.write(`browser-${name}.p12`, new Uint8Array(built.bytes)), PASSWORD);
    assert.match(info, new RegExp(`subject=CN ?= ?browser-${name}\\n`));
    assert.equal(built.refused, 'public_key_unavailable', name);
  }

  // A page outside a secure context has `crypto` without `subtle`.
  const unavailable = await page.evaluate(async () => {
    Object.defineProperty(crypto, 'subtle', { value: undefined, configurable: true });
    try {
      await window.sdk.generateCsr({ subject: { commonName: 'no-webcrypto' } });
      return null;
    } catch (error) {
      return { code: error.code, isMtlsError: error instanceof window.sdk.MtlsError };
    } finally {
      delete crypto.subtle;
    }
  });
  assert.deepEqual(unavailable, { code: 'webcrypto_unavailable', isMtlsError: true });
  assert.deepEqual(problems, []);
});
