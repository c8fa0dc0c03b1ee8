#!/usr/bin/env bash
# What a ping costs our nodes in context switches, thread by thread (root): two network namespaces
# over a veth pair (hosts.sh), our nodes of one backend started with ./dataplane node of each tree
# given, a warmup as e2e.sh's (a flood ping), then PINGS pings at -i 0.01; before and after, the
# voluntary and nonvoluntary context switches of every thread of both JVMs
# (/proc/PID/task/*/status) and their CPU time (schedstat). Prints per tree and backend the ping p50
# and, per thread name (both nodes summed), the switches and the CPU microseconds per ping. Switch counts do not depend on the machine's load the way
# latency does: a hop that sleeps and is woken costs one voluntary switch, whatever the load.
#
#   benchmarks/e2e/ping_switches.sh                        # this tree, vxlan
#   ROWS="vxlan wireguard" ROUNDS=3 benchmarks/e2e/ping_switches.sh /work/wt/base .   # trees in turn, per round
#   NODE_OPTS="--no-io-uring" ...                          # more ./dataplane node options
#   AOT_STARTS=0 ...                                       # no unmeasured starts for the AOT cache first
#   FLOOD=5 ...                                            # after the flood ping, 64-byte UDP floods each way
#                                                          # for FLOOD s (e2e.sh's pps test runs right before its pings)
# Each tree must be built (./mvnw -q -pl benchmarks,dataplane-node -am package -DskipTests -Dfuzz.skip=true).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PINGS=${PINGS:-1000}
ROWS=${ROWS:-vxlan}
ROUNDS=${ROUNDS:-1}
WARMUP=${WARMUP:-3}
NODE_OPTS=${NODE_OPTS:-}
AOT_STARTS=${AOT_STARTS:-2}
FLOOD=${FLOOD:-0}
[ "$(id -u)" -eq 0 ] || { echo "ping_switches.sh: needs root (network namespaces)" >&2; exit 1; }
trees=("$@")
[ ${#trees[@]} -gt 0 ] || trees=("$here/../..")

source "$here/hosts.sh"
hosts_names dpsw
two_hosts "$nsa" "$nsb"
a() { ip netns exec "$nsa" "$@"; }
b() { ip netns exec "$nsb" "$@"; }
if [ "$FLOOD" != 0 ]; then gcc -O2 -Wall -o "$work/udp_flood" "$here/udp_flood.c"; fi

# 64-byte UDP datagrams as fast as they go for FLOOD s from pod $1 ($2 runs it) to pod $3 ($4), as e2e.sh's pps test.
flood() {
  local rcv
  $4 "$work/udp_flood" recv "$3" 5201 "$FLOOD" >/dev/null 2>&1 &
  rcv=$!
  pids+=($rcv)
  sleep 0.3
  $2 "$work/udp_flood" send "$1" "$3" 5201 "$FLOOD" 64 >/dev/null 2>&1 || true
  wait "$rcv" 2>/dev/null || true
}

# Starts a node of tree $1, backend $2, in each namespace, as e2e.sh does; node_pids holds the JVMs.
nodes_up() {
  local tree=$1 backend=$2 side ns n other dir
  node_pids=()
  node_states "$work" "$backend"
  for side in a b; do
    ns=$nsa n=1 other=b
    [ $side = b ] && ns=$nsb n=2 other=a
    dir="$work/state-$side"
    node_config "$dir" "$backend" $n "$(node_lease "$work" "$backend" "$other")"
    # shellcheck disable=SC2086
    DATAPLANE_SKIP_BUILD=1 ip netns exec "$ns" "$tree/dataplane" node --config "$dir" --public-ip 192.0.2.$n $NODE_OPTS \
      </dev/null >"$work/node-$side.log" 2>&1 &
    node_pids+=($!)
    pids+=($!)
  done
  for side in a b; do await_node "$work/node-$side.log" "$side" || exit 1; done
}
nodes_down() {
  local pid
  for pid in "${node_pids[@]}"; do kill -TERM "$pid"; done
  for pid in "${node_pids[@]}"; do wait "$pid" || true; done
  node_pids=()
}
# One line per thread of the node JVMs: "name voluntary nonvoluntary cpu_ns" (blanks in the name as _; CPU time from schedstat).
switches() {
  local pid t
  for pid in "${node_pids[@]}"; do
    for t in /proc/"$pid"/task/*; do
      echo "$(tr ' ' _ <"$t/comm") $(awk '/^voluntary_ctxt/ {v = $2} /^nonvoluntary_ctxt/ {n = $2} END {print v, n}' "$t/status") $(cut -d' ' -f1 "$t/schedstat")"
    done 2>/dev/null
  done
}

# As e2e.sh: two unmeasured node starts with traffic per tree first, so that the launcher's AOT
# cache is made (the first records, the second creates it) and every measured node starts with it.
for tree in "${trees[@]}"; do
  for _ in $(seq 1 "$AOT_STARTS"); do
    nodes_up "$tree" vxlan
    a ping -n -q -f -w 3 -I 10.244.1.1 10.244.2.1 >/dev/null 2>&1 || true
    nodes_down
  done
done
echo "# ping_switches: load average $(cut -d' ' -f1-3 /proc/loadavg), PINGS=$PINGS" >&2
for round in $(seq 1 "$ROUNDS"); do
  for backend in $ROWS; do
    for tree in "${trees[@]}"; do
      nodes_up "$tree" "$backend"
      a ping -n -q -f -w "$WARMUP" -I 10.244.1.1 10.244.2.1 >/dev/null 2>&1 || true
      if [ "$FLOOD" != 0 ]; then
        flood 10.244.1.1 a 10.244.2.1 b
        flood 10.244.2.1 b 10.244.1.1 a
      fi
      a ping -n -q -c 5 -i 0.01 -I 10.244.1.1 10.244.2.1 >/dev/null 2>&1 || true
      switches >"$work/s0"
      p50=$(a ping -n -c "$PINGS" -i 0.01 -W 1 -I 10.244.1.1 10.244.2.1 2>/dev/null | python3 -c '
import re, sys
t = sorted(float(m.group(1)) for m in re.finditer(r"time=([0-9.]+) ms", sys.stdin.read()))
print("%.3f" % t[len(t) // 2] if t else "nan")')
      switches >"$work/s1"
      if [ -n "${PERF_SCHED:-}" ]; then
        # The scheduler's view of 200 pings: per thread, the time from wakeup to running (sch delay) and the run time.
        perf sched record -q -a -o "$work/sched.data" -- ip netns exec "$nsa" ping -n -q -c 200 -i 0.01 -I 10.244.1.1 10.244.2.1 >/dev/null 2>&1
        perf sched timehist -i "$work/sched.data" -s 2>/dev/null | grep -E 'dp-|ping|comm|----' | head -30 || true
        rm -f "$work/sched.data"
      fi
      echo "round $round $backend $(cd "$tree" && git rev-parse --short HEAD) p50 $p50 ms, load $(cut -d' ' -f1 /proc/loadavg); per ping, both nodes: switches voluntary, nonvoluntary; CPU us"
      awk -v pings="$PINGS" 'NR == FNR {v0[$1] += $2; n0[$1] += $3; c0[$1] += $4; next} {v1[$1] += $2; n1[$1] += $3; c1[$1] += $4}
        END {for (t in v1) {dv = (v1[t] - v0[t]) / pings; dn = (n1[t] - n0[t]) / pings; dc = (c1[t] - c0[t]) / pings / 1000
               tv += dv; tn += dn; tc += dc
               if (dv + dn >= 0.01) printf "  %-28s %6.2f %6.2f %8.1f\n", t, dv, dn, dc}
             printf "  %-28s %6.2f %6.2f %8.1f\n", "all", tv, tn, tc}' "$work/s0" "$work/s1" | sort -k2 -gr
      nodes_down
    done
  done
done
