package io.dataplane.udp;

import static io.dataplane.core.testing.FakeNode.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
import io.dataplane.core.wire.Icmpv4Header;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Prefix;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Nodes of flannel's udp backend exchanging traffic through core's Pipeline over the in-memory network. */
class UdpPipelineTest {
    static final Ipv4Prefix NETWORK = Ipv4Prefix.parse("10.244.0.0/16");
    static final int MTU = 1472;

    @TempDir
    Path stateDir;
    final FakeNetwork network = new FakeNetwork();
    final List<FakeNode> nodes = new ArrayList<>();

    @AfterEach
    void closeNodes() {
        for (FakeNode n : nodes) n.close();
    }

    FakeNode node(int i) throws Exception {
        PacketPool pool = new PacketPool(512);
        BackendContext ctx = new BackendContext(NetConf.of(NETWORK, BackendConf.defaults(BackendType.UDP)), subnet(i), underlay(i),
                "flannel0", MTU, pool, stateDir);
        FakeNode n = FakeNode.start("tun" + i, pool, UdpBackend.open(ctx, UdpOptions.defaults().withTransports(network::attach)), MTU);
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

    static void connect(FakeNode a, FakeNode b) {
        a.backend().addPeer(b.backend().localLease());
        b.backend().addPeer(a.backend().localLease());
    }

    static byte[] take(FakeNode n) throws InterruptedException {
        byte[] p = n.tun().awaitWritten(Duration.ofSeconds(5));
        assertNotNull(p, "nothing arrived at " + n.tun().name());
        return p;
    }

    /** {@code packet} with its TTL lowered by {@code by} and the header checksum computed afresh. */
    static byte[] ttlLess(byte[] packet, int by) {
        byte[] copy = packet.clone();
        Ipv4Header ip = new Ipv4Header().wrap(MemorySegment.ofArray(copy), 0);
        ip.setTtl(ip.ttl() - by).fillChecksum();
        return copy;
    }

    @Test
    void pingBothWaysLosesTwoFromTheTtlAsThroughFlannelsTwoProxies() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        connect(a, b);
        for (int seq = 1; seq <= 20; seq++) {
            byte[] request = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 63, 0x4242, seq, 56);
            a.tun().inject(request);
            assertArrayEquals(ttlLess(request, 2), take(b), "request " + seq);
            byte[] reply = TestPackets.echoReplyTo(request);
            b.tun().inject(reply);
            assertArrayEquals(ttlLess(reply, 2), take(a), "reply " + seq);
        }
        await(() -> a.stats().ingressPackets() == 20 && b.stats().ingressPackets() == 20, "ingress counters");
        assertEquals(0, a.stats().droppedTotal() + b.stats().droppedTotal());
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
                a.tun().inject(TestPackets.udp(pod(1, 5), pod(2, 7), 64, 40000, seq, 32));
                a.tun().inject(TestPackets.udp(pod(1, 5), pod(3, 7), 64, 40000, seq, 32));
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
            // Without a route, A answers each packet for C with ICMP net unreachable, as far as the rate
            // limit lets it; once it does, whatever it sent C before drains, then nothing more reaches C.
            await(() -> a.tun().writtenCount() >= 5, "A answering packets for C");
            Thread.sleep(50);
            int atC = c.tun().writtenCount();
            int atB = b.tun().writtenCount();
            int unreachables = a.tun().writtenCount();
            Thread.sleep(300);
            assertEquals(atC, c.tun().writtenCount(), "packets reached the removed peer");
            assertTrue(b.tun().writtenCount() > atB + 20, "traffic to the remaining peer stopped too");
            assertTrue(a.tun().writtenCount() > unreachables + 20, "A answers packets for the removed subnet with ICMP errors");

            a.backend().addPeer(c.backend().localLease());
            await(() -> c.tun().writtenCount() > atC + 20, "traffic to the re-added peer");
        } finally {
            running.set(false);
            sender.join();
        }
        byte[] error = take(a);
        assertEquals(Ipv4Header.PROTO_ICMP, error[9]);
        assertEquals(Icmpv4Header.TYPE_DEST_UNREACHABLE, error[20]);
        assertEquals(pod(3, 7), new Ipv4Header().wrap(MemorySegment.ofArray(error), 28).dstAddr(), "quotes a packet for C");
    }

    @Test
    void badDatagramsUnderLoadAreEachCountedAndPingsStillAnswered() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        connect(a, b);
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
        byte[] ping = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 9, 9, 56);
        Map<DropReason, byte[]> bad = new LinkedHashMap<>();
        bad.put(DropReason.TRUNCATED, Arrays.copyOf(ping, 12));
        byte[] garbage = ping.clone();
        garbage[0] = 0x15;
        bad.put(DropReason.NOT_IPV4, garbage);
        byte[] ihl = ping.clone();
        ihl[0] = 0x42;
        bad.put(DropReason.BAD_IHL, ihl);
        bad.put(DropReason.BAD_TOTAL_LENGTH, Arrays.copyOf(ping, ping.length - 3));
        byte[] sum = ping.clone();
        sum[11] ^= 1;
        bad.put(DropReason.BAD_CHECKSUM, sum);
        bad.put(DropReason.OVERSIZE, TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 9, 9, MTU - 27));
        bad.put(DropReason.TTL_EXPIRED, TestPackets.echoRequest(pod(1, 5), pod(2, 7), 1, 9, 9, 56));
        int rounds = 25;
        try {
            for (int r = 0; r < rounds; r++) {
                a.tun().inject(TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 7, r + 1, 56));
                for (byte[] datagram : bad.values()) assertTrue(b.transport().inject(datagram, underlay(1), 8285));
                assertTrue(b.transport().inject(ping, Ipv4Address.parse("198.51.100.9"), 8285));
                byte[] reply = take(a);
                assertEquals(r + 1, (reply[26] & 0xff) << 8 | (reply[27] & 0xff), "echo reply sequence");
            }
        } finally {
            running.set(false);
            pod.join();
        }
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
        byte[] lost = TestPackets.udp(pod(1, 5), pod(9, 9), 64, 40000, 53, 20);
        a.tun().inject(lost);
        byte[] error = take(a);
        assertEquals(Ipv4Address.parse("10.244.0.0"), new Ipv4Header().wrap(MemorySegment.ofArray(error), 0).srcAddr(),
                "the net unreachable comes from the network's address, which no node owns (never the TUN's: a martian)");
        assertArrayEquals(Arrays.copyOf(lost, 28), Arrays.copyOfRange(error, 28, error.length));
        a.tun().inject(TestPackets.echoRequest(pod(1, 5), pod(2, 7), 1, 1, 1, 8));
        byte[] v6 = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 1, 2, 8);
        v6[0] = 0x60;
        a.tun().inject(v6);
        a.tun().inject(new byte[10]);
        byte[] fine = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 1, 3, 8);
        a.tun().inject(fine);
        assertArrayEquals(ttlLess(fine, 2), take(b));
        await(() -> a.stats().droppedTotal() == 3, "three drops at A");
        assertEquals(1, a.dropped(DropReason.TTL_EXPIRED));
        assertEquals(1, a.dropped(DropReason.NOT_IPV4));
        assertEquals(1, a.dropped(DropReason.TRUNCATED));
        assertEquals(0, b.tun().writtenCount(), "the TTL 1 packet never reached B");
        assertEquals(1, ((UdpBackend) a.backend()).encapsulation().unreachablesSent());
    }
}
