#!/usr/bin/env bash
# Soak (a benchmark, not a test): forwarding at half the measured peak rate for SOAK_SECONDS
# (default 600) through nginx and two gateways (release build) over a three-node OpenBao Raft
# cluster (scripts/cluster.sh), to an mTLS nginx target. Every SAMPLE_SECONDS (default 30) it
# records the rate reached, non-2xx answers, socket errors, p50/p99 latency and the RSS of each
# gateway, and writes a report (REPORT, default tests/bench/soak/last-report.txt).
#
#   tests/bench/soak/run.sh
#   SOAK_SECONDS=60 SAMPLE_SECONDS=10 tests/bench/soak/run.sh      # a short run
#
# The peak is measured first, in the same run, with wrk (PEAK_SECONDS, default 15, CONNECTIONS
# connections, default 32). The soak keeps the same connections and paces each one with wrk's
# Lua `delay()` (wrk2 is not packaged; the pacing ignores response time, so the rate reached is
# reported beside the rate asked for). Samples are consecutive wrk runs, so connections are
# re-opened every SAMPLE_SECONDS. Everything lives in a temp dir, stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
SOAK_SECONDS=${SOAK_SECONDS:-600}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-30}
PEAK_SECONDS=${PEAK_SECONDS:-15}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
REPORT=${REPORT:-$ROOT/tests/bench/soak/last-report.txt}
NGINX=${NGINX:-/usr/sbin/nginx}
BODY='{"ok":true,"from":"mtls-target"}'
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
command -v wrk > /dev/null || { echo "wrk missing: run scripts/install-test-deps.sh" >&2; exit 1; }
[ -x "$NGINX" ] || { echo "nginx missing: run scripts/install-test-deps.sh" >&2; exit 1; }

if [ -z "${GATEWAY_BIN:-}" ]; then
  cargo build --release -q -p mtls-server
  GATEWAY_BIN=$CARGO_TARGET_DIR/release/mtls-server
fi

WORK=$(mktemp -d /tmp/mtls-soak.XXXXXX)
TARGET_PID=
cleanup() {
  CLUSTER_DIR=$WORK/cluster bash "$ROOT/scripts/cluster.sh" stop > /dev/null 2>&1 || true
  [ -n "$TARGET_PID" ] && kill "$TARGET_PID" 2> /dev/null || true
  wait 2> /dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
free_block() {  # a base port with 21 free ports after it
  python3 - << 'PY'
import random, socket
for _ in range(200):
    base = random.randrange(20000, 60000, 20)
    socks = []
    try:
        for p in range(base, base + 21):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
        print(base); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
PY
}

# --- PKI and the mTLS target (nginx, one worker) ---
cd "$WORK"
ossl() { openssl "$@" > /dev/null 2>&1; }
ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
ossl req -x509 -new -key ca.key -subj "/CN=Soak CA" -days 7 -addext basicConstraints=critical,CA:TRUE -out ca.pem
for who in server client; do
  ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $who.key
  ossl req -new -key $who.key -subj "/CN=soak-$who" -out $who.csr
done
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n' > client.ext
for who in server client; do
  ossl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 7 -extfile $who.ext -out $who.pem
done
ossl pkcs12 -export -inkey client.key -in client.pem -passout pass:soak-pass -out client.p12
TARGET_PORT=$(free_port)
mkdir -p target
cat > target/nginx.conf << CONF
daemon off;
worker_processes 1;
pid $WORK/target/nginx.pid;
error_log $WORK/target/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/target/body; proxy_temp_path $WORK/target/proxy;
  fastcgi_temp_path $WORK/target/fcgi; uwsgi_temp_path $WORK/target/uwsgi; scgi_temp_path $WORK/target/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$TARGET_PORT ssl;
    ssl_certificate $WORK/server.pem; ssl_certificate_key $WORK/server.key;
    ssl_client_certificate $WORK/ca.pem; ssl_verify_client on;
    location / { default_type application/json; return 200 '$BODY'; }
  }
}
CONF
"$NGINX" -e "$WORK/target/error.log" -p "$WORK/target" -c "$WORK/target/nginx.conf" &
TARGET_PID=$!

# --- the cluster: three OpenBao nodes, two gateways on standbys, nginx in front ---
CLUSTER_DIR=$WORK/cluster CLUSTER_BASE_PORT=$(free_block) CLUSTER_GATEWAYS=2 GATEWAY_BIN=$GATEWAY_BIN \
MTLS_ALLOWED_TARGET_CIDRS=127.0.0.0/8 MTLS_EXTRA_TARGET_CA_FILE=$WORK/ca.pem \
MTLS_RATE_LIMIT_PER_SECOND=100000000 MTLS_RATE_LIMIT_BURST=100000000 RUST_LOG=warn \
  bash "$ROOT/scripts/cluster.sh" start
# shellcheck disable=SC1091
. "$WORK/cluster/cluster.env"
LB=$LB_URL

TARGET_URL=https://127.0.0.1:$TARGET_PORT/api
TOKEN=$(curl -sf -X POST "$LB/admin/tokens" -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
  -d '{"sub":"soak","accounts":["soak"],"ttlSeconds":7200}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessToken"])')
P12=$(base64 -w0 client.p12)
CERT_ID=$(curl -sf -X POST "$LB/mtls/account/soak/certificates" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "[{\"name\":\"soak\",\"p12\":\"$P12\",\"password\":\"soak-pass\"}]" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["successfulySavedCertificates"][0]["id"])')
curl -sf -o /dev/null -X POST "$LB/api/account/soak/configuration/ac-common/mtls?v=3.0" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' \
  -d "[{\"certificationId\":$CERT_ID,\"serviceId\":\"1\",\"url\":\"$TARGET_URL\",\"name\":\"soak\",\"enable\":true}]"
HEADERS=(-H "Authorization: Bearer $TOKEN" -H "LP-forward-url: $TARGET_URL" -H "LP-service-name: IDP")
got=$(curl -s "${HEADERS[@]}" "$LB/mtls/account/soak")
[ "$got" = "$BODY" ] || { echo "unexpected answer through the cluster: $got" >&2; exit 1; }

# wrk output -> "requests rps p50_ms p99_ms non2xx socket_errors"
parse() {
  python3 - "$1" << 'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
count = int(re.search(r"(\d+) requests in", text).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"\s50%\s+(\S+)", text).group(1))
p99 = ms(re.search(r"\s99%\s+(\S+)", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
print(count, f"{rps:.0f}", f"{p50:.3f}", f"{p99:.3f}", bad.group(1) if bad else 0, sum(map(int, sock.groups())) if sock else 0)
PY
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2> /dev/null || echo 0; }
read -r -a GW_PIDS <<< "$GATEWAY_PIDS"

# --- peak ---
echo "soak: measuring the peak for ${PEAK_SECONDS}s..." >&2
wrk -t1 -c4 -d2s "${HEADERS[@]}" "$LB/mtls/account/soak" > /dev/null
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${PEAK_SECONDS}s" --latency "${HEADERS[@]}" "$LB/mtls/account/soak" > peak.wrk
read -r _ PEAK PEAK_P50 PEAK_P99 PEAK_BAD PEAK_SOCK <<< "$(parse peak.wrk)"
RATE=$((PEAK / 2))
[ "$RATE" -gt 0 ] || { echo "peak rate is 0" >&2; cat peak.wrk >&2; exit 1; }
# Pacing: each wrk thread aims at RATE/THREADS requests a second. A connection first waits
# CONNECTIONS/RATE seconds between requests; the wait then shrinks or grows with the rate the
# thread actually reached (wrk's Lua has only a one-second clock), so response time does not
# lower the rate.
cat > pace.lua << LUA
local target = $RATE / $THREADS
local wait = $CONNECTIONS * 1000 / $RATE
local start, sent
function init(args) start = os.time(); sent = 0 end
function delay()
  sent = sent + 1
  local elapsed = os.time() - start
  if elapsed >= 2 then
    local reached = sent / elapsed
    if reached < target * 0.98 then wait = wait * 0.98 elseif reached > target * 1.02 then wait = wait * 1.02 end
  end
  return wait
end
LUA

# --- soak ---
RSS_START=()
for pid in "${GW_PIDS[@]}"; do RSS_START+=("$(rss_kb "$pid")"); done
SAMPLES=$((SOAK_SECONDS / SAMPLE_SECONDS))
echo "soak: peak $PEAK req/s; ${SOAK_SECONDS}s at $RATE req/s asked, ${SAMPLES} samples of ${SAMPLE_SECONDS}s" >&2
: > samples.txt
for i in $(seq 1 "$SAMPLES"); do
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SAMPLE_SECONDS}s" --latency -s pace.lua "${HEADERS[@]}" "$LB/mtls/account/soak" > sample.wrk
  line="$((i * SAMPLE_SECONDS)) $(parse sample.wrk)"
  for pid in "${GW_PIDS[@]}"; do line+=" $(rss_kb "$pid")"; done
  echo "$line" >> samples.txt
  echo "soak: $line" >&2
done

python3 - "$PEAK" "$PEAK_P50" "$PEAK_P99" "$RATE" "$SOAK_SECONDS" "$SAMPLE_SECONDS" "$CONNECTIONS" "${RSS_START[*]}" "$GATEWAY_BIN" > "$REPORT" << 'PY'
import os, sys
peak, peak_p50, peak_p99, rate, soak, sample, conns, rss_start, binary = sys.argv[1:10]
rows = [l.split() for l in open("samples.txt") if l.strip()]
print(f"soak: {soak}s forwarding through nginx -> 2 gateways ({binary}) -> mTLS nginx target, "
      f"over 3 OpenBao Raft nodes (gateways on standbys); {conns} connections; {os.cpu_count()} cores shared by all")
print(f"peak (same run, unpaced): {peak} req/s, p50 {peak_p50} ms, p99 {peak_p99} ms; soak asked {rate} req/s (half)")
print(f"{'t (s)':>6} {'req/s':>7} {'non-2xx':>8} {'sock err':>8} {'p50 ms':>8} {'p99 ms':>8} {'RSS gw1 kB':>11} {'RSS gw2 kB':>11}")
for r in rows:
    t, count, rps, p50, p99, bad, sock, *rss = r
    print(f"{t:>6} {rps:>7} {bad:>8} {sock:>8} {p50:>8} {p99:>8} " + " ".join(f"{x:>11}" for x in rss))
total = sum(int(r[1]) for r in rows)
bad = sum(int(r[5]) for r in rows)
sock = sum(int(r[6]) for r in rows)
p99s = [float(r[4]) for r in rows]
rss_end = rows[-1][7:]
print(f"total {total} requests, {bad} non-2xx, {sock} socket errors; p99 per sample: min {min(p99s):.3f} ms, "
      f"max {max(p99s):.3f} ms; mean rate {total / (len(rows) * int(sample)):.0f} req/s")
print("RSS (kB) before the soak -> after: " + ", ".join(f"gw{i + 1} {a} -> {b}" for i, (a, b) in enumerate(zip(rss_start.split(), rss_end))))
PY
cat "$REPORT"
