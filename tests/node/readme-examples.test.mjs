// The REST examples of the repository README run as written: every ```sh block that calls the
// gateway (`$GW`) is taken from README.md in order and run as one bash script (`set -euo
// pipefail`, so any failing command fails the test) against the real gateway binary. The only
// inputs are the ones the README names: GW, MTLS_ADMIN_TOKEN, and TARGET, here an HTTPS server
// on 127.0.0.1 that asks for a client certificate and reports the one it got.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { startGateway } from '../browser/gateway.mjs';
import { repoRoot } from './helpers.mjs';
import { makeTargetPki } from './mtls-target.mjs';

let pki;
let target;
let targetUrl;
let gateway;
let workDir;

before(async () => {
  pki = makeTargetPki([]);
  // Any client certificate is welcome: the README's is self-signed. The answer names it.
  target = https.createServer({ key: pki.server.key, cert: pki.server.cert, requestCert: true, rejectUnauthorized: false }, (request, response) => {
    const peer = request.socket.getPeerCertificate();
    const fingerprint = peer?.raw ? crypto.createHash('sha256').update(peer.raw).digest('hex') : null;
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ clientCertificateSha256: fingerprint }));
    });
  });
  await new Promise((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetUrl = `https://127.0.0.1:${target.address().port}/hook`;
  gateway = await startGateway({ MTLS_ALLOWED_TARGET_CIDRS: '127.0.0.0/8', MTLS_EXTRA_TARGET_CA_FILE: pki.rootFile });
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'readme-examples-'));
});
after(async () => {
  await gateway?.stop();
  target?.closeAllConnections();
  target?.close();
  pki?.ca?.cleanup?.();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

/** The ```sh blocks of README.md that call the gateway, in order. */
function restExamples() {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  return [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]).filter((block) => block.includes('$GW'));
}

test('the README REST examples run as written against the gateway', async () => {
  const blocks = restExamples();
  assert.ok(blocks.length >= 4, `found ${blocks.length} REST example blocks`);
  const script = ['set -euo pipefail', ...blocks, 'echo', 'echo "CERT_ID=$CERT_ID"', 'openssl x509 -in client.crt -outform DER | sha256sum'].join('\n');
  // Asynchronously: the target answers from this process's event loop.
  const run = await new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], {
      cwd: workDir,
      env: { PATH: process.env.PATH, HOME: workDir, GW: gateway.url, MTLS_ADMIN_TOKEN: gateway.adminToken, TARGET: targetUrl },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  assert.equal(run.status, 0, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);

  // The forward example reached the target with the certificate uploaded by file.
  const certificateId = /^CERT_ID=(\d+)$/m.exec(run.stdout)?.[1];
  assert.ok(certificateId, run.stdout);
  assert.match(run.stdout, new RegExp(`^lp-certificate-id: ${certificateId}\\r?$`, 'mi'));
  const fingerprint = /^([0-9a-f]{64}) {2}-$/m.exec(run.stdout)?.[1];
  assert.ok(run.stdout.includes(`{"clientCertificateSha256":"${fingerprint}"}`), run.stdout);
});
