# Sourced by run.sh when PROFILE=<name> is set (needs root for strace, perf and uprobes): counts
# per request for the gateway and the nginx proxy under the same wrk load, and the gateway's
# flame graph. Uses run.sh's variables (WORK, GATEWAY_PID, PROXY_NGINX_PID, GW_HEADERS, ...).
set +e  # best effort: a tool that fails leaves its numbers out, not the rest
PROFILE_SECONDS=${PROFILE_SECONDS:-5}
FLAME_DIR=${FLAME_DIR:-$ROOT/tests/bench/forward}

nginx_workers() { pgrep -P "$PROXY_NGINX_PID"; }
requests_of() { grep -o '[0-9]* requests in' "$1" | cut -d' ' -f1; }

# Allocation probes: uprobes on the allocator entry points, placed by file offset.
file_offset() {  # binary, symbol
  python3 - "$1" "$2" <<'PY'
import subprocess, sys
binary, symbol = sys.argv[1:3]
nm = ["nm", "-D", binary] if ".so" in binary else ["nm", binary]
syms = [l.split() for l in subprocess.run(nm, capture_output=True, text=True).stdout.splitlines()]
addr = next(int(f[0], 16) for f in syms if len(f) == 3 and f[2].split("@")[0] == symbol and f[1] in "TtWw")
for line in subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True).stdout.splitlines():
    f = line.split()
    if f and f[0] == "LOAD":
        off, vaddr, size = int(f[1], 16), int(f[2], 16), int(f[5], 16)
        if vaddr <= addr < vaddr + size:
            print(hex(addr - vaddr + off)); break
PY
}
UPROBES=/sys/kernel/tracing/uprobe_events
GROUP=mtlsbench_${PROFILE//[^a-z0-9]/_}  # one probe group per run, so two runs can overlap
LIBC=$(ldd "$NGINX" | awk '/libc.so/ {print $3}')
probe_events=()
add_probe() {  # event name, binary, symbol
  local offset; offset=$(file_offset "$2" "$3") || return 0
  echo "-:$GROUP/$1" >> "$UPROBES" 2>/dev/null || true  # left by an interrupted run
  if echo "p:$GROUP/$1 $2:$offset" >> "$UPROBES"; then probe_events+=("$GROUP:$1"); fi
}
remove_probes() { for e in "${probe_events[@]}"; do echo "-:${e/:/\/}" >> "$UPROBES" 2>/dev/null || true; done; }
trap 'remove_probes; cleanup' EXIT
for symbol in mi_malloc_aligned mi_zalloc_aligned mi_realloc_aligned; do add_probe "gw_$symbol" "$GATEWAY_BIN" "$symbol"; done
for symbol in malloc calloc realloc; do add_probe "ngx_$symbol" "$LIBC" "$symbol"; done

# Voluntary (the thread blocked: epoll_wait, a lock) and involuntary (preempted) context switches
# of every thread of the processes, one line per thread: "tid:name voluntary involuntary".
thread_switches() {  # pid list (comma separated)
  local pid task
  for pid in ${1//,/ }; do
    for task in /proc/"$pid"/task/*; do
      awk -v id="${task##*/}:$(tr ' ' _ < "$task/comm" 2>/dev/null)" \
        '/^voluntary_ctxt_switches/ {v=$2} /^nonvoluntary_ctxt_switches/ {n=$2} END {print id, v, n}' \
        "$task/status" 2>/dev/null
    done
  done
}
counted() {  # name, pid list (comma separated), wrk args...: perf stat over a wrk run
  local name=$1 pids=$2; shift 2
  local events=task-clock,context-switches,cpu-migrations
  for e in "${probe_events[@]}"; do events+=",$e"; done
  thread_switches "$pids" > "$WORK/$name.threads.before"
  perf stat -x, -e "$events" -p "$pids" -o "$WORK/$name.stat" -- sleep "$((PROFILE_SECONDS + 1))" &
  local stat=$!
  sleep 0.5
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${PROFILE_SECONDS}s" "$@" > "$WORK/$name.count.wrk" 2>&1
  wait "$stat"
  thread_switches "$pids" > "$WORK/$name.threads.after"
}
traced() {  # name, strace -p args, wrk args...: syscalls by name over a wrk run
  local name=$1 targets=$2; shift 2
  # shellcheck disable=SC2086
  strace -c -f -o "$WORK/$name.strace" $targets &
  local tracer=$!
  sleep 1
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${PROFILE_SECONDS}s" "$@" > "$WORK/$name.strace.wrk" 2>&1
  kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true
}

echo "profiling (counts per request)..." >&2
GW_PIDS=$GATEWAY_PID
NGX_PIDS=$(nginx_workers | paste -sd,)
counted gateway "$GW_PIDS" "${GW_HEADERS[@]}" "$GW/mtls/account/bench"
counted nginx-proxy "$NGX_PIDS" "http://127.0.0.1:$PROXY_PORT/api"
traced gateway "-p $GATEWAY_PID" "${GW_HEADERS[@]}" "$GW/mtls/account/bench"
traced nginx-proxy "$(for w in $(nginx_workers); do printf -- '-p %s ' "$w"; done)" "http://127.0.0.1:$PROXY_PORT/api"
# DWARF call graphs: the release build keeps no frame pointers.
perf record -F 499 --call-graph dwarf,16384 -p "$GATEWAY_PID" -o "$WORK/gateway.perf" \
  -- sleep "$((PROFILE_SECONDS + 1))" 2>/dev/null &
RECORDER=$!
sleep 0.5
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${PROFILE_SECONDS}s" "${GW_HEADERS[@]}" "$GW/mtls/account/bench" >/dev/null 2>&1
wait "$RECORDER"
perf script -i "$WORK/gateway.perf" 2>/dev/null \
  | python3 "$ROOT/tests/bench/forward/flamegraph.py" --binary "$GATEWAY_BIN" "gateway forwarding, $PROFILE" \
  > "$FLAME_DIR/flame-$PROFILE.svg"

# Where the gateway's allocations come from: the allocator probes with their call stacks.
ALLOC_EVENTS=$(printf '%s\n' "${probe_events[@]}" | grep ':gw_' | paste -sd,)
# Off by default (ALLOC_STACKS=1): folding thousands of deep DWARF stacks takes minutes.
if [ -n "$ALLOC_EVENTS" ] && [ -n "${ALLOC_STACKS:-}" ]; then
  perf record -m 1024 -e "$ALLOC_EVENTS" --call-graph dwarf,32768 -p "$GATEWAY_PID" -o "$WORK/allocs.perf" \
    -- sleep 3 2>/dev/null >/dev/null &
  RECORDER=$!
  sleep 0.5
  # One connection: few enough events that perf loses none (it warns in allocs.err if it did).
  wrk -t1 -c1 -d2s "${GW_HEADERS[@]}" "$GW/mtls/account/bench" > "$WORK/allocs.wrk" 2>&1
  wait "$RECORDER"
  perf script -i "$WORK/allocs.perf" 2>"$WORK/allocs.err" > "$WORK/allocs.txt"
  cat "$WORK/allocs.err" >&2
fi

python3 - "$WORK" <<'PY'
import re, sys
work = sys.argv[1]
def requests(path):
    return int(re.search(r"(\d+) requests in", open(path).read()).group(1))
def stat(name):
    values = {}
    for line in open(f"{work}/{name}.stat"):
        f = line.strip().split(",")
        if len(f) > 2 and f[0] and not line.startswith("#"):
            try:
                values[f[2]] = float(f[0])
            except ValueError:
                values[f[2]] = 0.0
    return values
def syscalls(name):
    calls, total = {}, 0
    for line in open(f"{work}/{name}.strace"):
        f = line.split()
        if len(f) >= 5 and f[-1] not in ("syscall", "total") and f[0][0].isdigit():
            n = int(f[3]); calls[f[-1]] = n
        if f and f[-1] == "total":
            total = int(f[3])
    return total, calls
rows = {}
for name in ("gateway", "nginx-proxy"):
    n = requests(f"{work}/{name}.count.wrk")
    s = stat(name)
    allocs = sum(v for k, v in s.items() if ":gw_" in k or ":ngx_" in k)
    t = requests(f"{work}/{name}.strace.wrk")
    total, calls = syscalls(name)
    rows[name] = (s.get("task-clock", 0) * 1000 / n, s.get("context-switches", 0) / n, allocs / n, total / t,
                  {k: v / t for k, v in sorted(calls.items(), key=lambda kv: -kv[1])[:8]})
print(f"per request (counts, independent of load)  {'CPU us':>8} {'switches':>9} {'allocs':>8} {'syscalls':>9}")
for name, (cpu, cs, allocs, sc, top) in rows.items():
    print(f"  {name:41} {cpu:8.1f} {cs:9.2f} {allocs:8.1f} {sc:9.2f}")
    print("    " + ", ".join(f"{k} {v:.2f}" for k, v in top.items()))
g, n = rows["gateway"], rows["nginx-proxy"]
print(f"gateway/nginx-proxy: CPU {g[0]/n[0]:.2f}x, syscalls {g[3]/max(n[3],1e-9):.2f}x, switches {g[1]/max(n[1],1e-9):.2f}x")
# Switches per request by thread, voluntary / involuntary (over the perf stat run's requests,
# plus what the 0.5 s before wrk started and after it ended added: nothing under no load).
def threads(path):
    out = {}
    for line in open(path):
        f = line.split()
        if len(f) == 3 and f[1].isdigit() and f[2].isdigit():
            out[f[0]] = (int(f[1]), int(f[2]))
    return out
for name in ("gateway", "nginx-proxy"):
    n = requests(f"{work}/{name}.count.wrk")
    before, after = threads(f"{work}/{name}.threads.before"), threads(f"{work}/{name}.threads.after")
    moved = []
    for tid, (v, i) in after.items():
        v0, i0 = before.get(tid, (0, 0))
        if v - v0 or i - i0:
            moved.append(f"{tid} {(v - v0) / n:.2f}/{(i - i0) / n:.2f}")
    print(f"  {name} switches per request by thread (voluntary/involuntary): " + ", ".join(moved))
PY
echo "flame graph: $FLAME_DIR/flame-$PROFILE.svg" >&2
if [ -s "$WORK/allocs.txt" ]; then
  ALLOCS_PER_REQUEST=$(python3 - "$WORK" <<'PY'
import re, sys
work = sys.argv[1]
n = int(re.search(r"(\d+) requests in", open(f"{work}/gateway.count.wrk").read()).group(1))
total = 0.0
for line in open(f"{work}/gateway.stat"):
    f = line.strip().split(",")
    if len(f) > 2 and ":gw_" in f[2] and f[0].replace(".", "").isdigit():
        total += float(f[0])
print(total / n)
PY
  )
  echo "allocation sites per request (nearest frames outside the allocator and std):" >&2
  python3 "$ROOT/tests/bench/forward/alloc_sites.py" "$GATEWAY_BIN" "$ALLOCS_PER_REQUEST" < "$WORK/allocs.txt" \
    | head -30 >&2
fi
