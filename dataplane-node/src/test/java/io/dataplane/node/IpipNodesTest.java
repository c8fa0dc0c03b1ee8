package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.Prerequisites;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.ipip.IpipEncapsulation;
import io.dataplane.tun.raw.RawIpSocket;
import io.dataplane.tun.testing.Hosts;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Two of our ipip nodes, one per namespace (this kernel has no ipip module, so the kernel cannot be
 * the other end): ping and iperf3 TCP both ways, with offload and on the plain path; tshark on the underlay decodes what we send as
 * IPIP around the pods' ICMP, with the inner DF copied out; IP-in-IP from an address that is no
 * peer's is dropped and counted while good traffic goes on; an underlay that merges on receive (GRO)
 * hands the nodes TCP super-packets that reach the pods whole; and the kernel, which has no handler
 * for protocol 4, answers nothing with ICMP protocol unreachable while our socket takes protocol 4,
 * but does once the node is gone.
 */
class IpipNodesTest {
    static final NetConf IPIP = NetConf.parse("{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"ipip\"}}");

    @Test
    void twoIpipNodesCarryPingAndTcpBothWaysAndTsharkSeesIpip() throws Exception {
        Prerequisites.program("iperf3");
        Prerequisites.program("tshark");
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            OverlayNode[] nodes = peered(bed, a, b);
            OverlayNode nodeA = nodes[0];
            OverlayNode nodeB = nodes[1];
            assertEquals("{\"Subnet\":\"10.244.1.0/24\",\"PublicIP\":\"192.0.2.1\",\"BackendType\":\"ipip\"}", nodeA.localLease().toJson());
            assertEquals("flannel.ipip", nodeA.tunName());
            VxlanInteropTest.assertDeviceAsFlannelMakesIt(a, nodeA);

            // Fields of both IPv4 layers come comma-separated, outer first.
            Tool tshark = bed.startTool(a, "tshark", "-i", a.underlay(), "-n", "-l", "-c", "6", "-f", "ip proto 4 and src host " + a.addressText(),
                    "-T", "fields", "-E", "separator=;", "-e", "frame.protocols", "-e", "ip.proto", "-e", "ip.src", "-e", "ip.dst",
                    "-e", "ip.flags.df", "-e", "ip.ttl", "-e", "ip.id", "-e", "ip.checksum.status", "-e", "icmp.type", "-e", "icmp.checksum.status",
                    "-o", "ip.check_checksum:TRUE");
            tshark.awaitStderr("Capturing on", Duration.ofSeconds(20));
            for (int i = 0; i < 20 && !tshark.await(Duration.ofMillis(200)); i++) {
                ping(a, b, i % 2 == 0 ? "do" : "dont");
            }
            assertTrue(tshark.await(Duration.ofSeconds(5)), tshark.output());
            List<String> frames = tshark.stdout().lines().toList();
            assertEquals(6, frames.size(), tshark.output());
            int withDf = 0;
            for (String frame : frames) {
                String[] f = frame.split(";", -1);
                assertEquals("eth:ethertype:ip:ip:icmp:data", f[0], "IPv4 in IPv4 (IPIP) around ICMP: " + frame);
                assertEquals("4,1", f[1], "outer protocol 4, inner ICMP: " + frame);
                assertEquals(a.addressText() + "," + a.podText(), f[2], "outer and inner source: " + frame);
                assertEquals(b.addressText() + "," + b.podText(), f[3], "outer and inner destination: " + frame);
                String[] df = f[4].split(",");
                assertEquals(df[1], df[0], "outer DF copied from the inner: " + frame);
                if (df[0].equals("1")) {
                    withDf++;
                    assertEquals("0x0000", f[6].split(",")[0], "identification 0 on an atomic datagram (RFC 6864): " + frame);
                }
                assertEquals("64", f[5].split(",")[0], "outer TTL 64: " + frame);
                assertEquals("1,1", f[7], "both IPv4 header checksums valid: " + frame);
                assertEquals("8", f[8], "inner ICMP echo request: " + frame);
                assertEquals("1", f[9], "inner ICMP checksum valid: " + frame);
            }
            assertTrue(withDf > 0 && withDf < frames.size(), "frames with DF and without: " + frames);

            Traffic.assertPings(a, b, 4);
            Traffic.assertPings(b, a, 4);
            Traffic.assertTcpBothWays(bed, a, b, "ipip nodes");
            // Offload is on by default: TCP left the TUN as super-packets, cut into one datagram per
            // segment by the raw socket (the kernel checked each outer header), and arrived joined again.
            Traffic.assertOffloadCarried(List.of(nodeA, nodeB));

            for (OverlayNode n : List.of(nodeA, nodeB)) {
                NodeStats s = n.stats();
                assertTrue(s.egressPackets() > 1000 && s.ingressPackets() > 1000, s.toString());
                n.close();
                assertEquals(0, n.buffersInUse(), "buffers still out after close");
            }
            assertFalse(VxlanInteropTest.linkExists(a, "flannel.ipip"), "the TUN must be gone after close");
            assertFalse(VxlanInteropTest.linkExists(b, "flannel.ipip"), "the TUN must be gone after close");
            assertEquals(List.of(), log.problems());
        }
    }

    @Test
    void withoutOffloadThePlainPathCarriesPingAndTcpBothWays() throws Exception {
        Prerequisites.program("iperf3");
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            UnaryOperator<NodeConfig> plain = c -> c.withPacketPath(c.packetPath().withOffload(false));
            OverlayNode nodeA = bed.start(a, IPIP, plain);
            OverlayNode nodeB = bed.start(b, IPIP, plain);
            nodeA.addPeer(nodeB.localLease());
            nodeB.addPeer(nodeA.localLease());
            Traffic.assertPings(a, b, 4);
            Traffic.assertTcpBothWays(bed, a, b, "ipip nodes without offload");
            for (OverlayNode n : List.of(nodeA, nodeB)) {
                // One packet per TUN read and per TUN write: nothing cut, nothing joined.
                assertEquals(0, n.superPacketsSent(), "super-packets sent without offload by " + n);
                assertEquals(0, n.segmentsJoined(), "segments joined without offload by " + n);
                NodeStats s = n.stats();
                assertTrue(s.egressPackets() > 1000 && s.ingressPackets() > 1000, s.toString());
                n.close();
                assertEquals(0, n.buffersInUse(), "buffers still out after close");
            }
            assertEquals(List.of(), log.problems());
        }
    }

    /**
     * An underlay that merges what it receives, as a NIC's GRO does by default: the kernel's ipip
     * GRO joins the datagrams of one inner TCP flow and our raw socket takes each such run up as
     * one datagram of up to 64 KiB, which the node forwards whole into the TUN as a super-packet.
     * A veth merges TCP only with GRO and NAPI on its receiving end and TSO off on its sending
     * one; threaded NAPI lets packets gather between polls as a NIC's interrupt does. Set on both
     * hosts' underlay, for TCP both ways.
     */
    @Test
    void anUnderlayThatMergesOnReceiveHandsUsSuperPacketsThatReachThePodsWhole() throws Exception {
        Prerequisites.program("iperf3");
        Prerequisites.program("ethtool");
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            for (Testbed.Host h : List.of(a, b)) {
                Hosts.run("ip", "netns", "exec", h.name(), "ethtool", "-K", h.underlay(), "gro", "on", "tso", "off");
                Hosts.run("ip", "netns", "exec", h.name(), "sh", "-c", "echo 1 > /sys/class/net/" + h.underlay() + "/threaded");
            }
            OverlayNode[] nodes = peered(bed, a, b);
            OverlayNode nodeA = nodes[0];
            OverlayNode nodeB = nodes[1];
            Traffic.assertPings(a, b, 4);
            Traffic.assertTcpBothWays(bed, a, b, "ipip nodes, underlay merging on receive");
            long merged = 0;
            for (OverlayNode n : List.of(nodeA, nodeB)) {
                long whole = ((IpipEncapsulation) n.backend().encapsulation()).superPacketsReceived();
                System.out.printf("%s: super-packets received whole %d%n", n, whole);
                merged += whole;
                NodeStats s = n.stats();
                assertEquals(0, s.dropped(DropReason.OVERSIZE), s.toString());
                assertEquals(0, s.droppedTotal(), s.toString());
                n.close();
                assertEquals(0, n.buffersInUse(), "buffers still out after close");
            }
            assertTrue(merged > 0, "no datagram merged by the underlay's GRO reached a node");
            assertEquals(List.of(), log.problems());
        }
    }

    @Test
    void unknownPeersAreDroppedAndCountedAndTheKernelStaysQuiet() throws Exception {
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host a = bed.host(1);
            Testbed.Host b = bed.host(2);
            OverlayNode[] nodes = peered(bed, a, b);
            OverlayNode nodeA = nodes[0];
            OverlayNode nodeB = nodes[1];
            Hosts.run("ip", "-n", b.name(), "addr", "add", "192.0.2.99/24", "dev", b.underlay());
            long unreachables = snmp(a, "Icmp", "OutDestUnreachs");

            int strangers = 25;
            try (RawIpSocket s = b.ns().call(() -> RawIpSocket.open(Ipv4Header.PROTO_IPIP, 32, true)); PacketPool pool = new PacketPool(32)) {
                assertEquals(strangers, sendStrangers(s, pool, a, b, strangers));
                awaitDrops(nodeA, strangers);
                Traffic.assertPings(a, b, 4);
                assertEquals(strangers, nodeA.stats().dropped(DropReason.UNKNOWN_PEER), "nothing else counted as unknown");
                assertEquals(0, nodeA.stats().droppedTotal() - strangers, nodeA.stats().toString());
                assertEquals(unreachables, snmp(a, "Icmp", "OutDestUnreachs"), "no ICMP protocol unreachable while our socket takes protocol 4");

                // Without the node's socket the kernel, which has no ipip handler, answers every one.
                nodeA.close();
                assertEquals(1, sendStrangers(s, pool, a, b, 1));
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (snmp(a, "Icmp", "OutDestUnreachs") == unreachables && System.nanoTime() < deadline) Thread.sleep(20);
                assertEquals(unreachables + 1, snmp(a, "Icmp", "OutDestUnreachs"), "protocol unreachable once nothing takes protocol 4");
            }
            assertEquals(List.of(), log.problems());
        }
    }

    /** Our ipip nodes on hosts {@code a} and {@code b}, each the other's peer. */
    private static OverlayNode[] peered(Testbed bed, Testbed.Host a, Testbed.Host b) throws IOException {
        OverlayNode nodeA = bed.start(a, bed.config(a, IPIP));
        OverlayNode nodeB = bed.start(b, bed.config(b, IPIP));
        nodeA.addPeer(nodeB.localLease());
        nodeB.addPeer(nodeA.localLease());
        return new OverlayNode[] {nodeA, nodeB};
    }

    private static void ping(Testbed.Host from, Testbed.Host to, String pmtudisc) throws IOException, InterruptedException {
        Tool.run(Duration.ofSeconds(10), from.exec("ping", "-n", "-c", "1", "-W", "2", "-M", pmtudisc, "-I", from.podText(), to.podText()));
    }

    /** Sends {@code count} IP-in-IP datagrams from 192.0.2.99 (no peer's address) to {@code to}, each around an echo request to its pod. */
    private static int sendStrangers(RawIpSocket socket, PacketPool pool, Testbed.Host to, Testbed.Host from, int count) throws IOException {
        PacketBuffer[] batch = new PacketBuffer[count];
        pool.acquire(batch, count);
        try {
            for (int i = 0; i < count; i++) {
                PacketBuffer p = batch[i];
                byte[] inner = TestPackets.echoRequest(from.pod(), to.pod(), 64, 7, i, 16);
                p.setData(p.offset() + Ipv4Header.HEADER_LEN, 0).put(inner);
                p.prepend(Ipv4Header.HEADER_LEN);
                new Ipv4Header().wrap(p.segment(), p.offset()).setVersion4AndIhl(5).setTotalLength(p.length()).setTtl(64)
                        .setProtocol(Ipv4Header.PROTO_IPIP).setSrcAddr(Ipv4Address.parse("192.0.2.99")).setDstAddr(to.address()).fillChecksum();
                p.setPeer(to.address(), 0);
            }
            return socket.send(batch, count);
        } finally {
            PacketPool.releaseAll(batch, 0, count);
        }
    }

    private static void awaitDrops(OverlayNode node, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (node.stats().dropped(DropReason.UNKNOWN_PEER) < expected && System.nanoTime() < deadline) Thread.sleep(10);
        assertEquals(expected, node.stats().dropped(DropReason.UNKNOWN_PEER));
    }

    /** A counter of the host's {@code /proc/net/snmp} (per namespace). */
    static long snmp(Testbed.Host host, String table, String field) throws IOException {
        List<String> lines = Hosts.run(host.exec("cat", "/proc/net/snmp")).lines().filter(l -> l.startsWith(table + ":")).toList();
        List<String> names = List.of(lines.get(0).split("\\s+"));
        return Long.parseLong(lines.get(1).split("\\s+")[names.indexOf(field)]);
    }
}
