#!/usr/bin/env bash
# Flood (root): three hosts on a bridge; our nodes of BACKEND on hosts 1 and 2, each the other's peer;
# host 3 is no peer. A TCP stream from host 2's pod to host 1's (iperf3) runs SECONDS alone, then
# SECONDS while host 3 floods node 1's port with 64-byte datagrams as fast as sendmmsg goes
# (benchmarks/e2e/udp_flood.c; for wireguard two more rounds: 148-byte datagrams typed as handshake
# initiations, which reach the mac1 check, and one initiation with a valid mac1 for node 1's public
# key sent over and over, which puts the device under load and is answered with cookie replies). Prints the stream's throughput with and
# without the flood, and where every flood datagram went: counted by node 1 under its drop reason,
# or dropped by the kernel before the node (socket receive buffer: UDP InErrors of node 1's
# namespace; its veth: rx_dropped; these count the stream's datagrams dropped there too, so the
# check is that node and kernel account for at least every flood datagram), and node 1's RSS before
# and after. A first unmeasured run of the stream warms the JVMs up.
#
# It fails (exit 1, one line per reason) when a flood datagram is counted under any other reason
# than the one the backend gives it (vxlan, udp: unknown_peer; wireguard: wg_bad_message, wg_bad_mac1
# for the initiation-shaped ones, wg_cookie_required for the valid-mac1 ones once the device is under
# load and wg_bad_handshake before), when the datagrams sent are not all accounted for, when the stream
# stops during the flood, when node 1 logs anything, or when a node does not return its buffers.
#
#   benchmarks/flood.sh                     # vxlan, 10 s each
#   BACKEND=wireguard SECONDS_EACH=5 benchmarks/flood.sh
#   SKIP_BUILD=1 ...                        # run the node jar as it is
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BACKEND=${BACKEND:-vxlan}
SECONDS_EACH=${SECONDS_EACH:-10}
OUT=${OUT:-$root/benchmarks/target/flood-$BACKEND-$(date -u +%Y%m%dT%H%M%SZ)}

say() { echo "flood: $*" >&2; }
source "$root/benchmarks/overlay-hosts.sh"
hosts_ready flood iperf3 gcc awk python3
case "$BACKEND" in
  vxlan) port=8472 rounds="64:unknown_peer" ;;
  udp) port=8285 rounds="64:unknown_peer" ;;
  wireguard) port=51820 rounds="64:wg_bad_message 148:wg_bad_mac1:01000000 148:wg_cookie_required+wg_bad_handshake:MAC1" ;;
  *) say "BACKEND=$BACKEND: vxlan, udp or wireguard"; exit 1 ;;
esac
mkdir -p "$OUT"
gcc -O2 -Wall -o "$OUT/udp_flood" "$root/benchmarks/e2e/udp_flood.c"
trap hosts_down EXIT
trap 'exit 130' INT TERM
hosts_up 3 "$BACKEND" "$OUT"
node_start 1
node_start 2
nodes_peer 1 2
ns1=${host_ns[1]}
ip netns exec "${host_ns[2]}" ping -c 3 -i 0.5 -W 5 -I 10.244.2.1 10.244.1.1 >/dev/null || { say "no ping across the nodes"; exit 1; }

# Mbit/s the receiver of a SECONDS_EACH TCP run from host 2's pod to host 1's got.
stream() {
  ip netns exec "$ns1" iperf3 -s -1 -B 10.244.1.1 >/dev/null 2>&1 &
  local server=$!
  started_pids+=($server)
  sleep 0.5
  ip netns exec "${host_ns[2]}" iperf3 -c 10.244.1.1 -B 10.244.2.1 -t "$SECONDS_EACH" -f m >"$OUT/iperf3-$1.log" 2>&1 || true
  wait "$server" 2>/dev/null || true
  awk '/receiver$/ {print $(NF-2)}' "$OUT/iperf3-$1.log" | tail -1
}
kernel_drops() {
  local in rx
  in=$(ip netns exec "$ns1" awk '/^Udp:/ && ++k == 2 {print $4}' /proc/net/snmp)
  rx=$(ip netns exec "$ns1" cat /sys/class/net/veth0/statistics/rx_dropped)
  echo $((in + rx))
}
all_drops() { node_metrics 1 | awk '/^dataplane_drops_total/ && $2 != 0 {r = $1; sub(/.*reason="/, "", r); sub(/".*/, "", r); printf "%s=%s ", r, $2}'; }
rss() { awk '/^VmRSS:/ {print int($2 / 1024)}' "/proc/${node_pid[1]}/status"; }

fail=()
stream warm-up >/dev/null
base=$(stream alone)
rss0=$(rss)
{
  echo "flood: $BACKEND, node 1 on port $port, ${SECONDS_EACH}s per run, from 192.0.2.3 (no peer) ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
  printf '%-26s %10s %12s %12s %12s %14s  %s\n' run "TCP Mbit/s" "flood sent" "node counted" "kernel drops" "unaccounted" "node 1 drops (all reasons, cumulative)"
  printf '%-26s %10s %12s %12s %12s %14s  %s\n' "" "(iperf3)" "(udp_flood)" "(its reason)" "(any dgram)" "(>0: lost)" ""
  printf '%-26s %10s %12s %12s %12s %14s  %s\n' "stream alone" "${base:-0}" - - - - "$(all_drops)"
} | tee "$OUT/summary.txt"
# A handshake initiation to node 1 with a valid mac1 (WireGuard's mac1: BLAKE2s-128 keyed with
# BLAKE2s-256("mac1----" || the responder's public key), over the message up to mac1) and garbage
# where the Noise step would need keys.
valid_mac1_initiation() {
  python3 - "$(node_lease 1 | sed 's/.*"PublicKey":"\([^"]*\)".*/\1/')" <<'EOF'
import base64, hashlib, os, sys
key = hashlib.blake2s(b"mac1----" + base64.b64decode(sys.argv[1])).digest()
msg = bytearray(os.urandom(148))
msg[0:4] = (1).to_bytes(4, "little")
msg[116:132] = hashlib.blake2s(bytes(msg[:116]), key=key, digest_size=16).digest()
msg[132:148] = bytes(16)
print(msg.hex())
EOF
}
# Node 1's drops under the reasons in $1 (joined by +), summed.
counted_as() {
  local m r sum=0
  m=$(node_metrics 1)
  for r in ${1//+/ }; do
    sum=$((sum + $(awk -v k="dataplane_drops_total{reason=\"$r\"}" '$1 == k {print $2}' <<<"$m")))
  done
  echo "$sum"
}
for round in $rounds; do
  IFS=: read -r size reason hex <<<"$round"
  [ "$hex" != MAC1 ] || hex=$(valid_mac1_initiation)
  counted0=$(counted_as "$reason")
  kernel0=$(kernel_drops)
  ip netns exec "${host_ns[3]}" "$OUT/udp_flood" send 192.0.2.3 192.0.2.1 "$port" "$((SECONDS_EACH + 1))" "$size" ${hex:+"$hex"} \
    >"$OUT/flood-$size.out" 2>&1 &
  flooder=$!
  started_pids+=($flooder)
  sleep 0.5
  rate=$(stream "flood-$size")
  wait "$flooder" || true
  sleep 1 # what is in flight reaches the node
  sent=$(sed -n 's/^sent=//p' "$OUT/flood-$size.out")
  counted=$(( $(counted_as "$reason") - counted0 ))
  kernel=$(( $(kernel_drops) - kernel0 ))
  left=$(( ${sent:-0} - counted - kernel ))
  [ "$left" -ge 0 ] || left=0
  printf '%-26s %10s %12s %12s %12s %14s  %s\n' "flood ${size} B ($reason)" "${rate:-0}" "${sent:-?}" "$counted" "$kernel" "$left" "$(all_drops)" \
    | tee -a "$OUT/summary.txt"
  [ "${sent:-0}" -gt 0 ] || fail+=("the ${size}-byte flood sent nothing: $(cat "$OUT/flood-$size.out")")
  [ "$counted" -le "${sent:-0}" ] || fail+=("${size}-byte flood: node counted $counted as $reason, more than the $sent sent")
  [ "$left" -eq 0 ] || fail+=("${size}-byte flood: $left of $sent datagrams neither counted by the node as $reason nor dropped by the kernel")
  awk -v r="${rate:-0}" 'BEGIN {exit !(r > 0)}' || fail+=("the TCP stream stopped during the ${size}-byte flood")
done
expected=" $(for r in $rounds; do IFS=: read -r _ reason _ <<<"$r"; printf '%s ' ${reason//+/ }; done)"
for d in $(all_drops); do
  [[ "$expected" == *" ${d%%=*} "* ]] || fail+=("node 1 counted drops the flood does not explain: $d")
done
rss1=$(rss)
for i in 1 2; do kill -TERM "${node_pid[$i]}"; done
for i in 1 2; do wait "${node_pid[$i]}" 2>/dev/null || true; done
for i in 1 2; do
  grep -q 'packet buffers returned' "$OUT/node$i.log" && ! grep -q 'NOT returned' "$OUT/node$i.log" \
    || fail+=("node $i: buffers not all returned: $(grep -m1 '^stopped:' "$OUT/node$i.log" || echo 'no stopped line')")
  logged=$(grep -E -m1 '^(WARNING|SEVERE|ERROR)|Exception|dataplane node: ' "$OUT/node$i.log" || true)
  [ -z "$logged" ] || fail+=("node $i logged: $logged")
done
{
  echo "node 1 RSS: $rss0 MB before the floods, $rss1 MB after"
  for i in 1 2; do echo "node$i $(grep -m1 '^stopped:' "$OUT/node$i.log" || echo 'stopped: (no line)')"; done
  if [ ${#fail[@]} -eq 0 ]; then echo "PASS"; else printf 'FAIL: %s\n' "${fail[@]}"; fi
} | tee -a "$OUT/summary.txt"
say "results in $OUT"
if [ ${#fail[@]} -gt 0 ]; then
  printf 'flood: FAIL: %s\n' "${fail[@]}" >&2
  exit 1
fi
