// Benchmark (not a test), one Node process: the npm package `mtls-sdk` beside @peculiar/x509
// (WebCrypto) and node-forge, on the same machine in the same run.
//   generateCsr  P-256 and RSA-2048: key generation + CSR (subject, SAN, keyUsage, EKU clientAuth,
//                signed) + PKCS#8 PEM of the key. mtls-sdk and @peculiar/x509 both take keys from
//                Node's WebCrypto; node-forge takes RSA keys from Node's native generateKeyPair
//                and has no ECDSA, so it has no P-256 row.
//   buildP12     RSA-2048 key + 3-certificate chain, 10,000 iterations everywhere: mtls-sdk
//                `modern` beside forge PBES2 AES-256 (PRF SHA-256) and `legacy` beside forge 3DES.
//                forge leaves the certificate bag unencrypted and always MACs with SHA-1, so it
//                does less work per file than mtls-sdk (two PBKDF runs instead of three).
//   package size gzip -9 of what a browser downloads for these functions: mtls-sdk's `csr`
//                module (.wasm + glue) beside node-forge's dist/forge.min.js and @peculiar/x509's
//                build/x509.js (UMD); tests/bench/pkg-size/run.sh measures every module.
// Usage: node bench.mjs FIXTURE_DIR PKG_DIR   (run.sh makes the fixtures with openssl)
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

import * as x509 from '@peculiar/x509';
import forge from 'node-forge';

const [fixtureDir, pkgDir] = process.argv.slice(2);
const sdk = await import(pathToFileURL(path.join(pkgDir, 'node', 'index.mjs')).href);
x509.cryptoProvider.set(globalThis.crypto);

const RUNS = { 'P-256': Number(process.env.RUNS_EC ?? 100), 'RSA-2048': Number(process.env.RUNS_RSA ?? 20) };
const P12_RUNS = Number(process.env.RUNS_P12 ?? 20);
const ITERATIONS = 10_000;
const PASSWORD = 'bench password';
const SUBJECT = { commonName: 'bench.example.com', organization: 'Brand', country: 'US' };
const SAN = 'bench.example.com';

/** Runs `fn` twice to warm up, then `runs` times; returns { mean, median } in milliseconds. */
async function measure(runs, fn) {
  for (let i = 0; i < 2; i++) await fn();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { mean, median: samples[Math.floor(samples.length / 2)] };
}

// --- generateCsr -------------------------------------------------------------------------------

async function sdkCsr(keyType) {
  const { csrPem, privateKeyPem } = await sdk.generateCsr({ subject: SUBJECT, subjectAltNames: [SAN], keyType });
  return csrPem.length + privateKeyPem.length;
}

async function peculiarCsr(keyType) {
  const algorithm = keyType === 'P-256'
    ? { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
    : { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
  const keys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'C=US, O=Brand, CN=bench.example.com',
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: SAN }]),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  return csr.toString('pem').length + x509.PemConverter.encode(pkcs8, 'PRIVATE KEY').length;
}

async function forgeCsr() {
  const keys = await new Promise((resolve, reject) =>
    forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 }, (error, pair) => (error ? reject(error) : resolve(pair))));
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = keys.publicKey;
  csr.setSubject([
    { name: 'countryName', value: 'US' },
    { name: 'organizationName', value: 'Brand' },
    { name: 'commonName', value: 'bench.example.com' },
  ]);
  csr.setAttributes([{
    name: 'extensionRequest',
    extensions: [
      { name: 'subjectAltName', altNames: [{ type: 2, value: SAN }] },
      { name: 'keyUsage', critical: true, digitalSignature: true },
      { name: 'extKeyUsage', clientAuth: true },
    ],
  }]);
  csr.sign(keys.privateKey, forge.md.sha256.create());
  const pkcs8 = forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keys.privateKey));
  return forge.pki.certificationRequestToPem(csr).length + forge.pki.privateKeyInfoToPem(pkcs8).length;
}

// --- buildP12 ----------------------------------------------------------------------------------

const keyPem = fs.readFileSync(path.join(fixtureDir, 'leaf.key'), 'utf8');
const chainPem = fs.readFileSync(path.join(fixtureDir, 'chain.pem'), 'utf8');

function sdkP12(profile) {
  return sdk.buildP12({ privateKeyPem: keyPem, certificatePem: chainPem, password: PASSWORD, profile }).length;
}

function forgeP12(algorithm) {
  const key = forge.pki.privateKeyFromPem(keyPem);
  const certificates = chainPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)
    .map((pem) => forge.pki.certificateFromPem(pem));
  const options = { algorithm, count: ITERATIONS, saltSize: 16, friendlyName: 'bench', generateLocalKeyId: true };
  if (algorithm === 'aes256') options.prfAlgorithm = 'sha256';
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, certificates, PASSWORD, options);
  return forge.asn1.toDer(asn1).getBytes().length;
}

// --- report ------------------------------------------------------------------------------------

const fmt = (ms) => ms.toFixed(2).padStart(9);
const ratio = (a, b) => (a / b).toFixed(2).padStart(6);
const rows = [];
function row(operation, name, result, reference) {
  rows.push(`${operation.padEnd(22)} ${name.padEnd(28)} ${fmt(result.median)} ${fmt(result.mean)}` +
    (reference ? `   ${ratio(result.median, reference.median)}` : '      1.00'));
}

console.log(`node ${process.version}; medians and means in ms (lower is better); ratio = median / mtls-sdk median`);
console.log(`${'operation'.padEnd(22)} ${'implementation'.padEnd(28)} ${'median'.padStart(9)} ${'mean'.padStart(9)}   ratio`);
for (const keyType of ['P-256', 'RSA-2048']) {
  const runs = RUNS[keyType];
  const ours = await measure(runs, () => sdkCsr(keyType));
  row(`generateCsr ${keyType}`, `mtls-sdk (${runs} runs)`, ours);
  row(`generateCsr ${keyType}`, '@peculiar/x509 (WebCrypto)', await measure(runs, () => peculiarCsr(keyType)), ours);
  if (keyType === 'RSA-2048') row(`generateCsr ${keyType}`, 'node-forge (native keygen)', await measure(runs, forgeCsr), ours);
}
for (const [profile, forgeAlgorithm] of [['modern', 'aes256'], ['legacy', '3des']]) {
  const ours = await measure(P12_RUNS, () => sdkP12(profile));
  row(`buildP12 ${profile}`, `mtls-sdk (${P12_RUNS} runs)`, ours);
  row(`buildP12 ${profile}`, `node-forge ${forgeAlgorithm}`, await measure(P12_RUNS, () => forgeP12(forgeAlgorithm)), ours);
}
for (const line of rows) console.log(line);

const gzip = (files) => zlib.gzipSync(Buffer.concat(files.map((file) => fs.readFileSync(file))), { level: 9 }).length;
const wasm = path.join(pkgDir, 'wasm');
const sizes = [
  ['mtls-sdk csr module (.wasm + glue)', gzip(['csr_bg.wasm', 'csr.js'].map((f) => path.join(wasm, f)))],
  ['node-forge dist/forge.min.js', gzip([path.join(import.meta.dirname, 'node_modules/node-forge/dist/forge.min.js')])],
  ['@peculiar/x509 build/x509.js (UMD)', gzip([path.join(import.meta.dirname, 'node_modules/@peculiar/x509/build/x509.js')])],
];
console.log('\npackage size, gzip -9 (bytes)         size   ratio to mtls-sdk');
for (const [name, size] of sizes) console.log(`${name.padEnd(46)} ${String(size).padStart(8)}   ${(size / sizes[0][1]).toFixed(2)}`);
