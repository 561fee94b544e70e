#!/usr/bin/env bash
# Installs what building everything needs beyond cargo (scripts/start.sh, scripts/build-pkg.sh):
# the wasm32 target and the wasm tools, pinned to Cargo.lock's wasm-bindgen. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
WASM_PACK_VERSION=0.15.1

log() { printf '[install] %s\n' "$*"; }

# --- Rust: the wasm32 target and the wasm tools, pinned to Cargo.lock's wasm-bindgen ---
if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # --locked first; its lock names a webpki-roots release this registry mirror lacks, so fall
  # back to a fresh resolution of the same pinned CLI version.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked \
    || cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if ! wasm-pack --version 2>/dev/null | grep -q "$WASM_PACK_VERSION"; then
  log "cargo install wasm-pack $WASM_PACK_VERSION"
  cargo install wasm-pack --version "$WASM_PACK_VERSION" --locked \
    || cargo install wasm-pack --version "$WASM_PACK_VERSION"
fi

# The npm package's API client is TypeScript: its compiler and typedoc (the API reference), as
# sdk/js/client/package-lock.json pins them.
if ! (cd sdk/js/client && npm ls --depth=0 >/dev/null 2>&1); then
  log "npm ci (sdk/js/client/)"
  (cd sdk/js/client && npm ci --no-audit --no-fund)
fi

# Swagger UI for the gateway's REST reference at /docs, as server/rest-docs/package-lock.json pins
# it; the gateway serves these files and fetches nothing at run time.
if ! (cd server/rest-docs && npm ls --depth=0 >/dev/null 2>&1); then
  log "npm ci (server/rest-docs/)"
  (cd server/rest-docs && npm ci --no-audit --no-fund)
fi

# --- npm: binaryen's wasm-opt for scripts/build-pkg.sh, pinned by sdk/js/build-tools's lock ---
if [ ! -x sdk/js/build-tools/node_modules/.bin/wasm-opt ]; then
  log "npm ci in sdk/js/build-tools (binaryen)"
  (cd sdk/js/build-tools && npm ci --no-audit --no-fund --silent)
fi
