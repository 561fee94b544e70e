#!/usr/bin/env bash
# Benchmark (not a test): requests/s and p50/p99 latency, in one run on 127.0.0.1, of
#   1. the gateway (release build, throttle raised) forwarding to an mTLS nginx target,
#   2. nginx itself as the forwarding proxy (proxy_ssl_certificate, upstream keepalive) to the
#      same target, the reference to match or beat,
#   3. plain loopback HTTP (nginx `return 200`), the ceiling,
# with wrk (Debian package, installed by scripts/install-test-deps.sh). Bounded: each run is
# DURATION seconds (default 10) with CONNECTIONS connections (default 32) and THREADS wrk threads.
#
#   tests/bench/forward/run.sh            # prints a table and the ratios
#   DURATION=20 CONNECTIONS=64 tests/bench/forward/run.sh
#   GATEWAY_WRAPPER="perf record -g -o /tmp/gw.perf --" tests/bench/forward/run.sh   # profile
#   ROUNDS=3 tests/bench/forward/run.sh    # gateway and nginx alternate, 3 rounds each, medians
#   PROFILE=after tests/bench/forward/run.sh   # also counts per request (below), root only
#   REFERENCE=main ROUNDS=5 tests/bench/forward/run.sh   # this tree against another revision
#   REFERENCE=main REFERENCE_BIN=/tmp/gw-main GATEWAY_BIN=/tmp/gw-new tests/bench/forward/run.sh
#                                          # the same with both gateways already built
#
# PROFILE=<name> adds, for the gateway and the nginx proxy each under the same wrk load of
# PROFILE_SECONDS (default 5): syscalls per request by name (strace -c -f on every thread or
# worker), CPU time, context switches and allocations per request (perf stat; allocations are
# uprobes on mimalloc's entry points in the gateway and on libc's malloc family in nginx), and a
# flame graph of the gateway (perf record -g, flamegraph.py) written to
# tests/bench/forward/flame-<name>.svg. Counts per request do not depend on how loaded the
# machine is, unlike the timings; strace slows both sides, so its pass is separate.
#
# With REFERENCE=<git revision>, that revision's gateway is built too (from `git archive`, in the
# temp dir, same target dir) and runs beside this tree's over the same target, the two measured
# alternately ROUNDS times (default 3) so that the load of a shared machine hits both alike; it
# prints each round and this tree's median ratios to the reference.
#
# Everything it starts lives in a temp dir and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
BODY=${BODY:-'{"ok":true,"from":"mtls-target"}'}
NGINX=${NGINX:-/usr/sbin/nginx}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
command -v wrk >/dev/null || { echo "wrk missing: run scripts/install-test-deps.sh" >&2; exit 1; }
[ -x "$NGINX" ] || { echo "nginx missing: run scripts/install-test-deps.sh" >&2; exit 1; }

WORK=$(mktemp -d /tmp/mtls-fwd-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The reference first: both builds leave their binary at the same path, so each is copied away.
REFERENCE=${REFERENCE:-}
ROUNDS=${ROUNDS:-3}
if [ -n "$REFERENCE" ] && [ -n "${REFERENCE_BIN:-}" ]; then  # REFERENCE_BIN=path: already built
  cp "$REFERENCE_BIN" "$WORK/reference-gateway"
elif [ -n "$REFERENCE" ]; then
  mkdir "$WORK/reference-src"
  git archive --format=tar "$REFERENCE" | tar -x -C "$WORK/reference-src"
  # The archive's files carry the commit's time, older than this tree's last build in the shared
  # target dir: cargo would take the workspace crates as fresh and hand back this tree's binary.
  find "$WORK/reference-src" -type f -exec touch {} +
  (cd "$WORK/reference-src" && cargo build --release -q -p mtls-server)
  cp "$CARGO_TARGET_DIR/release/mtls-server" "$WORK/reference-gateway"
  # And back: now the reference's build is the newer one, so this tree's crates must look changed.
  touch "$ROOT"/sdk/src/lib.rs "$ROOT"/server/src/lib.rs "$ROOT"/server/src/main.rs
fi
if [ -z "${GATEWAY_BIN:-}" ]; then  # GATEWAY_BIN=path: an already built gateway
  cargo build --release -q -p mtls-server
  cp "$CARGO_TARGET_DIR/release/mtls-server" "$WORK/gateway"
  GATEWAY_BIN=$WORK/gateway
fi
if [ -n "$REFERENCE" ] && cmp -s "$GATEWAY_BIN" "$WORK/reference-gateway"; then
  echo "this tree and $REFERENCE built the same binary: nothing to compare" >&2; exit 1
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on $1" >&2; return 1
}

# --- PKI: CA, server certificate for 127.0.0.1, client certificate (+ P12) ---
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

TARGET_PORT=$(free_port); PROXY_PORT=$(free_port); PLAIN_PORT=$(free_port); GATEWAY_PORT=$(free_port)

# --- nginx: the mTLS target in one process (one worker, the same for every run); nginx as the
# forwarding proxy and the plain-HTTP ceiling in another, with as many workers as the gateway has
# (one per core). Separate processes, so that the proxy's hop to the target crosses processes as
# the gateway's does, rather than staying inside one nginx worker. ---
PROXY_WORKERS=${PROXY_WORKERS:-$(nproc)}
nginx_conf() {  # name, worker count, server blocks
  mkdir -p "nginx-$1"
  cat > "nginx-$1/nginx.conf" <<CONF
daemon off;
worker_processes $2;
pid $WORK/nginx-$1/nginx.pid;
error_log $WORK/nginx-$1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx-$1/body; proxy_temp_path $WORK/nginx-$1/proxy;
  fastcgi_temp_path $WORK/nginx-$1/fcgi; uwsgi_temp_path $WORK/nginx-$1/uwsgi; scgi_temp_path $WORK/nginx-$1/scgi;
  keepalive_requests 1000000;
$3
}
CONF
  "$NGINX" -e "$WORK/nginx-$1/error.log" -p "$WORK/nginx-$1" -c "$WORK/nginx-$1/nginx.conf" &
  PIDS+=($!)
}
nginx_conf target 1 "
  server {  # the mTLS target
    listen 127.0.0.1:$TARGET_PORT ssl;
    ssl_certificate $WORK/server.pem; ssl_certificate_key $WORK/server.key;
    ssl_client_certificate $WORK/ca.pem; ssl_verify_client on;
    location / { default_type application/json; return 200 '$BODY'; }
  }"
nginx_conf proxy "$PROXY_WORKERS" "
  upstream mtls_target { server 127.0.0.1:$TARGET_PORT; keepalive 64; }
  server {  # nginx as the forwarding proxy, presenting the client certificate
    listen 127.0.0.1:$PROXY_PORT;
    location / {
      proxy_pass https://mtls_target;
      proxy_http_version 1.1; proxy_set_header Connection \"\";
      proxy_ssl_certificate $WORK/client.pem; proxy_ssl_certificate_key $WORK/client.key;
      proxy_ssl_trusted_certificate $WORK/ca.pem; proxy_ssl_verify on; proxy_ssl_name localhost;
      proxy_ssl_session_reuse on;
    }
  }
  server {  # the ceiling: plain loopback HTTP
    listen 127.0.0.1:$PLAIN_PORT;
    location / { default_type application/json; return 200 '$BODY'; }
  }"
PROXY_NGINX_PID=${PIDS[-1]}

# --- the gateway (and the reference's, when asked) ---
ADMIN=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
TARGET_URL=https://127.0.0.1:$TARGET_PORT/api
P12=$(base64 -w0 client.p12)
start_gateway() {  # name, binary, port; sets STARTED_PID
  MTLS_LISTEN=127.0.0.1:$3 MTLS_ADMIN_TOKEN=$ADMIN MTLS_STORE=embedded MTLS_DATA_DIR=$WORK/data-$1 \
  MTLS_ALLOWED_TARGET_CIDRS=127.0.0.0/8 MTLS_EXTRA_TARGET_CA_FILE=$WORK/ca.pem \
  MTLS_RATE_LIMIT_PER_SECOND=100000000 MTLS_RATE_LIMIT_BURST=100000000 RUST_LOG=warn \
    ${GATEWAY_WRAPPER:-} "$2" > "$WORK/$1.log" 2>&1 &
  STARTED_PID=$!
  PIDS+=($STARTED_PID)
}
provision() {  # base URL; sets TOKEN and CERT_ID (a token, the certificate, a mapping to the target)
  TOKEN=$(curl -sf -X POST "$1/admin/tokens" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    -d '{"sub":"bench","accounts":["bench"],"ttlSeconds":3600}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')
  CERT_ID=$(curl -sf -X POST "$1/mtls/account/bench/certificates" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -d "[{\"name\":\"bench\",\"p12\":\"$P12\",\"password\":\"bench-pass\"}]" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["successfulySavedCertificates"][0]["id"])')
  curl -sf -o /dev/null -X POST "$1/api/account/bench/configuration/ac-common/mtls?v=3.0" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' \
    -d "[{\"certificationId\":$CERT_ID,\"serviceId\":\"1\",\"url\":\"$TARGET_URL\",\"name\":\"bench\",\"enable\":true}]"
}
start_gateway gateway "$GATEWAY_BIN" "$GATEWAY_PORT"
GATEWAY_PID=$STARTED_PID
wait_port "$TARGET_PORT"; wait_port "$PROXY_PORT"; wait_port "$PLAIN_PORT"; wait_port "$GATEWAY_PORT"
GW=http://127.0.0.1:$GATEWAY_PORT
provision "$GW"

# Sanity: all three answer the target's body, and the gateway and nginx presented the certificate.
check() { local got; got=$(curl -s "$@"); [ "$got" = "$BODY" ] || { echo "unexpected answer from $*: $got" >&2; tail -5 "$WORK/gateway.log" "$WORK"/nginx-*/error.log >&2; exit 1; }; }
GW_HEADERS=(-H "Authorization: Bearer $TOKEN" -H "LP-forward-url: $TARGET_URL" -H "LP-service-name: IDP")
check "${GW_HEADERS[@]}" "$GW/mtls/account/bench"
check "http://127.0.0.1:$PROXY_PORT/api"
check "http://127.0.0.1:$PLAIN_PORT/api"
curl -sfi "${GW_HEADERS[@]}" "$GW/mtls/account/bench" | grep -qi "^lp-certificate-id: $CERT_ID" \
  || { echo "gateway did not present the certificate" >&2; exit 1; }
if [ -n "$REFERENCE" ]; then
  REF_PORT=$(free_port)
  start_gateway reference "$WORK/reference-gateway" "$REF_PORT"
  REF_PID=$STARTED_PID
  wait_port "$REF_PORT"
  REF=http://127.0.0.1:$REF_PORT
  provision "$REF"
  REF_HEADERS=(-H "Authorization: Bearer $TOKEN" -H "LP-forward-url: $TARGET_URL" -H "LP-service-name: IDP")
  check "${REF_HEADERS[@]}" "$REF/mtls/account/bench"
  curl -sfi "${REF_HEADERS[@]}" "$REF/mtls/account/bench" | grep -qi "^lp-certificate-id: $CERT_ID" \
    || { echo "the reference gateway did not present the certificate" >&2; exit 1; }
fi

# --- load ---
# CPU time (user + system, clock ticks) of processes and their children (nginx workers).
cpu_ticks() {
  local total=0 pid
  for pid in "$@" $(for p in "$@"; do pgrep -P "$p"; done); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
# Context switches (voluntary + involuntary) of every thread of the processes and their children.
switches() {
  local pid
  for pid in "$@" $(for p in "$@"; do pgrep -P "$p"; done); do
    cat /proc/"$pid"/task/*/status 2>/dev/null
  done | awk '/ctxt_switches/ {n += $2} END {print n + 0}'
}
# wrk prints p50/p99; this adds p99.9 (microseconds) to its report.
cat > "$WORK/p999.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("p99.9_us %d\n", latency:percentile(99.9)))
end
LUA
run() {  # name, pid of the proxy under load (its CPU per request is reported), wrk args...
  local name=$1 pid=$2; shift 2
  local before switched; before=$(cpu_ticks "$pid"); switched=$(switches "$pid")
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/p999.lua" "$@" > "$WORK/$name.wrk" 2>&1
  python3 - "$WORK/$name.wrk" "$name" "$(( $(cpu_ticks "$pid") - before ))" "$(getconf CLK_TCK)" \
    "$(( $(switches "$pid") - switched ))" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"\s50%\s+(\S+)", text).group(1))
p99 = ms(re.search(r"\s99%\s+(\S+)", text).group(1))
p999 = int(re.search(r"p99.9_us (\d+)", text).group(1)) / 1000
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
sock = re.search(r"Socket errors: (.*)", text)
count = int(re.search(r"(\d+) requests in", text).group(1))
cpu_us = int(sys.argv[3]) / int(sys.argv[4]) * 1e6 / max(count, 1)
switches = int(sys.argv[5]) / max(count, 1)
print(f"{sys.argv[2]} {rps:.0f} {p50:.3f} {p99:.3f} {p999:.3f} {errors.group(1) if errors else 0} {'yes' if sock else 'no'} {cpu_us:.1f} {switches:.2f}")
PY
}
rss_kb() {  # resident memory of processes and their children, kB
  local pid
  for pid in "$@" $(for p in "$@"; do pgrep -P "$p"; done); do
    awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null
  done | awk '{n += $1} END {print n + 0}'
}
echo "warming up..." >&2
wrk -t1 -c4 -d2s "${GW_HEADERS[@]}" "$GW/mtls/account/bench" >/dev/null
wrk -t1 -c4 -d2s "http://127.0.0.1:$PROXY_PORT/api" >/dev/null
# Alternating rounds, so that a change of load on the machine hits both sides alike.
RESULTS=$(
  for _ in $(seq 1 "$ROUNDS"); do
    run gateway "$GATEWAY_PID" "${GW_HEADERS[@]}" "$GW/mtls/account/bench"
    run nginx-proxy "$PROXY_NGINX_PID" "http://127.0.0.1:$PROXY_PORT/api"
  done
  run plain-http "$PROXY_NGINX_PID" "http://127.0.0.1:$PLAIN_PORT/api"
)
RSS_KB=$(rss_kb "$GATEWAY_PID")
NGINX_RSS_KB=$(rss_kb "$PROXY_NGINX_PID")

python3 - "$DURATION" "$CONNECTIONS" "$THREADS" "$RSS_KB" "$NGINX_RSS_KB" "$ROUNDS" <<PY
import os, statistics, sys
rows = [l.split() for l in """$RESULTS""".strip().splitlines()]
runs = {}
for name, *values in rows:
    runs.setdefault(name, []).append([float(v) if v not in ("yes", "no") else (v == "yes") for v in values])
# Medians over the rounds, column by column.
r = {name: [statistics.median(col) for col in zip(*vals)] for name, vals in runs.items()}
d, c, t, rss, nginx_rss, rounds = sys.argv[1:7]
print(f"forward benchmark: {rounds} alternating rounds of {d}s, {c} connections, {t} wrk threads, 127.0.0.1, "
      f"{os.cpu_count()} cores shared by all, load average {os.getloadavg()[0]:.1f}")
print(f"target: nginx, 1 worker; gateway: {os.cpu_count()} workers; nginx proxy: $PROXY_WORKERS workers; medians")
print(f"{'':28} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'non-2xx':>8} {'sock err':>8} {'CPU us/req':>10} {'switch/req':>10}")
label = {"gateway": "gateway -> mTLS nginx", "nginx-proxy": "nginx proxy -> mTLS nginx", "plain-http": "plain loopback HTTP"}
for name in ("gateway", "nginx-proxy", "plain-http"):
    rps, p50, p99, p999, bad, sock, cpu, cs = r[name]
    print(f"{label[name]:28} {rps:10.0f} {p50:8.3f} {p99:8.3f} {p999:9.3f} {bad:8.0f} {'yes' if sock else 'no':>8} {cpu:10.1f} {cs:10.2f}")
g, n, p = r["gateway"], r["nginx-proxy"], r["plain-http"]
print(f"gateway/nginx-proxy: throughput {g[0]/n[0]:.2f}x, p50 {g[1]/n[1]:.2f}x, p99 {g[2]/n[2]:.2f}x, "
      f"p99.9 {g[3]/n[3]:.2f}x, CPU per request {g[6]/n[6]:.2f}x")
print("  per round, gateway/nginx throughput: " + " ".join(f"{a[0]/b[0]:.2f}" for a, b in zip(runs["gateway"], runs["nginx-proxy"])))
print(f"gateway/plain-http:  throughput {g[0]/p[0]:.2f}x; nginx-proxy/plain-http: {n[0]/p[0]:.2f}x")
print(f"RSS after the runs: gateway {rss} kB, nginx proxy (master + workers) {nginx_rss} kB, ratio {int(rss)/max(int(nginx_rss),1):.2f}x")
PY

if [ -n "$REFERENCE" ]; then
# --- this tree against the reference, alternately (each run DURATION seconds) ---
wrk -t1 -c4 -d2s "${REF_HEADERS[@]}" "$REF/mtls/account/bench" >/dev/null
ROUND_RESULTS=$(
  for round in $(seq 1 "$ROUNDS"); do
    run "gateway-$round" "$GATEWAY_PID" "${GW_HEADERS[@]}" "$GW/mtls/account/bench"
    run "reference-$round" "$REF_PID" "${REF_HEADERS[@]}" "$REF/mtls/account/bench"
  done
)
python3 - "$REFERENCE" "$(git -C "$ROOT" rev-parse --short "$REFERENCE")" <<PY
import statistics, sys
rows = [l.split() for l in """$ROUND_RESULTS""".strip().splitlines()]
print(f"\nthis tree vs {sys.argv[1]} ({sys.argv[2]}), alternating, {len(rows)//2} rounds; the machine is shared,")
print("so only the ratios of runs measured side by side mean anything:")
print(f"{'':14} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'non-2xx':>8} {'CPU us/req':>10}")
ratios = {"throughput": [], "p50": [], "p99": [], "p99.9": [], "CPU per request": []}
for mine, ref in zip(rows[0::2], rows[1::2]):
    for row in (mine, ref):
        print(f"{row[0]:14} {float(row[1]):10.0f} {float(row[2]):8.3f} {float(row[3]):8.3f} {float(row[4]):9.3f} {row[5]:>8} {float(row[7]):10.1f}")
    ratios["throughput"].append(float(mine[1]) / float(ref[1]))
    ratios["p50"].append(float(mine[2]) / float(ref[2]))
    ratios["p99"].append(float(mine[3]) / float(ref[3]))
    ratios["p99.9"].append(float(mine[4]) / float(ref[4]))
    ratios["CPU per request"].append(float(mine[7]) / float(ref[7]))
print("this tree / reference, median of the rounds (per round in brackets):")
for name, values in ratios.items():
    print(f"  {name:16} {statistics.median(values):.2f}x  [{', '.join(f'{v:.2f}' for v in values)}]")
PY
fi

[ -n "${PROFILE:-}" ] || exit 0
. "$ROOT/tests/bench/forward/profile.sh"
