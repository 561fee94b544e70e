#!/usr/bin/env bash
# Builds everything and starts the gateway with the portal on the embedded store.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p mtls-server
export MTLS_ADMIN_TOKEN="${MTLS_ADMIN_TOKEN:-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')}"
echo "admin token: $MTLS_ADMIN_TOKEN"
exec ./target/release/mtls-server
