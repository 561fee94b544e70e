// `import { inspectP12 } from 'mtls-sdk'` in Node: the WebAssembly build returns exactly the
// native report (sdk/examples/inspect.rs) on P12 files made by openssl now, and the verdicts
// SPEC section 2 requires.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { linkPackage, makeFixtures, nativeReport, nowUnix } from './helpers.mjs';

linkPackage();
const sdk = await import('mtls-sdk');
const fixtures = makeFixtures();
after(() => fs.rmSync(fixtures.dir, { recursive: true, force: true }));

describe('inspectP12 through import equals the native report', () => {
  for (const c of fixtures.cases) {
    test(c.name, () => {
      const options = { now: new Date(c.nowUnix * 1000) };
      if (c.maxIterations !== undefined) options.maxIterations = c.maxIterations;
      const wasm = sdk.inspectP12(new Uint8Array(fs.readFileSync(c.file)), c.password, options);
      const native = nativeReport(c.file, c.password, c.nowUnix, c.maxIterations);

      assert.deepStrictEqual(wasm, native);
      assert.equal(wasm.usable, c.usable, JSON.stringify(wasm.problems));
      assert.equal(wasm.usable, wasm.problems.length === 0);
      if (c.problem) {
        assert.ok(wasm.problems.some((p) => p.code === c.problem),
          `expected problem ${c.problem}, got ${JSON.stringify(wasm.problems)}`);
      }
    });
  }
});

test('a usable report carries certificate, key and container facts', () => {
  const chain = fixtures.cases.find((c) => c.name.startsWith('EC P-384 leaf'));
  const report = sdk.inspectP12(new Uint8Array(fs.readFileSync(chain.file)), chain.password);
  assert.equal(report.usable, true, JSON.stringify(report.problems));
  assert.match(report.certificate.subject, /CN=leaf/);
  assert.ok(report.certificate.extendedKeyUsage.includes('clientAuth'));
  assert.ok(report.certificate.subjectAltNames.includes('DNS:client.example'));
  assert.equal(report.chain.length, 1);
  assert.match(report.chain[0].subject, /CN=Test CA/);
  assert.deepEqual({ algorithm: report.key.algorithm, curve: report.key.curve }, { algorithm: 'EC', curve: 'P-384' });
  assert.ok(report.container.macIterations >= 1);
});

test('EC and Ed25519 public keys come from Node\'s crypto; a key it refuses is public_key_unavailable', () => {
  const refuse = () => {
    throw new Error('refused by the test');
  };
  for (const [name, key] of [['EC P-256 by keytool (no public key in the key)', 'EC P-256'], ['Ed25519', 'Ed25519']]) {
    const c = fixtures.cases.find((x) => x.name === name);
    const bytes = new Uint8Array(fs.readFileSync(c.file));
    const original = crypto.createPublicKey;
    crypto.createPublicKey = refuse;
    try {
      assert.throws(() => sdk.inspectP12(bytes, c.password), (error) => {
        assert.ok(error instanceof sdk.MtlsError, String(error));
        assert.equal(error.code, 'public_key_unavailable');
        assert.equal(error.status, 0);
        assert.match(error.message, new RegExp(`the ${key} private key`));
        return true;
      });
    } finally {
      crypto.createPublicKey = original;
    }
    // The same file, Node's crypto back: usable.
    assert.equal(sdk.inspectP12(bytes, c.password, { now: new Date(c.nowUnix * 1000) }).usable, true, name);
  }
});

test('now defaults to the current time', () => {
  const c = fixtures.cases[0];
  const bytes = new Uint8Array(fs.readFileSync(c.file));
  const before = nowUnix();
  const report = sdk.inspectP12(bytes, c.password);
  // Equal to the native report at the current second (or the next, if the clock ticked).
  const candidates = [before, nowUnix()].map((now) => nativeReport(c.file, c.password, now));
  assert.ok(candidates.some((native) => JSON.stringify(native) === JSON.stringify(report)), JSON.stringify(report));
  assert.equal(report.usable, true, JSON.stringify(report.problems));
  assert.deepStrictEqual(sdk.inspectP12(bytes, c.password, {}), sdk.inspectP12(bytes, c.password, undefined));
});

describe('bad arguments throw an Error with a snake_case code', () => {
  const bytes = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x03]);
  const cases = [
    // A string is base64 (the package's byte conversion).
    ['p12 is a string that is not base64', () => sdk.inspectP12('not base64!', 'pw'), /`p12`/],
    ['p12 is a plain array', () => sdk.inspectP12([48, 3], 'pw'), /`p12`/],
    ['password is missing', () => sdk.inspectP12(bytes), /`password`/],
    ['password is a number', () => sdk.inspectP12(bytes, 1234), /`password`/],
    ['options is a number', () => sdk.inspectP12(bytes, 'pw', 5), /`options`/],
    ['now is a string', () => sdk.inspectP12(bytes, 'pw', { now: '2026-01-01' }), /`options.now`/],
    ['now is an invalid Date', () => sdk.inspectP12(bytes, 'pw', { now: new Date('nope') }), /`options.now`/],
    ['maxIterations is fractional', () => sdk.inspectP12(bytes, 'pw', { maxIterations: 1.5 }), /`options.maxIterations`/],
    ['maxIterations is zero', () => sdk.inspectP12(bytes, 'pw', { maxIterations: 0 }), /`options.maxIterations`/],
  ];
  for (const [name, call, message] of cases) {
    test(name, () => {
      assert.throws(call, (error) => {
        // One error class for the whole package: byte conversion and WebAssembly alike.
        assert.ok(error instanceof sdk.MtlsError, `${error.name}: ${error.message}`);
        assert.equal(error.status, 0);
        assert.equal(error.code, 'invalid_argument');
        assert.equal(error.name, 'MtlsError');
        assert.match(error.message, message);
        return true;
      });
    });
  }

  test('the password never appears in an error message', () => {
    const secret = 'hunter2-secret';
    assert.throws(() => sdk.inspectP12('x', secret), (error) => !error.message.includes(secret));
  });
});
