// Shared by the Node and browser CSR/P12 tests of the npm package: a two-level test CA made with
// openssl in a temporary directory, signing of CSRs, OpenSSL 3 and JDK checks of P12 files.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { repoRoot } from './helpers.mjs';

function openssl(args, { cwd, input } = {}) {
  const run = spawnSync('openssl', args, { cwd, input, encoding: 'utf8' });
  return { ok: run.status === 0, stdout: run.stdout, stderr: run.stderr };
}

/** Runs openssl; throws with its stderr when it fails. */
export function opensslOk(args, options) {
  const run = openssl(args, options);
  if (!run.ok) throw new Error(`openssl ${args.join(' ')} failed: ${run.stderr}`);
  return run.stdout;
}

/**
 * A root and an intermediate CA (P-256) in a fresh temporary directory. `sign(csrPem, name)`
 * signs a CSR with the intermediate, copying its requested extensions, and returns the leaf PEM.
 */
export function makeTestCa() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-sdk-csr-'));
  const run = (args) => opensslOk(args, { cwd: dir });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc',
    '-keyout', 'root.key', '-out', 'root.pem', '-days', '2', '-subj', '/CN=Test Root']);
  run(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc',
    '-keyout', 'intermediate.key', '-out', 'intermediate.csr', '-subj', '/CN=Test Intermediate']);
  fs.writeFileSync(path.join(dir, 'ca.ext'),
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  run(['x509', '-req', '-in', 'intermediate.csr', '-CA', 'root.pem', '-CAkey', 'root.key',
    '-CAcreateserial', '-days', '2', '-extfile', 'ca.ext', '-out', 'intermediate.pem']);
  fs.writeFileSync(path.join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\n');
  const read = (file) => fs.readFileSync(path.join(dir, file), 'utf8');
  return {
    dir,
    rootPem: read('root.pem'),
    intermediatePem: read('intermediate.pem'),
    /** Writes `content` to `name` in the CA directory and returns the path. */
    write(name, content) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, content);
      return file;
    },
    /** `openssl req -verify` on the CSR: throws unless its self-signature verifies. */
    verifyCsr(csrPem, name) {
      const file = this.write(`${name}.csr`, csrPem);
      return run(['req', '-verify', '-noout', '-text', '-in', file]);
    },
    sign(csrPem, name) {
      const file = this.write(`${name}.csr`, csrPem);
      run(['x509', '-req', '-in', file, '-CA', 'intermediate.pem', '-CAkey', 'intermediate.key',
        '-CAcreateserial', '-days', '2', '-copy_extensions', 'copy', '-extfile', 'leaf.ext',
        '-out', `${name}.crt`]);
      return read(`${name}.crt`);
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** OpenSSL 3, without `-legacy`, opens the P12: returns `-info` output (stdout and stderr). */
export function opensslP12Info(file, password) {
  const run = openssl(['pkcs12', '-info', '-nokeys', '-in', file, '-passin', `pass:${password}`]);
  if (!run.ok) throw new Error(`openssl pkcs12 -info failed on ${file}: ${run.stderr}`);
  return run.stdout + run.stderr;
}

/**
 * One JVM loads every file (sdk/tests/java/LoadP12.java: KeyStore "PKCS12", recover the key,
 * sign and verify with the leaf). Returns a map file → verdict line.
 */
export function jdkVerdicts(password, files) {
  const program = path.join(repoRoot, 'sdk', 'tests', 'java', 'LoadP12.java');
  const out = execFileSync('java', [program, Buffer.from(password, 'utf8').toString('hex'), ...files],
    { encoding: 'utf8' });
  const verdicts = new Map();
  for (const line of out.split('\n')) {
    const file = line.split(' ')[1];
    if (file) verdicts.set(file, line);
  }
  return verdicts;
}
