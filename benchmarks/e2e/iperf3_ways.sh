#!/usr/bin/env bash
# How the way a harness runs its iperf3 server changes what two nodes on this machine carry (root).
# Two namespaces over a veth pair as in e2e.sh, our nodes in them started as users start them
# (./dataplane node --config DIR; or wireguard-go), then TCP runs of DURATION s that alternate
# between ways of running the server, REPS rounds:
#   fresh   iperf3 -s -1 per run, a child of this script (e2e.sh's way)
#   daemon  one iperf3 -s -D for all runs: it forks and starts a session of its own
#   setsid  setsid iperf3 -s -1 per run: a session of its own, no daemon
#   bg      one iperf3 -s for all runs, a child of this script: a daemon's life, not its session
# Per run: Gbit/s, TCP retransmits, and what was dropped meanwhile (UdpRcvbufErrors in each
# namespace, the TUN's tx_dropped on each side); with SAMPLE=1 where the threads ran
# (sched_sample.py). At the end, per way: the median Gbit/s and how often the sending node's
# egress thread and the receiving node's receive thread were both runnable on one core.
#
#   BACKEND=wireguard MODES="fresh daemon" REPS=4 benchmarks/e2e/iperf3_ways.sh   # also vxlan udp ipip wireguard-go
#   SAMPLE=1 ...      where the threads ran, per run
#   NODE_SETSID=1 ... every node in a session of its own (as a service would be)
#   PIN=1 ...         the sending node's egress thread on cpu0, the receiving node's receive thread on cpu1
#   QUIET=1 ...       every session of the test at autogroup nice -19, so that other sessions on a
#                     shared machine weigh 1/87 of one of ours: a nearly quiet machine for the test,
#                     the same groups among its processes. Takes the CPU from everyone else while it runs.
# Needs jars built (./mvnw -q -pl dataplane-node -am package -DskipTests), iperf3, nstat, python3.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
BACKEND=${BACKEND:-wireguard}
REPS=${REPS:-4}
DURATION=${DURATION:-5}
MODES=${MODES:-"fresh daemon"}
[ "$(id -u)" -eq 0 ] || { echo "iperf3_ways.sh: needs root (network namespaces)" >&2; exit 1; }
suffix=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
nsa="dpiwa$suffix" nsb="dpiwb$suffix"
work=$(mktemp -d)
pids=() node_pids=()
source "$here/hosts.sh"
cleanup() {
  [ -f "$work/iperf.pid" ] && kill "$(cat "$work/iperf.pid")" 2>/dev/null || true
  hosts_down "$nsa" "$nsb" "$work"
}
trap cleanup EXIT
export DATAPLANE_SKIP_BUILD=1
# The autogroup of process $1 (one this script started) at nice -19 with QUIET=1.
quiet() { if [ -n "${QUIET:-}" ] && [ -n "${1:-}" ]; then echo -19 >"/proc/$1/autogroup" 2>/dev/null || true; fi; }
if [ -n "${QUIET:-}" ] && [ "$(ps -o sid= -p $$ | tr -d ' ')" != "$$" ]; then
  echo "iperf3_ways.sh: QUIET=1 renices this script's session; start it as its own (setsid -w $0)" >&2; exit 2
fi
quiet $$
a() { ip netns exec "$nsa" "$@"; }
b() { ip netns exec "$nsb" "$@"; }
# The PID of the newest iperf3 in namespace $1.
iperf3_in() { local p; for p in $(ip netns pids "$1"); do [ "$(cat /proc/"$p"/comm 2>/dev/null)" = iperf3 ] && echo "$p"; done | tail -1 || true; }

two_hosts "$nsa" "$nsb"
for side in a b; do
  mkdir -p "$work/state-$side"
  case $BACKEND in wireguard|wireguard-go) (umask 077; wg genkey >"$work/state-$side/wgkey") ;; esac
done
if [ "$BACKEND" = wireguard-go ]; then
  for side in a b; do
    ns=$nsa n=1 other=b
    [ $side = b ] && ns=$nsb n=2 other=a
    ip netns exec "$ns" ${NODE_SETSID:+setsid} wireguard-go -f "wgiw$side$suffix" >/dev/null 2>&1 &
    node_pids+=($!) pids+=($!)
    for _ in $(seq 1 200); do ip -n "$ns" link show "wgiw$side$suffix" >/dev/null 2>&1 && break; sleep 0.05; done
    wggo_host "$ns" "wgiw$side$suffix" $n "$work/state-$side/wgkey" "$work/state-$other/wgkey"
    echo ready >"$work/node-$side.log"
  done
else
  [ "$BACKEND" = vxlan ] && { echo $MAC_A >"$work/state-a/vtep-mac"; echo $MAC_B >"$work/state-b/vtep-mac"; }
  for side in a b; do
    ns=$nsa n=1 peer=2 peermac=$MAC_B other=b
    [ $side = b ] && ns=$nsb n=2 peer=1 peermac=$MAC_A other=a
    dir="$work/state-$side" data=""
    [ "$BACKEND" = vxlan ] && data=",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"$peermac\"}"
    [ "$BACKEND" = wireguard ] && data=",\"BackendData\":{\"PublicKey\":\"$(wg pubkey <"$work/state-$other/wgkey")\",\"Port\":51820}"
    echo "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"$BACKEND\"}}" >"$dir/net-conf.json"
    printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.%s.1/24\nFLANNEL_IPMASQ=false\n' "$n" >"$dir/subnet.env"
    echo "[{\"Subnet\":\"10.244.$peer.0/24\",\"PublicIP\":\"192.0.2.$peer\",\"BackendType\":\"$BACKEND\"$data}]" >"$dir/peers.json"
    ip netns exec "$ns" ${NODE_SETSID:+setsid} "$root/dataplane" node --config "$dir" --public-ip 192.0.2.$n </dev/null >"$work/node-$side.log" 2>&1 &
    node_pids+=($!) pids+=($!)
  done
fi
for side in a b; do
  for _ in $(seq 1 300); do grep -q -E '^(ready|peers: added)' "$work/node-$side.log" && break; sleep 0.1; done
  grep -q -E '^(ready|peers: added)' "$work/node-$side.log" || { echo "node $side did not start:" >&2; cat "$work/node-$side.log" >&2; exit 1; }
done
for pid in "${node_pids[@]}"; do quiet "$pid"; done
if [ -n "${PIN:-}" ]; then
  for t in /proc/"${node_pids[0]}"/task/*; do case $(cat "$t/comm") in dp-egress*) taskset -p -c 0 "${t##*/}" >/dev/null ;; esac; done
  for t in /proc/"${node_pids[1]}"/task/*; do case $(cat "$t/comm") in dp-udp*rx) taskset -p -c 1 "${t##*/}" >/dev/null ;; esac; done
fi
tun_a=$(ip -n "$nsa" -o link | awk -F': ' '$2 !~ /^(lo|veth0)/ {print $2; exit}' | cut -d@ -f1)
tun_b=$(ip -n "$nsb" -o link | awk -F': ' '$2 !~ /^(lo|veth0)/ {print $2; exit}' | cut -d@ -f1)
echo "# $BACKEND, load average $(cut -d' ' -f1-3 /proc/loadavg), nodes $(cat /proc/"${node_pids[0]}"/autogroup) and $(cat /proc/"${node_pids[1]}"/autogroup)${PIN:+, pinned}"

# Unmeasured first: the nodes' JIT.
b iperf3 -s -1 -B 10.244.2.1 >/dev/null 2>&1 &
srv=$!
sleep 0.3
a iperf3 -c 10.244.2.1 -B 10.244.1.1 -t 3 >/dev/null 2>&1 || true
wait $srv || true

tx_dropped() { ip -n "$1" -s -s link show "$2" | awk '/TX:/ {getline; print $4}'; }
counter() { ip netns exec "$1" nstat -az 2>/dev/null | awk -v k="$2" '$1 == k {print $2}'; }
drops() { echo "$(counter "$nsa" UdpRcvbufErrors) $(counter "$nsb" UdpRcvbufErrors) $(tx_dropped "$nsa" "$tun_a") $(tx_dropped "$nsb" "$tun_b")"; }

persistent=
for r in $(seq 1 "$REPS"); do
  for mode in $MODES; do
    if [ -f "$work/iperf.pid" ] && [ "$mode" != "$persistent" ]; then
      kill "$(cat "$work/iperf.pid")"; rm -f "$work/iperf.pid"; persistent=; sleep 0.3
    fi
    srv=
    case $mode in
      fresh) b iperf3 -s -1 -B 10.244.2.1 >/dev/null 2>&1 & srv=$! ;;
      setsid) b setsid iperf3 -s -1 -B 10.244.2.1 >/dev/null 2>&1 & srv=$! ;;
      daemon) [ -f "$work/iperf.pid" ] || b iperf3 -s -D -B 10.244.2.1 -I "$work/iperf.pid"; persistent=$mode ;;
      bg) if [ ! -f "$work/iperf.pid" ]; then b iperf3 -s -B 10.244.2.1 -I "$work/iperf.pid" >/dev/null 2>&1 & fi; persistent=$mode ;;
      *) echo "unknown way $mode (fresh daemon setsid bg)" >&2; exit 2 ;;
    esac
    sleep 0.5
    spid=$(iperf3_in "$nsb")
    quiet "$spid"
    group=$(cut -d' ' -f1 "/proc/$spid/autogroup" 2>/dev/null || echo -)
    d0=$(drops)
    a iperf3 -c 10.244.2.1 -B 10.244.1.1 -t "$DURATION" -J >"$work/client.json" 2>/dev/null &
    cli=$!
    sleep 0.5
    stacked=-
    if [ -n "${SAMPLE:-}" ]; then
      python3 "$here/sched_sample.py" $((DURATION - 1)) A="${node_pids[0]}" B="${node_pids[1]}" srv="$spid" cli="$(iperf3_in "$nsa")" >"$work/sample.txt"
      stacked=$(awk '/^stacked/ {print $2}' "$work/sample.txt")
    fi
    wait $cli || true
    [ -n "$srv" ] && { wait "$srv" || true; }
    d1=$(drops)
    read -r gbps retr < <(python3 -c '
import json, sys
e = json.load(sys.stdin)["end"]
print("%.3f %d" % (e["sum_received"]["bits_per_second"] / 1e9, e["sum_sent"].get("retransmits", -1)))' <"$work/client.json" || echo "nan -1")
    dropped=$(awk -v a="$d0" -v b="$d1" 'BEGIN {n = split(a, x, " "); split(b, y, " "); for (i = 1; i <= n; i++) printf "%d%s", y[i] - x[i], i < n ? " " : ""}')
    echo "$r $mode (server in $group): $gbps Gbit/s, $retr retransmits; dropped (UdpRcvbufErrors a b, TUN tx_dropped a b): $dropped; stacked ${stacked}%"
    echo "$mode $gbps $stacked" >>"$work/runs"
    [ -n "${SAMPLE:-}" ] && grep -v '^stacked' "$work/sample.txt"
  done
done
echo "# load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in $MODES; do
  printf '%-7s median %s Gbit/s, egress and receive thread on one core (median of runs) %s%%\n' "$mode" \
    "$(awk -v m="$mode" '$1 == m {print $2}' "$work/runs" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}')" \
    "$(awk -v m="$mode" '$1 == m {print $3}' "$work/runs" | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}')"
done
