package io.dataplane.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;

/** The Prometheus text exposition of a node's counters: names, labels, types, every drop reason. */
class MetricsEndpointTest {
    /** A sample line of the text format: a metric name, optional labels, a value. */
    private static final Pattern SAMPLE = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[a-z_]+=\"[^\"\\\\]*\"(,[a-z_]+=\"[^\"\\\\]*\")*})? -?\\d+(\\.\\d+)?");

    @Test
    void exposesEveryCounterInTheTextFormat() {
        Counters c = new Counters();
        c.countEgress(1400);
        c.countEgress(1400);
        c.countIngress(84);
        c.drop(DropReason.VXLAN_UNKNOWN_VNI, 2);
        String text = MetricsEndpoint.exposition(StatsLineTest.stats(0, c), 3,
                Map.of("backend", "vxlan", "subnet", "10.244.1.0/24", "public_ip", "192.0.2.1", "tun", "flannel.1"), List.of(), List.of());

        List<String> lines = text.lines().toList();
        assertTrue(lines.contains("dataplane_packets_total{direction=\"egress\"} 2"), text);
        assertTrue(lines.contains("dataplane_packets_total{direction=\"ingress\"} 1"), text);
        assertTrue(lines.contains("dataplane_bytes_total{direction=\"egress\"} 2800"), text);
        assertTrue(lines.contains("dataplane_bytes_total{direction=\"ingress\"} 84"), text);
        assertTrue(lines.contains("dataplane_drops_total{reason=\"vxlan_unknown_vni\"} 2"), text);
        assertTrue(lines.contains("dataplane_drops_total{reason=\"no_route\"} 0"), text);
        assertTrue(lines.contains("dataplane_buffers_in_use 3"), text);
        assertTrue(lines.contains("dataplane_buffers 200"), text);
        assertTrue(lines.contains("dataplane_peers 3"), text);
        assertTrue(lines.contains("dataplane_node_info{backend=\"vxlan\",public_ip=\"192.0.2.1\",subnet=\"10.244.1.0/24\",tun=\"flannel.1\"} 1"),
                text);
        assertTrue(lines.contains("# TYPE dataplane_drops_total counter"), text);
        assertTrue(lines.contains("# TYPE dataplane_buffers_in_use gauge"), text);
        assertEquals(DropReason.values().length, lines.stream().filter(l -> l.startsWith("dataplane_drops_total{")).count());
        for (String line : lines) {
            assertTrue(line.startsWith("# HELP ") || line.startsWith("# TYPE ") || SAMPLE.matcher(line).matches(), "not a sample: " + line);
        }
        assertTrue(text.endsWith("\n"));
    }

    @Test
    void wireguardPeersHaveTheirOwnSeriesUpToTheLimit() {
        Ipv4Prefix peer = Ipv4Prefix.parse("10.244.2.0/24");
        List<PeerTraffic> one = List.of(new PeerTraffic(peer, "key", Ipv4Address.parse("192.0.2.2"), 51820, 5120, 2048, 1_796_545_200_500_000_000L));
        List<String> lines = MetricsEndpoint.exposition(StatsLineTest.stats(0, new Counters()), 1, Map.of("backend", "wireguard"), one, List.of())
                .lines().toList();
        assertTrue(lines.contains("dataplane_peer_transfer_bytes_total{direction=\"received\",subnet=\"10.244.2.0/24\"} 5120"), lines.toString());
        assertTrue(lines.contains("dataplane_peer_transfer_bytes_total{direction=\"sent\",subnet=\"10.244.2.0/24\"} 2048"), lines.toString());
        assertTrue(lines.contains("dataplane_peer_latest_handshake_seconds{subnet=\"10.244.2.0/24\"} 1796545200"), lines.toString());
        assertTrue(lines.contains("# TYPE dataplane_peer_transfer_bytes_total counter"), lines.toString());
        for (String line : lines) {
            assertTrue(line.startsWith("# HELP ") || line.startsWith("# TYPE ") || SAMPLE.matcher(line).matches(), "not a sample: " + line);
        }

        List<PeerTraffic> many = new ArrayList<>();
        for (int i = 0; i < MetricsEndpoint.PEER_SERIES_LIMIT + 10; i++) {
            many.add(new PeerTraffic(Ipv4Prefix.containing(Ipv4Address.parse("10.0.0.0") + (i << 8), 24), "k" + i, 0, 0, i, i, 0));
        }
        String text = MetricsEndpoint.exposition(StatsLineTest.stats(0, new Counters()), many.size(), Map.of(), many, List.of());
        assertEquals(MetricsEndpoint.PEER_SERIES_LIMIT, text.lines().filter(l -> l.startsWith("dataplane_peer_latest_handshake_seconds{")).count());
        assertEquals(0, MetricsEndpoint.exposition(StatsLineTest.stats(0, new Counters()), 1, Map.of(), List.of(), List.of()).lines()
                .filter(l -> l.contains("dataplane_peer_")).count(), "no per-peer families without per-peer counts");
    }

    @Test
    void peerCountsHaveTheirOwnSeriesUpToTheLimitAndTheRestSumUnderOther() {
        int peers = MetricsEndpoint.PEER_SERIES_LIMIT + 10;
        List<PeerCounts> counts = new ArrayList<>();
        for (int i = 0; i < peers; i++) {
            counts.add(new PeerCounts(Ipv4Prefix.containing(Ipv4Address.parse("10.0.0.0") + (i << 8), 24), i, 100L * i, 1, 1_796_545_200_000L + i,
                    2L * i, 200L * i, 0, 1_796_545_100_250L));
        }
        List<String> lines = MetricsEndpoint.exposition(StatsLineTest.stats(0, new Counters()), peers, Map.of("backend", "vxlan"), List.of(), counts)
                .lines().toList();
        for (String family : List.of("dataplane_peer_packets_total", "dataplane_peer_bytes_total", "dataplane_peer_drops_total",
                "dataplane_peer_last_packet_seconds")) {
            List<String> received = lines.stream().filter(l -> l.startsWith(family + "{direction=\"received\"")).toList();
            assertEquals(MetricsEndpoint.PEER_SERIES_LIMIT + 1, received.size(), family + ": one series per peer up to the limit, then other");
            assertEquals(received.size(), received.stream().map(l -> l.substring(0, l.indexOf('}'))).distinct().count(), family);
        }
        assertTrue(lines.contains("dataplane_peer_packets_total{direction=\"received\",subnet=\"10.0.1.0/24\"} 1"), lines.toString());
        assertTrue(lines.contains("dataplane_peer_bytes_total{direction=\"sent\",subnet=\"10.0.255.0/24\"} 51000"), lines.toString());
        // Peers 256..265 summed: packets received 256 + ... + 265, drops 1 each, the latest time of them all.
        long rest = 0;
        for (int i = MetricsEndpoint.PEER_SERIES_LIMIT; i < peers; i++) rest += i;
        assertTrue(lines.contains("dataplane_peer_packets_total{direction=\"received\",subnet=\"other\"} " + rest), lines.toString());
        assertTrue(lines.contains("dataplane_peer_packets_total{direction=\"sent\",subnet=\"other\"} " + 2 * rest), lines.toString());
        assertTrue(lines.contains("dataplane_peer_drops_total{direction=\"received\",subnet=\"other\"} 10"), lines.toString());
        assertTrue(lines.contains("dataplane_peer_last_packet_seconds{direction=\"received\",subnet=\"other\"} 1796545200.265"), lines.toString());
        assertTrue(lines.contains("dataplane_peer_last_packet_seconds{direction=\"sent\",subnet=\"10.0.0.0/24\"} 1796545100.250"), lines.toString());
        assertTrue(lines.contains("# TYPE dataplane_peer_last_packet_seconds gauge"), lines.toString());
        for (String line : lines) {
            assertTrue(line.startsWith("# HELP ") || line.startsWith("# TYPE ") || SAMPLE.matcher(line).matches(), "not a sample: " + line);
        }
        List<String> few = MetricsEndpoint.exposition(StatsLineTest.stats(0, new Counters()), 2, Map.of(), List.of(), counts.subList(0, 2))
                .lines().toList();
        assertEquals(0, few.stream().filter(l -> l.contains("subnet=\"other\"")).count(), "no other below the limit");
    }

    @Test
    void everyQueueHasItsOwnSeriesEachWay() {
        Counters first = new Counters();
        first.countEgress(1400);
        first.countIngress(84);
        Counters second = new Counters();
        second.countEgress(3, 300);
        String text = MetricsEndpoint.queueExposition(List.of(Counters.Snapshot.of(List.of(first)), Counters.Snapshot.of(List.of(second))));

        List<String> lines = text.lines().toList();
        assertTrue(lines.contains("dataplane_queue_packets_total{direction=\"egress\",queue=\"0\"} 1"), text);
        assertTrue(lines.contains("dataplane_queue_packets_total{direction=\"ingress\",queue=\"0\"} 1"), text);
        assertTrue(lines.contains("dataplane_queue_packets_total{direction=\"egress\",queue=\"1\"} 3"), text);
        assertTrue(lines.contains("dataplane_queue_packets_total{direction=\"ingress\",queue=\"1\"} 0"), text);
        assertTrue(lines.contains("dataplane_queue_bytes_total{direction=\"egress\",queue=\"0\"} 1400"), text);
        assertTrue(lines.contains("dataplane_queue_bytes_total{direction=\"egress\",queue=\"1\"} 300"), text);
        assertEquals(8, lines.stream().filter(l -> !l.startsWith("#")).peek(l -> assertTrue(SAMPLE.matcher(l).matches(), l)).count(), text);
        assertEquals("", MetricsEndpoint.queueExposition(List.of()), "host-gw has no queues");
    }

    @Test
    void labelValuesAreEscaped() {
        String text = MetricsEndpoint.exposition(StatsLineTest.stats(0, new Counters()), 0, Map.of("tun", "a\"b\\c\nd"), List.of(), List.of());
        assertTrue(text.contains("dataplane_node_info{tun=\"a\\\"b\\\\c\\nd\"} 1\n"), text);
    }

    @Test
    void listensOnLoopbackOnly() throws IOException {
        // The node is only asked for at a scrape; none comes here.
        try (MetricsEndpoint endpoint = MetricsEndpoint.start(0, null, new Readiness())) {
            int port = endpoint.port();
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
            }
            List<InetAddress> others = NetworkInterface.networkInterfaces().flatMap(NetworkInterface::inetAddresses)
                    .filter(a -> a instanceof Inet4Address && !a.isLoopbackAddress()).toList();
            for (InetAddress a : others) {
                try (Socket s = new Socket()) {
                    assertThrows(ConnectException.class, () -> s.connect(new InetSocketAddress(a, port), 2000),
                            "the counters are not served on " + a.getHostAddress());
                }
            }
        }
    }
}
