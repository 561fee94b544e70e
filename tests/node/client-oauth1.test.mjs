// The client's oAuth1 signer (TypeScript) against the SDK's Rust signer (`oauth1_authorization`,
// run through sdk/examples/oauth1_sign.rs) on shared vectors: the `Authorization` values must be
// byte-identical, through `node:crypto` (Node's path) and through WebCrypto (browsers' path).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { linkPackage } from './helpers.mjs';
import { rustSignatures, vectors } from './oauth1-vectors.mjs';

linkPackage();
const { oauth1Authorization } = await import('mtls-sdk/client');

const sign = (vector) => oauth1Authorization({
  method: vector.method,
  url: vector.url,
  formParameters: vector.form,
  credentials: { consumerKey: vector.consumerKey, consumerSecret: vector.consumerSecret, token: vector.token, tokenSecret: vector.tokenSecret, signatureMethod: vector.signatureMethod },
  nonce: vector.nonce,
  timestamp: vector.timestamp,
});

test('Authorization values equal the Rust signer on shared vectors, node:crypto and WebCrypto', async () => {
  const expected = rustSignatures();
  assert.equal(expected.length, vectors.length);

  const viaNode = await Promise.all(vectors.map(sign));
  assert.deepEqual(viaNode, expected);

  // The browser path: without `process.getBuiltinModule` the signer uses WebCrypto.
  const getBuiltinModule = process.getBuiltinModule;
  process.getBuiltinModule = undefined;
  try {
    assert.deepEqual(await Promise.all(vectors.map(sign)), expected);
  } finally {
    process.getBuiltinModule = getBuiltinModule;
  }
});
