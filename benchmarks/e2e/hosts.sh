# Sourced by benchmarks/e2e.sh and benchmarks/e2e/iperf3_ways.sh: the two hosts the nodes run on,
# and wireguard-go on one of them, set up alike for both.

# The names of a run's two hosts and its scratch space: namespaces $1a... and $1b... with a random
# suffix (nsa, nsb; the suffix as suffix, for other names of the run), a fresh work directory
# (work), and pids, the processes to stop; all of them removed when the script exits (hosts_down).
hosts_names() {
  suffix=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
  nsa="${1}a$suffix" nsb="${1}b$suffix"
  work=$(mktemp -d)
  pids=()
  trap 'hosts_down "$nsa" "$nsb" "$work"' EXIT
}

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

# Fresh state directories $1/state-a and $1/state-b for two nodes of backend $2, as an operator
# leaves them: a WireGuard key each (wireguard), the VTEP MACs MAC_A and MAC_B (vxlan).
node_states() {
  local side dir
  for side in a b; do
    dir="$1/state-$side"
    rm -rf "$dir"
    mkdir -p "$dir"
    if [ "$2" = wireguard ]; then (umask 077; wg genkey >"$dir/wgkey"); fi
  done
  if [ "$2" = vxlan ]; then
    echo "$MAC_A" >"$1/state-a/vtep-mac"
    echo "$MAC_B" >"$1/state-b/vtep-mac"
  fi
}

# The lease of the node on side $3 (a or b) of backend $2 whose state node_states made under $1,
# as the other node's peers.json holds it.
node_lease() {
  local n=1 mac=$MAC_A data=""
  [ "$3" = b ] && n=2 mac=$MAC_B
  [ "$2" = vxlan ] && data=",\"BackendData\":{\"VNI\":1,\"VtepMAC\":\"$mac\"}"
  [ "$2" = wireguard ] && data=",\"BackendData\":{\"PublicKey\":\"$(wg pubkey <"$1/state-$3/wgkey")\",\"Port\":51820}"
  echo "{\"Subnet\":\"10.244.$n.0/24\",\"PublicIP\":\"192.0.2.$n\",\"BackendType\":\"$2\"$data}"
}

# Writes the configuration of ./dataplane node --config $1 for host number $3 (1 or 2) of backend
# $2, with the lease $4 as its one peer: net-conf.json, subnet.env and peers.json as flanneld's are.
node_config() {
  echo "{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"$2\"}}" >"$1/net-conf.json"
  printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.%s.1/24\nFLANNEL_IPMASQ=false\n' "$3" >"$1/subnet.env"
  echo "[$4]" >"$1/peers.json"
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
