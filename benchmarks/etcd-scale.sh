#!/usr/bin/env bash
# Scale of the etcd control plane (root): one ./dataplane node (vxlan) against a real etcd holding
# LEASES other nodes' leases in a /14 of /24s, both inside a network namespace of this script's own
# (etcd on the namespace's loopback, the node's public IP on a veth pair inside it; no traffic leaves
# it). Prints:
#   - the time from the node's start until all LEASES leases are peers in its tables;
#   - the node JVM's heap in use (jcmd GC.heap_info, after a GC) and its RSS then;
#   - the time for one more lease, written with etcdctl, to reach the tables.
#
#   benchmarks/etcd-scale.sh              # LEASES=1000
#   LEASES=200 benchmarks/etcd-scale.sh   # smaller
# Needs etcd and etcdctl (Debian's etcd-server, etcd-client) and builds the node if needed.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LEASES=${LEASES:-1000}
[ "$(id -u)" = 0 ] || { echo "etcd-scale: needs root (network namespace, TUN)" >&2; exit 1; }
command -v etcd >/dev/null && command -v etcdctl >/dev/null || { echo "etcd-scale: needs etcd and etcdctl (Debian: etcd-server, etcd-client)" >&2; exit 1; }
[ "$LEASES" -le 1020 ] || { echo "etcd-scale: at most 1020 leases fit a /14 of /24s besides the node's own" >&2; exit 1; }

ns="dpscale-$$"
work=$(mktemp -d /tmp/dpscale.XXXXXX)
etcd_pid=""
node_pid=""
cleanup() {
  [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null || true
  [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null && wait "$etcd_pid" 2>/dev/null || true
  ip netns delete "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add d0 type veth peer name d1
ip -n "$ns" addr add 192.0.2.1/24 dev d0
ip -n "$ns" link set d1 up
ip -n "$ns" link set d0 up

url=http://127.0.0.1:2379
ip netns exec "$ns" etcd --name dpscale --data-dir "$work/etcd" --listen-client-urls "$url" --advertise-client-urls "$url" \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster dpscale=http://127.0.0.1:2380 >"$work/etcd.log" 2>&1 &
etcd_pid=$!
ctl() { ip netns exec "$ns" env ETCDCTL_API=3 etcdctl --endpoints "$url" "$@"; }
for _ in $(seq 100); do ctl endpoint health >/dev/null 2>&1 && break; sleep 0.1; done

prefix=/coreos.com/network
ctl put "$prefix/config" '{"Network": "10.0.0.0/14", "Backend": {"Type": "vxlan"}}' >/dev/null
# LEASES leases as flanneld writes them, from the top of the /14 down (the node takes one near the
# bottom), all on one 24 h lease.
lease=$(ctl lease grant 86400 | awk '{print $2}')
value() { printf '{"PublicIP":"198.18.%d.%d","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"0a:58:c6:12:%02x:%02x"}}' \
  $(( $1 / 250 )) $(( $1 % 250 + 1 )) $(( $1 / 256 )) $(( $1 % 256 )); }
for j in $(seq 0 $(( LEASES - 1 ))); do
  n=$(( 1023 - j ))
  ctl put --lease="$lease" "$(printf '%s/subnets/10.%d.%d.0-24' "$prefix" $(( n / 256 )) $(( n % 256 )))" "$(value "$j")" >/dev/null
done
echo "etcd-scale: $(ctl get "$prefix/subnets/" --prefix --keys-only | grep -c subnets) leases in etcd"

if [ -z "${SKIP_BUILD:-}" ]; then (cd "$here" && ./mvnw -q -pl dataplane-node -am package -DskipTests -Dfuzz.skip=true); fi
start=$(date +%s%N)
DATAPLANE_SKIP_BUILD=1 ip netns exec "$ns" "$here/dataplane" node --etcd-endpoints "$url" --public-ip 192.0.2.1 \
  --subnet-file "$work/subnet.env" --state-dir "$work/state" --stats-interval 0 >"$work/node.log" 2>&1 &
node_pid=$!
wait_line() { # PATTERN: waits up to 120 s for a line of the node's output matching PATTERN
  for _ in $(seq 1200); do grep -q "$1" "$work/node.log" && return 0; kill -0 "$node_pid" 2>/dev/null || break; sleep 0.1; done
  echo "etcd-scale: no line matching '$1':"; cat "$work/node.log"; exit 1
}
wait_line "^node: "
up=$(( ($(date +%s%N) - start) / 1000000 ))
wait_line "($LEASES from etcd)"
all=$(( ($(date +%s%N) - start) / 1000000 ))
source "$here/.mvn/find-jdk.sh"
dataplane_find_jdk
"$JAVA_HOME/bin/jcmd" "$node_pid" GC.run >/dev/null 2>&1 || true
heap=$("$JAVA_HOME/bin/jcmd" "$node_pid" GC.heap_info 2>/dev/null | grep -o 'committed [0-9]*K, used [0-9]*K' | head -1 || true)
rss=$(awk '/VmRSS/ {print $2 " " $3}' "/proc/$node_pid/status")
# One more lease, on a subnet below the LEASES ones that the node did not take.
extra=10.0.1.0
grep -q "FLANNEL_SUBNET=10.0.1.1/" "$work/subnet.env" && extra=10.0.2.0
t1=$(date +%s%N)
ctl put "$prefix/subnets/$extra-24" "$(value 9999)" >/dev/null
wait_line "($(( LEASES + 1 )) from etcd)"
one=$(( ($(date +%s%N) - t1) / 1000000 ))
echo "etcd-scale: node start to $LEASES leases in its tables: $all ms (JVM start, config, lease and TUN: $up ms of it)"
echo "etcd-scale: heap after a GC: ${heap:-unknown (no jcmd)}; RSS: $rss"
echo "etcd-scale: one more lease to the tables: $one ms"
