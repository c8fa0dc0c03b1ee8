package io.dataplane.vxlan;

import static io.dataplane.core.testing.FakeNode.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.testing.FakeNode;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.ArpRepr;
import io.dataplane.core.wire.EthernetHeader;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.MacAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nodes of ours exchanging traffic through core's Pipeline over the in-memory network. */
class VxlanPipelineTest {
    static final Ipv4Prefix NETWORK = Ipv4Prefix.parse("10.244.0.0/16");
    static final int MTU = 1450;

    @TempDir
    Path stateDir;
    final FakeNetwork network = new FakeNetwork();
    final List<FakeNode> nodes = new ArrayList<>();

    @AfterEach
    void closeNodes() {
        // FakeNode.close asserts every buffer came back.
        for (FakeNode n : nodes) n.close();
    }

    /** Node {@code i}: subnet 10.244.i.0/24, public IP 192.0.2.i, VTEP MAC 02:00:00:00:00:i. */
    FakeNode node(int i) throws Exception {
        PacketPool pool = new PacketPool(512);
        BackendContext ctx = new BackendContext(NetConf.of(NETWORK, BackendConf.defaults(BackendType.VXLAN)), subnet(i), underlay(i),
                "flannel.1", MTU, pool, stateDir.resolve("node" + i));
        VxlanBackend backend = VxlanBackend.open(ctx, VxlanOptions.defaults().withTransports(network::attach).withVtepMac(mac(i)));
        FakeNode n = FakeNode.start("tun" + i, pool, backend, MTU);
        nodes.add(n);
        return n;
    }

    static Ipv4Prefix subnet(int i) {
        return Ipv4Prefix.parse("10.244." + i + ".0/24");
    }

    static int underlay(int i) {
        return Ipv4Address.parse("192.0.2." + i);
    }

    static int pod(int i, int host) {
        return Ipv4Address.parse("10.244." + i + "." + host);
    }

    static MacAddress mac(int i) {
        return new MacAddress(0x0200_0000_0000L | i);
    }

    static void connect(FakeNode a, FakeNode b) {
        a.backend().addPeer(b.backend().localLease());
        b.backend().addPeer(a.backend().localLease());
    }

    static byte[] take(FakeNode n) throws InterruptedException {
        byte[] p = n.tun().awaitWritten(Duration.ofSeconds(5));
        assertNotNull(p, "nothing arrived at " + n.tun().name());
        return p;
    }

    @Test
    void pingBothWaysArrivesByteForByte() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        connect(a, b);
        for (int seq = 1; seq <= 20; seq++) {
            byte[] request = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 63, 0x4242, seq, 56);
            a.tun().inject(request);
            assertArrayEquals(request, take(b), "request " + seq + " as the kernel routed it into A's TUN, TTL included");
            byte[] reply = TestPackets.echoReplyTo(request);
            b.tun().inject(reply);
            assertArrayEquals(reply, take(a), "reply " + seq);
        }
        await(() -> a.stats().ingressPackets() == 20 && b.stats().ingressPackets() == 20, "ingress counters");
        assertEquals(20, a.stats().egressPackets());
        assertEquals(20, b.stats().egressPackets());
        assertEquals(0, a.stats().droppedTotal());
        assertEquals(0, b.stats().droppedTotal());
    }

    @Test
    void trafficToARemovedPeerStopsWhileOthersGoOn() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        FakeNode c = node(3);
        connect(a, b);
        connect(a, c);
        AtomicBoolean running = new AtomicBoolean(true);
        Thread sender = Thread.ofPlatform().start(() -> {
            int seq = 0;
            while (running.get()) {
                seq = (seq + 1) & 0xffff;
                a.tun().inject(TestPackets.echoRequest(pod(1, 5), pod(2, 7), 63, 1, seq, 32));
                a.tun().inject(TestPackets.echoRequest(pod(1, 5), pod(3, 7), 63, 1, seq, 32));
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        try {
            await(() -> b.tun().writtenCount() > 20 && c.tun().writtenCount() > 20, "traffic to both peers");
            assertTrue(a.backend().removePeer(subnet(3)));
            // Once A's egress has dropped packets for C, whatever it sent before drains; then nothing more reaches C.
            await(() -> a.dropped(DropReason.NO_ROUTE) >= 5, "A dropping packets for C");
            Thread.sleep(50);
            int atC = c.tun().writtenCount();
            int atB = b.tun().writtenCount();
            long noRoute = a.dropped(DropReason.NO_ROUTE);
            Thread.sleep(300);
            assertEquals(atC, c.tun().writtenCount(), "packets reached the removed peer");
            assertTrue(b.tun().writtenCount() > atB + 20, "traffic to the remaining peer stopped too");
            assertTrue(a.dropped(DropReason.NO_ROUTE) > noRoute + 20, "A no longer routes to C's subnet");

            a.backend().addPeer(c.backend().localLease());
            await(() -> c.tun().writtenCount() > atC + 20, "traffic to the re-added peer");
        } finally {
            running.set(false);
            sender.join();
        }
        assertEquals(0, a.dropped(DropReason.NO_NEIGHBOR) + a.dropped(DropReason.NO_FDB), "removal and re-adding leave no half-programmed peer");
    }

    @Test
    void badDatagramsUnderLoadAreEachCountedAndPingsStillAnswered() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        connect(a, b);
        // B's pod answers every echo request it gets.
        AtomicBoolean running = new AtomicBoolean(true);
        Thread pod = Thread.ofPlatform().start(() -> {
            while (running.get()) {
                try {
                    byte[] p = b.tun().awaitWritten(Duration.ofMillis(20));
                    if (p != null) b.tun().inject(TestPackets.echoReplyTo(p));
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        MacAddress ours = mac(2);
        MacAddress peer = mac(1);
        byte[] ping = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 9, 9, 56);
        byte[] garbageInside = new byte[60];
        new SplittableRandom(1).nextBytes(garbageInside);
        garbageInside[0] = 0x15; // version 1
        Map<DropReason, byte[]> bad = new LinkedHashMap<>();
        bad.put(DropReason.TRUNCATED, new byte[10]);
        byte[] flags = VxlanFrames.datagram(1, ours, peer, EthernetHeader.ETHERTYPE_IPV4, ping);
        flags[0] = 0x00;
        bad.put(DropReason.VXLAN_BAD_FLAGS, flags);
        bad.put(DropReason.VXLAN_UNKNOWN_VNI, VxlanFrames.datagram(2, ours, peer, EthernetHeader.ETHERTYPE_IPV4, ping));
        bad.put(DropReason.VXLAN_NOT_OUR_MAC, VxlanFrames.datagram(1, mac(9), peer, EthernetHeader.ETHERTYPE_IPV4, ping));
        bad.put(DropReason.VXLAN_BAD_ETHERTYPE, VxlanFrames.datagram(1, ours, peer, EthernetHeader.ETHERTYPE_IPV6, ping));
        bad.put(DropReason.NOT_IPV4, VxlanFrames.datagram(1, ours, peer, EthernetHeader.ETHERTYPE_IPV4, garbageInside));
        bad.put(DropReason.OVERSIZE, VxlanFrames.datagram(1, ours, peer, EthernetHeader.ETHERTYPE_IPV4,
                TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 9, 9, MTU - 27)));
        byte[] fromStranger = VxlanFrames.datagram(1, ours, peer, EthernetHeader.ETHERTYPE_IPV4, ping);
        int rounds = 25;
        int replies = 0;
        try {
            for (int r = 0; r < rounds; r++) {
                a.tun().inject(TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 7, r + 1, 56));
                for (byte[] datagram : bad.values()) assertTrue(b.transport().inject(datagram, underlay(1), 41529));
                assertTrue(b.transport().inject(fromStranger, Ipv4Address.parse("198.51.100.9"), 8472));
                byte[] reply = take(a);
                assertEquals(r + 1, Short.toUnsignedInt((short) ((reply[26] & 0xff) << 8 | (reply[27] & 0xff))), "echo reply sequence");
                replies++;
            }
        } finally {
            running.set(false);
            pod.join();
        }
        assertEquals(rounds, replies);
        await(() -> b.stats().dropped(DropReason.UNKNOWN_PEER) == rounds, "the strangers' datagrams counted");
        Counters.Snapshot s = b.stats();
        for (DropReason reason : bad.keySet()) assertEquals(rounds, s.dropped(reason), reason.toString());
        assertEquals(rounds * (bad.size() + 1L), s.droppedTotal(), "nothing else was dropped");
        assertEquals(0, a.stats().droppedTotal());
    }

    @Test
    void badPacketsFromTheTun() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        connect(a, b);
        a.tun().inject(TestPackets.echoRequest(pod(1, 5), pod(9, 9), 64, 1, 1, 8));
        byte[] v6 = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 1, 2, 8);
        v6[0] = 0x60;
        a.tun().inject(v6);
        a.tun().inject(new byte[10]);
        byte[] ttl1 = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 1, 1, 3, 8);
        a.tun().inject(ttl1);
        // TTL 1 is sent on as flannel.1 sends it: the receiving kernel's forwarding expires it.
        assertArrayEquals(ttl1, take(b));
        await(() -> a.stats().droppedTotal() == 3, "three drops at A");
        assertEquals(1, a.dropped(DropReason.NO_ROUTE));
        assertEquals(1, a.dropped(DropReason.NOT_IPV4));
        assertEquals(1, a.dropped(DropReason.TRUNCATED));
    }

    @Test
    void anArpRequestInsideVxlanIsAnsweredToTheVxlanPort() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        connect(a, b);
        byte[] request = VxlanFrames.datagram(1, MacAddress.BROADCAST, mac(2), EthernetHeader.ETHERTYPE_ARP,
                VxlanFrames.arp(ArpRepr.request(mac(2), subnet(2).address(), subnet(1).address())));
        // As B's kernel would send it: from B's address, from some hashed source port.
        assertTrue(a.transport().inject(request, underlay(2), 50123));
        // A's reply reaches B's VXLAN port; B, which asked nothing, ignores the reply.
        await(() -> b.dropped(DropReason.VXLAN_ARP_IGNORED) == 1, "the ARP reply at B");
        assertEquals(0, a.stats().droppedTotal());
        assertEquals(0, a.transport().counters().dropped(DropReason.SEND_FAILED));
        assertEquals(1, b.stats().droppedTotal());
        assertNull(a.pipeline().failure());
    }
}
