# Sourced by benchmarks/e2e.sh and benchmarks/e2e/iperf3_ways.sh: the two hosts the nodes run on,
# and wireguard-go on one of them, set up alike for both.

# Network namespaces $1 and $2 joined by a veth pair, veth0 on both sides: underlay addresses
# 192.0.2.1 and .2, pod addresses 10.244.1.1 and 10.244.2.1 on lo; the VTEP MACs as MAC_A, MAC_B.
two_hosts() {
  local ns n
  ip netns add "$1"
  ip netns add "$2"
  ip -n "$1" link add veth0 type veth peer name veth0 netns "$2"
  for n in 1 2; do
    ns=$1; [ $n = 2 ] && ns=$2
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add 192.0.2.$n/24 dev veth0
    ip -n "$ns" link set veth0 up
    ip -n "$ns" addr add 10.244.$n.1/32 dev lo
  done
  MAC_A=02:00:0a:f4:01:00 MAC_B=02:00:0a:f4:02:00
}

# Configures the wireguard-go device $2 in namespace $1, host number $3 (1 or 2), as flanneld
# configures kernel WireGuard: private key file $4, the other host's key file $5, listen port
# 51820, the subnet's network address /32 on the device, MTU 1500 - 80, the Network routed through it.
wggo_host() {
  local ns=$1 dev=$2 n=$3 peer=$((3 - $3))
  ip netns exec "$ns" wg set "$dev" private-key "$4" listen-port 51820 \
    peer "$(wg pubkey <"$5")" allowed-ips 10.244.$peer.0/24 endpoint 192.0.2.$peer:51820
  ip -n "$ns" link set "$dev" mtu 1420 up
  ip -n "$ns" addr add 10.244.$n.0/32 dev "$dev"
  ip -n "$ns" route add 10.244.0.0/16 dev "$dev"
}

# Waits up to 30 s for the node whose log is $1 to say it is up (ready, or its peers added); if it
# does not, prints "node $2 did not start" and the log, and fails.
await_node() {
  local _
  for _ in $(seq 1 300); do
    grep -q -E '^(ready|peers: added)' "$1" && return 0
    sleep 0.1
  done
  echo "node $2 did not start:" >&2
  cat "$1" >&2
  return 1
}

# Stops the processes whose PIDs are in the array pids (SIGTERM, then waits for each), removes
# the namespaces $1 and $2 and the directory $3.
hosts_down() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  ip netns del "$1" 2>/dev/null || true
  ip netns del "$2" 2>/dev/null || true
  rm -rf "$3"
}
