#!/usr/bin/env bash
# End-to-end benchmark (root): two network namespaces over a veth pair, and between them, in one
# run, plain veth, the kernel's VXLAN set up as flanneld sets up flannel.1, our vxlan nodes and our
# udp nodes (io.dataplane.bench.NodeMain, one JVM per namespace). For each:
#   - TCP throughput: iperf3, 1 stream, DURATION s, REPS repetitions, median;
#   - UDP 64-byte datagrams delivered per second: iperf3 -u -l 64 -b 0, what reached the receiver
#     (sent - lost, from the server's report), REPS repetitions, median;
#   - ping RTT p50/p99: PINGS pings at -i 0.01;
#   - CPU during the TCP runs: our JVMs' CPU time (/proc/PID/stat) and the whole machine's busy
#     time (/proc/stat), as % of one core.
# Prints one table with our/kernel ratios (ours against the kernel's VXLAN).
#
#   benchmarks/e2e.sh                               # DURATION=10 REPS=3 PINGS=200, all rows
#   DURATION=3 REPS=1 PINGS=50 benchmarks/e2e.sh    # smoke run
#   ROWS="kernel-vxlan vxlan" benchmarks/e2e.sh     # some rows only (veth kernel-vxlan vxlan udp)
#   SKIP_BUILD=1 ...                                # reuse benchmarks/target/benchmarks.jar
#   JAVA_OPTS="-XX:StartFlightRecording=filename=/tmp/node.jfr" ...   # extra JVM options of our nodes
# (Not SECONDS: bash counts its own run time in that variable.)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
DURATION=${DURATION:-10}
REPS=${REPS:-3}
PINGS=${PINGS:-200}
ROWS=${ROWS:-"veth kernel-vxlan vxlan udp"}
JAVA_OPTS=${JAVA_OPTS:-}
[ "$(id -u)" -eq 0 ] || { echo "e2e.sh: needs root (network namespaces)" >&2; exit 1; }
for tool in iperf3 ping ip bridge python3; do
  command -v "$tool" >/dev/null || { echo "e2e.sh: $tool is not installed" >&2; exit 1; }
done

suffix=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
nsa="dpe2ea$suffix" nsb="dpe2eb$suffix"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  ip netns del "$nsa" 2>/dev/null || true
  ip netns del "$nsb" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

jar="$root/benchmarks/target/benchmarks.jar"
if [ -z "${SKIP_BUILD:-}" ] || [ ! -f "$jar" ]; then
  (cd "$root" && ./mvnw -q -pl benchmarks -am package -DskipTests -Dfuzz.skip=true)
fi
source "$root/.mvn/find-jdk.sh"
dataplane_find_jdk
java="$JAVA_HOME/bin/java"

a() { ip netns exec "$nsa" "$@"; }
b() { ip netns exec "$nsb" "$@"; }

# The hosts: veth0 on both sides, 192.0.2.1 and .2; pod addresses 10.244.1.1 and 10.244.2.1 on lo.
ip netns add "$nsa"
ip netns add "$nsb"
ip -n "$nsa" link add veth0 type veth peer name veth0 netns "$nsb"
for side in a b; do
  ns=$nsa n=1; [ $side = b ] && ns=$nsb n=2
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add 192.0.2.$n/24 dev veth0
  ip -n "$ns" link set veth0 up
  ip -n "$ns" addr add 10.244.$n.1/32 dev lo
done
MAC_A=02:00:0a:f4:01:00 MAC_B=02:00:0a:f4:02:00

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
# Starts our node in each namespace with backend $1; waits for both to say "ready".
nodes_up() {
  local backend=$1 side ns n peer mac peermac data log
  node_pids=()
  for side in a b; do
    ns=$nsa n=1 peer=2 mac=$MAC_A peermac=$MAC_B
    [ $side = b ] && ns=$nsb n=2 peer=1 mac=$MAC_B peermac=$MAC_A
    if [ "$backend" = vxlan ]; then
      data=",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"$peermac\"}"
      macopt=(--vtep-mac "$mac")
    else
      data="" macopt=()
    fi
    log="$work/node-$backend-$side.log"
    # shellcheck disable=SC2086
    "$java" --enable-native-access=ALL-UNNAMED $JAVA_OPTS -cp "$jar" io.dataplane.bench.NodeMain \
      --netns "$ns" --backend "$backend" --subnet 10.244.$n.0/24 --public-ip 192.0.2.$n "${macopt[@]}" \
      --state-dir "$work/state-$side" \
      --peer "{\"Subnet\":\"10.244.$peer.0/24\",\"PublicIP\":\"192.0.2.$peer\",\"BackendType\":\"$backend\"$data}" \
      </dev/null >"$log" 2>&1 &
    node_pids+=($!)
    pids+=($!)
  done
  for side in a b; do
    log="$work/node-$backend-$side.log"
    for _ in $(seq 1 300); do
      grep -q '^ready' "$log" && break
      sleep 0.1
    done
    grep -q '^ready' "$log" || { echo "node $side ($backend) did not start:" >&2; cat "$log" >&2; exit 1; }
  done
}
nodes_down() {
  local pid
  for pid in "${node_pids[@]}"; do kill -TERM "$pid"; done
  for pid in "${node_pids[@]}"; do wait "$pid" || true; done
  for f in "$work"/node-*.log; do
    grep -q '^closed buffersInUse=0' "$f" || { echo "a node did not close cleanly:" >&2; cat "$f" >&2; exit 1; }
  done
  rm -f "$work"/node-*.log
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

# TCP: sets TCP_BPS (median bit/s), CPU_JVM and CPU_MACHINE (% of one core over the runs).
tcp() {
  local src=$1 dst=$2 runs=() r bps busy0 busy1 jvm0 jvm1 t0 t1
  busy0=$(machine_busy) jvm0=$(jvm_cpu) t0=$(date +%s.%N)
  for r in $(seq 1 "$REPS"); do
    b iperf3 -s -1 -B "$dst" >/dev/null 2>&1 &
    local srv=$!
    pids+=($srv)
    sleep 0.3
    bps=$(a iperf3 -c "$dst" -B "$src" -t "$DURATION" -J 2>/dev/null | python3 -c \
      'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])' || echo nan)
    wait "$srv" 2>/dev/null || true
    runs+=("$bps")
  done
  busy1=$(machine_busy) jvm1=$(jvm_cpu) t1=$(date +%s.%N)
  local hz; hz=$(getconf CLK_TCK)
  CPU_JVM=$(awk -v d=$((jvm1 - jvm0)) -v hz="$hz" -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" 'BEGIN {printf "%.0f", 100*d/hz/t}')
  CPU_MACHINE=$(awk -v d=$((busy1 - busy0)) -v hz="$hz" -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" 'BEGIN {printf "%.0f", 100*d/hz/t}')
  TCP_BPS=$(printf '%s\n' "${runs[@]}" | median)
}

# UDP 64-byte datagrams delivered per second (sent - lost, from the receiver's report), median.
udp_pps() {
  local src=$1 dst=$2 runs=() r pps
  for r in $(seq 1 "$REPS"); do
    b iperf3 -s -1 -B "$dst" >/dev/null 2>&1 &
    local srv=$!
    pids+=($srv)
    sleep 0.3
    pps=$(a iperf3 -c "$dst" -B "$src" -u -l 64 -b 0 -t "$DURATION" -J 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)
s = r["end"]["sum"]
print((s["packets"] - s["lost_packets"]) / s["seconds"])' || echo nan)
    wait "$srv" 2>/dev/null || true
    runs+=("$pps")
  done
  printf '%s\n' "${runs[@]}" | median
}

# Ping RTT percentiles in ms: "p50 p99".
ping_rtt() {
  local src=$1 dst=$2
  a ping -n -q -c 5 -i 0.01 -I "$src" "$dst" >/dev/null 2>&1 || true # warm the path (ARP, JIT)
  a ping -n -c "$PINGS" -i 0.01 -W 1 -I "$src" "$dst" 2>/dev/null | python3 -c '
import re, sys
t = sorted(float(m.group(1)) for m in re.finditer(r"time=([0-9.]+) ms", sys.stdin.read()))
if not t: print("nan nan"); sys.exit()
pick = lambda q: t[min(len(t) - 1, int(q * len(t)))]
print("%.3f %.3f" % (pick(0.50), pick(0.99)))'
}

declare -A TCP PPS P50 P99 JVM MACH
measure() {
  local row=$1 src=$2 dst=$3
  echo "# $row: TCP ${REPS}x${DURATION}s ..." >&2
  tcp "$src" "$dst"
  TCP[$row]=$TCP_BPS
  JVM[$row]=$CPU_JVM MACH[$row]=$CPU_MACHINE
  echo "# $row: UDP 64 B ${REPS}x${DURATION}s ..." >&2
  PPS[$row]=$(udp_pps "$src" "$dst")
  echo "# $row: ping x$PINGS ..." >&2
  read -r P50[$row] P99[$row] < <(ping_rtt "$src" "$dst")
}

echo "# e2e: load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, DURATION=$DURATION REPS=$REPS PINGS=$PINGS" >&2
for row in $ROWS; do
  case $row in
    veth) measure veth 192.0.2.1 192.0.2.2 ;;
    kernel-vxlan) kernel_vxlan_up; measure kernel-vxlan 10.244.1.1 10.244.2.1; kernel_vxlan_down ;;
    vxlan|udp) nodes_up "$row"; measure "$row" 10.244.1.1 10.244.2.1; nodes_down ;;
    *) echo "unknown row $row (veth kernel-vxlan vxlan udp)" >&2; exit 2 ;;
  esac
done

ratio() { # ours / kernel, or "-" when either is missing
  awk -v o="${1:-}" -v k="${2:-}" 'BEGIN {if (o == "" || k == "" || o == "nan" || k == "nan" || k == 0) print "-"; else printf "%.2f", o / k}'
}
echo
echo "| path | TCP Gbit/s | UDP 64 B kpps | ping p50 ms | ping p99 ms | CPU during TCP: JVMs / machine (% of a core) | TCP ours/kernel | pps ours/kernel | p50 ours/kernel |"
echo "|---|---|---|---|---|---|---|---|---|"
for row in $ROWS; do
  jvm="-"; [ "$row" = vxlan ] || [ "$row" = udp ] && jvm="${JVM[$row]}"
  r_tcp="-" r_pps="-" r_p50="-"
  if [ "$row" = vxlan ] || [ "$row" = udp ]; then
    r_tcp=$(ratio "${TCP[$row]}" "${TCP[kernel-vxlan]:-}")
    r_pps=$(ratio "${PPS[$row]}" "${PPS[kernel-vxlan]:-}")
    r_p50=$(ratio "${P50[$row]}" "${P50[kernel-vxlan]:-}")
  fi
  printf '| %s | %s | %s | %s | %s | %s / %s | %s | %s | %s |\n' "$row" \
    "$(awk -v v="${TCP[$row]}" 'BEGIN {printf "%.2f", v / 1e9}')" \
    "$(awk -v v="${PPS[$row]}" 'BEGIN {printf "%.0f", v / 1e3}')" \
    "${P50[$row]}" "${P99[$row]}" "$jvm" "${MACH[$row]}" "$r_tcp" "$r_pps" "$r_p50"
done
echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
