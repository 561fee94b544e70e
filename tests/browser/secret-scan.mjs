// SPEC 11 over the Node and Chromium tests' gateway logs: the same check as
// server/tests/support/secret_scan.rs (shapes that are always secret, plus exact values the test
// knows), run by gateway.mjs when a gateway stops. Findings name the kind and line, never the value.

const SHAPES = [
  ['PRIVATE KEY-----', 'a PEM private key'],
  ['IBAzCC', 'P12 bytes in base64'],
  ['IBAzCA', 'P12 bytes in base64'],
  ['0201033082', 'P12 bytes in hex'],
  ['0201033080', 'P12 bytes in hex'],
  [',2,1,3,48,', 'P12 bytes as a JSON byte array'],
  ['"password":"', 'a password field'],
  ['"consumerSecret"', 'an app key secret'],
  ['"tokenSecret"', 'an app key token secret'],
  ['"p12":', 'a P12 field'],
];
const JWT = /eyJ[A-Za-z0-9_-]*\.eyJ/;
const MIN_SECRET_LENGTH = 12;

/** What in `logs` looks like a secret, one string per finding. */
export function secretFindings(logs, knownSecrets) {
  const known = knownSecrets.filter((s) => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH);
  const found = [];
  logs.split('\n').forEach((line, index) => {
    const where = `line ${index + 1}`;
    for (const [shape, what] of SHAPES) if (line.includes(shape)) found.push(`${where}: ${what}`);
    if (JWT.test(line)) found.push(`${where}: a JWT`);
    if (known.some((secret) => line.includes(secret))) found.push(`${where}: a credential the test knows`);
  });
  return found;
}
