// The client's wire names (sdk/js/client/src/wire.ts, built into pkg/client/wire.js) agree with
// the server's own: every `LP-*` header the gateway declares or sends, the realm of its
// `WWW-Authenticate` challenges, and the codes the client makes itself, which the server must
// never use. A rename on either side fails here, not in a user's integration.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';

import { linkPackage, pkgDir, repoRoot } from './helpers.mjs';

linkPackage();
const wire = await import(pathToFileURL(path.join(pkgDir, 'client', 'wire.js')).href);

/** Every `.rs` file under server/src, tests excluded, as text. */
function serverSources() {
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.rs') && entry.name !== 'tests.rs') files.push(fs.readFileSync(full, 'utf8'));
    }
  };
  walk(path.join(repoRoot, 'server', 'src'));
  return files.join('\n');
}

test("LP-* header names are the server's", () => {
  const sources = serverSources();
  // `const NAME: &str = "lp-..."` and `HeaderName::from_static("lp-...")` declarations, and
  // `"LP-..."` headers set on error answers.
  const declared = new Set([
    ...[...sources.matchAll(/const [A-Z_]+: &str = "(lp-[a-z-]+)"/g)].map((m) => m[1]),
    ...[...sources.matchAll(/HeaderName::from_static\("(lp-[a-z-]+)"\)/g)].map((m) => m[1]),
  ]);
  const set = new Set([...sources.matchAll(/with_header\("(LP-[A-Za-z-]+)"/g)].map((m) => m[1].toLowerCase()));
  const server = new Set([...declared, ...set]);
  const client = new Set(Object.values(wire.LP_HEADERS));
  assert.ok(server.size >= 9, `found ${[...server]}`);
  assert.deepEqual([...client].sort(), [...server].sort());
});

test("the gateway's WWW-Authenticate realm is the one the client looks for", () => {
  assert.match(serverSources(), new RegExp(`realm=\\\\"${wire.GATEWAY_REALM}\\\\"`));
});

test("the client's own error codes are not server codes", () => {
  const sources = serverSources();
  for (const code of Object.values(wire.CLIENT_ERROR_CODES)) {
    assert.ok(!sources.includes(`"${code}"`), `the server uses ${code}`);
  }
});
