#!/usr/bin/env bash
# Builds the npm package's API client from src/ (TypeScript) into $1 (pkg/client):
#   index.js ...   ES modules (browsers; no WebAssembly, no comments) and their .d.ts (with docs);
#   cjs/           the same as CommonJS (and its .d.ts), for Node's `require`;
#   node.mjs       Node's `import` entry: re-exports cjs/, so `require` and `import` share one
#                  instance (one `MtlsError` class for `instanceof`).
# and, with --api-reference DIR, the HTML API reference generated from the types (typedoc).
# The compiler and typedoc come from package-lock.json (`npm ci`, run here when needed).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
api_reference=""
if [ "${2:-}" = "--api-reference" ]; then api_reference="$(mkdir -p "$3" && cd "$3" && pwd)"; fi
cd "$here"

if ! npm ls --depth=0 >/dev/null 2>&1; then
  npm ci --no-audit --no-fund --silent
fi
tsc=node_modules/typescript/bin/tsc

rm -rf "$out"
# Declarations keep the doc comments; the JavaScript drops them (it is what a browser downloads).
node "$tsc" -p tsconfig.json --outDir "$out" --emitDeclarationOnly
node "$tsc" -p tsconfig.json --outDir "$out" --declaration false --removeComments
node "$tsc" -p tsconfig.json --outDir "$out/cjs" --declaration false --removeComments --module commonjs --moduleResolution node10
# TypeScript reads a .d.ts by the module kind of its folder: CommonJS callers get their own.
node "$tsc" -p tsconfig.json --outDir "$out/cjs" --emitDeclarationOnly --module commonjs --moduleResolution node10
echo '{ "type": "module" }' >"$out/package.json"
echo '{ "type": "commonjs" }' >"$out/cjs/package.json"
cat >"$out/node.mjs" <<'MJS'
// Node's `import` of the client: the CommonJS build, so `require` and `import` share one instance.
export * from './cjs/index.js';
export { default } from './cjs/index.js';
MJS

if [ -n "$api_reference" ]; then
  rm -rf "$api_reference"
  node node_modules/typedoc/bin/typedoc --logLevel Warn --tsconfig tsconfig.json --entryPoints src/index.ts \
    --readme none --name "mtls-sdk MtlsClient" --out "$api_reference"
fi
