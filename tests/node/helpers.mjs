// Shared by the Node and browser tests of the npm package: P12 fixtures made with openssl at test
// time, the native report of the same file (sdk/examples/inspect.rs), and the link that lets
// tests resolve `mtls-sdk` exactly as a user's project does (through its package.json exports).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const pkgDir = path.join(repoRoot, 'pkg');

const DAY = 24 * 3600;

/** The current time in whole seconds, as the native inspector takes it. */
export const nowUnix = () => Math.floor(Date.now() / 1000);

/**
 * Makes `tests/node_modules/mtls-sdk` a link to the built `pkg/`, so `import('mtls-sdk')` and
 * `require('mtls-sdk')` from the tests go through the package's own `exports` map.
 */
export function linkPackage() {
  if (!fs.existsSync(path.join(pkgDir, 'package.json'))) {
    throw new Error('pkg/ is not built: run scripts/build-pkg.sh first');
  }
  const link = path.join(repoRoot, 'tests', 'node_modules', 'mtls-sdk');
  fs.mkdirSync(path.dirname(link), { recursive: true });
  let current = null;
  try {
    current = fs.readlinkSync(link);
  } catch {
    // missing (or not a link): create it below
  }
  if (current !== '../../pkg') {
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync('../../pkg', link, 'dir');
  }
}

/** Runs the native inspector on a file and returns its report as parsed JSON. */
export function nativeReport(file, password, now = nowUnix(), maxIterations = undefined) {
  const args = [file, password, String(now)];
  if (maxIterations !== undefined) args.push(String(maxIterations));
  const run = spawnSync(nativeInspector(), args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`native inspect failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout);
}

let inspectorPath = null;
/** Builds `sdk/examples/inspect.rs` once per process and returns the executable's path. */
function nativeInspector() {
  if (inspectorPath) return inspectorPath;
  const out = execFileSync(
    'cargo',
    ['build', '--quiet', '-p', 'mtls-sdk', '--example', 'inspect', '--message-format=json'],
    { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const message = JSON.parse(line);
    if (message.reason === 'compiler-artifact' && message.target?.name === 'inspect' && message.executable) {
      inspectorPath = message.executable;
    }
  }
  if (!inspectorPath) throw new Error('cargo did not report the inspect example executable');
  return inspectorPath;
}

function openssl(args, cwd) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed client certificate with its key, made by `openssl req -x509`. */
function selfSigned(dir, name, { newkey, eku = 'clientAuth', days = 60 }) {
  openssl(
    ['req', '-x509', '-newkey', newkey, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`,
      '-subj', `/CN=${name}/O=Brand`, '-days', String(days),
      '-addext', 'keyUsage=critical,digitalSignature', '-addext', `extendedKeyUsage=${eku}`],
    dir,
  );
}

/** A P12 made by the JDK's keytool: its PKCS#8 EC key has no public key (OpenSSL's has one), so
 * the WebAssembly inspector has the host derive it. */
function keytoolEcP12(dir, name, curve, password) {
  execFileSync('keytool', ['-genkeypair', '-alias', name, '-keyalg', 'EC', '-groupname', curve,
    '-dname', `CN=${name},O=Brand`, '-validity', '60', '-storetype', 'PKCS12',
    '-keystore', `${name}.p12`, '-storepass', password, '-keypass', password],
  { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  return path.join(dir, `${name}.p12`);
}

function exportP12(dir, name, base, password, extra = []) {
  openssl(
    ['pkcs12', '-export', '-inkey', `${base}.key`, '-in', `${base}.crt`, '-out', `${name}.p12`,
      '-passout', `pass:${password}`, ...extra],
    dir,
  );
  return path.join(dir, `${name}.p12`);
}

/**
 * Generates the fixture set in a fresh temporary directory. Each case: `name`, `file`,
 * `password` (to open it with), `nowUnix` (the time to judge at), optional `maxIterations`, and
 * what SPEC section 2 says about it: `usable`, and for an unusable file the `problem` code it
 * must report.
 */
export function makeFixtures() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-sdk-p12-'));
  const password = 'correct horse';
  selfSigned(dir, 'rsa', { newkey: 'rsa:2048' });
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'ec.key', '-out', 'ec.crt', '-subj', '/CN=ec/O=Brand', '-days', '60',
    '-addext', 'extendedKeyUsage=clientAuth'], dir);
  selfSigned(dir, 'ed25519', { newkey: 'ed25519' });
  selfSigned(dir, 'weak', { newkey: 'rsa:1024' });
  selfSigned(dir, 'server', { newkey: 'rsa:2048', eku: 'serverAuth' });

  // A chain: a CA signs an EC P-384 client certificate.
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
    '-subj', '/CN=Test CA', '-days', '365', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384', '-nodes',
    '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=leaf/O=Brand'], dir);
  fs.writeFileSync(path.join(dir, 'leaf.ext'),
    'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\nsubjectAltName=DNS:client.example,email:ops@example.com\n');
  openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '60', '-extfile', 'leaf.ext', '-out', 'leaf.crt'], dir);

  const rsaDefault = exportP12(dir, 'rsa-default', 'rsa', password);
  const jdkEcP256 = keytoolEcP12(dir, 'jdk-ec-p256', 'secp256r1', password);
  const jdkEcP521 = keytoolEcP12(dir, 'jdk-ec-p521', 'secp521r1', password);
  // One more than the default cap of SPEC section 2 rule 7, on the MAC and both bags.
  const overCap = exportP12(dir, 'over-cap', 'rsa', password, ['-iter', '1000001']);
  const truncated = path.join(dir, 'truncated.p12');
  const bytes = fs.readFileSync(rsaDefault);
  fs.writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));

  // Judge at the time the last certificate was made: each is valid from the second openssl made
  // it (so an earlier "now" would make it not yet valid) for 60 days.
  const madeAt = nowUnix();
  const at = (days) => madeAt + days * DAY;
  return {
    dir,
    cases: [
      { name: 'RSA-2048, OpenSSL 3 default', file: rsaDefault, password, usable: true },
      { name: 'RSA-2048, OpenSSL 3 -legacy', file: exportP12(dir, 'rsa-legacy', 'rsa', password, ['-legacy']), password, usable: true },
      { name: 'RSA-2048, AES-128 + SHA-512 MAC, 5000 iterations',
        file: exportP12(dir, 'rsa-aes128', 'rsa', password,
          ['-keypbe', 'AES-128-CBC', '-certpbe', 'AES-128-CBC', '-macalg', 'sha512', '-iter', '5000']),
        password, usable: true },
      { name: 'EC P-256', file: exportP12(dir, 'ec', 'ec', password), password, usable: true },
      { name: 'EC P-384 leaf with its CA chain',
        file: exportP12(dir, 'chain', 'leaf', password, ['-certfile', 'ca.crt']), password, usable: true },
      { name: 'Ed25519', file: exportP12(dir, 'ed25519', 'ed25519', password), password, usable: true },
      { name: 'EC P-256 by keytool (no public key in the key)', file: jdkEcP256, password, usable: true },
      { name: 'EC P-521 by keytool (no public key in the key)', file: jdkEcP521, password, usable: true },
      { name: 'RSA-1024', file: exportP12(dir, 'weak', 'weak', password), password, usable: false, problem: 'weak_key' },
      { name: 'serverAuth only', file: exportP12(dir, 'server', 'server', password), password, usable: false, problem: 'missing_client_auth' },
      { name: 'wrong password', file: rsaDefault, password: 'wrong', usable: false, problem: 'wrong_password' },
      { name: 'expired (judged 90 days on)', file: rsaDefault, password, nowUnix: at(90), usable: false, problem: 'expired' },
      { name: 'not yet valid (judged 2 days before)', file: rsaDefault, password, nowUnix: at(-2), usable: false, problem: 'not_yet_valid' },
      { name: 'over the default iteration cap', file: overCap, password, usable: false, problem: 'too_many_iterations' },
      { name: 'over a lower maxIterations', file: rsaDefault, password, maxIterations: 1000, usable: false, problem: 'too_many_iterations' },
      { name: 'a PEM certificate', file: path.join(dir, 'rsa.crt'), password, usable: false, problem: 'not_pkcs12' },
      { name: 'truncated PFX', file: truncated, password, usable: false },
    ].map((c) => ({ nowUnix: madeAt, ...c })),
  };
}
