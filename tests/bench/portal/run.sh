#!/usr/bin/env bash
# Page weight of the portal (SPEC 14: <= 60 KiB before sign-in works, <= 10 KiB on a repeat
# visit): bytes on the wire (headers + body) for the files the page loads, on a first visit
# (Accept-Encoding: br, gzip, as browsers send) and on a repeat visit (If-None-Match with the
# ETags of the first). Also shows what the same visit costs without compression, in one run.
#
#   tests/bench/portal/run.sh            # uses target/release/mtls-server, else target/debug
# Needs pkg/ (scripts/build-pkg.sh) and curl.
set -euo pipefail
cd "$(dirname "$0")/../../.."
target=${CARGO_TARGET_DIR:-target}
bin=${GATEWAY_BIN:-}
[ -n "$bin" ] || { [ -x "$target/release/mtls-server" ] && bin=$target/release/mtls-server; } || bin=$target/debug/mtls-server
[ -x "$bin" ] || { echo "build the server first (cargo build -p mtls-server)" >&2; exit 1; }
[ -f pkg/web/index.js ] || { echo "build the package first (scripts/build-pkg.sh)" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
data=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$data"' EXIT
# The bench makes many visits from one address: lift the per-IP throttle (10/s by default).
MTLS_LISTEN=127.0.0.1:$port MTLS_DATA_DIR=$data RUST_LOG=warn MTLS_RATE_LIMIT_PER_SECOND=100000 \
  MTLS_RATE_LIMIT_BURST=100000 "$bin" & pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

base=http://127.0.0.1:$port
# What the page loads before sign-in works: the page, its style and its modules (app.js imports
# gateway.js and sdk.js; gateway.js imports the package's plain-JavaScript client, every module of
# pkg/client/). Then what the certificate tools load on first use: the package's browser entry,
# the WebAssembly glue and modules (sdk.js imports pkg/web/index.js and loads pkg/wasm/*).
before_sign_in=(/ /portal/style.css /portal/app.js /portal/gateway.js /portal/sdk.js)
for f in pkg/client/*.js; do before_sign_in+=("/$f"); done
on_first_use=()
for f in pkg/web/*.js pkg/wasm/*.js pkg/wasm/*.wasm; do on_first_use+=("/$f"); done

declare -A etag
visit() { # visit <encoding> <repeat 0|1> paths... -> prints total bytes
  local encoding=$1 repeat=$2; shift 2
  local total=0 path out size header_size code tag
  for path in "$@"; do
    local args=(-s -o /dev/null -D "$data/headers" -w '%{size_download} %{size_header} %{http_code}\n')
    [ -n "$encoding" ] && args+=(-H "Accept-Encoding: $encoding")
    [ "$repeat" = 1 ] && [ -n "${etag[$path]:-}" ] && args+=(-H "If-None-Match: ${etag[$path]}")
    read -r size header_size code < <(curl "${args[@]}" "$base$path")
    tag=$(grep -i '^etag:' "$data/headers" | cut -d' ' -f2- | tr -d '\r' || true)
    case $code in 200|304) ;; *) echo "GET $path answered $code" >&2; exit 1 ;; esac
    [ "$repeat" = 0 ] && etag[$path]=$tag
    total=$((total + size + header_size))
    [ -n "${BENCH_VERBOSE:-}" ] && echo "  $code $size+$header_size $path" >&2
  done
  echo "$total"
}

kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
# The first request of each file compresses it (once per file version): warm up, timing it.
start=$(date +%s%N); visit "br, gzip" 0 "${before_sign_in[@]}" "${on_first_use[@]}" >/dev/null; end=$(date +%s%N)
echo "first compression of every file: $(( (end - start) / 1000000 )) ms (once per file version)"

plain_before=$(visit "" 0 "${before_sign_in[@]}")
plain_all=$(visit "" 0 "${before_sign_in[@]}" "${on_first_use[@]}")
first_before=$(visit "br, gzip" 0 "${before_sign_in[@]}")
first_all=$(visit "br, gzip" 0 "${before_sign_in[@]}" "${on_first_use[@]}")
repeat_all=$(visit "br, gzip" 1 "${before_sign_in[@]}" "${on_first_use[@]}")
gzip_all=$(visit "gzip" 0 "${before_sign_in[@]}" "${on_first_use[@]}")

printf '%-46s %12s %12s\n' "visit (bytes on the wire, headers included)" "compressed" "uncompressed"
printf '%-46s %12s %12s\n' "first visit, until sign-in works" "$(kib "$first_before")" "$(kib "$plain_before")"
printf '%-46s %12s %12s\n' "first visit, with the tools' WebAssembly" "$(kib "$first_all")" "$(kib "$plain_all")"
printf '%-46s %12s\n' "  the same with gzip only" "$(kib "$gzip_all")"
printf '%-46s %12s\n' "repeat visit (every file revalidated: 304)" "$(kib "$repeat_all")"
awk -v a="$first_all" -v b="$plain_all" 'BEGIN { printf "ratio first visit compressed / uncompressed: %.3f\n", a / b }'
