#!/usr/bin/env bash
# Builds pkg/, the npm package `mtls-sdk`, from sdk/ (SPEC sections 10 and 14).
#
# pkg/ is build output (gitignored, never hand-edited). Layout:
#   pkg/wasm/<module>_bg.wasm  one WebAssembly module per group of functions, shared by Node and
#                              browsers: `inspector` (inspectP12), `csr` (generateCsr, buildP12).
#                              Each is the sdk crate built with only that module's cargo feature
#                              (`wasm-inspector`, `wasm-csr`; without the default features, so
#                              no `key-arithmetic`: WebCrypto or Node's crypto does that, and no
#                              `console_error_panic_hook`), profile `wasm-release` (opt-level
#                              "z"), then `wasm-opt -O1 --converge --reorder-functions-by-name
#                              --strip-debug --strip-producers` (measured: -2.9 KB gzip on the
#                              inspector; -O2/-Os/-Oz make gzip about 20 KB worse);
#   pkg/wasm/<module>.cjs      wasm-bindgen `--target nodejs` glue: reads and compiles the .wasm
#                              synchronously when first required;
#   pkg/wasm/<module>.js       wasm-bindgen `--target web` glue (ES module): fetches the .wasm
#                              asynchronously, relative to `import.meta.url`;
#   pkg/wasm/<module>.d.ts     the module's functions and types (`.d.cts` for the CommonJS glue);
#   pkg/node/                  Node entries (sdk/js/node): `require` and `import`, synchronous,
#                              each module loaded on the first call that needs it;
#   pkg/web/                   the browser entry (sdk/js/web): the functions are async, each
#                              module fetched on first use, `prefetch()` to load them when idle;
#   pkg/client/                the API client (TypeScript, no WebAssembly), sdk/js/client;
#   pkg/api-reference/         its HTML reference (typedoc), not part of the npm package;
#   pkg/package.json           conditional `exports` (browser, node: import, require; types).
# wasm-bindgen emits the same .wasm for both targets (checked below), so each ships once.
# The wasm-bindgen CLI is the pinned one on PATH and wasm-opt npm's binaryen from
# sdk/js/build-tools/package-lock.json (scripts/install-build-deps.sh); Debian's binaryen is too
# old for current wasm-bindgen output.
set -euo pipefail
cd "$(dirname "$0")/.."

# cargo copies the finished .wasm to one fixed name per target dir
# (`wasm32-unknown-unknown/wasm-release/mtls_sdk.wasm`), so checkouts sharing a CARGO_TARGET_DIR
# would read each other's build: give this checkout's wasm build a directory of its own (inside
# the shared one, keyed by the checkout's path).
checkout_key=$(pwd | sha256sum | cut -c1-12)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$(pwd)/target}/wasm-pkg-$checkout_key"

wasm_opt=sdk/js/build-tools/node_modules/.bin/wasm-opt
if [ ! -x "$wasm_opt" ]; then
  (cd sdk/js/build-tools && npm ci --no-audit --no-fund --silent)
fi
# The WebAssembly features rustc enables by default for wasm32-unknown-unknown; wasm-opt must
# accept them in its input and introduces no others.
wasm_features=(--enable-bulk-memory --enable-multivalue --enable-mutable-globals
  --enable-nontrapping-float-to-int --enable-reference-types --enable-sign-ext)

out=pkg
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out/wasm"
for module in inspector csr; do
  cargo build --quiet --locked --lib -p mtls-sdk --target wasm32-unknown-unknown \
    --profile wasm-release --no-default-features --features "wasm-$module"
  built="$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/mtls_sdk.wasm"
  for target in web nodejs; do
    wasm-bindgen --target "$target" --out-dir "$work/$target" --out-name "$module" "$built"
  done
  cmp -s "$work/web/${module}_bg.wasm" "$work/nodejs/${module}_bg.wasm" || {
    echo "wasm-bindgen made different .wasm files for web and nodejs ($module)" >&2
    exit 1
  }
  "$wasm_opt" "${wasm_features[@]}" -O1 --converge --reorder-functions-by-name --strip-debug \
    --strip-producers \
    "$work/web/${module}_bg.wasm" -o "$out/wasm/${module}_bg.wasm"
  cp "$work/web/$module.js" "$out/wasm/$module.js"
  cp "$work/nodejs/$module.js" "$out/wasm/$module.cjs"
  # TypeScript reads a .d.ts by the module kind of its file: the ES glue's types and the CommonJS
  # glue's (the same declarations). The glue's classes (the pending results the entries finish)
  # declare `[Symbol.dispose]`, which a project compiling against lib es2022 or older rejects
  # even though the entries' own types never expose those classes: that member is left out.
  sed '/\[Symbol\.dispose\]()/d' "$work/nodejs/$module.d.ts" >"$out/wasm/$module.d.ts"
  cp "$out/wasm/$module.d.ts" "$out/wasm/$module.d.cts"
done
echo '{ "type": "module" }' >"$out/wasm/package.json"

mkdir -p "$out/node" "$out/web"
cp sdk/js/node/* "$out/node/"
cp sdk/js/web/* "$out/web/"
# The API client (TypeScript, no WebAssembly) as pkg/client/, and the HTML API reference made from
# its types as pkg/api-reference/ (served by the gateway under /pkg/, not part of the npm package).
bash sdk/js/client/build.sh "$out/client" --api-reference "$out/api-reference"
cp sdk/js/README.md "$out/README.md"
# The package version is the crate's, so the two never drift.
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
node -e '
  const fs = require("fs");
  const manifest = JSON.parse(fs.readFileSync("sdk/js/package.json", "utf8"));
  manifest.version = process.argv[1];
  fs.writeFileSync(process.argv[2], JSON.stringify(manifest, null, 2) + "\n");
' "$version" "$out/package.json"

for wasm in "$out"/wasm/*.wasm; do
  echo "built $wasm: $(wc -c <"$wasm") bytes, $(gzip -9 -c "$wasm" | wc -c) bytes gzip -9"
done
