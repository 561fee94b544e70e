// Shared oAuth1 vectors: request inputs on which the npm client's signer (Node and browser paths)
// must produce exactly the `Authorization` value of the SDK's Rust signer.
import { execFileSync, spawnSync } from 'node:child_process';

import { repoRoot } from './helpers.mjs';

const base = { consumerKey: 'ck', consumerSecret: 'cs', signatureMethod: 'HMAC-SHA1', nonce: 'abc123', timestamp: 1_700_000_000, form: [] };
export const vectors = [
  // RFC 5849 section 1.2's example request (plus the oauth_version both signers send).
  { ...base, method: 'GET', url: 'http://photos.example.net/photos?file=vacation.jpg&size=original',
    consumerKey: 'dpf43f3p2l4k3l03', consumerSecret: 'kd94hf93k423kf44', token: 'nnch734d00sl2jdk',
    tokenSecret: 'pfkkdhi9sl3r4s00', nonce: 'chapoH', timestamp: 137131202 },
  { ...base, method: 'post', url: 'HTTPS://Example.COM:443/a%2Fb/c?x=1&y=a+b&z=%E2%9C%93&x=0', form: [['f', '1 2'], ['é', '~*!']] },
  { ...base, method: 'PUT', url: 'http://127.0.0.1:8443/mtls/account/acc%201/certificates/7', signatureMethod: 'HMAC-SHA256', consumerSecret: 'c s/2&', token: 'tk', tokenSecret: 'ts!' },
  { ...base, method: 'GET', url: 'http://[::1]:80/x?empty=&flag', consumerKey: 'k with spaces', nonce: "n'()*" },
  { ...base, method: 'DELETE', url: 'https://gw.example:9443/api/account/a/configuration/ac-common/mtls/4?v=3.0', consumerSecret: 'ünïcødé ✓ 😀', tokenSecret: '' },
  { ...base, method: 'POST', url: 'https://gw.example/mtls/mapping?v=2', signatureMethod: 'HMAC-SHA256', form: [['a', '2'], ['a', '10'], ['A', 'x']] },
];

/** The SDK's Rust signer's `Authorization` values for `vectors` (sdk/examples/oauth1_sign.rs). */
export function rustSignatures() {
  execFileSync('cargo', ['build', '--quiet', '-p', 'mtls-sdk', '--example', 'oauth1_sign'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  const run = spawnSync('cargo', ['run', '--quiet', '-p', 'mtls-sdk', '--example', 'oauth1_sign'], { cwd: repoRoot, input: JSON.stringify(vectors), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`oauth1_sign failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}
