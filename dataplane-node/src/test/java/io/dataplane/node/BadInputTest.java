package io.dataplane.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.config.NetConf;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.tun.testing.Hosts;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Bad input while good traffic flows: host 2 pings host 1 through our nodes while a sender in host
 * 2's namespace throws malformed datagrams at node 1's port, from node 2's address and from a
 * second address that is no peer's; and host 1 routes into its TUN what the node must refuse.
 * Every ping is answered, every bad packet is counted under its own reason, exactly, nothing is
 * logged, and every buffer is back at close.
 */
class BadInputTest {
    private static final int ROUNDS = 10;
    private static final int PINGS = 300;
    private static final int STRANGER = Ipv4Address.parse("192.0.2.12");

    /** One kind of bad datagram, who sends it, and the reason it must be counted under. */
    private record Bad(String name, byte[] datagram, boolean fromStranger, DropReason reason) {}

    @Test
    void vxlanNodeCountsEveryBadDatagramAndKeepsForwarding() throws Exception {
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host h1 = bed.host(1);
            Testbed.Host h2 = bed.host(2);
            OverlayNode n1 = bed.start(h1, bed.config(h1, VxlanInteropTest.VXLAN));
            OverlayNode n2 = bed.start(h2, bed.config(h2, VxlanInteropTest.VXLAN));
            n1.addPeer(n2.localLease());
            n2.addPeer(n1.localLease());
            long ours = n1.localLease().vxlan().vtepMac().value();
            long theirs = n2.localLease().vxlan().vtepMac().value();
            byte[] good = TestPackets.echoRequest(h2.pod(), h1.pod(), 64, 7, 1, 56);
            List<Bad> bad = List.of(
                    new Bad("truncated", Arrays.copyOf(vxlan(0x08, 1, ours, theirs, 0x0800, good), 12), false, DropReason.TRUNCATED),
                    new Bad("no I flag", vxlan(0x00, 1, ours, theirs, 0x0800, good), false, DropReason.VXLAN_BAD_FLAGS),
                    new Bad("reserved flag", vxlan(0x0c, 1, ours, theirs, 0x0800, good), false, DropReason.VXLAN_BAD_FLAGS),
                    new Bad("wrong VNI", vxlan(0x08, 2, ours, theirs, 0x0800, good), false, DropReason.VXLAN_UNKNOWN_VNI),
                    new Bad("unknown source", vxlan(0x08, 1, ours, theirs, 0x0800, good), true, DropReason.UNKNOWN_PEER),
                    new Bad("another MAC", vxlan(0x08, 1, 0x021122334455L, theirs, 0x0800, good), false, DropReason.VXLAN_NOT_OUR_MAC),
                    new Bad("IPv6 inner", vxlan(0x08, 1, ours, theirs, 0x86dd, good), false, DropReason.VXLAN_BAD_ETHERTYPE),
                    new Bad("inner not IPv4", vxlan(0x08, 1, ours, theirs, 0x0800, withByte(good, 0, 0x65)), false, DropReason.NOT_IPV4),
                    new Bad("inner IHL 4", vxlan(0x08, 1, ours, theirs, 0x0800, withByte(good, 0, 0x44)), false, DropReason.BAD_IHL),
                    new Bad("inner checksum", vxlan(0x08, 1, ours, theirs, 0x0800, withByte(good, 11, good[11] ^ 0x55)), false,
                            DropReason.BAD_CHECKSUM),
                    new Bad("garbage", garbage(100), false, DropReason.VXLAN_BAD_FLAGS),
                    new Bad("oversize", vxlan(0x08, 1, ours, theirs, 0x0800, Arrays.copyOf(good, 3000)), false, DropReason.OVERSIZE));
            run(bed, n1, n2, h1, h2, 8472, bad);

            // From the TUN side: no route, TTL 1 (sent on, as flannel.1 does), not IPv4.
            Map<DropReason, Long> before = n1.stats().drops();
            Traffic.Ping noRoute = pingFrom(h1, "10.244.9.1", 5, "-t", "64");
            assertEquals(0, noRoute.received(), noRoute.output());
            Traffic.Ping ttl1 = pingFrom(h1, h2.podText(), 3, "-t", "1", "-w", "10");
            assertEquals(List.of(), ttl1.unanswered(3), "a TTL 1 packet goes on, as flannel.1 sends it:\n" + ttl1.output());
            int ipv6 = sendIpv6IntoTun(h1, n1.tunName());
            assertEquals(Map.of(DropReason.NO_ROUTE, 5L, DropReason.NOT_IPV4, (long) ipv6), delta(before, n1.stats().drops()));

            closeAndCheck(log, n1, n2);
        }
    }

    @Test
    void udpNodeCountsEveryBadDatagramAndKeepsForwarding() throws Exception {
        try (Testbed bed = Testbed.hosts(2); LogWatch log = new LogWatch()) {
            Testbed.Host h1 = bed.host(1);
            Testbed.Host h2 = bed.host(2);
            OverlayNode n1 = bed.start(h1, bed.config(h1, UdpNodesTest.UDP));
            OverlayNode n2 = bed.start(h2, bed.config(h2, UdpNodesTest.UDP));
            n1.addPeer(n2.localLease());
            n2.addPeer(n1.localLease());
            byte[] good = TestPackets.echoRequest(h2.pod(), h1.pod(), 64, 7, 1, 56);
            byte[] big = TestPackets.echoRequest(h2.pod(), h1.pod(), 64, 7, 1, 1600);
            List<Bad> bad = List.of(
                    new Bad("truncated", Arrays.copyOf(good, 12), false, DropReason.TRUNCATED),
                    new Bad("unknown source", good, true, DropReason.UNKNOWN_PEER),
                    new Bad("not IPv4", withByte(good, 0, 0x65), false, DropReason.NOT_IPV4),
                    new Bad("IHL 4", withByte(good, 0, 0x44), false, DropReason.BAD_IHL),
                    new Bad("total length beyond", withByte(good, 2, 0x7f), false, DropReason.BAD_TOTAL_LENGTH),
                    new Bad("checksum", withByte(good, 11, good[11] ^ 0x55), false, DropReason.BAD_CHECKSUM),
                    new Bad("TTL 1", TestPackets.echoRequest(h2.pod(), h1.pod(), 1, 7, 1, 56), false, DropReason.TTL_EXPIRED),
                    new Bad("garbage", garbage(100), false, DropReason.NOT_IPV4),
                    new Bad("beyond the TUN MTU", big, false, DropReason.OVERSIZE),
                    new Bad("oversize", Arrays.copyOf(good, 3000), false, DropReason.OVERSIZE));
            run(bed, n1, n2, h1, h2, 8285, bad);

            // From the TUN side: no route (answered with ICMP net unreachable, not dropped, and the pod
            // sees it), TTL 1 (flannel's proxy decrements it to 0 and drops it), not IPv4.
            Map<DropReason, Long> before = n1.stats().drops();
            Traffic.Ping noRoute = pingFrom(h1, "10.244.9.1", 5, "-t", "64");
            assertEquals(0, noRoute.received(), noRoute.output());
            assertTrue(noRoute.output().contains("Destination Net Unreachable"),
                    "the ICMP error reaches the pinging pod: " + noRoute.output());
            Traffic.Ping ttl1 = pingFrom(h1, h2.podText(), 3, "-t", "1");
            assertEquals(0, ttl1.received(), ttl1.output());
            int ipv6 = sendIpv6IntoTun(h1, n1.tunName());
            assertEquals(Map.of(DropReason.TTL_EXPIRED, 3L, DropReason.NOT_IPV4, (long) ipv6), delta(before, n1.stats().drops()));

            closeAndCheck(log, n1, n2);
        }
    }

    /**
     * Pings host 1 from host 2 while sending every bad datagram {@link #ROUNDS} times to host 1's
     * {@code port}; asserts every ping was answered and the drops are exactly the bad ones.
     */
    private static void run(Testbed bed, OverlayNode n1, OverlayNode n2, Testbed.Host h1, Testbed.Host h2, int port, List<Bad> bad)
            throws Exception {
        Hosts.run("ip", "-n", h2.name(), "addr", "add", Ipv4Address.toString(STRANGER) + "/24", "dev", h2.underlay());
        Traffic.assertPings(h2, h1, 3);
        Map<DropReason, Long> before = n1.stats().drops();
        InetSocketAddress target = new InetSocketAddress(Ipv4Address.toInetAddress(h1.address()), port);
        try (DatagramChannel peer = h2.ns().call(() -> bound(h2.address()));
                DatagramChannel stranger = h2.ns().call(() -> bound(STRANGER))) {
            // -w: on a loaded machine an answer may be late, but it must come (see PingReplies).
            Tool ping = bed.startTool(h2, "ping", "-n", "-c", String.valueOf(PINGS), "-i", "0.01", "-w", "30", "-I", h2.podText(),
                    h1.podText());
            Thread.sleep(300);
            for (int r = 0; r < ROUNDS; r++) {
                for (Bad b : bad) (b.fromStranger() ? stranger : peer).send(ByteBuffer.wrap(b.datagram()), target);
                Thread.sleep(150);
            }
            assertTrue(ping.await(Duration.ofSeconds(40)), ping.output());
            Traffic.Ping result = Traffic.parsePing(ping.stdout());
            assertEquals(List.of(), result.unanswered(PINGS), "every good ping answered while bad datagrams arrive (node 1: " + n1.stats()
                    + "; node 2: " + n2.stats() + "):\n" + ping.output());
        }
        Map<DropReason, Long> expected = new EnumMap<>(DropReason.class);
        for (Bad b : bad) expected.merge(b.reason(), (long) ROUNDS, Long::sum);
        // The last round's datagrams may still be on their way through node 1 when the ping ends.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        Map<DropReason, Long> got = delta(before, n1.stats().drops());
        while (!got.equals(expected) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            got = delta(before, n1.stats().drops());
        }
        Map<String, DropReason> legend = new LinkedHashMap<>();
        for (Bad b : bad) legend.put(b.name(), b.reason());
        assertEquals(expected, got, "drops by reason for " + ROUNDS + " rounds of " + legend);
    }

    private static DatagramChannel bound(int address) throws java.io.IOException {
        DatagramChannel c = DatagramChannel.open();
        c.bind(new InetSocketAddress(Ipv4Address.toInetAddress(address), 0));
        return c;
    }

    private static Traffic.Ping pingFrom(Testbed.Host h, String dst, int count, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ping", "-n", "-c", String.valueOf(count), "-i", "0.05", "-W", "1", "-I", h.podText()));
        cmd.addAll(List.of(extra));
        cmd.add(dst);
        Tool t = Tool.run(Duration.ofSeconds(20), h.exec(cmd.toArray(String[]::new)));
        return Traffic.parsePing(t.stdout());
    }

    /**
     * IPv6 into the TUN: an IPv6 address on lo and a route for an IPv6 prefix through the TUN,
     * then pings to it; returns how many the kernel sent (each one a packet the node must drop as
     * not IPv4).
     */
    private static int sendIpv6IntoTun(Testbed.Host h, String tun) throws Exception {
        Hosts.run("ip", "-n", h.name(), "-6", "addr", "add", "fd00:1::1/128", "dev", "lo", "nodad");
        Hosts.run("ip", "-n", h.name(), "-6", "route", "add", "fd00:2::/64", "dev", tun);
        Tool t = Tool.run(Duration.ofSeconds(20), h.exec("ping", "-6", "-n", "-c", "4", "-i", "0.05", "-W", "1", "fd00:2::1"));
        Traffic.Ping p = Traffic.parsePing(t.stdout());
        assertEquals(0, p.received(), t.output());
        return p.transmitted();
    }

    private static void closeAndCheck(LogWatch log, OverlayNode... nodes) {
        for (OverlayNode n : nodes) {
            n.close();
            assertEquals(0, n.buffersInUse(), "buffers still out after close");
        }
        assertEquals(List.of(), log.problems(), "nothing may reach the log");
    }

    /** The counts in {@code after} minus those in {@code before}, reasons with no change left out. */
    private static Map<DropReason, Long> delta(Map<DropReason, Long> before, Map<DropReason, Long> after) {
        Map<DropReason, Long> d = new EnumMap<>(DropReason.class);
        for (var e : after.entrySet()) {
            long n = e.getValue() - before.getOrDefault(e.getKey(), 0L);
            if (n != 0) d.put(e.getKey(), n);
        }
        return d;
    }

    /** A VXLAN datagram: header with {@code flags} and {@code vni}, inner Ethernet, {@code payload}. */
    private static byte[] vxlan(int flags, int vni, long dstMac, long srcMac, int ethertype, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(8 + 14 + payload.length);
        b.putInt(flags << 24).putInt(vni << 8);
        b.put(new MacAddress(dstMac).toBytes()).put(new MacAddress(srcMac).toBytes()).putShort((short) ethertype);
        b.put(payload);
        return b.array();
    }

    private static byte[] withByte(byte[] packet, int index, int value) {
        byte[] copy = packet.clone();
        copy[index] = (byte) value;
        return copy;
    }

    private static byte[] garbage(int length) {
        byte[] g = new byte[length];
        Arrays.fill(g, (byte) 0xa5);
        return g;
    }
}
