#!/usr/bin/env bash
# A local scale-out layout on 127.0.0.1 (SPEC section 13): three OpenBao nodes with integrated Raft
# storage (retry_join, autopilot), two or more gateways each pointed at a *standby* node, and nginx
# in front of the gateways.
#
#   scripts/cluster.sh start     # init, unseal, KV v2 + AppRole, gateways, nginx; prints the addresses
#   scripts/cluster.sh status    # each node's role, each gateway's /readyz, nginx
#   scripts/cluster.sh leader    # "<node number> <pid> <address>" of the active node
#   scripts/cluster.sh stop      # stops everything it started (logs stay in the cluster dir)
#
# Settings (environment):
#   CLUSTER_DIR        state, logs and cluster.env (default /tmp/mtls-cluster)
#   CLUSTER_BASE_PORT  first port (default 18200): node n listens on BASE+2(n-1) (API) and the port
#                      after it (Raft/cluster); gateway g on BASE+10+g; nginx on BASE+20
#   CLUSTER_GATEWAYS   number of gateways (default 2; 0: only the OpenBao nodes, no nginx)
#   GATEWAY_BIN        the gateway binary (default: target/release/mtls-server if built, else debug)
#   BAO_BIN, NGINX     the OpenBao and nginx binaries (default `bao` from PATH, /usr/sbin/nginx)
#   MTLS_*             passed on to the gateways (e.g. MTLS_ALLOWED_TARGET_CIDRS); the script sets
#                      MTLS_STORE, VAULT_ADDR, the AppRole, MTLS_LISTEN, MTLS_ADMIN_TOKEN and
#                      MTLS_TRUSTED_PROXIES itself
#
# `start` writes $CLUSTER_DIR/cluster.env (shell variables: NODE_ADDRS, GATEWAY_URLS, LB_URL,
# ADMIN_TOKEN, ROOT_TOKEN, UNSEAL_KEY, ...) for tests and benchmarks to source. Every wait is
# bounded; a start that does not come up in time stops what it started and exits non-zero.
set -Eeuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=${CLUSTER_DIR:-/tmp/mtls-cluster}
BASE=${CLUSTER_BASE_PORT:-18200}
GATEWAYS=${CLUSTER_GATEWAYS:-2}
BAO=${BAO_BIN:-bao}
NGINX=${NGINX:-/usr/sbin/nginx}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
NODES=3
# status, leader and stop use the ports and gateway count the last start used.
if [ "${1:-}" != start ] && [ -f "$DIR/layout" ]; then
  # shellcheck disable=SC1091
  . "$DIR/layout"
fi

node_api_port() { echo $((BASE + 2 * ($1 - 1))); }
node_cluster_port() { echo $((BASE + 2 * ($1 - 1) + 1)); }
node_addr() { echo "http://127.0.0.1:$(node_api_port "$1")"; }
gateway_port() { echo $((BASE + 10 + $1)); }
lb_port() { echo $((BASE + 20)); }

log() { echo "cluster: $*" >&2; }
die() {
  log "$*"
  if [ "${STARTING:-0}" = 1 ]; then log "start failed; logs in $DIR"; STARTING=0; stop_all; fi
  exit 1
}

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
  local seconds=$1; shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# HTTP status of GET $1 (000 when nothing answers).
http_status() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" || true; }

# The node's HA role from sys/health: active, standby, sealed, uninitialized or down.
node_role() {
  case $(http_status "$(node_addr "$1")/v1/sys/health") in
    200) echo active ;;
    429 | 473) echo standby ;;
    503) echo sealed ;;
    501) echo uninitialized ;;
    *) echo down ;;
  esac
}

bao_cli() {  # node, args...: the CLI against one node with the root token
  local node=$1; shift
  VAULT_ADDR=$(node_addr "$node") BAO_ADDR=$(node_addr "$node") \
    BAO_TOKEN=${ROOT_TOKEN:-} VAULT_TOKEN=${ROOT_TOKEN:-} "$BAO" "$@"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

leader_node() {
  local n
  for n in $(seq 1 $NODES); do
    if [ "$(node_role "$n")" = active ]; then echo "$n"; return 0; fi
  done
  return 1
}

start_node() {
  local n=$1 peers="" p
  mkdir -p "$DIR/node$n/data"
  for p in $(seq 1 $NODES); do
    [ "$p" = "$n" ] || peers+="  retry_join { leader_api_addr = \"$(node_addr "$p")\" }"$'\n'
  done
  cat > "$DIR/node$n/config.hcl" <<HCL
storage "raft" {
  path    = "$DIR/node$n/data"
  node_id = "node$n"
  # Election and heartbeat timeouts as in production (the default, 5, is for slow machines).
  performance_multiplier = 1
$peers}
listener "tcp" {
  address         = "127.0.0.1:$(node_api_port "$n")"
  cluster_address = "127.0.0.1:$(node_cluster_port "$n")"
  tls_disable     = true
}
api_addr      = "$(node_addr "$n")"
cluster_addr  = "https://127.0.0.1:$(node_cluster_port "$n")"
ui            = false
HCL
  # setsid: a signal to the caller's process group (Ctrl-C on a test) does not reach the node.
  setsid "$BAO" server -config="$DIR/node$n/config.hcl" > "$DIR/node$n/server.log" 2>&1 < /dev/null &
  echo $! > "$DIR/node$n/pid"
}

gateway_bin() {
  if [ -n "${GATEWAY_BIN:-}" ]; then echo "$GATEWAY_BIN"
  elif [ -x "$TARGET/release/mtls-server" ]; then echo "$TARGET/release/mtls-server"
  elif [ -x "$TARGET/debug/mtls-server" ]; then echo "$TARGET/debug/mtls-server"
  else
    cargo build -q -p mtls-server >&2
    echo "$TARGET/debug/mtls-server"
  fi
}

start_gateway() {  # number, VAULT_ADDR, role id, secret id
  local g=$1
  mkdir -p "$DIR/gateway$g"
  env MTLS_STORE=vault VAULT_ADDR="$2" VAULT_ROLE_ID="$3" VAULT_SECRET_ID="$4" \
    MTLS_LISTEN="127.0.0.1:$(gateway_port "$g")" MTLS_ADMIN_TOKEN="$ADMIN_TOKEN" \
    MTLS_TRUSTED_PROXIES=127.0.0.1/32 MTLS_DATA_DIR="$DIR/gateway$g/data" \
    setsid "$GATEWAY" > "$DIR/gateway$g/gateway.log" 2>&1 < /dev/null &
  echo $! > "$DIR/gateway$g/pid"
}

start_nginx() {
  local servers="" g
  for g in $(seq 1 "$GATEWAYS"); do servers+="    server 127.0.0.1:$(gateway_port "$g") max_fails=1 fail_timeout=2s;"$'\n'; done
  mkdir -p "$DIR/nginx"
  cat > "$DIR/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $DIR/nginx/nginx.pid;
error_log $DIR/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $DIR/nginx/body; proxy_temp_path $DIR/nginx/proxy;
  fastcgi_temp_path $DIR/nginx/fcgi; uwsgi_temp_path $DIR/nginx/uwsgi; scgi_temp_path $DIR/nginx/scgi;
  client_max_body_size 16m;
  upstream gateways {
$servers    keepalive 64;
  }
  server {
    listen 127.0.0.1:$(lb_port);
    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header Host \$host;
      proxy_request_buffering off;
      proxy_buffering off;
      # A gateway that is down is skipped; a request that reached a gateway is never replayed on
      # another (nginx never retries non-idempotent methods without "non_idempotent").
      proxy_next_upstream error timeout;
      proxy_connect_timeout 2s;
      proxy_read_timeout 60s;
    }
  }
}
CONF
  setsid "$NGINX" -e "$DIR/nginx/error.log" -p "$DIR/nginx" -c "$DIR/nginx/nginx.conf" < /dev/null \
    > "$DIR/nginx/stdout.log" 2>&1 &
  echo $! > "$DIR/nginx/pid"
}

stop_all() {
  local f
  for f in "$DIR"/nginx/pid "$DIR"/gateway*/pid "$DIR"/node*/pid; do
    [ -f "$f" ] || continue
    if pid_alive "$f"; then kill "$(cat "$f")" 2>/dev/null || true; fi
  done
  # Bounded wait for them to exit, then SIGKILL what is left.
  local deadline=$((SECONDS + 10))
  for f in "$DIR"/nginx/pid "$DIR"/gateway*/pid "$DIR"/node*/pid; do
    [ -f "$f" ] || continue
    while pid_alive "$f" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if pid_alive "$f"; then kill -9 "$(cat "$f")" 2>/dev/null || true; fi
    rm -f "$f"
  done
}

cmd_start() {
  command -v "$BAO" > /dev/null || die "bao missing: run scripts/install-test-deps.sh"
  [ -x "$NGINX" ] || die "nginx missing: run scripts/install-test-deps.sh"
  for f in "$DIR"/nginx/pid "$DIR"/gateway*/pid "$DIR"/node*/pid; do
    if pid_alive "$f"; then die "already running in $DIR (scripts/cluster.sh stop first)"; fi
  done
  if [ "$GATEWAYS" -gt 0 ]; then
    GATEWAY=$(gateway_bin)
    [ -x "$GATEWAY" ] || die "no gateway binary at $GATEWAY"
  fi
  rm -rf "$DIR"; mkdir -p "$DIR"
  printf 'BASE=%s\nGATEWAYS=%s\n' "$BASE" "$GATEWAYS" > "$DIR/layout"
  STARTING=1
  trap 'if [ "$STARTING" = 1 ]; then die "a step failed"; fi' EXIT
  local t0=$SECONDS n g

  for n in $(seq 1 $NODES); do start_node "$n"; done
  for n in $(seq 1 $NODES); do
    wait_for 30 bash -c "[ \"\$(curl -s -o /dev/null -m 2 -w '%{http_code}' $(node_addr "$n")/v1/sys/health)\" != 000 ]" \
      || die "node $n did not listen (see $DIR/node$n/server.log)"
  done

  # Node 1 is initialised (one unseal key: a local cluster, not a production ceremony); nodes 2
  # and 3 join it through retry_join as soon as they are given the unseal key.
  local init
  init=$(bao_cli 1 operator init -key-shares=1 -key-threshold=1 -format=json)
  UNSEAL_KEY=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["unseal_keys_b64"][0])' <<< "$init")
  ROOT_TOKEN=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["root_token"])' <<< "$init")
  bao_cli 1 operator unseal "$UNSEAL_KEY" > /dev/null
  wait_for 30 bash -c "[ \"\$(curl -s -o /dev/null -m 2 -w '%{http_code}' $(node_addr 1)/v1/sys/health)\" = 200 ]" \
    || die "node 1 did not become active"
  for n in 2 3; do
    wait_for 30 bash -c "VAULT_ADDR=$(node_addr "$n") BAO_ADDR=$(node_addr "$n") '$BAO' operator unseal '$UNSEAL_KEY' >/dev/null 2>&1 && \
      [ \"\$(curl -s -o /dev/null -m 2 -w '%{http_code}' $(node_addr "$n")/v1/sys/health)\" = 429 ]" \
      || die "node $n did not join as a standby (see $DIR/node$n/server.log)"
  done
  # Autopilot promotes a joined node to voter once it has been healthy for its stabilization
  # time (10 s): until then a leader loss could not be survived.
  wait_for 60 bash -c "[ \"\$(VAULT_ADDR=$(node_addr 1) BAO_ADDR=$(node_addr 1) BAO_TOKEN=$ROOT_TOKEN VAULT_TOKEN=$ROOT_TOKEN \
      '$BAO' operator raft list-peers -format=json | python3 -c 'import json,sys; print(sum(1 for s in json.load(sys.stdin)[\"data\"][\"config\"][\"servers\"] if s[\"voter\"]))')\" = $NODES ]" \
    || die "autopilot did not make every node a voter within 60 s"

  # KV v2 and an AppRole with the README's policy: the gateways log in as in production.
  bao_cli 1 secrets enable -path=secret -version=2 kv > /dev/null
  bao_cli 1 auth enable approle > /dev/null
  bao_cli 1 policy write mtls-gateway - > /dev/null <<'HCL'
path "secret/data/mtls/*"     { capabilities = ["create", "read", "update"] }
path "secret/destroy/mtls/*"  { capabilities = ["update"] }
path "secret/metadata/mtls/*" { capabilities = ["read", "list"] }
path "secret/metadata/mtls"   { capabilities = ["list"] }
HCL
  bao_cli 1 write auth/approle/role/mtls-gateway token_policies=mtls-gateway token_ttl=1h token_max_ttl=24h > /dev/null
  local role_id
  role_id=$(bao_cli 1 read -field=role_id auth/approle/role/mtls-gateway/role-id)

  # Each gateway names one standby node (never the active one): it must find the leader itself.
  ADMIN_TOKEN=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  local leader standbys=() urls=()
  leader=$(leader_node) || die "no active node"
  for n in $(seq 1 $NODES); do [ "$n" = "$leader" ] || standbys+=("$n"); done
  for g in $(seq 1 "$GATEWAYS"); do
    local secret_id
    secret_id=$(bao_cli 1 write -f -field=secret_id auth/approle/role/mtls-gateway/secret-id)
    start_gateway "$g" "$(node_addr "${standbys[$(((g - 1) % ${#standbys[@]}))]}")" "$role_id" "$secret_id"
    urls+=("http://127.0.0.1:$(gateway_port "$g")")
  done
  for g in $(seq 1 "$GATEWAYS"); do
    wait_for 60 bash -c "[ \"\$(curl -s -o /dev/null -m 2 -w '%{http_code}' ${urls[$((g - 1))]}/readyz)\" = 200 ]" \
      || die "gateway $g not ready (see $DIR/gateway$g/gateway.log)"
  done
  if [ "$GATEWAYS" -gt 0 ]; then
    start_nginx
    wait_for 20 bash -c "[ \"\$(curl -s -o /dev/null -m 2 -w '%{http_code}' http://127.0.0.1:$(lb_port)/healthz)\" = 200 ]" \
      || die "nginx did not come up (see $DIR/nginx/error.log)"
  fi
  STARTING=0
  trap - EXIT

  local addrs=()
  for n in $(seq 1 $NODES); do addrs+=("$(node_addr "$n")"); done
  umask 077
  cat > "$DIR/cluster.env" <<ENV
CLUSTER_DIR='$DIR'
NODE_ADDRS='${addrs[*]}'
GATEWAY_URLS='${urls[*]}'
GATEWAY_PIDS='$(for g in $(seq 1 "$GATEWAYS"); do printf '%s ' "$(cat "$DIR/gateway$g/pid")"; done)'
LB_URL='http://127.0.0.1:$(lb_port)'
ADMIN_TOKEN='$ADMIN_TOKEN'
ROOT_TOKEN='$ROOT_TOKEN'
UNSEAL_KEY='$UNSEAL_KEY'
ENV
  log "up in $((SECONDS - t0)) s: nodes ${addrs[*]} (active: node $leader)${urls[*]:+; gateways ${urls[*]}; nginx http://127.0.0.1:$(lb_port)}"
  log "variables in $DIR/cluster.env"
}

cmd_status() {
  local n g code
  for n in $(seq 1 $NODES); do echo "node$n $(node_addr "$n") $(node_role "$n")"; done
  for g in $(seq 1 "$GATEWAYS"); do
    code=$(http_status "http://127.0.0.1:$(gateway_port "$g")/readyz")
    echo "gateway$g http://127.0.0.1:$(gateway_port "$g") readyz=$code"
  done
  echo "nginx http://127.0.0.1:$(lb_port) healthz=$(http_status "http://127.0.0.1:$(lb_port)/healthz")"
}

cmd_leader() {
  local n
  n=$(leader_node) || die "no active node"
  echo "$n $(cat "$DIR/node$n/pid") $(node_addr "$n")"
}

case ${1:-} in
  start) cmd_start ;;
  stop) stop_all; log "stopped" ;;
  status) cmd_status ;;
  leader) cmd_leader ;;
  *) echo "usage: $0 start|stop|status|leader" >&2; exit 64 ;;
esac
