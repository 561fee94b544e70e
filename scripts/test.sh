#!/usr/bin/env bash
# Installs what the tests need, then runs every test of the project. The README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh

# A one-shot build gains nothing from incremental caches, which were a third of its disk.
export CARGO_INCREMENTAL=0

echo "== cargo test (sdk, server, end-to-end against OpenBao, nginx and rustls targets)"
cargo test --workspace --locked

echo "== cargo test on wasm32 (the bindings in sdk/src/wasm/, run in Node by wasm-bindgen-test-runner)"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --locked --target wasm32-unknown-unknown -p mtls-sdk --lib

echo "== npm package (pkg/, from sdk/: scripts/build-pkg.sh)"
bash scripts/build-pkg.sh

echo "== node --test (the npm package in Node and headless Chromium, the portal)"
(cd tests && node --test)
