#!/usr/bin/env bash
# Installs what the tests need, then runs every test of the project. The README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh

echo "== cargo test (sdk, server, end-to-end against OpenBao, nginx and rustls targets)"
cargo test --workspace --locked
