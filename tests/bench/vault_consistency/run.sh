#!/usr/bin/env bash
# Benchmark (not a test): read-after-write on a three-node OpenBao Raft cluster (scripts/cluster.sh,
# nodes only), the measurement behind the Vault store's choice of sending every request to the
# active node. For each way of reaching the cluster, N times (default 300): write a KV v2 key, read
# it back at once; counts reads that missed the write and reports write+read latency (p50/p99).
#
#   tests/bench/vault_consistency/run.sh            # N=300
#
# Ways measured: write and read through a standby (what a gateway pointed at a standby did);
# through a standby with the write's X-Vault-Index and X-Vault-Inconsistent: forward-active-node;
# through the active node; write on the active node and read on a standby (another gateway).
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$PWD
N=${N:-300}
WORK=$(mktemp -d /tmp/mtls-consistency.XXXXXX)
trap 'CLUSTER_DIR=$WORK/cluster bash "$ROOT/scripts/cluster.sh" stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
BASE=$(python3 -c '
import random, socket
for _ in range(200):
    base = random.randrange(20000, 60000, 20); socks = []
    try:
        for p in range(base, base + 21):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
        print(base); break
    except OSError: pass
    finally:
        for s in socks: s.close()
')
CLUSTER_DIR=$WORK/cluster CLUSTER_BASE_PORT=$BASE CLUSTER_GATEWAYS=0 bash scripts/cluster.sh start
# shellcheck disable=SC1091
. "$WORK/cluster/cluster.env"
read -r LEADER _ LEADER_ADDR <<< "$(CLUSTER_DIR=$WORK/cluster bash scripts/cluster.sh leader)"
STANDBY_ADDR=
for addr in $NODE_ADDRS; do [ "$addr" = "$LEADER_ADDR" ] || { STANDBY_ADDR=$addr; break; }; done
ROOT_TOKEN=$ROOT_TOKEN python3 - "$LEADER_ADDR" "$STANDBY_ADDR" "$N" << 'PY'
import http.client, json, os, sys, time, urllib.parse
token = os.environ["ROOT_TOKEN"]
active, standby, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
conns = {}
def req(addr, method, path, body=None, headers=None):
    u = urllib.parse.urlparse(addr)
    c = conns.setdefault(addr, http.client.HTTPConnection(u.hostname, u.port))
    h = {"X-Vault-Token": token, **(headers or {})}
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = c.getresponse(); data = r.read()
    return r.status, r.getheader("X-Vault-Index"), json.loads(data) if data else None
def run(label, write_to, read_from, index_forward=False):
    missed, lat = 0, []
    for i in range(n):
        t0 = time.perf_counter()
        status, index, body = req(write_to, "POST", f"/v1/secret/data/consistency/{label}", {"data": {"i": i}})
        assert status == 200, (status, body)
        version = body["data"]["version"]
        headers = {"X-Vault-Index": index, "X-Vault-Inconsistent": "forward-active-node"} if index_forward else {}
        status, _, body = req(read_from, "GET", f"/v1/secret/data/consistency/{label}", headers=headers)
        lat.append(time.perf_counter() - t0)
        if status != 200 or body["data"]["metadata"]["version"] != version:
            missed += 1
    lat.sort()
    print(f"{label:36} reads missing the write {missed:4}/{n}   write+read p50 {lat[n // 2] * 1000:7.2f} ms  p99 {lat[int(n * .99)] * 1000:7.2f} ms")
print(f"OpenBao read-after-write, 3 Raft nodes on 127.0.0.1 ({os.cpu_count()} cores shared by all)")
run("standby-write-standby-read", standby, standby)
run("standby-with-index-forward-active", standby, standby, index_forward=True)
run("active-write-active-read", active, active)
run("active-write-standby-read", active, standby)
PY
