#!/usr/bin/env bash
# Where our nodes' CPU goes on one TCP flow, thread by thread (root). Two namespaces over a veth
# pair as in e2e.sh, our nodes in them started as users start them (./dataplane node --config
# DIR), a TCP warmup, then REPS rounds of one iperf3 run of DURATION s per way of running the
# nodes, the ways interleaved:
#   default   ./dataplane node (TUN reads and writes through io_uring where it batches)
#   syscall   ./dataplane node --no-io-uring (one TUN system call per packet)
# Per run: Gbit/s, then per packet-path thread of each node (A sends, B receives) its CPU ms per GB
# carried (/proc/PID/task/TID/schedstat) and, with perf installed, what it asked of the kernel per
# GB in thousands (perf stat --per-thread on syscall and io_uring tracepoints): read, writev,
# write, io_uring_enter, io_uring_complete (one per read or write through the ring), poll,
# sendmmsg, recvmmsg, sched_switch. The JIT compilers' CPU per GB is a line of its own.
#
#   REPS=4 DURATION=10 benchmarks/e2e/tcp_threads.sh               # vxlan, default against syscall
#   BACKEND=udp MODES=default ... benchmarks/e2e/tcp_threads.sh
#   PROFILE=/tmp/prof MODES=default REPS=1 ... benchmarks/e2e/tcp_threads.sh
#       also perf record -g on both nodes during each measured run, into PROFILE/MODE-ROUND.data
#       with PROFILE/MODE-ROUND.pids ("A=PID B=PID"); the nodes run with the JIT's perf map
#       (/tmp/perf-PID.map, written as they exit) so Java frames resolve; e2e/perf_split.py
#       splits each thread's samples into kernel copies, wake-ups, the rest of the kernel,
#       our checksums and the rest of our Java.
# Needs jars built (./mvnw -q -pl dataplane-node -am package -DskipTests), iperf3, python3.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${BACKEND:=vxlan}" "${REPS:=3}" "${DURATION:=10}" "${WARMUP:=8}" "${MODES:=default syscall}"
[ "$(id -u)" -eq 0 ] || { echo "tcp_threads.sh: needs root (network namespaces)" >&2; exit 1; }
source "$here/hosts.sh"
suffix=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
nsa="dptta$suffix" nsb="dpttb$suffix" work=$(mktemp -d) pids=() node_pids=()
trap 'hosts_down "$nsa" "$nsb" "$work"' EXIT
export DATAPLANE_SKIP_BUILD=1
a() { ip netns exec "$nsa" "$@"; }
b() { ip netns exec "$nsb" "$@"; }
perf_ok=; command -v perf >/dev/null && perf_ok=1
: "${PROFILE:=}"
if [ -n "$PROFILE" ]; then
  [ -n "$perf_ok" ] || { echo "tcp_threads.sh: PROFILE needs perf (linux-perf)" >&2; exit 1; }
  mkdir -p "$PROFILE"
  export DATAPLANE_JAVA_OPTS="-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -XX:+PreserveFramePointer"
fi
two_hosts "$nsa" "$nsb"

# Starts our node in each namespace, ./dataplane node with extra arguments $@.
nodes_up() {
  local side ns n peer peermac dir data
  node_pids=()
  for side in a b; do
    ns=$nsa n=1 peer=2 peermac=$MAC_B
    [ $side = b ] && ns=$nsb n=2 peer=1 peermac=$MAC_A
    dir="$work/state-$side" data=""
    rm -rf "$dir"; mkdir -p "$dir"
    if [ "$BACKEND" = vxlan ]; then
      [ $side = a ] && echo "$MAC_A" >"$dir/vtep-mac" || echo "$MAC_B" >"$dir/vtep-mac"
      data=",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"$peermac\"}"
    fi
    echo "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"$BACKEND\"}}" >"$dir/net-conf.json"
    printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.%s.1/24\nFLANNEL_IPMASQ=false\n' "$n" >"$dir/subnet.env"
    echo "[{\"Subnet\":\"10.244.$peer.0/24\",\"PublicIP\":\"192.0.2.$peer\",\"BackendType\":\"$BACKEND\"$data}]" >"$dir/peers.json"
    ip netns exec "$ns" "$root/dataplane" node --config "$dir" --public-ip 192.0.2.$n "$@" </dev/null >"$work/node-$side.log" 2>&1 &
    node_pids+=($!) pids+=($!)
  done
  await_node "$work/node-a.log" a && await_node "$work/node-b.log" b || exit 1
}
nodes_down() {
  local pid
  for pid in "${node_pids[@]}"; do kill -TERM "$pid"; done
  for pid in "${node_pids[@]}"; do wait "$pid" || true; done
}
# One iperf3 run of $1 s; prints "bits_per_second bytes".
tcp_run() {
  b iperf3 -s -1 -B 10.244.2.1 >/dev/null 2>&1 &
  local srv=$!
  pids+=($srv)
  sleep 0.3
  a iperf3 -c 10.244.2.1 -B 10.244.1.1 -t "$1" -J 2>/dev/null | python3 -c '
import json, sys
e = json.load(sys.stdin)["end"]["sum_received"]
print(e["bits_per_second"], e["bytes"])' || echo "nan 0"
  wait "$srv" || true
}
# "side tid name ns" per thread of the two nodes.
threads() {
  local side=A pid t
  for pid in "${node_pids[@]}"; do
    for t in /proc/"$pid"/task/*; do echo "$side ${t##*/} $(tr ' ' _ <"$t/comm") $(cut -d' ' -f1 "$t/schedstat")"; done
    side=B
  done
}

echo "# tcp_threads.sh: $BACKEND, load average $(cut -d' ' -f1-3 /proc/loadavg), DURATION=$DURATION REPS=$REPS"
events=syscalls:sys_enter_read,syscalls:sys_enter_writev,syscalls:sys_enter_write,syscalls:sys_enter_io_uring_enter,io_uring:io_uring_complete
events=$events,syscalls:sys_enter_poll,syscalls:sys_enter_sendmmsg,syscalls:sys_enter_recvmmsg,sched:sched_switch
for r in $(seq 1 "$REPS"); do
  for mode in $MODES; do
    case $mode in
      default) nodes_up ;;
      syscall) nodes_up --no-io-uring ;;
      *) echo "unknown way $mode (default syscall)" >&2; exit 2 ;;
    esac
    tcp_run "$WARMUP" >/dev/null
    threads >"$work/t0"
    stat=
    if [ -n "$perf_ok" ]; then
      perf stat --per-thread -x, -e "$events" -p "${node_pids[0]},${node_pids[1]}" -o "$work/perf" -- sleep $((DURATION + 1)) &
      stat=$!
    fi
    record=
    if [ -n "$PROFILE" ]; then
      echo "A=${node_pids[0]} B=${node_pids[1]}" >"$PROFILE/$mode-$r.pids"
      perf record -q -F 999 -g -p "${node_pids[0]},${node_pids[1]}" -o "$PROFILE/$mode-$r.data" -- sleep "$DURATION" 2>/dev/null &
      record=$!
    fi
    read -r bps bytes < <(tcp_run "$DURATION")
    [ -n "$stat" ] && wait "$stat" || true
    [ -n "$record" ] && wait "$record" || true
    threads >"$work/t1"
    [ -n "$stat" ] || : >"$work/perf"
    echo "$mode round $r: $(awk -v b="$bps" 'BEGIN {printf "%.2f", b / 1e9}') Gbit/s, load $(cut -d' ' -f1 /proc/loadavg)"
    python3 - "$work/t0" "$work/t1" "$work/perf" "$bytes" <<'PY'
import collections, sys
t0 = {l.split()[1]: int(l.split()[3]) for l in open(sys.argv[1])}
gb = max(int(sys.argv[4]), 1) / 1e9
counts = collections.defaultdict(dict)
for l in open(sys.argv[3]):
    f = l.strip().split(",")
    if len(f) < 4 or "-" not in f[0]:
        continue
    tid = f[0].rsplit("-", 1)[1]
    ev = f[3].split(":")[-1].replace("sys_enter_", "")
    try:
        counts[tid][ev] = float(f[1])
    except ValueError:
        pass
jit = 0
for l in open(sys.argv[2]):
    side, tid, name, ns = l.split()
    ms = (int(ns) - t0.get(tid, int(ns))) / 1e6 / gb
    if name.startswith("C1_") or name.startswith("C2_"):
        jit += ms
    elif name.startswith(("dp-egress", "dp-ingress", "dp-path")) or name.endswith(("-rx", "-tx")):
        c = counts.get(tid, {})
        print("  %s %-16s %4.0f ms/GB  %s" % (side, name, ms, " ".join("%s %.1fk" % (e, v / gb / 1e3) for e, v in sorted(c.items()) if v)))
print("  JIT compilers    %4.0f ms/GB" % jit)
PY
    nodes_down
  done
done
