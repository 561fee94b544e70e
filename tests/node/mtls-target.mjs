// An mTLS target for forward tests, independent of the gateway's own TLS stack: Node's https
// server, requiring a client certificate from the test CA, answering with what it saw (method,
// path, headers, body, the client certificate's fingerprint) as JSON. Its PKI is made with
// openssl at test time: server certificate for IP 127.0.0.1 and two client certificates as P12.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

import { makeTestCa, opensslOk } from './csr-helpers.mjs';

export const P12_PASSWORD = 'target test password';

/**
 * The test CA (root and intermediate), a server certificate for 127.0.0.1 and one client
 * certificate per name in `clients`: `{ ca, rootFile, server: { key, cert }, clients: { name:
 * { p12, fingerprintSha256 } } }`. `ca.cleanup()` removes everything.
 */
export function makeTargetPki(clients = ['brand-a', 'brand-b']) {
  const ca = makeTestCa();
  const leaf = (name, extensions) => {
    opensslOk(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc',
      '-keyout', `${name}.key`, '-out', `${name}.req`, '-subj', `/CN=${name}/O=Target test`,
      ...extensions.flatMap((e) => ['-addext', e])], { cwd: ca.dir });
    const cert = ca.sign(fs.readFileSync(path.join(ca.dir, `${name}.req`), 'utf8'), name);
    return { key: fs.readFileSync(path.join(ca.dir, `${name}.key`), 'utf8'), cert };
  };
  const server = leaf('target', ['subjectAltName=IP:127.0.0.1', 'extendedKeyUsage=serverAuth']);
  const made = {};
  for (const name of clients) {
    leaf(name, ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth']);
    opensslOk(['pkcs12', '-export', '-inkey', `${name}.key`, '-in', `${name}.crt`,
      '-certfile', 'intermediate.pem', '-out', `${name}.p12`, '-passout', `pass:${P12_PASSWORD}`], { cwd: ca.dir });
    const fingerprint = opensslOk(['x509', '-in', `${name}.crt`, '-noout', '-fingerprint', '-sha256'], { cwd: ca.dir });
    made[name] = {
      p12: new Uint8Array(fs.readFileSync(path.join(ca.dir, `${name}.p12`))),
      fingerprintSha256: fingerprint.split('=')[1].trim().replaceAll(':', '').toLowerCase(),
    };
  }
  return {
    ca,
    rootFile: ca.write('root-only.pem', ca.rootPem),
    server: { key: server.key, cert: server.cert + ca.intermediatePem },
    clients: made,
  };
}

/**
 * Starts the target on 127.0.0.1 (free port). Every request is answered with status 200 (or the
 * `x-answer-status` request header's), header `x-target: echo` and the JSON
 * `{ method, path, headers, bodyBase64, clientFingerprintSha256 }`. Resolves to `{ url, close }`.
 */
export function startMtlsTarget(pki) {
  const server = https.createServer({
    key: pki.server.key,
    cert: pki.server.cert,
    ca: [pki.ca.rootPem, pki.ca.intermediatePem],
    requestCert: true,
    rejectUnauthorized: true,
  }, (request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const peer = request.socket.getPeerCertificate();
      const seen = {
        method: request.method,
        path: request.url,
        headers: request.headers,
        bodyBase64: Buffer.concat(chunks).toString('base64'),
        clientFingerprintSha256: peer?.fingerprint256?.replaceAll(':', '').toLowerCase() ?? null,
      };
      response.writeHead(Number(request.headers['x-answer-status'] ?? 200), {
        'content-type': 'application/json',
        'x-target': 'echo',
      });
      response.end(JSON.stringify(seen));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        url: `https://127.0.0.1:${port}`,
        port,
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(done); }),
      });
    });
  });
}
