#!/usr/bin/env bash
# Builds everything (the server, the npm package pkg/ that the portal imports) and starts the
# gateway with the portal at / on the embedded store (data under ./data, MTLS_DATA_DIR).
# Any setting of SPEC section 9 can be given as an environment variable.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-build-deps.sh
cargo build --release --locked -p mtls-server
bash scripts/build-pkg.sh

export MTLS_STORE="${MTLS_STORE:-embedded}"
export MTLS_LISTEN="${MTLS_LISTEN:-127.0.0.1:8080}"
export MTLS_ADMIN_TOKEN="${MTLS_ADMIN_TOKEN:-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')}"
echo "admin token: $MTLS_ADMIN_TOKEN"
echo "portal: http://$MTLS_LISTEN/"
exec "${CARGO_TARGET_DIR:-target}/release/mtls-server"
