#!/usr/bin/env bash
# The TUN closed loop, Java (io.dataplane.bench.TunLoop over TunDevice) against the same loop in C
# (tun-loop/tun_loop.c, built here with gcc), and the Java loop with the TUN's batches through
# io_uring, alternately in one run, on one TUN device in a network namespace of its own. Prints
# each run, the medians and the ratios to C. Needs root.
#
#   benchmarks/tun-loop.sh                      # 3 rounds of 5 s (+2 s warmup) each
#   ROUNDS=5 SECONDS_PER_RUN=10 benchmarks/tun-loop.sh
#   INFLIGHT=64 BATCH=32 ...                    # packets circulating; packets per read batch
#
# The loop: read up to BATCH 64-byte UDP packets from the TUN, rewrite each (TTL 64, destination
# 10.244.250.1 <-> .2, IPv4 checksum), write them back; the kernel forwards them into the TUN again.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
WARMUP=${WARMUP:-2}
INFLIGHT=${INFLIGHT:-64}
BATCH=${BATCH:-32}
[ "$(id -u)" -eq 0 ] || { echo "tun-loop.sh: needs root (network namespace, TUN)" >&2; exit 1; }

work=$(mktemp -d)
ns="dptl$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
dev=tl0
cleanup() {
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

gcc -O2 -Wall -o "$work/tun_loop" "$here/tun-loop/tun_loop.c"
jar="$root/benchmarks/target/benchmarks.jar"
if [ -z "${SKIP_BUILD:-}" ] || [ ! -f "$jar" ]; then
  (cd "$root" && ./mvnw -q -pl benchmarks -am package -DskipTests)
fi
source "$root/.mvn/find-jdk.sh"
dataplane_find_jdk
java="$JAVA_HOME/bin/java"

ip netns add "$ns"
nsexec() { ip netns exec "$ns" "$@"; }
nsexec sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0 \
  net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
nsexec ip link set lo up

# A fresh device per run, so no packet of one run is left circulating into the next.
fresh_device() {
  nsexec ip link del "$dev" 2>/dev/null || true
  nsexec ip tuntap add dev "$dev" mode tun
  nsexec ip addr add 198.51.100.1/24 dev "$dev"
  nsexec ip link set "$dev" up
  nsexec ip route add 10.244.250.0/24 dev "$dev"
}

run() {
  fresh_device
  case "$1" in
    c) nsexec "$work/tun_loop" "$dev" "$SECONDS_PER_RUN" "$WARMUP" "$INFLIGHT" "$BATCH" ;;
    java) nsexec "$java" --enable-native-access=ALL-UNNAMED -cp "$jar" io.dataplane.bench.TunLoop \
            "$dev" "$SECONDS_PER_RUN" "$WARMUP" "$INFLIGHT" "$BATCH" ;;
    uring) nsexec "$java" --enable-native-access=ALL-UNNAMED -cp "$jar" io.dataplane.bench.TunLoop \
            "$dev" "$SECONDS_PER_RUN" "$WARMUP" "$INFLIGHT" "$BATCH" io_uring ;;
  esac | awk -F= '/^pps=/ {p = $2} /^cpu_ns_per_packet=/ {c = $2} END {print p, (c == "" ? "-" : c)}'
}

median() { sort -n | awk '{v[NR]=$1} END {if (NR % 2) print v[(NR+1)/2]; else printf "%.0f\n", (v[NR/2]+v[NR/2+1])/2}'; }

c_runs=() java_runs=() uring_runs=() java_cpu=() uring_cpu=()
for r in $(seq 1 "$ROUNDS"); do
  c=$(run c); read -r j jc < <(run java); read -r u uc < <(run uring)
  c=${c%% *}
  c_runs+=("$c"); java_runs+=("$j"); uring_runs+=("$u"); java_cpu+=("$jc"); uring_cpu+=("$uc")
  printf 'round %d: C %8d pps   Java %8d pps (%s ns CPU a packet)   Java io_uring %8d pps (%s ns)\n' "$r" "$c" "$j" "$jc" "$u" "$uc"
done
printf 'median loop-thread CPU a packet: Java %s ns, Java io_uring %s ns\n' \
  "$(printf '%s\n' "${java_cpu[@]}" | median)" "$(printf '%s\n' "${uring_cpu[@]}" | median)"
c_med=$(printf '%s\n' "${c_runs[@]}" | median)
j_med=$(printf '%s\n' "${java_runs[@]}" | median)
u_med=$(printf '%s\n' "${uring_runs[@]}" | median)
printf 'median: C %d pps, Java %d pps, Java io_uring %d pps, Java/C = %s, io_uring/C = %s (batch %d, %d in flight, %d x %ds)\n' \
  "$c_med" "$j_med" "$u_med" "$(awk -v j="$j_med" -v c="$c_med" 'BEGIN {printf "%.2f", j / c}')" \
  "$(awk -v j="$u_med" -v c="$c_med" 'BEGIN {printf "%.2f", j / c}')" "$BATCH" "$INFLIGHT" "$ROUNDS" "$SECONDS_PER_RUN"
