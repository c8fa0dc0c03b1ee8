#!/usr/bin/env bash
# Soak (root): two `./dataplane node` processes of one backend, each in a network namespace of its
# own joined by a veth pair (kernel default offloads), carry for MINUTES at once
#   - a TCP stream at full rate, A -> B (iperf3),
#   - small packets, B -> A: 64-byte UDP datagrams at SMALL_PPS a second (iperf3 -u),
#   - pings A -> B every 0.2 s,
# while every INTERVAL s this samples both JVMs: RSS, threads and open fds (/proc), heap after GC,
# GC count and GC pause time (the JVM's own -Xlog:gc), and from each node's /metrics (--metrics-port,
# on the namespace's loopback) buffers in use, packets, bytes and drops by reason; and the two drops
# the kernel counts on the node's doorsteps, outside our counters: packets the TUN queue dropped
# because the node did not read them in time (the TUN's tx_dropped), datagrams its socket dropped
# with a full receive buffer (UDP RcvbufErrors of the namespace: any socket there, iperf3's too). Writes
# samples.csv, summary.txt and plot.png (RSS and throughput over time; gnuplot) to OUT.
#
# It fails (exit 1, one line per reason) when, after WARMUP seconds:
#   - a node's RSS grows by more than RSS_GROWTH_MB (default 64) from its first sample after warm-up
#     to the median of its last three samples (the median keeps one GC cycle's swing out);
#   - a node's open fds grow by more than FD_GROWTH (default 4);
#   - a node does not say "all N packet buffers returned" when stopped;
#   - any drop reason other than those in EXPECTED_DROPS counts a packet: the traffic is well-formed
#     and between known peers, so only congestion explains a drop, and only where the stream meets a
#     full queue (ring_full, send_failed by default);
#   - a node logs anything at WARNING or above, or an exception;
#   - more than PING_LOSS_PCT (default 1) of the pings are lost, or iperf3 fails.
#
#   benchmarks/soak.sh                               # vxlan, 30 minutes
#   MINUTES=2 BACKEND=wireguard benchmarks/soak.sh   # a short wireguard run
#   BACKEND=udp ... / BACKEND=ipip ...               # the other overlay backends
#   SKIP_BUILD=1 ...                                 # run the node jar as it is
#   OUT=/tmp/soak ...                                # where the results go (default benchmarks/target/soak-BACKEND-TIME)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BACKEND=${BACKEND:-vxlan}
MINUTES=${MINUTES:-30}
INTERVAL=${INTERVAL:-10}
WARMUP=${WARMUP:-30}
SMALL_PPS=${SMALL_PPS:-2000}
RSS_GROWTH_MB=${RSS_GROWTH_MB:-64}
FD_GROWTH=${FD_GROWTH:-4}
PING_LOSS_PCT=${PING_LOSS_PCT:-1}
EXPECTED_DROPS=${EXPECTED_DROPS:-"ring_full send_failed"}
OUT=${OUT:-$root/benchmarks/target/soak-$BACKEND-$(date -u +%Y%m%dT%H%M%SZ)}

say() { echo "soak: $*" >&2; }
duration=$((MINUTES * 60))
[ "$duration" -gt "$WARMUP" ] || { say "MINUTES=$MINUTES is not longer than WARMUP=${WARMUP}s"; exit 1; }
source "$root/benchmarks/overlay-hosts.sh"
hosts_ready soak iperf3 ping awk
mkdir -p "$OUT"
trap hosts_down EXIT
trap 'exit 130' INT TERM

# Two hosts on a veth pair, a node on each, each the other's peer. The JVMs log their GCs.
hosts_up 2 "$BACKEND" "$OUT"
nsA=${host_ns[1]}
nsB=${host_ns[2]}
for i in 1 2; do
  export "NODE_JAVA_OPTS$i=-Xlog:gc:file=$OUT/gc$i.log:uptime"
  node_start "$i"
done
nodes_peer 1 2
ip netns exec "$nsA" ping -c 3 -i 0.5 -W 5 -I 10.244.1.1 10.244.2.1 >/dev/null || { say "no ping across the two nodes before the soak"; exit 1; }

# The traffic, all of it for the whole run.
ip netns exec "$nsB" iperf3 -s -1 -B 10.244.2.1 -p 5201 >"$OUT/iperf3-tcp-server.log" 2>&1 &
started_pids+=($!)
ip netns exec "$nsA" iperf3 -s -1 -B 10.244.1.1 -p 5202 >"$OUT/iperf3-udp-server.log" 2>&1 &
started_pids+=($!)
sleep 1
ip netns exec "$nsA" iperf3 -c 10.244.2.1 -B 10.244.1.1 -p 5201 -t "$duration" -i "$INTERVAL" --forceflush \
  >"$OUT/iperf3-tcp.log" 2>&1 &
tcp_pid=$!
started_pids+=($tcp_pid)
ip netns exec "$nsB" iperf3 -u -c 10.244.1.1 -B 10.244.2.1 -p 5202 -l 64 -b $((SMALL_PPS * 64 * 8)) -t "$duration" \
  -i "$INTERVAL" --forceflush >"$OUT/iperf3-udp.log" 2>&1 &
udp_pid=$!
started_pids+=($udp_pid)
pings=$((duration * 5))
ip netns exec "$nsA" ping -n -q -i 0.2 -c "$pings" -I 10.244.1.1 10.244.2.1 >"$OUT/ping.log" 2>&1 &
ping_pid=$!
started_pids+=($ping_pid)

# GC log lines (-Xlog:gc, uptime decoration): "[12.345s][info][gc] GC(7) Pause Young (Normal) (G1 Evacuation Pause) 24M->6M(64M) 3.456ms".
gc_stats() {
  awk '/ Pause / && /->/ {
         n++
         for (i = 1; i <= NF; i++) {
           if ($i ~ /->/) { split($i, a, /->|\(/); after = a[2] }
           if ($i ~ /^[0-9.]+ms$/) { sub(/ms$/, "", $i); pause += $i }
         }
       }
       END {
         v = after + 0; u = after; gsub(/[0-9.]/, "", u)
         kb = (u == "G" ? v * 1048576 : u == "M" ? v * 1024 : u == "K" ? v : v / 1024)
         printf "%d,%d,%.1f", kb, n, pause
       }' "$1" 2>/dev/null || echo "0,0,0"
}

csv=$OUT/samples.csv
echo "seconds,node,rss_kb,heap_after_gc_kb,gc_count,gc_pause_ms,threads,fds,buffers_in_use,egress_packets,ingress_packets,ingress_bytes,ingress_mbps,drops,tun_tx_dropped,udp_rcvbuf_errors" >"$csv"
# The TUN's name, from the start line ("..., TUN flannel.1 mtu 1450, ...").
tun_name=$(grep -m1 -o 'TUN [^ ]* mtu' "$OUT/node1.log" | awk '{print $2}')
declare -A last_bytes=()
for i in 1 2; do
  last_bytes[$i]=$(node_metric "$i" 'dataplane_bytes_total{direction="ingress"}')
done
start=$(date +%s)
next=$start
while :; do
  next=$((next + INTERVAL))
  now=$(date +%s)
  [ "$next" -gt "$now" ] && sleep $((next - now))
  t=$(( $(date +%s) - start ))
  for i in 1 2; do
    ns=${host_ns[$i]}
    pid=${node_pid[$i]}
    if ! kill -0 "$pid" 2>/dev/null; then say "node $i (pid $pid) died:"; tail -20 "$OUT/node$i.log" >&2; exit 1; fi
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
    threads=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status")
    fds=$(ls "/proc/$pid/fd" | wc -l)
    m=$(node_metrics "$i")
    val() { awk -v k="$1" '$1 == k {print $2; exit}' <<<"$m"; }
    bytes=$(val 'dataplane_bytes_total{direction="ingress"}')
    mbps=0
    [ -n "${last_bytes[$i]:-}" ] && mbps=$(awk -v a="${last_bytes[$i]}" -v b="$bytes" -v s="$INTERVAL" 'BEGIN {printf "%.1f", (b - a) * 8 / s / 1e6}')
    last_bytes[$i]=$bytes
    drops=$(awk '/^dataplane_drops_total/ && $2 != 0 {r = $1; sub(/.*reason="/, "", r); sub(/".*/, "", r); printf "%s%s=%s", sep, r, $2; sep = ";"}' <<<"$m")
    tun_drops=$(ip netns exec "$ns" cat "/sys/class/net/$tun_name/statistics/tx_dropped" 2>/dev/null || echo 0)
    rcvbuf=$(ip netns exec "$ns" awk '/^Udp:/ && ++k == 2 {print $6}' /proc/net/snmp)
    echo "$t,node$i,$rss,$(gc_stats "$OUT/gc$i.log"),$threads,$fds,$(val dataplane_buffers_in_use),$(val 'dataplane_packets_total{direction="egress"}'),$(val 'dataplane_packets_total{direction="ingress"}'),$bytes,$mbps,${drops:-none},$tun_drops,$rcvbuf" >>"$csv"
  done
  [ "$t" -ge "$duration" ] && break
  kill -0 "$tcp_pid" 2>/dev/null || break
done

# Traffic ends on its own at the duration; then the nodes stop on SIGTERM and say what they left.
wait "$tcp_pid" && tcp_ok=1 || tcp_ok=0
wait "$udp_pid" && udp_ok=1 || udp_ok=0
wait "$ping_pid" || true
for i in 1 2; do kill -TERM "${node_pid[$i]}" 2>/dev/null || true; done
for i in 1 2; do wait "${node_pid[$i]}" 2>/dev/null || true; done

# ---- verdict ----
fail=()
for i in 1 2; do
  read -r first_rss first_fds < <(awk -F, -v n="node$i" -v w="$WARMUP" '$2 == n && $1 >= w {print $3, $8; exit}' "$csv") || true
  read -r end_rss < <(awk -F, -v n="node$i" '$2 == n {r[++k] = $3} END {
      a = r[k]; b = (k > 1 ? r[k-1] : a); c = (k > 2 ? r[k-2] : a)
      m = (a >= b ? (b >= c ? b : (a >= c ? c : a)) : (a >= c ? a : (b >= c ? c : b))); print m}' "$csv") || true
  read -r end_fds < <(awk -F, -v n="node$i" '$2 == n {f = $8} END {print f}' "$csv") || true
  if [ -z "${first_rss:-}" ]; then
    fail+=("node$i: no sample after the ${WARMUP}s warm-up")
  else
    growth=$(( (end_rss - first_rss) / 1024 ))
    [ "$growth" -le "$RSS_GROWTH_MB" ] || fail+=("node$i: RSS grew ${growth} MB after warm-up ($((first_rss / 1024)) -> $((end_rss / 1024)) MB; bound ${RSS_GROWTH_MB} MB)")
    [ $((end_fds - first_fds)) -le "$FD_GROWTH" ] || fail+=("node$i: open fds grew from $first_fds to $end_fds after warm-up (bound +$FD_GROWTH)")
  fi
  stopped=$(grep -m1 '^stopped:' "$OUT/node$i.log" || true)
  [[ "$stopped" == *"packet buffers returned"* && "$stopped" != *"NOT returned"* ]] \
    || fail+=("node$i: buffers not all returned at stop: ${stopped:-no stopped line}")
  unexplained=$(awk -F, -v n="node$i" -v ok=" $EXPECTED_DROPS " '$2 == n {d = $14} END {
      k = split(d, parts, ";"); for (j = 1; j <= k; j++) { split(parts[j], kv, "="); if (kv[1] != "none" && index(ok, " " kv[1] " ") == 0) printf "%s ", parts[j] } }' "$csv")
  [ -z "$unexplained" ] || fail+=("node$i: drops the traffic does not explain: ${unexplained% }")
  logged=$(grep -E -m3 '^(WARNING|SEVERE|ERROR)|Exception|dataplane node: ' "$OUT/node$i.log" || true)
  [ -z "$logged" ] || fail+=("node$i: logged at WARNING or above: $(head -1 <<<"$logged")")
done
ping_loss=$(grep -o '[0-9.]*% packet loss' "$OUT/ping.log" | cut -d% -f1)
awk -v l="${ping_loss:-100}" -v b="$PING_LOSS_PCT" 'BEGIN {exit !(l <= b)}' || fail+=("ping loss ${ping_loss:-unknown}% (bound ${PING_LOSS_PCT}%)")
[ "$tcp_ok" = 1 ] || fail+=("iperf3 TCP stream failed: $(tail -1 "$OUT/iperf3-tcp.log")")
[ "$udp_ok" = 1 ] || fail+=("iperf3 small-packet stream failed: $(tail -1 "$OUT/iperf3-udp.log")")

# ---- summary ----
tcp_rate=$(awk '/receiver$/ {print $(NF-2), $(NF-1)}' "$OUT/iperf3-tcp.log" | tail -1)
udp_line=$(awk '/receiver$/' "$OUT/iperf3-udp.log" | tail -1)
udp_lost=$(grep -o '[0-9]*/[0-9]* ([0-9.e+-]*%)' <<<"$udp_line" | tail -1)
rtt=$(grep -o 'rtt [^=]*= [0-9./]*' "$OUT/ping.log" | awk '{print $NF}')
{
  echo "soak: $BACKEND, $MINUTES min, sample every ${INTERVAL}s, warm-up ${WARMUP}s ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores)"
  echo "traffic: TCP A->B ${tcp_rate:-?} (iperf3 receiver); 64-byte UDP B->A at $SMALL_PPS/s, lost ${udp_lost:-?}; ping A->B loss ${ping_loss:-?}%, rtt min/avg/max/mdev ${rtt:-?} ms"
  printf '%-6s %8s %8s %8s %8s %8s %7s %5s %5s %5s %5s %8s %9s %9s  %s\n' node rss_MB rss_MB rss_MB heap_MB gc_count gc_ms thr fds buf buf Mbit/s tun_tx rcvbuf drops
  printf '%-6s %8s %8s %8s %8s %8s %7s %5s %5s %5s %5s %8s %9s %9s  %s\n' "" warm-up end max "end(GC)" total total end end max end mean dropped errors "(ours, by reason)"
  for i in 1 2; do
    awk -F, -v n="node$i" -v w="$WARMUP" '$2 == n {
        k++; if ($1 >= w && !wr) wr = $3; rss = $3; if ($3 > mx) mx = $3; heap = $4; gcn = $5; gcp = $6; thr = $7; fds = $8
        buf = $9; if ($9 > bmx) bmx = $9; if ($13 > 0) { sum += $13; cnt++ }; d = $14; tun = $15; rcv = $16 }
      END { printf "%-6s %8.0f %8.0f %8.0f %8.1f %8d %7.0f %5d %5d %5d %5d %8.0f %9d %9d  %s\n", n, wr / 1024, rss / 1024, mx / 1024, heap / 1024, gcn, gcp, thr, fds, bmx, buf, (cnt ? sum / cnt : 0), tun, rcv, d }' "$csv"
  done
  for i in 1 2; do echo "node$i $(grep -m1 '^stopped:' "$OUT/node$i.log" || echo 'stopped: (no line)')"; done
  if [ ${#fail[@]} -eq 0 ]; then echo "PASS"; else printf 'FAIL: %s\n' "${fail[@]}"; fi
} | tee "$OUT/summary.txt"

if command -v gnuplot >/dev/null; then
  awk -F, -v OFS=' ' 'NR > 1 && $2 == "node1" {a[$1] = $3 / 1024; m[$1] = $13} NR > 1 && $2 == "node2" {b[$1] = $3 / 1024; mb[$1] = $13}
      END {for (t in a) print t, a[t], b[t], mb[t]}' "$csv" | sort -n >"$OUT/plot.dat"
  gnuplot <<EOF || say "gnuplot failed; the CSV is in $csv"
set terminal png size 900,450 noenhanced
set output "$OUT/plot.png"
set title "soak: $BACKEND, $MINUTES min ($(date -u +%Y-%m-%d))"
set xlabel "seconds"
set ylabel "RSS (MB)"
set y2label "TCP A->B into node 2 (Mbit/s)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set key bottom right
plot "$OUT/plot.dat" using 1:2 with lines lw 2 title "RSS node 1", \
     "$OUT/plot.dat" using 1:3 with lines lw 2 title "RSS node 2", \
     "$OUT/plot.dat" using 1:4 axes x1y2 with lines title "throughput (node 2 ingress)"
EOF
else
  say "gnuplot is not installed (Debian: gnuplot-nox): no plot, the CSV is in $csv"
fi
say "results in $OUT"
if [ ${#fail[@]} -gt 0 ]; then
  printf 'soak: FAIL: %s\n' "${fail[@]}" >&2
  exit 1
fi
