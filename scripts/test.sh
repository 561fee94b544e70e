#!/usr/bin/env bash
# Installs what the tests need, then runs every test of the project. The README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh

echo "== cargo test (sdk, server, end-to-end against OpenBao, nginx and rustls targets)"
cargo test --workspace --locked

echo "== npm package (pkg/, from sdk/ by wasm-pack)"
bash scripts/build-pkg.sh

echo "== node --test (the npm package in Node and headless Chromium, the portal)"
(cd tests && node --test)
