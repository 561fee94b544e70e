#!/usr/bin/env bash
# Builds pkg/, the npm package `mtls-sdk`, from sdk/ (SPEC section 10).
#
# pkg/ is build output (gitignored, never hand-edited): two wasm-pack builds of the same crate
# plus the small entry files kept in sdk/js/.
#   pkg/node/  --target nodejs: CommonJS glue, loads the .wasm synchronously (`require`), and
#              index.mjs re-exporting it for `import`, so both share one module instance;
#   pkg/web/   --target web: ES-module glue, and index.js that instantiates the .wasm with
#              top-level await so browser callers use the same synchronous API as Node;
#   pkg/client/ the API client (sdk/js/client, TypeScript, no WebAssembly), see its build.sh;
#   pkg/package.json  conditional `exports` (types, browser, import, require).
# wasm-opt is skipped (sdk/Cargo.toml): Debian's binaryen 108 corrupts current wasm-bindgen
# output. `--mode no-install` makes wasm-pack use the pinned wasm-bindgen CLI on PATH
# (scripts/install-test-deps.sh) and never download anything.
set -euo pipefail
cd "$(dirname "$0")/.."

# cargo copies the finished .wasm to one fixed name per target dir (`release/mtls_sdk.wasm`), so
# checkouts sharing a CARGO_TARGET_DIR would read each other's build: give this checkout's wasm
# build a directory of its own (inside the shared one, keyed by the checkout's path).
checkout_key=$(pwd | sha256sum | cut -c1-12)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(pwd)/target}/wasm-pkg-$checkout_key"

out=pkg
rm -rf "$out"
for target in nodejs web; do
  dir=$([ "$target" = nodejs ] && echo node || echo web)
  wasm-pack --quiet build sdk --mode no-install --release --no-pack \
    --target "$target" --out-dir "../$out/$dir" --out-name mtls_sdk
  # wasm-pack writes a `*` .gitignore into each out dir, which `npm pack` would honour and
  # publish an empty package; pkg/ as a whole is ignored by the root .gitignore instead.
  rm -f "$out/$dir/.gitignore"
done

cp sdk/js/node/index.mjs sdk/js/node/index.cjs sdk/js/node/index.d.ts sdk/js/node/package.json "$out/node/"
cp sdk/js/web/index.js sdk/js/web/package.json "$out/web/"
cp sdk/js/README.md "$out/README.md"
# The API client (TypeScript, no WebAssembly) as pkg/client/, and the HTML API reference made from
# its types as pkg/api-reference/ (served by the gateway under /pkg/, not part of the npm package).
bash sdk/js/client/build.sh "$out/client" --api-reference "$out/api-reference"
# The package version is the crate's, so the two never drift.
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
node -e '
  const fs = require("fs");
  const manifest = JSON.parse(fs.readFileSync("sdk/js/package.json", "utf8"));
  manifest.version = process.argv[1];
  fs.writeFileSync(process.argv[2], JSON.stringify(manifest, null, 2) + "\n");
' "$version" "$out/package.json"

wasm_bytes=$(wc -c <"$out/web/mtls_sdk_bg.wasm")
wasm_gzip=$(gzip -9 -c "$out/web/mtls_sdk_bg.wasm" | wc -c)
echo "built $out/ (mtls-sdk $version): mtls_sdk_bg.wasm $wasm_bytes bytes, $wasm_gzip bytes gzip -9"
