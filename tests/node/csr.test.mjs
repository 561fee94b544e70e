// generateCsr → openssl test CA → buildP12 → OpenSSL 3, the JDK and inspectP12, from the npm
// package in Node (keys from Node's WebCrypto), for every key type and both profiles; and the
// errors of bad inputs.
import assert from 'node:assert/strict';
import nodeCrypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { makeTestCa, opensslOk, opensslP12Info, jdkVerdicts } from './csr-helpers.mjs';
import { linkPackage } from './helpers.mjs';

linkPackage();
const sdk = await import('mtls-sdk');
const PASSWORD = 'node P12 pass';
const KEY_PASSPHRASE = 'key secret';
const WRONG_PASSPHRASE = 'not the key passphrase';
const KEY_TYPES = ['P-256', 'P-384', 'RSA-2048', 'RSA-3072', 'RSA-4096'];

let ca;
before(() => {
  ca = makeTestCa();
});
after(() => ca?.cleanup());

function request(keyType) {
  return {
    subject: {
      commonName: `node-${keyType.toLowerCase()}.example.com`,
      organization: 'Brand',
      country: 'us',
      email: 'ops@example.com',
    },
    subjectAltNames: ['node.example.com', '198.51.100.7', 'URI:https://brand.example/id'],
    keyType,
  };
}

async function thrownCode(action) {
  try {
    await action();
  } catch (error) {
    // One error class for the whole package, WebAssembly errors included: status 0, a code.
    assert.ok(error instanceof sdk.MtlsError, `${error.name}: ${error.message}`);
    assert.equal(error.name, 'MtlsError');
    assert.equal(error.status, 0);
    for (const secret of [PASSWORD, KEY_PASSPHRASE, WRONG_PASSPHRASE, 'PRIVATE KEY-----\n']) {
      assert.ok(!error.message.includes(secret), `message leaks a secret: ${error.message}`);
    }
    return error.code;
  }
  assert.fail('expected an error');
}

describe('round trip from the npm package', () => {
  test('every key type and profile goes from generateCsr to a P12 that OpenSSL, the JDK and inspectP12 accept', async () => {
    const files = [];
    for (const keyType of KEY_TYPES) {
      const { csrPem, privateKeyPem } = await sdk.generateCsr(request(keyType));
      assert.match(csrPem, /^-----BEGIN CERTIFICATE REQUEST-----\n/);
      assert.match(privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
      const text = ca.verifyCsr(csrPem, keyType);
      for (const expected of ['TLS Web Client Authentication', 'Digital Signature',
        'DNS:node.example.com', 'IP Address:198.51.100.7', 'URI:https://brand.example/id', 'C = US']) {
        assert.ok(text.includes(expected), `${keyType} CSR lacks ${expected}`);
      }
      const expectedKey = keyType.startsWith('RSA') ? `Public-Key: (${keyType.slice(4)} bit)` : `NIST CURVE: ${keyType}`;
      assert.ok(text.includes(expectedKey), `${keyType} CSR key: ${text}`);

      const leaf = ca.sign(csrPem, keyType);
      for (const profile of ['modern', 'legacy']) {
        // Chain out of order: the builder puts the leaf first and each issuer after it.
        const p12 = sdk.buildP12({
          privateKeyPem,
          certificatePem: ca.rootPem + leaf + ca.intermediatePem,
          password: PASSWORD,
          profile,
        });
        assert.ok(p12 instanceof Uint8Array);
        const file = ca.write(`${keyType}-${profile}.p12`, p12);
        files.push(file);

        const info = opensslP12Info(file, PASSWORD);
        assert.ok(info.includes(profile === 'modern' ? 'MAC: sha256' : 'MAC: sha1'), info);
        const subjects = info.split('\n').filter((line) => line.startsWith('subject='));
        assert.equal(subjects.length, 3);
        assert.ok(subjects[0].includes(`node-${keyType.toLowerCase()}`), subjects[0]);

        const report = sdk.inspectP12(p12, PASSWORD);
        assert.equal(report.usable, true, JSON.stringify(report.problems));
        assert.equal(report.chain.length, 2);
        if (keyType.startsWith('RSA')) assert.equal(report.key.bits, Number(keyType.slice(4)));
        else assert.equal(report.key.curve, keyType);
        assert.equal(sdk.inspectP12(p12, 'wrong').usable, false);
      }
    }
    const verdicts = jdkVerdicts(PASSWORD, files);
    for (const file of files) {
      const line = verdicts.get(file) ?? 'missing';
      assert.ok(line.startsWith('OK ') && line.includes(' chain=3 '), `JDK: ${line}`);
    }
  });

  test('a passphrase encrypts the key, and buildP12 opens it with the same passphrase', async () => {
    const { csrPem, privateKeyPem } = await sdk.generateCsr({ ...request('P-256'), privateKeyPassphrase: KEY_PASSPHRASE });
    assert.match(privateKeyPem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    const keyFile = ca.write('encrypted.key', privateKeyPem);
    const details = opensslOk(['asn1parse', '-in', keyFile]);
    for (const oid of ['PBES2', 'PBKDF2', 'hmacWithSHA256', 'aes-256-cbc']) assert.ok(details.includes(oid), oid);
    opensslOk(['pkey', '-in', keyFile, '-passin', `pass:${KEY_PASSPHRASE}`, '-noout']);

    const leaf = ca.sign(csrPem, 'encrypted');
    const build = (privateKeyPassphrase) => sdk.buildP12({
      privateKeyPem, privateKeyPassphrase, certificatePem: leaf, password: PASSWORD,
    });
    assert.equal(sdk.inspectP12(build(KEY_PASSPHRASE), PASSWORD).usable, true);
    assert.equal(await thrownCode(() => build(undefined)), 'passphrase_required');
    assert.equal(await thrownCode(() => build(WRONG_PASSPHRASE)), 'wrong_passphrase');
  });

  test('keys written by openssl in PKCS#1 and SEC1 form are accepted', async () => {
    for (const [name, genArgs] of [['pkcs1', ['genrsa', '-traditional', '2048']],
      ['sec1', ['ecparam', '-genkey', '-name', 'prime256v1']]]) {
      const keyPem = opensslOk(genArgs);
      const keyFile = ca.write(`${name}.key`, keyPem);
      const csr = opensslOk(['req', '-new', '-key', keyFile, '-subj', `/CN=${name}`,
        '-addext', 'extendedKeyUsage=clientAuth']);
      const leaf = ca.sign(csr, name);
      const p12 = sdk.buildP12({ privateKeyPem: keyPem, certificatePem: leaf + ca.intermediatePem, password: PASSWORD, friendlyName: `my ${name}` });
      const info = opensslP12Info(ca.write(`${name}.p12`, p12), PASSWORD);
      assert.ok(info.includes(`friendlyName: my ${name}`), info);
      assert.equal(sdk.inspectP12(p12, PASSWORD).usable, true);
    }
  });
});

describe('WebCrypto does the key arithmetic', () => {
  test('generateCsr signs with crypto.subtle.sign, the hash matching the curve, and OpenSSL verifies', async () => {
    const { subtle } = globalThis.crypto;
    const calls = [];
    // An own property shadows SubtleCrypto.prototype.sign for this object only.
    subtle.sign = function sign(algorithm, key, data) {
      calls.push([algorithm.name, algorithm.hash ?? key.algorithm.hash.name, key.type]);
      return SubtleCrypto.prototype.sign.call(this, algorithm, key, data);
    };
    try {
      for (const [keyType, expected] of [['P-256', ['ECDSA', 'SHA-256', 'private']],
        ['P-384', ['ECDSA', 'SHA-384', 'private']], ['RSA-2048', ['RSASSA-PKCS1-v1_5', 'SHA-256', 'private']]]) {
        calls.length = 0;
        const { csrPem } = await sdk.generateCsr(request(keyType));
        assert.deepEqual(calls, [expected], keyType);
        const text = ca.verifyCsr(csrPem, `signed-${keyType}`);
        const algorithm = { 'P-256': 'ecdsa-with-SHA256', 'P-384': 'ecdsa-with-SHA384', 'RSA-2048': 'sha256WithRSAEncryption' }[keyType];
        assert.ok(text.includes(`Signature Algorithm: ${algorithm}`), `${keyType}: ${text}`);
      }
    } finally {
      delete subtle.sign;
    }
  });

  test('without crypto.subtle generateCsr rejects with webcrypto_unavailable', async () => {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
    // What an old runtime or a browser page outside a secure context offers: no `subtle`.
    Object.defineProperty(globalThis, 'crypto', { value: {}, configurable: true });
    let error;
    let badSubjectCode;
    try {
      badSubjectCode = await thrownCode(() => sdk.generateCsr({ subject: { commonName: '' } }));
      await sdk.generateCsr(request('P-256'));
    } catch (caught) {
      error = caught;
    } finally {
      Object.defineProperty(globalThis, 'crypto', descriptor);
    }
    // Bad input is still reported as such: the request is checked before WebCrypto is looked up.
    assert.equal(badSubjectCode, 'invalid_subject');
    assert.ok(error instanceof sdk.MtlsError, String(error));
    assert.equal(error.code, 'webcrypto_unavailable');
    assert.match(error.message, /crypto\.subtle/);
    assert.equal(typeof globalThis.crypto.subtle.sign, 'function');
  });
});

describe('buildP12 with keys whose public key the module cannot see', () => {
  // The csr module has no curve arithmetic: an EC key without its optional public key and an
  // Ed25519 key need theirs derived by Node's crypto before the module matches the certificate.
  function keysWithoutPublicKey() {
    const ecFile = ca.write('ec-full.key', opensslOk(['ecparam', '-genkey', '-noout', '-name', 'secp384r1']));
    // SEC1 without the optional public key (the form the package wraps into PKCS#8 itself).
    const ecNoPublic = opensslOk(['ec', '-in', ecFile, '-no_public']);
    return [['ec-no-public', ecNoPublic], ['ed25519', opensslOk(['genpkey', '-algorithm', 'ed25519'])]];
  }

  test('Node derives the public key; the P12 pairs key and certificate', () => {
    for (const [name, keyPem] of keysWithoutPublicKey()) {
      const keyFile = ca.write(`${name}.key`, keyPem);
      const leaf = ca.sign(opensslOk(['req', '-new', '-key', keyFile, '-subj', `/CN=${name}`]), name);
      const p12 = sdk.buildP12({ privateKeyPem: keyPem, certificatePem: ca.intermediatePem + leaf, password: PASSWORD });
      const info = opensslP12Info(ca.write(`${name}.p12`, p12), PASSWORD);
      assert.ok(info.split('\n').find((line) => line.startsWith('subject='))?.includes(name), info);
      const report = sdk.inspectP12(p12, PASSWORD);
      assert.equal(report.chain.length, 1, JSON.stringify(report));
      assert.ok(!report.problems.some((problem) => problem.code === 'key_certificate_mismatch'), JSON.stringify(report.problems));
      // Another key's certificate is still refused.
      const other = ca.sign(opensslOk(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-noenc',
        '-keyout', path.join(ca.dir, `${name}-other.key`), '-subj', '/CN=other']), `${name}-other`);
      assert.throws(() => sdk.buildP12({ privateKeyPem: keyPem, certificatePem: other, password: PASSWORD }),
        (error) => error.code === 'key_certificate_mismatch');
    }
  });

  test('when Node refuses to derive the public key, buildP12 throws public_key_unavailable', () => {
    const [[, keyPem]] = keysWithoutPublicKey();
    const leaf = ca.sign(opensslOk(['req', '-new', '-key', ca.write('refused.key', keyPem), '-subj', '/CN=refused']), 'refused');
    const createPublicKey = nodeCrypto.createPublicKey;
    nodeCrypto.createPublicKey = () => {
      throw new Error('refused by the test');
    };
    try {
      assert.throws(() => sdk.buildP12({ privateKeyPem: keyPem, certificatePem: leaf, password: PASSWORD }),
        (error) => error instanceof sdk.MtlsError && error.code === 'public_key_unavailable' && error.message.includes('EC P-384'));
    } finally {
      nodeCrypto.createPublicKey = createPublicKey;
    }
  });
});

describe('bad inputs give errors with codes', () => {
  test('generateCsr refuses a bad subject, SAN or key type before making a key', async () => {
    assert.equal(await thrownCode(() => sdk.generateCsr({ subject: { commonName: '' } })), 'invalid_subject');
    assert.equal(await thrownCode(() => sdk.generateCsr({ subject: { commonName: 'a', country: 'USA' } })), 'invalid_subject');
    assert.equal(await thrownCode(() => sdk.generateCsr({ subject: { commonName: 'a' }, subjectAltNames: ['bad host'] })), 'invalid_subject_alt_name');
    assert.equal(await thrownCode(() => sdk.generateCsr({ subject: { commonName: 'a' }, keyType: 'RSA-1024' })), 'unsupported_key_type');
    assert.equal(await thrownCode(() => sdk.generateCsr('not an object')), 'invalid_argument');
    // Each field is absent (undefined or null) or of its declared type.
    for (const wrong of [{ subject: 'CN=a' }, { subject: { commonName: 7 } },
      { subject: { commonName: 'a' }, subjectAltNames: 'a.example' },
      { subject: { commonName: 'a' }, subjectAltNames: ['a.example', 7] },
      { subject: { commonName: 'a' }, privateKeyPassphrase: 1234 }]) {
      assert.equal(await thrownCode(() => sdk.generateCsr(wrong)), 'invalid_argument', JSON.stringify(wrong));
    }
    const withNulls = await sdk.generateCsr({ subject: { commonName: 'a', organization: null }, subjectAltNames: null, keyType: undefined });
    assert.match(withNulls.csrPem, /^-----BEGIN CERTIFICATE REQUEST-----\n/);
  });

  test('buildP12 refuses a mismatched key, garbage PEM, an empty chain and bad passwords', async () => {
    const first = await sdk.generateCsr(request('P-256'));
    const second = await sdk.generateCsr(request('P-256'));
    const leaf = ca.sign(first.csrPem, 'mismatch');
    const base = { privateKeyPem: first.privateKeyPem, certificatePem: leaf, password: PASSWORD };
    assert.equal(await thrownCode(() => sdk.buildP12({ ...base, privateKeyPem: second.privateKeyPem })), 'key_certificate_mismatch');
    assert.equal(await thrownCode(() => sdk.buildP12({ ...base, privateKeyPem: 'garbage' })), 'invalid_private_key');
    assert.equal(await thrownCode(() => sdk.buildP12({ ...base, certificatePem: '' })), 'no_certificate');
    assert.equal(await thrownCode(() => sdk.buildP12({ ...base, certificatePem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' })), 'invalid_certificate');
    assert.equal(await thrownCode(() => sdk.buildP12({ ...base, password: '' })), 'invalid_password');
    assert.equal(await thrownCode(() => sdk.buildP12({ ...base, profile: 'rc2' })), 'unsupported_profile');
    assert.equal(await thrownCode(() => sdk.buildP12(42)), 'invalid_argument');
    assert.equal(await thrownCode(() => sdk.buildP12({ ...base, privateKeyPem: 42 })), 'invalid_argument');
    assert.equal(await thrownCode(() => sdk.buildP12({ ...base, friendlyName: ['x'] })), 'invalid_argument');
    assert.equal(await thrownCode(() => sdk.buildP12({ ...base, password: undefined })), 'invalid_argument');
  });
});

test('keyType and profile take only the documented names, and the error lists them', async () => {
  await assert.rejects(
    sdk.generateCsr({ subject: { commonName: 'a' }, keyType: 'rsa2048' }),
    (error) => error.code === 'unsupported_key_type' && error.message.includes('"RSA-2048"') && error.message.includes('"P-256"'),
  );
  assert.throws(
    () => sdk.buildP12({ privateKeyPem: '', certificatePem: '', password: 'pw', profile: 'rc2' }),
    (error) => error.code === 'unsupported_profile' && error.message.includes('"modern", "legacy"'),
  );
});
