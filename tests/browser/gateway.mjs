// Starts the real gateway binary (`mtls-server`, built by cargo) for browser tests: on
// 127.0.0.1 with a free port, the embedded store in a fresh temporary directory, and a random
// admin token. The caller stops it with `await gateway.stop()` (the process is also killed when
// the test process exits).
import { execFileSync, spawn } from 'node:child_process';
import { secretFindings } from './secret-scan.mjs';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { repoRoot } from '../node/helpers.mjs';

function buildServer() {
  const out = execFileSync(
    'cargo', ['build', '--quiet', '-p', 'mtls-server', '--bin', 'mtls-server', '--message-format=json'],
    { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const message = JSON.parse(line);
    if (message.reason === 'compiler-artifact' && message.executable && message.target?.name === 'mtls-server') {
      return message.executable;
    }
  }
  throw new Error('cargo did not report the mtls-server executable');
}

/** A port on 127.0.0.1 that was free a moment ago (nothing listens on it now). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitForHealth(url, child, log) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mtls-server exited with ${child.exitCode}: ${log()}`);
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`mtls-server did not answer /healthz within 30 s: ${log()}`);
}

/**
 * A real OpenBao dev server (`bao server -dev`, from PATH or `BAO_BIN`) on 127.0.0.1, for
 * `startGateway(env, { openbao })`. Resolves to `{ addr, token, stop }`.
 */
export async function startOpenBao() {
  const port = await freePort();
  const token = crypto.randomBytes(16).toString('hex');
  const env = { ...process.env };
  delete env.VAULT_ADDR;
  delete env.BAO_ADDR;
  let output = '';
  const child = spawn(process.env.BAO_BIN || 'bao', ['server', '-dev', '-dev-no-store-token',
    `-dev-listen-address=127.0.0.1:${port}`, `-dev-root-token-id=${token}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const kill = () => child.exitCode === null && child.kill('SIGKILL');
  process.on('exit', kill);
  const addr = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bao exited with ${child.exitCode}: ${output}`);
    try {
      if ((await fetch(`${addr}/v1/sys/health`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      kill();
      throw new Error(`OpenBao did not answer within 30 s: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    addr,
    token,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      kill();
      if (child.exitCode === null) await exited;
      process.off('exit', kill);
    },
  };
}

/**
 * Starts the gateway (on the embedded store, or on `openbao` from `startOpenBao()` under a fresh
 * prefix); resolves to `{ url, adminToken, admin, credentials, output, stop }`.
 */
export async function startGateway(extraEnv = {}, { openbao } = {}) {
  const binary = buildServer();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-gateway-'));
  const port = await freePort();
  const adminToken = crypto.randomBytes(24).toString('hex');
  let output = '';
  const child = spawn(binary, [], {
    cwd: repoRoot, // the portal serves ./www and ./pkg
    env: {
      ...process.env,
      MTLS_LISTEN: `127.0.0.1:${port}`,
      MTLS_STORE: 'embedded',
      MTLS_DATA_DIR: dataDir,
      MTLS_ADMIN_TOKEN: adminToken,
      // Debug lines too: every line is scanned for secrets when the gateway stops.
      RUST_LOG: 'debug',
      // Tests send bursts from one address; the throttle itself is tested in server/tests.
      MTLS_RATE_LIMIT_PER_SECOND: '1000',
      MTLS_RATE_LIMIT_BURST: '1000',
      ...(openbao ? {
        MTLS_STORE: 'vault',
        VAULT_ADDR: openbao.addr,
        VAULT_TOKEN: openbao.token,
        MTLS_VAULT_PREFIX: `mtls-${crypto.randomBytes(6).toString('hex')}`,
      } : {}),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const kill = () => child.exitCode === null && child.kill('SIGKILL');
  process.on('exit', kill);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHealth(url, child, () => output);
  } catch (error) {
    kill();
    throw error;
  }
  // Credentials handed out during the test: none may reach the log (checked on stop).
  const issuedSecrets = [adminToken, ...(openbao ? [openbao.token] : [])];
  /** Calls the admin API (`POST /admin/tokens`, `/admin/app-keys`) and returns the JSON. */
  const admin = async (path, body) => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 201) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    const answer = await response.json();
    issuedSecrets.push(answer.accessToken, answer.consumerSecret, answer.tokenSecret);
    return answer;
  };
  /**
   * A Bearer token and an oAuth1 app key (token and secrets) for `accounts`, from the admin API,
   * as `MtlsClient` `auth` options: `{ bearer: { bearer }, oauth1: { oauth1: {...} } }`.
   */
  const credentials = async (sub, accounts) => {
    const { accessToken } = await admin('/admin/tokens', { sub, accounts, ttlSeconds: 600 });
    const key = await admin('/admin/app-keys', { name: sub, accounts });
    const { consumerKey, consumerSecret, token, tokenSecret } = key;
    return { bearer: { bearer: accessToken }, oauth1: { oauth1: { consumerKey, consumerSecret, token, tokenSecret } } };
  };
  return {
    url,
    adminToken,
    admin,
    credentials,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        kill();
      }
      process.off('exit', kill);
      fs.rmSync(dataDir, { recursive: true, force: true });
      const found = secretFindings(output, issuedSecrets);
      if (found.length > 0) throw new Error(`the gateway logged secrets (SPEC 11):\n${found.join('\n')}`);
    },
  };
}
