package io.dataplane.node.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.node.NodeStats;
import io.dataplane.node.OverlayNode;
import io.dataplane.wireguard.TransportCipher;
import io.dataplane.wireguard.WireGuardBackend;
import io.dataplane.wireguard.crypto.VectorChaCha20Poly1305;
import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The node's counters in Prometheus' text exposition format at {@code http://127.0.0.1:PORT/metrics},
 * and its health beside them as flanneld serves it: {@code /healthz} (the node is alive: its packet
 * path runs) and {@code /readyz} (every {@link Readiness} check holds; the checks one per line).
 *
 * <pre>
 * dataplane_packets_total{direction="egress"} 81234
 * dataplane_bytes_total{direction="ingress"} 1213440
 * dataplane_drops_total{reason="vxlan_unknown_vni"} 2
 * dataplane_buffers_in_use 190
 * dataplane_peers 1
 * dataplane_node_info{backend="vxlan",subnet="10.244.1.0/24",public_ip="192.0.2.1",tun="flannel.1"} 1
 * dataplane_peer_transfer_bytes_total{direction="received",subnet="10.244.2.0/24"} 5120
 * dataplane_peer_latest_handshake_seconds{subnet="10.244.2.0/24"} 1796545200
 * dataplane_peer_packets_total{direction="received",subnet="10.244.2.0/24"} 8
 * dataplane_peer_bytes_total{direction="sent",subnet="10.244.2.0/24"} 1240
 * dataplane_peer_drops_total{direction="received",subnet="other"} 3
 * dataplane_peer_last_packet_seconds{direction="received",subnet="10.244.2.0/24"} 1796545220.12
 * dataplane_queue_packets_total{direction="egress",queue="0"} 81234
 * dataplane_queue_bytes_total{direction="ingress",queue="0"} 1213440
 * </pre>
 *
 * Loopback only: the counters are for a scraper on the same host (or a port forward), not for the
 * network the node serves. Every drop reason is listed, zero or not, so that rates over them work
 * from the first scrape.
 *
 * <p><b>Per-peer series</b> carry one label value per peer subnet, so they are as many as the
 * Network has subnets at most, and never more than {@link #PEER_SERIES_LIMIT} peers' worth: the
 * first peers by subnet get series of their own. WireGuard's transfer and handshake leave the rest
 * out; the packet, byte, drop and last-packet families of vxlan, udp and ipip sum the rest under
 * {@code subnet="other"} (latest time for the last packet), so that the node's total still adds
 * up; "other" is a sum over a set of peers that changes as peers come and go, and may go down
 * when one moves into a series of its own, which a rate reads as a counter reset. The JDK's own
 * HTTP server, one thread, a snapshot per request.
 */
final class MetricsEndpoint implements AutoCloseable {
    /** The content type of the text format, version 0.0.4. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    /** Peers with series of their own at most; those past it (by subnet) are left out of WireGuard's families and summed in the others. */
    static final int PEER_SERIES_LIMIT = 256;

    /** The subnet label under which the peers past {@link #PEER_SERIES_LIMIT} are summed. */
    static final String OTHER_PEERS = "other";

    private final HttpServer server;

    private MetricsEndpoint(HttpServer server) {
        this.server = server;
    }

    /**
     * Serves {@code node}'s counters on 127.0.0.1:{@code port} (of the process's network namespace).
     *
     * @throws ConfigException for {@code --metrics-port} when the port is taken
     */
    static MetricsEndpoint start(int port, OverlayNode node, Readiness readiness) throws IOException {
        InetSocketAddress address = new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), port);
        HttpServer server;
        try {
            server = HttpServer.create(address, 0);
        } catch (BindException e) {
            throw new ConfigException("command line", "--metrics-port", "cannot listen on 127.0.0.1:" + port + ": " + e.getMessage());
        }
        server.createContext("/", exchange -> serve(exchange, node, readiness));
        server.start();
        return new MetricsEndpoint(server);
    }

    private static void serve(HttpExchange exchange, OverlayNode node, Readiness readiness) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath();
            if (!path.equals("/metrics") && !path.equals("/healthz") && !path.equals("/readyz")) {
                reply(exchange, 404, "not found: the counters are at /metrics, the health at /healthz and /readyz\n");
                return;
            }
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                reply(exchange, 405, "method not allowed: " + method + "\n");
                return;
            }
            switch (path) {
                case "/metrics" -> {
                    exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
                    reply(exchange, 200, exposition(node.stats(), node.peers().size(), info(node), PeerTraffic.of(node), PeerCounts.of(node))
                            + queueExposition(node.queueStats()) + cipherExposition(node));
                }
                case "/healthz" -> {
                    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
                    if (node.isRunning()) {
                        reply(exchange, 200, "ok\n");
                    } else {
                        reply(exchange, 503, "packet path stopped" + (node.failure() != null ? ": " + Problem.of(node.failure()).line() : "") + "\n");
                    }
                }
                default -> {
                    List<Readiness.Result> results = readiness.results();
                    exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
                    reply(exchange, Readiness.ready(results) ? 200 : 503, Readiness.text(results));
                }
            }
        }
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** The labels of {@code dataplane_node_info}. */
    static Map<String, String> info(OverlayNode node) {
        return Map.of("backend", node.backendType().flannelName(), "subnet", node.config().subnet().toString(), "public_ip",
                Ipv4Address.toString(node.config().publicIp()), "tun", node.tunName() != null ? node.tunName() : "");
    }

    /** The text exposition of one snapshot. */
    static String exposition(NodeStats stats, int peers, Map<String, String> info, List<PeerTraffic> traffic, List<PeerCounts> counts) {
        StringBuilder sb = new StringBuilder(4096);
        header(sb, "dataplane_packets_total", "counter", "Inner packets forwarded: egress from the TUN to a peer, ingress from a peer to the TUN.");
        sample(sb, "dataplane_packets_total{direction=\"egress\"}", stats.egressPackets());
        sample(sb, "dataplane_packets_total{direction=\"ingress\"}", stats.ingressPackets());
        header(sb, "dataplane_bytes_total", "counter", "Inner bytes forwarded, by direction as dataplane_packets_total.");
        sample(sb, "dataplane_bytes_total{direction=\"egress\"}", stats.egressBytes());
        sample(sb, "dataplane_bytes_total{direction=\"ingress\"}", stats.ingressBytes());
        header(sb, "dataplane_drops_total", "counter", "Packets dropped, by reason.");
        for (DropReason r : DropReason.values()) {
            sample(sb, "dataplane_drops_total{reason=\"" + StatsLine.reasonName(r) + "\"}", stats.dropped(r));
        }
        header(sb, "dataplane_buffers_in_use", "gauge", "Packet buffers out of the pool (in rings, in flight, armed for receive).");
        sample(sb, "dataplane_buffers_in_use", stats.buffersInUse());
        header(sb, "dataplane_buffers", "gauge", "Packet buffers the node allocated.");
        sample(sb, "dataplane_buffers", stats.buffers());
        header(sb, "dataplane_peers", "gauge", "Peers configured (leases in peers.json).");
        sample(sb, "dataplane_peers", peers);
        header(sb, "dataplane_node_info", "gauge", "The node: backend, subnet, public IP and TUN device.");
        StringBuilder labels = new StringBuilder();
        info.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> labels.append(labels.isEmpty() ? "" : ",")
                .append(e.getKey()).append("=\"").append(escape(e.getValue())).append('"'));
        sample(sb, "dataplane_node_info{" + labels + "}", 1);
        if (!traffic.isEmpty()) {
            List<PeerTraffic> shown = traffic.subList(0, Math.min(traffic.size(), PEER_SERIES_LIMIT));
            header(sb, "dataplane_peer_transfer_bytes_total", "counter", "WireGuard transport bytes to and from each peer, by the peer's subnet.");
            for (PeerTraffic t : shown) {
                sample(sb, "dataplane_peer_transfer_bytes_total{direction=\"received\",subnet=\"" + t.subnet() + "\"}", t.rxBytes());
                sample(sb, "dataplane_peer_transfer_bytes_total{direction=\"sent\",subnet=\"" + t.subnet() + "\"}", t.txBytes());
            }
            header(sb, "dataplane_peer_latest_handshake_seconds", "gauge", "Unix time of each peer's latest WireGuard handshake, 0 if none.");
            for (PeerTraffic t : shown) {
                sample(sb, "dataplane_peer_latest_handshake_seconds{subnet=\"" + t.subnet() + "\"}", t.latestHandshakeEpochNanos() / 1_000_000_000L);
            }
        }
        if (!counts.isEmpty()) peerCounts(sb, counts);
        return sb.toString();
    }

    /**
     * WireGuard's families (none for the other backends): the transport payload bytes sealed and
     * opened by each cipher code, and whether the vector code has taken over from the scalar one
     * that stands in while it compiles. A vector cipher that never gets ready seals everything at
     * several times the CPU; these show it.
     */
    static String cipherExposition(OverlayNode node) {
        if (!(node.backend() instanceof WireGuardBackend wireguard)) return "";
        StringBuilder sb = new StringBuilder(1024);
        header(sb, "dataplane_wireguard_cipher_bytes_total", "counter",
                "WireGuard transport payload bytes sealed and opened, by the cipher code that did it: vector, segment (scalar) or jdk.");
        for (TransportCipher code : List.of(TransportCipher.VECTOR, TransportCipher.SEGMENT, TransportCipher.JDK)) {
            long[] bytes = wireguard.encapsulation().transportBytes(code);
            String cipher = code.name().toLowerCase(Locale.ROOT);
            sample(sb, "dataplane_wireguard_cipher_bytes_total{cipher=\"" + cipher + "\",direction=\"sealed\"}", bytes[0]);
            sample(sb, "dataplane_wireguard_cipher_bytes_total{cipher=\"" + cipher + "\",direction=\"opened\"}", bytes[1]);
        }
        header(sb, "dataplane_wireguard_vector_cipher_ready", "gauge",
                "1 once the vector cipher is compiled and takes the messages it is configured for, 0 while the scalar one stands in.");
        sample(sb, "dataplane_wireguard_vector_cipher_ready", VectorChaCha20Poly1305.isWarm() ? 1 : 0);
        return sb.toString();
    }

    /** The per-queue families: packets and bytes each way of every TUN queue's path, by queue number (none for host-gw). */
    static String queueExposition(List<Counters.Snapshot> queues) {
        if (queues.isEmpty()) return "";
        StringBuilder sb = new StringBuilder(256);
        header(sb, "dataplane_queue_packets_total", "counter", "Inner packets each way per TUN queue, as dataplane_packets_total.");
        for (int q = 0; q < queues.size(); q++) {
            sample(sb, "dataplane_queue_packets_total{direction=\"egress\",queue=\"" + q + "\"}", queues.get(q).egressPackets());
            sample(sb, "dataplane_queue_packets_total{direction=\"ingress\",queue=\"" + q + "\"}", queues.get(q).ingressPackets());
        }
        header(sb, "dataplane_queue_bytes_total", "counter", "Inner bytes each way per TUN queue, as dataplane_bytes_total.");
        for (int q = 0; q < queues.size(); q++) {
            sample(sb, "dataplane_queue_bytes_total{direction=\"egress\",queue=\"" + q + "\"}", queues.get(q).egressBytes());
            sample(sb, "dataplane_queue_bytes_total{direction=\"ingress\",queue=\"" + q + "\"}", queues.get(q).ingressBytes());
        }
        return sb.toString();
    }

    // The per-peer families of vxlan, udp and ipip: PEER_SERIES_LIMIT peers by subnet, the rest summed as "other".
    private static void peerCounts(StringBuilder sb, List<PeerCounts> counts) {
        List<PeerCounts> series = new ArrayList<>(counts.subList(0, Math.min(counts.size(), PEER_SERIES_LIMIT)));
        if (counts.size() > PEER_SERIES_LIMIT) series.add(PeerCounts.sum(counts.subList(PEER_SERIES_LIMIT, counts.size())));
        header(sb, "dataplane_peer_packets_total", "counter", "Inner packets each way per peer: received from it to the TUN, sent to it.");
        for (PeerCounts c : series) {
            sample(sb, peerSeries("dataplane_peer_packets_total", "received", c), c.receivedPackets());
            sample(sb, peerSeries("dataplane_peer_packets_total", "sent", c), c.sentPackets());
        }
        header(sb, "dataplane_peer_bytes_total", "counter", "Inner bytes each way per peer, as dataplane_peer_packets_total.");
        for (PeerCounts c : series) {
            sample(sb, peerSeries("dataplane_peer_bytes_total", "received", c), c.receivedBytes());
            sample(sb, peerSeries("dataplane_peer_bytes_total", "sent", c), c.sentBytes());
        }
        header(sb, "dataplane_peer_drops_total", "counter",
                "Drops per peer: received, datagrams from its address dropped as bad; sent, packets for it the transport did not take.");
        for (PeerCounts c : series) {
            sample(sb, peerSeries("dataplane_peer_drops_total", "received", c), c.receivedDrops());
            sample(sb, peerSeries("dataplane_peer_drops_total", "sent", c), c.sentDrops());
        }
        header(sb, "dataplane_peer_last_packet_seconds", "gauge", "Unix time of the last packet each way per peer, 0 if none.");
        for (PeerCounts c : series) {
            sb.append(peerSeries("dataplane_peer_last_packet_seconds", "received", c)).append(' ').append(seconds(c.lastReceivedMillis())).append('\n');
            sb.append(peerSeries("dataplane_peer_last_packet_seconds", "sent", c)).append(' ').append(seconds(c.lastSentMillis())).append('\n');
        }
    }

    private static String peerSeries(String name, String direction, PeerCounts c) {
        return name + "{direction=\"" + direction + "\",subnet=\"" + (c.subnet() != null ? c.subnet().toString() : OTHER_PEERS) + "\"}";
    }

    // Milliseconds as seconds with three decimals.
    private static String seconds(long millis) {
        return millis / 1000 + "." + String.format(Locale.ROOT, "%03d", millis % 1000);
    }

    private static void header(StringBuilder sb, String name, String type, String help) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder sb, String series, long value) {
        sb.append(series).append(' ').append(value).append('\n');
    }

    // Label values escape backslash, double quote and line feed.
    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** The port served, useful when started on port 0. */
    int port() {
        return server.getAddress().getPort();
    }

    /** Stops serving at once. */
    @Override
    public void close() {
        server.stop(0);
    }
}
