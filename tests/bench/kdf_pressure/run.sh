#!/usr/bin/env bash
# Benchmark (not a test): forward latency through the gateway while P12 uploads keep every
# inspection worker busy with KDF work. One run on 127.0.0.1:
#   1. idle: wrk forwards through the gateway to an mTLS nginx target (p50, p99);
#   2. loaded: the same, while UPLOADERS clients (default: inspection workers + 1) post a P12 at
#      the iteration cap (MAC, key and certificates at 1,000,000: the whole default request
#      budget) to the P12 tester in a loop; the surplus client is answered 503 + Retry-After;
# and prints loaded/idle ratios of p50 and p99, and how many inspections ran and were refused.
#
#   tests/bench/kdf_pressure/run.sh
#   DURATION=20 CONNECTIONS=16 tests/bench/kdf_pressure/run.sh
#   PROFILE=dev tests/bench/kdf_pressure/run.sh     # a debug build (the KDF is optimised anyway)
#
# Everything it starts lives in a temp dir and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-8}
THREADS=${THREADS:-1}
PROFILE=${PROFILE:-release}
WORKERS=${WORKERS:-$(( $(nproc) > 1 ? $(nproc) - 1 : 1 ))}
UPLOADERS=${UPLOADERS:-$((WORKERS + 1))}
BODY='{"ok":true}'
NGINX=${NGINX:-/usr/sbin/nginx}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
command -v wrk >/dev/null || { echo "wrk missing: run scripts/install-test-deps.sh" >&2; exit 1; }
[ -x "$NGINX" ] || { echo "nginx missing: run scripts/install-test-deps.sh" >&2; exit 1; }

if [ "$PROFILE" = release ]; then
  cargo build --release -q -p mtls-server; GATEWAY_BIN=$CARGO_TARGET_DIR/release/mtls-server
else
  cargo build -q -p mtls-server; GATEWAY_BIN=$CARGO_TARGET_DIR/debug/mtls-server
fi

WORK=$(mktemp -d /tmp/mtls-kdf-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on $1" >&2; return 1
}

# --- PKI: CA, server certificate for 127.0.0.1, client certificate; P12s at 2048 and 1,000,000 ---
cd "$WORK"
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
ossl req -x509 -new -key ca.key -subj "/CN=Bench CA" -days 7 -addext basicConstraints=critical,CA:TRUE -out ca.pem
for who in server client; do
  ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $who.key
  ossl req -new -key $who.key -subj "/CN=bench-$who" -out $who.csr
done
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n' > client.ext
for who in server client; do
  ossl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 -extfile $who.ext -out $who.pem
done
ossl pkcs12 -export -inkey client.key -in client.pem -passout pass:bench-pass -out client.p12
ossl pkcs12 -export -inkey client.key -in client.pem -passout pass:bench-pass -iter 1000000 -out heavy.p12

TARGET_PORT=$(free_port); GATEWAY_PORT=$(free_port)
mkdir -p nginx
cat > nginx/nginx.conf <<CONF
daemon off;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body; proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fcgi; uwsgi_temp_path $WORK/nginx/uwsgi; scgi_temp_path $WORK/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$TARGET_PORT ssl;
    ssl_certificate $WORK/server.pem; ssl_certificate_key $WORK/server.key;
    ssl_client_certificate $WORK/ca.pem; ssl_verify_client on;
    location / { default_type application/json; return 200 '$BODY'; }
  }
}
CONF
"$NGINX" -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)

ADMIN=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
MTLS_LISTEN=127.0.0.1:$GATEWAY_PORT MTLS_ADMIN_TOKEN=$ADMIN MTLS_STORE=embedded MTLS_DATA_DIR=$WORK/data \
MTLS_ALLOWED_TARGET_CIDRS=127.0.0.0/8 MTLS_EXTRA_TARGET_CA_FILE=$WORK/ca.pem \
MTLS_RATE_LIMIT_PER_SECOND=100000000 MTLS_RATE_LIMIT_BURST=100000000 MTLS_P12_INSPECTION_WORKERS=$WORKERS \
RUST_LOG=warn "$GATEWAY_BIN" > "$WORK/gateway.log" 2>&1 &
PIDS+=($!)
wait_port "$TARGET_PORT"; wait_port "$GATEWAY_PORT"

GW=http://127.0.0.1:$GATEWAY_PORT
TARGET_URL=https://127.0.0.1:$TARGET_PORT/api
TOKEN=$(curl -sf -X POST "$GW/admin/tokens" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
  -d '{"sub":"bench","accounts":["bench"],"ttlSeconds":3600}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')
CERT_ID=$(curl -sf -X POST "$GW/mtls/account/bench/certificates" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "[{\"name\":\"bench\",\"p12\":\"$(base64 -w0 client.p12)\",\"password\":\"bench-pass\"}]" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["successfulySavedCertificates"][0]["id"])')
curl -sf -o /dev/null -X POST "$GW/api/account/bench/configuration/ac-common/mtls?v=3.0" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' \
  -d "[{\"certificationId\":$CERT_ID,\"serviceId\":\"1\",\"url\":\"$TARGET_URL\",\"name\":\"bench\",\"enable\":true}]"
GW_HEADERS=(-H "Authorization: Bearer $TOKEN" -H "LP-forward-url: $TARGET_URL" -H "LP-service-name: IDP")
[ "$(curl -s "${GW_HEADERS[@]}" "$GW/mtls/account/bench")" = "$BODY" ] || { echo "forward failed" >&2; tail -5 "$WORK/gateway.log" >&2; exit 1; }
heavy() { curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" \
  -F file=@heavy.p12 -F password=bench-pass "$GW/mtls/account/bench/p12-test/multipart"; }
[ "$(heavy)" = 200 ] || { echo "the heavy P12 is not usable" >&2; exit 1; }

latency() {  # name: prints "name p50 p99 requests"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${GW_HEADERS[@]}" "$GW/mtls/account/bench" > "$WORK/$1.wrk" 2>&1
  python3 - "$WORK/$1.wrk" "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
p50 = ms(re.search(r"\s50%\s+(\S+)", text).group(1))
p99 = ms(re.search(r"\s99%\s+(\S+)", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(sys.argv[2], p50, p99, re.search(r"(\d+) requests in", text).group(1), bad.group(1) if bad else 0)
PY
}
wrk -t1 -c2 -d2s "${GW_HEADERS[@]}" "$GW/mtls/account/bench" >/dev/null
IDLE=$(latency idle)
for i in $(seq 1 "$UPLOADERS"); do
  ( while :; do heavy >> "$WORK/uploads.$i"; done ) &
  PIDS+=($!)
done
sleep 1
LOADED=$(latency loaded)
for pid in "${PIDS[@]: -$UPLOADERS}"; do kill "$pid" 2>/dev/null || true; done
cat "$WORK"/uploads.* > "$WORK/uploads"

python3 - "$WORK/uploads" "$DURATION" "$CONNECTIONS" "$WORKERS" "$UPLOADERS" "$PROFILE" <<PY
import collections, os, sys
codes = collections.Counter(l.strip() for l in open(sys.argv[1]) if l.strip())
idle, loaded = "$IDLE".split(), "$LOADED".split()
d, c, w, u, profile = sys.argv[2:7]
print(f"kdf pressure: {d}s per run, {c} connections, {os.cpu_count()} cores shared by all, {profile} build")
print(f"inspection workers {w}; {u} clients posting a P12 at 1,000,000 iterations (MAC, key, certificates) in a loop")
print(f"{'forward':10} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'non-2xx':>8}")
for row in (idle, loaded):
    print(f"{row[0]:10} {float(row[1]):8.3f} {float(row[2]):8.3f} {row[3]:>9} {row[4]:>8}")
print(f"ratio loaded/idle: p50 {float(loaded[1]) / float(idle[1]):.2f}, p99 {float(loaded[2]) / float(idle[2]):.2f}")
print("uploads during the loaded run: " + ", ".join(f"{n} x {code}" for code, n in sorted(codes.items())))
PY
