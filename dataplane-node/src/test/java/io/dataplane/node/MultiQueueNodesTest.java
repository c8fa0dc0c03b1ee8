package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.UdpHeader;
import io.dataplane.tun.testing.Hosts;
import io.dataplane.tun.udp.FlowSteering;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Nodes with a multi-queue TUN ({@code queues} 2): one packet path per queue, the UDP sockets of
 * both queues one reuseport group steered by the inner flow. Two of our nodes, on the kernel's
 * default veth offloads, carry four parallel TCP flows each way (iperf3 -P 4) from client ports
 * chosen so that the steering gives both queues flows in both directions; then both queues of both
 * nodes moved packets each way, the peers' counters (a lane per queue) add up to the node's, and
 * close returns every buffer and removes the device. One queue stays the single-queue TUN.
 */
class MultiQueueNodesTest {
    private static final int IPERF_PORT = 5201;

    @Test
    void twoUdpNodesSpreadFlowsOverTwoQueues() throws Exception {
        spreadOverTwoQueues(UdpNodesTest.UDP);
    }

    @Test
    void twoVxlanNodesSpreadFlowsOverTwoQueues() throws Exception {
        spreadOverTwoQueues(VxlanInteropTest.VXLAN);
    }

    @Test
    void oneQueueIsASingleQueueTun() throws Exception {
        try (Testbed bed = Testbed.hosts(2)) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            OverlayNode nodeA = startPeers(bed, VxlanInteropTest.VXLAN, 1).get(0);
            Traffic.assertPings(a, b, 3);
            assertEquals(1, nodeA.queues());
            assertEquals(1, nodeA.queueStats().size());
            assertFalse(multiQueue(a, nodeA.tunName()), nodeA.tunName() + " is multi-queue with one queue");
        }
    }

    @Test
    void backendsWithOnePathRefuseMoreQueues() throws Exception {
        NetConf ipip = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"ipip\"}}");
        try (Testbed bed = Testbed.hosts(1)) {
            Testbed.Host a = bed.host(1);
            ConfigException e = assertThrows(ConfigException.class,
                    () -> bed.start(a, ipip, c -> c.withPacketPath(c.packetPath().withQueues(2))));
            assertEquals("queues", e.field());
            assertTrue(e.getMessage().contains("queues=2"), e.getMessage());
            assertEquals(List.of(), links(a, "flannel.ipip"), "device left behind");
        }
    }

    private static void spreadOverTwoQueues(NetConf netConf) throws Exception {
        Prerequisites.program("iperf3");
        BackendType type = netConf.backend().type();
        FlowSteering steering = new FlowSteering(type.overhead() - Ipv4Header.HEADER_LEN - UdpHeader.HEADER_LEN, 2);
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            List<OverlayNode> nodes = startPeers(bed, netConf, 2);
            OverlayNode nodeA = nodes.get(0);
            OverlayNode nodeB = nodes.get(1);
            assertEquals(2, nodeA.queues());
            assertTrue(multiQueue(a, nodeA.tunName()), nodeA.tunName() + " is not multi-queue");
            Traffic.assertPings(a, b, 4);

            // Client ports below the kernel's ephemeral range (32768-60999), where iperf3's own control
            // connection takes its port: one there can take the port a stream is told to bind.
            int forward = spreadingPorts(steering, a.pod(), b.pod(), 20000);
            double ab = Hosts.iperf3(a.ns(), a.pod(), b.ns(), b.pod(), Traffic.TCP_SECONDS, false, 4, forward);
            int reverse = spreadingPorts(steering, a.pod(), b.pod(), forward + 4);
            double ba = Hosts.iperf3(a.ns(), a.pod(), b.ns(), b.pod(), Traffic.TCP_SECONDS, true, 4, reverse);
            System.out.printf("%s, 2 queues, iperf3 -P 4, %d s: a -> b %.0f Mbit/s, b -> a %.0f Mbit/s (noisy shared machine)%n", type,
                    Traffic.TCP_SECONDS, ab / 1e6, ba / 1e6);
            assertTrue(ab > 10e6, "TCP a -> b: " + ab + " bit/s");
            assertTrue(ba > 10e6, "TCP b -> a: " + ba + " bit/s");

            for (OverlayNode n : List.of(nodeA, nodeB)) {
                List<Counters.Snapshot> queues = n.queueStats();
                System.out.println(type + " " + n.config().subnet() + " per queue: " + queues.stream()
                        .map(q -> "egress " + q.egressPackets() + ", ingress " + q.ingressPackets()).toList());
                assertEquals(2, queues.size());
                for (int q = 0; q < 2; q++) {
                    assertTrue(queues.get(q).egressPackets() > 0, "queue " + q + " of " + n + " sent nothing: " + queues);
                    assertTrue(queues.get(q).ingressPackets() > 0, "queue " + q + " of " + n + " received nothing: " + queues);
                }
                NodeStats s = n.stats();
                assertEquals(0, s.droppedTotal(), s.toString());
                PeerEntry peer = n.backend().peerEntry((n == nodeA ? b : a).subnet());
                // The node's counters and the peer's are read one after the other while the streams'
                // last ACKs may still pass: they must agree once those have.
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (!(n.stats().counters().egressPackets() == peer.sentPackets()
                        && n.stats().counters().ingressPackets() == peer.receivedPackets()) && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                s = n.stats();
                assertEquals(s.counters().egressPackets(), peer.sentPackets(), "peer's sent packets, summed over the queues' lanes");
                assertEquals(s.counters().ingressPackets(), peer.receivedPackets(), "peer's received packets, summed over the queues' lanes");
            }
            for (OverlayNode n : List.of(nodeA, nodeB)) {
                String tun = n.tunName();
                n.close();
                assertEquals(0, n.buffersInUse(), "buffers still out after close");
                Testbed.Host h = n == nodeA ? a : b;
                assertEquals(List.of(), links(h, tun), tun + " left behind");
            }
            assertEquals(List.of(), log.problems());
        }
    }

    /** Our nodes on hosts 1 and 2 of {@code bed} with {@code queues} queues, each the other's peer. */
    private static List<OverlayNode> startPeers(Testbed bed, NetConf netConf, int queues) throws IOException {
        OverlayNode a = bed.start(bed.host(1), netConf, c -> c.withPacketPath(c.packetPath().withQueues(queues)));
        OverlayNode b = bed.start(bed.host(2), netConf, c -> c.withPacketPath(c.packetPath().withQueues(queues)));
        a.addPeer(b.localLease());
        b.addPeer(a.localLease());
        return List.of(a, b);
    }

    /**
     * The first client port from {@code from} on whose four consecutive ports (iperf3 -P 4 --cport)
     * the steering puts on both sockets in both directions: the client's segments and the server's.
     */
    private static int spreadingPorts(FlowSteering steering, int client, int server, int from) {
        for (int port = from; port < 32768 - 4; port++) {
            BitSet there = new BitSet();
            BitSet back = new BitSet();
            for (int i = 0; i < 4; i++) {
                there.set(steering.socketFor(payload(steering.innerOffset(), client, server, port + i, IPERF_PORT)));
                back.set(steering.socketFor(payload(steering.innerOffset(), server, client, IPERF_PORT, port + i)));
            }
            if (there.cardinality() == 2 && back.cardinality() == 2) return port;
        }
        throw new AssertionError("no client ports spread over both sockets");
    }

    /** A UDP payload: {@code offset} bytes of tunnel header, then an inner IPv4 TCP packet's headers. */
    private static byte[] payload(int offset, int src, int dst, int sport, int dport) {
        ByteBuffer b = ByteBuffer.allocate(offset + 40);
        b.position(offset);
        b.put((byte) 0x45).put((byte) 0).putShort((short) 40).putShort((short) 0).putShort((short) 0x4000);
        b.put((byte) 64).put((byte) 6).putShort((short) 0).putInt(src).putInt(dst);
        b.putShort((short) sport).putShort((short) dport);
        return b.array();
    }

    private static boolean multiQueue(Testbed.Host host, String tun) throws IOException {
        JsonNode info = Hosts.json("ip", "-d", "-j", "-n", host.name(), "link", "show", "dev", tun).get(0).get("linkinfo").get("info_data");
        return info.get("multi_queue").asBoolean();
    }

    private static List<String> links(Testbed.Host host, String name) throws IOException {
        return Hosts.json("ip", "-j", "-n", host.name(), "link", "show").findValuesAsText("ifname").stream().filter(name::equals).toList();
    }
}
