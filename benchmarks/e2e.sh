#!/usr/bin/env bash
# End-to-end benchmark (root): two network namespaces over a veth pair, and between them, in one
# run, plain veth, the kernel's VXLAN set up as flanneld sets up flannel.1, our nodes of every
# backend started as users start them (./dataplane node --config DIR, one JVM per namespace, with
# the launcher's JVM options), our host-gw nodes (kernel routes only: the kernel forwards, no JVM
# on the packet path) and wireguard-go (Debian's build, configured with wg as flanneld configures
# kernel WireGuard). The rows vxlan-poll, udp-poll, ipip-poll and wireguard-poll run the nodes with
# --busy-poll POLL_US (one packet-path thread per node that keeps polling until POLL_US pass
# without a packet), next to the default nodes that sleep until a packet comes; vxlan-plain,
# udp-plain and wireguard-plain run them with --no-offload (no TSO super-packets from the TUN, no UDP GSO, no joined
# TUN writes); vxlan-syscall and udp-syscall with --no-io-uring (TUN reads and writes one packet
# per system call, not in batches through io_uring); vxlan-q2 and udp-q2 with --queues 2 (a multi-queue TUN, a packet path per queue). wireguard-segment, wireguard-jdk and wireguard-bysize run the non-default WireGuard transport ciphers,
# which the CLI does not offer, through io.dataplane.bench.NodeMain (the same OverlayNode). For each:
#   - from start: the seconds from starting the nodes until both say they are up; a TCP run right
#     after that (RAMP s in half-second intervals), and the seconds from starting the nodes until
#     half a second carried 90% of the steady TCP rate;
#   - TCP throughput: iperf3, STREAMS streams (-P, default 1), DURATION s, REPS repetitions, median;
#   - UDP 64-byte datagrams delivered per second: e2e/udp_flood.c (built here with gcc; sendmmsg
#     as fast as the kernel takes them, recvmmsg counting at the receiver), what reached the
#     receiver per second (STREAMS flows: one sender and receiver each, summed), REPS repetitions, median;
#   - ping RTT p50/p99: PINGS pings at -i 0.01, and our JVMs' CPU meanwhile (% of one core);
#   - our JVMs' CPU at idle: IDLE s with nodes up and no traffic, after the measurements above;
#   - CPU during the TCP runs: our JVMs' CPU time (/proc/PID/stat; it includes the kernel work done
#     in their system calls) and the whole machine's busy time (/proc/stat: iperf3, softirqs, and
#     whatever else runs on the machine), as % of one core and as CPU seconds per GB carried;
#   - resident memory of the larger of the two node processes: once started, after the TCP runs,
#     and after the idle time.
# Prints one table with ratios against each row's reference: the kernel's VXLAN for our vxlan, udp
# and ipip (this kernel has no ipip module, so the kernel's nearest tunnel stands in), plain veth
# for host-gw, wireguard-go for our wireguard rows. The JVM CPU and RSS columns count the two
# wireguard-go processes in the wireguard-go row.
#
#   benchmarks/e2e.sh                               # DURATION=10 REPS=3 PINGS=200, all rows
#   DURATION=3 REPS=1 PINGS=50 benchmarks/e2e.sh    # smoke run
#   ROWS="kernel-vxlan vxlan" benchmarks/e2e.sh     # some rows only (veth kernel-vxlan vxlan udp ipip
#                                                   #   host-gw wireguard-go wireguard wireguard-segment wireguard-jdk wireguard-bysize,
#                                                   #   and vxlan-poll udp-poll ipip-poll wireguard-poll vxlan-plain udp-plain wireguard-plain
#                                                   #   vxlan-syscall udp-syscall vxlan-q2 udp-q2)
#   STREAMS=4 ...                                   # parallel flows of the TCP and 64-byte UDP measurements
#   SKIP_BUILD=1 ...                                # reuse the jars as they are
#   WARMUP=3 ...                                    # seconds of unmeasured traffic per row first (JIT): TCP, then 64-byte UDP each way, then a flood ping
#   RAMP=8 ...                                      # seconds of the TCP run from start (0: none)
#   RAMP_KEEP=DIR ...                               # keep each row's ramp: DIR/ramp-ROW.json (iperf3 -i 0.5 -J), .at (ms after start)
#   IDLE=10 ...                                     # seconds of the idle CPU measurement (0: none)
#   TESTS="ping idle" ...                           # some measurements only (tcp pps ping idle)
#   NODE_OPTS="--stats-interval 0" ...              # more ./dataplane node options for our nodes
#   POLL_US=50000 ...                               # the *-poll rows' busy-poll window (--busy-poll)
#   JAVA_OPTS="-XX:StartFlightRecording=filename=/tmp/node.jfr" ...   # extra JVM options of our nodes
# (Not SECONDS: bash counts its own run time in that variable.)
#
# The run is one scheduling group. With autogroup scheduling (kernel.sched_autogroup_enabled=1,
# Debian's default) every session is a group that the scheduler shares the CPU with, and balances
# across cores, as a whole. The two nodes stand for two hosts but share this machine's cores: a
# tool in a group of its own (iperf3 -D and setsid start a session) weighs as much as the rest of
# the run together, and the kernel then tends to leave it a core of its own and to put the sending
# node's and the receiving node's busy threads together on the other one. So e2e.sh starts a
# session of its own, and every process it starts stays in it: the nodes, wireguard-go, and iperf3
# as a child per run (iperf3 -s -1, never -D). Each thread is then placed by its own load, every
# row gets the same one group's share of a busy machine, and nothing depends on the session e2e.sh
# was started from.
set -euo pipefail
if [ -z "${E2E_SESSION:-}" ]; then
  # A background child of a script is no process group leader, so setsid makes the session
  # itself and $! is the run's PID; a signal to this shell is passed on to it (it cleans up).
  E2E_SESSION=1 setsid bash "${BASH_SOURCE[0]}" "$@" &
  run=$!
  trap 'kill -TERM "$run" 2>/dev/null || true' INT TERM
  while true; do
    rc=0
    wait "$run" || rc=$?
    kill -0 "$run" 2>/dev/null || exit "$rc"
  done
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
DURATION=${DURATION:-10}
REPS=${REPS:-3}
PINGS=${PINGS:-200}
ROWS=${ROWS:-"veth kernel-vxlan vxlan vxlan-plain vxlan-poll udp udp-plain udp-poll ipip ipip-poll host-gw wireguard-go wireguard wireguard-poll wireguard-segment wireguard-jdk wireguard-bysize"}
JAVA_OPTS=${JAVA_OPTS:-}
NODE_OPTS=${NODE_OPTS:-}
POLL_US=${POLL_US:-50000}
WARMUP=${WARMUP:-3}
IDLE=${IDLE:-10}
RAMP=${RAMP:-8}
RAMP_KEEP=${RAMP_KEEP:-}
TESTS=${TESTS:-"tcp pps ping idle"}
STREAMS=${STREAMS:-1}
[ "$(id -u)" -eq 0 ] || { echo "e2e.sh: needs root (network namespaces)" >&2; exit 1; }
for tool in iperf3 ping ip bridge python3 gcc; do
  command -v "$tool" >/dev/null || { echo "e2e.sh: $tool is not installed" >&2; exit 1; }
done
case " $ROWS " in
  *" wireguard"*) for tool in wg wireguard-go; do
      command -v "$tool" >/dev/null || { echo "e2e.sh: $tool is not installed (wireguard rows)" >&2; exit 1; }
    done ;;
esac

source "$here/e2e/hosts.sh"
hosts_names dpe2e

gcc -O2 -Wall -o "$work/udp_flood" "$here/e2e/udp_flood.c"
jar="$root/benchmarks/target/benchmarks.jar"
if [ -z "${SKIP_BUILD:-}" ] || [ ! -f "$jar" ]; then
  (cd "$root" && ./mvnw -q -pl dataplane-node,benchmarks -am package -DskipTests -Dfuzz.skip=true)
fi
# Our nodes run as users run them: ./dataplane node, with the launcher's JVM options (JAVA_OPTS
# is added after them through DATAPLANE_JAVA_OPTS). The build above made its jar.
export DATAPLANE_SKIP_BUILD=1 DATAPLANE_JAVA_OPTS="$JAVA_OPTS"
source "$root/.mvn/find-jdk.sh"
dataplane_find_jdk
java="$JAVA_HOME/bin/java"
trim=()
[ "$DATAPLANE_JDK_FEATURE" -ge 23 ] && trim=(-XX:TrimNativeHeapInterval=5000)

a() { ip netns exec "$nsa" "$@"; }
b() { ip netns exec "$nsb" "$@"; }

# The hosts: veth0 on both sides, 192.0.2.1 and .2; pod addresses 10.244.1.1 and 10.244.2.1 on lo.
two_hosts "$nsa" "$nsb"

# ---- overlays ----

kernel_vxlan_up() {
  for side in a b; do
    ns=$nsa n=1 peer=2 peermac=$MAC_B mac=$MAC_A
    [ $side = b ] && ns=$nsb n=2 peer=1 peermac=$MAC_A mac=$MAC_B
    ip -n "$ns" link add flannel.1 address "$mac" type vxlan id 1 local 192.0.2.$n dev veth0 dstport 8472 nolearning
    ip -n "$ns" link set flannel.1 mtu 1450 up
    ip -n "$ns" addr add 10.244.$n.0/32 dev flannel.1
    ip -n "$ns" neigh add 10.244.$peer.0 lladdr "$peermac" dev flannel.1 nud permanent
    bridge -n "$ns" fdb append "$peermac" dev flannel.1 dst 192.0.2.$peer
    ip -n "$ns" route add 10.244.$peer.0/24 via 10.244.$peer.0 dev flannel.1 onlink
  done
}
kernel_vxlan_down() {
  ip -n "$nsa" link del flannel.1
  ip -n "$nsb" link del flannel.1
}

node_pids=()
# Starts our node in each namespace with backend $1 (row $2): ./dataplane node --config DIR, the
# directory holding net-conf.json, subnet.env, the other node's lease in peers.json and the state
# (vtep-mac, wgkey) as an operator writes them. A WireGuard cipher $3 is not a CLI option: those
# rows run io.dataplane.bench.NodeMain, the same OverlayNode with that one choice changed. Waits
# for both nodes to have added their peer; START_NS is when they were started.
nodes_up() {
  local backend=$1 row=${2:-$1} cipher=${3:-} side ns n other log dir
  local extra=()
  # The *-poll rows: one packet-path thread per node, busy polling until POLL_US without a packet.
  case $row in
    *-poll) extra=(--busy-poll "$POLL_US") ;;
    *-plain) extra=(--no-offload) ;; # The *-plain rows: one packet per system call, no TSO/GSO.
    *-q2) extra=(--queues 2) ;; # The *-q2 rows: a multi-queue TUN, a packet path per queue.
    *-syscall) extra=(--no-io-uring) ;; # The *-syscall rows: one TUN system call per packet.
  esac
  node_pids=()
  node_states "$work" "$backend"
  START_NS=$(date +%s%N)
  for side in a b; do
    ns=$nsa n=1 other=b
    [ $side = b ] && ns=$nsb n=2 other=a
    dir="$work/state-$side"
    local lease
    lease=$(node_lease "$work" "$backend" "$other")
    log="$work/node-$row-$side.log"
    if [ -n "$cipher" ]; then
      # The launcher's JVM sizing (see ./dataplane), so that these rows differ from ours in the cipher only.
      # shellcheck disable=SC2086
      MALLOC_ARENA_MAX=2 "$java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -XX:+UseSerialGC -Xms16m -Xmx256m -Xmn2m -XX:-TieredCompilation \
        "${trim[@]}" $JAVA_OPTS -cp "$jar" io.dataplane.bench.NodeMain \
        --netns "$ns" --backend "$backend" --subnet 10.244.$n.0/24 --public-ip 192.0.2.$n --wg-cipher "$cipher" \
        --state-dir "$dir" --peer "$lease" </dev/null >"$log" 2>&1 &
    else
      node_config "$dir" "$backend" $n "$lease"
      # ip netns exec and ./dataplane both exec: $! is the node's JVM.
      # shellcheck disable=SC2086
      ip netns exec "$ns" "$root/dataplane" node --config "$dir" --public-ip 192.0.2.$n "${extra[@]}" $NODE_OPTS \
        </dev/null >"$log" 2>&1 &
    fi
    node_pids+=($!)
    pids+=($!)
  done
  for side in a b; do
    log="$work/node-$row-$side.log"
    await_node "$log" "$side ($row)" || exit 1
  done
  READY_S=$(awk -v ns=$(( $(date +%s%N) - START_NS )) 'BEGIN {printf "%.1f", ns / 1e9}')
}
nodes_down() {
  local pid
  for pid in "${node_pids[@]}"; do kill -TERM "$pid"; done
  for pid in "${node_pids[@]}"; do wait "$pid" || true; done
  for f in "$work"/node-*.log; do
    grep -q -E '^closed buffersInUse=0|^stopped: .*(all [0-9]+ packet buffers returned|peer routes removed)' "$f" \
      || { echo "a node did not close cleanly:" >&2; cat "$f" >&2; exit 1; }
  done
  rm -f "$work"/node-*.log
  node_pids=()
}

# wireguard-go in each namespace, configured with wg as flanneld configures kernel WireGuard:
# listen port 51820, the subnet's network address /32 on the device, MTU 1500 - 80, the Network
# routed through it. Interface names are unique: its control sockets live in /var/run/wireguard.
wggo_up() {
  local side ns n other
  node_pids=() READY_S=-
  START_NS=$(date +%s%N)
  for side in a b; do
    (umask 077; wg genkey >"$work/wggo-$side.key")
  done
  for side in a b; do
    ns=$nsa n=1 other=b
    [ $side = b ] && ns=$nsb n=2 other=a
    ip netns exec "$ns" wireguard-go -f "wge$side$suffix" >/dev/null 2>&1 &
    node_pids+=($!)
    pids+=($!)
    for _ in $(seq 1 200); do ip -n "$ns" link show "wge$side$suffix" >/dev/null 2>&1 && break; sleep 0.05; done
    wggo_host "$ns" "wge$side$suffix" $n "$work/wggo-$side.key" "$work/wggo-$other.key"
  done
}
# Stops the two wireguard-go processes by their PIDs (SIGTERM: each removes its device and socket).
wggo_down() {
  local pid
  for pid in "${node_pids[@]}"; do kill -TERM "$pid"; done
  for pid in "${node_pids[@]}"; do wait "$pid" || true; done
  rm -f "$work"/wggo-*.key
  node_pids=()
}

# ---- measurements ----

median() { sort -g | awk '{v[NR]=$1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# Busy jiffies of the machine and CPU jiffies (utime+stime) of the node JVMs.
machine_busy() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9}' /proc/stat; }
jvm_cpu() {
  local total=0 pid
  for pid in "${node_pids[@]}"; do
    [ -r /proc/$pid/stat ] || continue
    total=$((total + $(sed 's/^.*) //' /proc/$pid/stat | awk '{print $12+$13}')))
  done
  echo $total
}

# CPU time in ns of the node JVMs' live threads (/proc/PID/task/*/schedstat: finer than jiffies).
jvm_cpu_ns() {
  local pid
  for pid in "${node_pids[@]}"; do
    cat /proc/"$pid"/task/*/schedstat 2>/dev/null || true
  done | awk '{t += $1} END {printf "%.0f\n", t}'
}
# One line per live thread of the node JVMs: "tid name ns" (CPU time from schedstat; the name with
# blanks as _), for a split of the JVMs' CPU by thread (thread_split).
jvm_threads() {
  local pid t
  for pid in "${node_pids[@]}"; do
    for t in /proc/"$pid"/task/*; do
      echo "${t##*/} $(tr ' ' _ <"$t/comm" 2>/dev/null) $(cut -d' ' -f1 "$t/schedstat" 2>/dev/null)"
    done
  done 2>/dev/null
}
# CPU s per GB ($3 bytes) of the node JVMs' threads between two jvm_threads readings in files $1
# and $2, in four groups: "TUN readers / receivers / JIT compilers / the rest". A TUN reader is
# dp-egress-* (it also sends) or dp-path-* (the one thread of the *-poll rows), a receiver dp-*-rx
# (it also writes the TUN).
thread_split() {
  awk -v gb="$3" 'NR == FNR {t0[$1] = $3; next}
    {d = $3 - t0[$1]; g = 4
     if ($2 ~ /^dp-(egress|path)/) g = 1; else if ($2 ~ /^dp-.*-rx$/) g = 2; else if ($2 ~ /^C[12]_Compiler/) g = 3
     s[g] += d}
    END {gb /= 1e9; if (gb == 0) gb = 1e-9; printf "%.2f / %.2f / %.2f / %.2f\n", s[1]/1e9/gb, s[2]/1e9/gb, s[3]/1e9/gb, s[4]/1e9/gb}' "$1" "$2"
}
# % of one core used by the node JVMs between two jvm_cpu_ns readings $1 and $2 over $3 seconds.
cpu_pct() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN {printf "%.1f", 100 * (b - a) / 1e9 / t}'; }

# TCP: sets TCP_BPS (median bit/s), and for all runs together CPU_JVM and CPU_MACHINE (% of one
# core), JVM_PER_GB and MACHINE_PER_GB (CPU seconds per GB carried) and THREADS_PER_GB (thread_split).
tcp() {
  local src=$1 dst=$2 runs=() r out bytes=0 busy0 busy1 jvm0 jvm1 t0 t1 hz
  jvm_threads >"$work/threads0"
  busy0=$(machine_busy) jvm0=$(jvm_cpu) t0=$(date +%s.%N)
  for r in $(seq 1 "$REPS"); do
    b iperf3 -s -1 -B "$dst" >/dev/null 2>&1 &
    local srv=$!
    pids+=($srv)
    sleep 0.3
    out=$(a iperf3 -c "$dst" -B "$src" -P "$STREAMS" -t "$DURATION" -J 2>/dev/null | python3 -c '
import json, sys
e = json.load(sys.stdin)["end"]["sum_received"]
print(e["bits_per_second"], e["bytes"])' || echo "nan 0")
    wait "$srv" 2>/dev/null || true
    runs+=("${out% *}")
    bytes=$((bytes + ${out#* }))
  done
  busy1=$(machine_busy) jvm1=$(jvm_cpu) t1=$(date +%s.%N)
  jvm_threads >"$work/threads1"
  THREADS_PER_GB=$(thread_split "$work/threads0" "$work/threads1" "$bytes")
  hz=$(getconf CLK_TCK)
  read -r CPU_JVM CPU_MACHINE JVM_PER_GB MACHINE_PER_GB < <(awk -v j=$((jvm1 - jvm0)) -v m=$((busy1 - busy0)) -v hz="$hz" \
    -v t0="$t0" -v t1="$t1" -v gb="$bytes" 'BEGIN {t = t1 - t0; gb /= 1e9; if (gb == 0) gb = 1e-9;
      printf "%.0f %.0f %.2f %.2f\n", 100*j/hz/t, 100*m/hz/t, j/hz/gb, m/hz/gb}')
  TCP_BPS=$(printf '%s\n' "${runs[@]}" | median)
}

# UDP 64-byte datagrams delivered per second (counted by the receiver), median.
udp_pps() {
  local src=$1 dst=$2 runs=() r pps f flows
  flows=$(seq 0 $((STREAMS - 1)))
  for r in $(seq 1 "$REPS"); do
    local rcvs=() snds=()
    for f in $flows; do
      b "$work/udp_flood" recv "$dst" $((5201 + f)) "$DURATION" >"$work/flood$f.out" 2>&1 &
      rcvs+=($!)
    done
    pids+=("${rcvs[@]}")
    sleep 0.3
    for f in $flows; do a "$work/udp_flood" send "$src" "$dst" $((5201 + f)) "$DURATION" 64 >/dev/null & snds+=($!); done
    wait "${snds[@]}" "${rcvs[@]}" 2>/dev/null || true
    pps=$(cat "$work"/flood*.out | sed -n 's/.*pps=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { if (NR) print s }')
    rm -f "$work"/flood*.out
    runs+=("${pps:-nan}")
  done
  printf '%s\n' "${runs[@]}" | median
}

# Unmeasured traffic first, so that our JVMs' JIT has compiled the packet path.
warmup() {
  local src=$1 dst=$2
  [ "$WARMUP" = 0 ] && return
  b iperf3 -s -1 -B "$dst" >/dev/null 2>&1 &
  local srv=$!
  pids+=($srv)
  sleep 0.3
  a iperf3 -c "$dst" -B "$src" -t "$WARMUP" >/dev/null 2>&1 || true
  wait "$srv" 2>/dev/null || true
  b "$work/udp_flood" recv "$dst" 5201 "$WARMUP" >/dev/null 2>&1 &
  local rcv=$!
  pids+=($rcv)
  sleep 0.3
  a "$work/udp_flood" send "$src" "$dst" 5201 "$WARMUP" 64 >/dev/null
  wait "$rcv" 2>/dev/null || true
  # And back: a ping's answer takes the other direction's per-packet path, which TCP with offload
  # (a few ACKs per 64 KiB) and the flood above leave cold in the JIT.
  a "$work/udp_flood" recv "$src" 5201 "$WARMUP" >/dev/null 2>&1 &
  rcv=$!
  pids+=($rcv)
  sleep 0.3
  b "$work/udp_flood" send "$dst" "$src" 5201 "$WARMUP" 64 >/dev/null
  wait "$rcv" 2>/dev/null || true
  # And lone packets, as pings come: TCP with offload goes through super-packets and trains, the
  # floods through batches and runs, so neither runs the one-packet path of each hop (a TUN read
  # of one packet, one datagram sent, one received, one TUN write) that a ping takes. A flood ping
  # (the next one when the answer is back) runs it some thousands of times.
  a ping -n -q -f -w "$WARMUP" -I "$src" "$dst" >/dev/null 2>&1 || true
}

# Ping RTT percentiles in ms and the node JVMs' CPU meanwhile (% of a core): "p50 p99 cpu".
ping_rtt() {
  local src=$1 dst=$2 c0 c1 t0 t1 rtt
  a ping -n -q -c 5 -i 0.01 -I "$src" "$dst" >/dev/null 2>&1 || true # warm the path (ARP, JIT)
  c0=$(jvm_cpu_ns) t0=$(date +%s.%N)
  rtt=$(a ping -n -c "$PINGS" -i 0.01 -W 1 -I "$src" "$dst" 2>/dev/null | python3 -c '
import re, sys
t = sorted(float(m.group(1)) for m in re.finditer(r"time=([0-9.]+) ms", sys.stdin.read()))
if not t: print("nan nan"); sys.exit()
pick = lambda q: t[min(len(t) - 1, int(q * len(t)))]
print("%.3f %.3f" % (pick(0.50), pick(0.99)))')
  c1=$(jvm_cpu_ns) t1=$(date +%s.%N)
  echo "$rtt $(cpu_pct "$c0" "$c1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")"
}

# The node JVMs' CPU with no traffic at all for IDLE s (% of a core).
idle_cpu() {
  local c0 c1
  c0=$(jvm_cpu_ns)
  sleep "$IDLE"
  c1=$(jvm_cpu_ns)
  cpu_pct "$c0" "$c1" "$IDLE"
}

wants() { case " $TESTS " in *" $1 "*) return 0 ;; esac; return 1; }

# The largest resident set of the node processes, in MB.
rss_mb() {
  local pid max=0 kb
  for pid in "${node_pids[@]}"; do
    kb=$(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status 2>/dev/null || echo 0)
    [ "${kb:-0}" -gt "$max" ] && max=$kb
  done
  awk -v k="$max" 'BEGIN {printf "%.0f", k / 1024}'
}

# A TCP run right after the nodes started, in half-second intervals (RAMP s), before any warmup:
# how long from starting the nodes until they forward at full rate, the JIT's warm-up included.
# Leaves iperf3's JSON in $work/ramp.json (and, with RAMP_KEEP, a copy named after row $3) and the
# ms from START_NS to the run's start in RAMP_AT.
ramp() {
  local src=$1 dst=$2
  b iperf3 -s -1 -B "$dst" >/dev/null 2>&1 &
  local srv=$!
  pids+=($srv)
  sleep 0.3
  RAMP_AT=$(( ($(date +%s%N) - START_NS) / 1000000 ))
  a iperf3 -c "$dst" -B "$src" -t "$RAMP" -i 0.5 -J >"$work/ramp.json" 2>/dev/null || true
  wait "$srv" 2>/dev/null || true
  if [ -n "$RAMP_KEEP" ]; then
    mkdir -p "$RAMP_KEEP"
    cp "$work/ramp.json" "$RAMP_KEEP/ramp-$3.json"
    echo "$RAMP_AT" >"$RAMP_KEEP/ramp-$3.at"
  fi
}
# Seconds from starting the nodes to the end of the first half second that carried at least 90%
# of the steady TCP rate $1 (bit/s), or "-".
full_rate_after() {
  python3 - "$work/ramp.json" "$RAMP_AT" "$1" <<'PY'
import json, sys
try:
    intervals = json.load(open(sys.argv[1]))["intervals"]
    at, steady = float(sys.argv[2]) / 1000, float(sys.argv[3])
except Exception:
    print("-"); sys.exit()
for i in intervals:
    s = i["sum"]
    if s["bits_per_second"] >= 0.9 * steady:
        print("%.1f" % (at + s["end"])); sys.exit()
print(">%.0f" % (at + (intervals[-1]["sum"]["end"] if intervals else 0)))
PY
}

declare -A TCP PPS P50 P99 JVM MACH JGB MGB TGB PCPU ICPU RSS0 RSSL RSSI READY FULL
measure() {
  local row=$1 src=$2 dst=$3 ours=
  TCP[$row]=nan PPS[$row]=nan P50[$row]=nan P99[$row]=nan JVM[$row]=- MACH[$row]=- JGB[$row]=- MGB[$row]=- PCPU[$row]=- ICPU[$row]=-
  RSS0[$row]=- RSSL[$row]=- RSSI[$row]=- READY[$row]=- FULL[$row]=- TGB[$row]=-
  if [ ${#node_pids[@]} -gt 0 ]; then ours=1; fi
  if [ -n "$ours" ]; then
    RSS0[$row]=$(rss_mb) READY[$row]=${READY_S:--}
    if [ "$RAMP" != 0 ] && wants tcp; then
      echo "# $row: TCP from start, ${RAMP}s ..." >&2
      ramp "$src" "$dst" "$row"
    fi
  fi
  echo "# $row: warmup ${WARMUP}s ..." >&2
  warmup "$src" "$dst"
  if wants tcp; then
    echo "# $row: TCP ${REPS}x${DURATION}s ..." >&2
    tcp "$src" "$dst"
    TCP[$row]=$TCP_BPS
    JVM[$row]=$CPU_JVM MACH[$row]=$CPU_MACHINE JGB[$row]=$JVM_PER_GB MGB[$row]=$MACHINE_PER_GB TGB[$row]=$THREADS_PER_GB
    if [ -n "$ours" ]; then
      RSSL[$row]=$(rss_mb)
      if [ "$RAMP" != 0 ]; then FULL[$row]=$(full_rate_after "$TCP_BPS"); fi
    fi
  fi
  if wants pps; then
    echo "# $row: UDP 64 B ${REPS}x${DURATION}s ..." >&2
    PPS[$row]=$(udp_pps "$src" "$dst")
  fi
  if wants ping; then
    echo "# $row: ping x$PINGS ..." >&2
    read -r P50[$row] P99[$row] PCPU[$row] < <(ping_rtt "$src" "$dst")
  fi
  if wants idle && [ "$IDLE" != 0 ] && [ ${#node_pids[@]} -gt 0 ]; then
    echo "# $row: idle ${IDLE}s ..." >&2
    ICPU[$row]=$(idle_cpu)
  fi
  if [ -n "$ours" ]; then RSSI[$row]=$(rss_mb); fi
}

echo "# e2e: load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, DURATION=$DURATION REPS=$REPS PINGS=$PINGS STREAMS=$STREAMS" >&2
# The launcher's AOT cache (./dataplane), one per backend as on a user's host: a node run records it
# (with the profiles of what it ran), the next node start makes it. For each backend that rows start
# through ./dataplane, one unmeasured run with traffic and one start first, so every row starts as a
# user's node of its backend does from its second run on (where the backend's cache is there and
# fresh, neither records nor makes anything).
backends=()
for row in $ROWS; do
  case $row in
    host-gw) backend=host-gw ;;
    vxlan*|udp*|ipip*|wireguard|wireguard-poll|wireguard-plain) backend=${row%%-*} ;;
    *) continue ;;
  esac
  case " ${backends[*]} " in *" $backend "*) ;; *) backends+=("$backend") ;; esac
done
for backend in "${backends[@]}"; do
  echo "# the launcher's AOT cache for $backend ..." >&2
  nodes_up "$backend" aot; warmup 10.244.1.1 10.244.2.1; nodes_down
  nodes_up "$backend" aot; nodes_down
done
for row in $ROWS; do
  case $row in
    veth) measure veth 192.0.2.1 192.0.2.2 ;;
    kernel-vxlan) kernel_vxlan_up; measure kernel-vxlan 10.244.1.1 10.244.2.1; kernel_vxlan_down ;;
    vxlan|udp|ipip|host-gw) nodes_up "$row"; measure "$row" 10.244.1.1 10.244.2.1; nodes_down ;;
    vxlan-poll|udp-poll|ipip-poll) nodes_up "${row%-poll}" "$row"; measure "$row" 10.244.1.1 10.244.2.1; nodes_down ;;
    vxlan-plain|udp-plain|wireguard-plain) nodes_up "${row%-plain}" "$row"; measure "$row" 10.244.1.1 10.244.2.1; nodes_down ;;
    vxlan-q2|udp-q2) nodes_up "${row%-q2}" "$row"; measure "$row" 10.244.1.1 10.244.2.1; nodes_down ;;
    vxlan-syscall|udp-syscall) nodes_up "${row%-syscall}" "$row"; measure "$row" 10.244.1.1 10.244.2.1; nodes_down ;;
    wireguard-poll) nodes_up wireguard "$row"; measure "$row" 10.244.1.1 10.244.2.1; nodes_down ;;
    wireguard-go) wggo_up; measure "$row" 10.244.1.1 10.244.2.1; wggo_down ;;
    wireguard) nodes_up wireguard "$row"; measure "$row" 10.244.1.1 10.244.2.1; nodes_down ;;
    wireguard-segment) nodes_up wireguard "$row" SEGMENT; measure "$row" 10.244.1.1 10.244.2.1; nodes_down ;;
    wireguard-jdk) nodes_up wireguard "$row" JDK; measure "$row" 10.244.1.1 10.244.2.1; nodes_down ;;
    wireguard-bysize) nodes_up wireguard "$row" BY_SIZE; measure "$row" 10.244.1.1 10.244.2.1; nodes_down ;;
    *) echo "unknown row $row (veth kernel-vxlan vxlan vxlan-plain vxlan-poll vxlan-q2 vxlan-syscall udp udp-plain udp-poll udp-q2 udp-syscall ipip ipip-poll host-gw wireguard-go wireguard wireguard-poll wireguard-plain wireguard-segment wireguard-jdk wireguard-bysize)" >&2; exit 2 ;;
  esac
done

ratio() { # ours / reference, or "-" when either is missing
  awk -v o="${1:-}" -v k="${2:-}" 'BEGIN {if (o == "" || k == "" || o == "nan" || k == "nan" || k == 0) print "-"; else printf "%.2f", o / k}'
}
echo
echo "| path | TCP Gbit/s | UDP 64 B kpps | ping p50 ms | ping p99 ms | CPU in TCP runs: JVMs / machine, % of a core | CPU s per GB: JVMs / machine | JVMs' CPU idle / at ping -i 0.01, % of a core | RSS MB: started / after TCP / idle | s from start: both nodes up / full rate | TCP ours/ref | pps ours/ref | p50 ours/ref |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for row in $ROWS; do
  jvm="-" jgb="-" icpu="-" pcpu="-"
  case $row in vxlan*|udp*|ipip*|host-gw|wireguard*) jvm="${JVM[$row]}" jgb="${JGB[$row]}" icpu="${ICPU[$row]}" pcpu="${PCPU[$row]}" ;; esac
  ref=""
  case $row in vxlan*|udp*|ipip*) ref=kernel-vxlan ;; host-gw) ref=veth ;; wireguard-go) ;; wireguard*) ref=wireguard-go ;; esac
  r_tcp="-" r_pps="-" r_p50="-"
  if [ -n "$ref" ]; then
    r_tcp=$(ratio "${TCP[$row]}" "${TCP[$ref]:-}")
    r_pps=$(ratio "${PPS[$row]}" "${PPS[$ref]:-}")
    r_p50=$(ratio "${P50[$row]}" "${P50[$ref]:-}")
  fi
  printf '| %s | %s | %s | %s | %s | %s / %s | %s / %s | %s / %s | %s / %s / %s | %s / %s | %s | %s | %s |\n' "$row" \
    "$(awk -v v="${TCP[$row]}" 'BEGIN {printf "%.2f", v / 1e9}')" \
    "$(awk -v v="${PPS[$row]}" 'BEGIN {printf "%.0f", v / 1e3}')" \
    "${P50[$row]}" "${P99[$row]}" "$jvm" "${MACH[$row]}" "$jgb" "${MGB[$row]}" "$icpu" "$pcpu" \
    "${RSS0[$row]}" "${RSSL[$row]}" "${RSSI[$row]}" "${READY[$row]}" "${FULL[$row]}" "$r_tcp" "$r_pps" "$r_p50"
done
echo
echo "| path | JVM CPU s per GB in the TCP runs by thread: TUN readers / socket receivers / JIT compilers / the rest |"
echo "|---|---|"
for row in $ROWS; do
  case $row in wireguard-go) ;; vxlan*|udp*|ipip*|host-gw|wireguard*) printf '| %s | %s |\n' "$row" "${TGB[$row]}" ;; esac
done
echo
echo "ref: the kernel's VXLAN (flannel.1) for vxlan, udp and ipip (no kernel ipip module here), plain veth for"
echo "host-gw (whose JVMs only program routes), wireguard-go for our wireguard rows;"
echo "the JVM CPU of the wireguard-go row is its two processes'."
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
