# Sourced by benchmarks/soak.sh and benchmarks/flood.sh (root): hosts in network namespaces of
# their own and `./dataplane node` processes on them, as a user runs them.
#
#   hosts_ready NAME TOOL... checks that we are root and have the tools (NAME: the script, for
#                            messages), then builds the node jar when it is missing or stale
#                            (unless SKIP_BUILD is set)
#   hosts_up N BACKEND DIR   N hosts (namespaces ${host_ns[1..N]}): host i has 192.0.2.i/24 on veth0
#                            and the pod address 10.244.i.1/32 on lo; two hosts share a veth pair,
#                            more a bridge in a switch namespace. Links keep the kernel's default
#                            offloads. DIR/node<i>/ gets net-conf.json of BACKEND, subnet.env, peers.json [].
#   node_start I [ARGS...]   starts host I's node (metrics on 127.0.0.1:9100 of its namespace, no stats
#                            line, output in DIR/node<I>.log, JVM options from NODE_JAVA_OPTS<I>);
#                            its PID, the JVM's, in ${node_pid[I]}
#   nodes_peer I J           waits for both nodes' leases and makes each the other's peer
#   node_metrics I           host I's node's /metrics
#   node_metric I SERIES     one value of it, e.g. node_metric 1 'dataplane_drops_total{reason="unknown_peer"}'
#   hosts_down               stops what was started here (by PID) and removes the namespaces
# Needs $root (the repository) set by the caller.

hosts_ready() {
  local name=$1 tool
  shift
  [ "$(id -u)" -eq 0 ] || { echo "$name: needs root (network namespaces)" >&2; exit 1; }
  for tool in ip timeout "$@"; do
    command -v "$tool" >/dev/null || { echo "$name: $tool is not installed" >&2; exit 1; }
  done
  [ -n "${SKIP_BUILD:-}" ] || "$root/dataplane" --version >/dev/null
}

host_ns=()
node_pid=()
started_pids=()
hosts_dir=

hosts_up() {
  local n=$1 backend=$2 i ns sw
  hosts_dir=$3
  for i in $(seq 1 "$n"); do
    host_ns[$i]=dp${backend:0:2}h$i-$$
    ip netns add "${host_ns[$i]}"
  done
  if [ "$n" -eq 2 ]; then
    ip -n "${host_ns[1]}" link add veth0 type veth peer name veth0 netns "${host_ns[2]}"
  else
    sw=dp${backend:0:2}sw-$$
    host_ns[0]=$sw
    ip netns add "$sw"
    ip -n "$sw" link add br0 type bridge
    ip -n "$sw" link set br0 up
    for i in $(seq 1 "$n"); do
      ip -n "$sw" link add "p$i" type veth peer name veth0 netns "${host_ns[$i]}"
      ip -n "$sw" link set "p$i" master br0 up
    done
  fi
  for i in $(seq 1 "$n"); do
    ns=${host_ns[$i]}
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "192.0.2.$i/24" dev veth0
    ip -n "$ns" link set veth0 up
    ip -n "$ns" addr add "10.244.$i.1/32" dev lo
    mkdir -p "$hosts_dir/node$i"
    printf '{"Network": "10.244.0.0/16", "Backend": {"Type": "%s"}}\n' "$backend" >"$hosts_dir/node$i/net-conf.json"
    printf 'FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.%s.1/24\nFLANNEL_IPMASQ=false\n' "$i" >"$hosts_dir/node$i/subnet.env"
    echo '[]' >"$hosts_dir/node$i/peers.json"
  done
}

node_start() {
  local i=$1
  shift
  local opts_var=NODE_JAVA_OPTS$i
  # `ip netns exec` and ./dataplane exec, so the PID is the JVM's.
  DATAPLANE_SKIP_BUILD=1 DATAPLANE_JAVA_OPTS="${!opts_var:-}" \
    ip netns exec "${host_ns[$i]}" "$root/dataplane" node --config "$hosts_dir/node$i" --public-ip "192.0.2.$i" \
    --metrics-port 9100 --stats-interval 0 "$@" >"$hosts_dir/node$i.log" 2>&1 &
  node_pid[$i]=$!
  started_pids+=($!)
}

# The lease line node I prints at start, once it has.
node_lease() {
  local i=$1 t
  for t in $(seq 1 300); do
    grep -m1 '^{"Subnet":' "$hosts_dir/node$i.log" && return 0
    kill -0 "${node_pid[$i]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "node $i did not start:" >&2
  cat "$hosts_dir/node$i.log" >&2
  return 1
}

nodes_peer() {
  local i=$1 j=$2 lease_i lease_j k t
  lease_i=$(node_lease "$i")
  lease_j=$(node_lease "$j")
  echo "[$lease_j]" >"$hosts_dir/node$i/.peers.tmp" && mv "$hosts_dir/node$i/.peers.tmp" "$hosts_dir/node$i/peers.json"
  echo "[$lease_i]" >"$hosts_dir/node$j/.peers.tmp" && mv "$hosts_dir/node$j/.peers.tmp" "$hosts_dir/node$j/peers.json"
  for k in "$i" "$j"; do
    for t in $(seq 1 100); do grep -q '^peers: added' "$hosts_dir/node$k.log" && break; sleep 0.1; done
    grep -q '^peers: added' "$hosts_dir/node$k.log" || { echo "node $k did not add its peer:" >&2; cat "$hosts_dir/node$k.log" >&2; return 1; }
  done
}

# An HTTP/1.0 GET with bash's /dev/tcp inside the namespace; the body without the headers.
node_metrics() {
  ip netns exec "${host_ns[$1]}" timeout 5 bash -c \
    'exec 3<>/dev/tcp/127.0.0.1/9100 && printf "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 && cat <&3' \
    | tr -d '\r' | sed '1,/^$/d'
}

node_metric() {
  node_metrics "$1" | awk -v k="$2" '$1 == k {print $2; exit}'
}

hosts_down() {
  local p i
  for p in "${started_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${started_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for i in "${!host_ns[@]}"; do ip netns del "${host_ns[$i]}" 2>/dev/null || true; done
}
