package io.dataplane.core.testing;

import static io.dataplane.core.testing.FakeNode.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.TransportFactory;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link Backend} and its {@link Encapsulation} must do, run against each backend by a
 * subclass: nodes on the in-memory network ({@link FakeNode}: a fake TUN, the real pipeline) ping
 * each other both ways; a peer removed under load gets nothing more while the others go on; every
 * bad datagram and every bad packet from the TUN is counted under its drop reason while good traffic
 * flows; and every buffer is back in its pool when a node closes ({@link FakeNode#close} checks).
 * A last test runs two nodes on the backend's own sockets on 127.0.0.1 and 127.0.0.2.
 *
 * <p>Node {@code i} has the subnet 10.244.i.0/24, the public IP 192.0.2.i on the in-memory network
 * (127.0.0.i on sockets), and its pods are 10.244.i.x.
 */
public abstract class BackendConformanceTest {
    /** The network every node's subnet is in. */
    protected static final Ipv4Prefix NETWORK = Ipv4Prefix.parse("10.244.0.0/16");

    @TempDir
    protected Path stateDir;
    /** The in-memory network the nodes' transports attach to. */
    protected final FakeNetwork network = new FakeNetwork();
    private final List<FakeNode> nodes = new ArrayList<>();

    /** flannel's configuration of the backend, its UDP port set to {@code port} (0: flannel's default; ignored without one). */
    protected abstract BackendConf conf(int port);

    /** The MTU of the nodes' TUNs: the underlay's 1500 minus the backend's overhead. */
    protected abstract int tunMtu();

    /**
     * Opens the backend for {@code context} on sockets from {@code transports}, or with null on its
     * own production sockets. A backend that has per-node identity other than the context (a VTEP
     * MAC) derives it from the last byte of {@code context.publicIp()}.
     */
    protected abstract Backend open(BackendContext context, TransportFactory transports) throws IOException;

    /** A well-formed datagram node {@code from} sends node {@code to} for {@code inner}, as the receiver's transport hands it over. */
    protected abstract byte[] datagram(int from, int to, byte[] inner);

    /** Datagrams node 1 sends node 2 that node 2 must drop, each under its reason. */
    protected abstract Map<DropReason, byte[]> badDatagrams();

    /**
     * The reason {@link #datagram} from an address that is no peer's is dropped for: {@code
     * UNKNOWN_PEER} where the backend knows its peers by address; a backend that knows them by key
     * (WireGuard) names its own.
     */
    protected DropReason strangerReason() {
        return DropReason.UNKNOWN_PEER;
    }

    /** What the receiving pod gets for {@code sent}: the same bytes unless the backend changes them (flannel's udp lowers the TTL). */
    protected byte[] delivered(byte[] sent) {
        return sent;
    }

    /**
     * Called after a peer was removed and re-added under load, for what the backend checks besides
     * (VXLAN: no packet met a half-programmed peer). Nothing by default.
     */
    protected void afterRemovalUnderLoad(FakeNode sender) {}

    @AfterEach
    void closeNodes() {
        // FakeNode.close asserts every buffer came back.
        for (FakeNode n : nodes) n.close();
        nodes.clear();
    }

    /** Node {@code i} on the in-memory network. */
    protected FakeNode node(int i) throws IOException {
        return start(i, underlay(i), conf(0), network::attach);
    }

    private FakeNode start(int i, int publicIp, BackendConf conf, TransportFactory transports) throws IOException {
        PacketPool pool = new PacketPool(512);
        BackendContext ctx = new BackendContext(NetConf.of(NETWORK, conf), subnet(i), publicIp, "tun" + i, tunMtu(), pool,
                stateDir.resolve("node" + i));
        Backend backend;
        try {
            backend = open(ctx, transports);
        } catch (IOException | RuntimeException e) {
            pool.close();
            throw e;
        }
        FakeNode n = FakeNode.start("tun" + i, pool, backend, tunMtu());
        nodes.add(n);
        return n;
    }

    /** Node {@code i}'s subnet. */
    protected static Ipv4Prefix subnet(int i) {
        return Ipv4Prefix.parse("10.244." + i + ".0/24");
    }

    /** Node {@code i}'s public IP on the in-memory network. */
    protected static int underlay(int i) {
        return Ipv4Address.parse("192.0.2." + i);
    }

    /** Pod {@code host} of node {@code i}. */
    protected static int pod(int i, int host) {
        return Ipv4Address.parse("10.244." + i + "." + host);
    }

    /** Makes {@code a} and {@code b} peers of each other. */
    protected static void connect(FakeNode a, FakeNode b) {
        a.backend().addPeer(b.backend().localLease());
        b.backend().addPeer(a.backend().localLease());
    }

    /** The next packet node {@code n} writes into its TUN, waiting up to 5 s. */
    protected static byte[] take(FakeNode n) throws InterruptedException {
        byte[] p = n.tun().awaitWritten(Duration.ofSeconds(5));
        assertNotNull(p, "nothing arrived at " + n.tun().name());
        return p;
    }

    @Test
    void pingBothWays() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        connect(a, b);
        for (int seq = 1; seq <= 20; seq++) {
            byte[] request = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 63, 0x4242, seq, 56);
            a.tun().inject(request);
            assertArrayEquals(delivered(request), take(b), "request " + seq);
            byte[] reply = TestPackets.echoReplyTo(request);
            b.tun().inject(reply);
            assertArrayEquals(delivered(reply), take(a), "reply " + seq);
        }
        await(() -> a.stats().ingressPackets() == 20 && b.stats().ingressPackets() == 20, "ingress counters");
        assertEquals(20, a.stats().egressPackets());
        assertEquals(20, b.stats().egressPackets());
        assertEquals(0, a.stats().droppedTotal() + b.stats().droppedTotal());
    }

    /**
     * Every packet carries its sequence number as its UDP destination port, so that what reaches C
     * is told apart by when it was sent, not by when it arrived: the check holds however slowly a
     * loaded machine runs the nodes.
     */
    @Test
    void aPeerRemovedUnderLoadGetsNothingMoreWhileOthersGoOn() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        FakeNode c = node(3);
        connect(a, b);
        connect(a, c);
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger sent = new AtomicInteger();
        Thread sender = Thread.ofPlatform().start(() -> {
            for (int seq = 1; running.get() && seq <= 0xffff; seq++) {
                a.tun().inject(TestPackets.udp(pod(1, 5), pod(2, 7), 64, 40000, seq, 32));
                a.tun().inject(TestPackets.udp(pod(1, 5), pod(3, 7), 64, 40000, seq, 32));
                sent.set(seq);
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
            // The packet after this one may have gone to C before the removal; any later one must not.
            int lastBefore = sent.get() + 1;
            assertEquals(List.of(b.backend().localLease()), a.backend().peers());
            await(() -> sent.get() > lastBefore + 50, "the sender going on");
            drainUntilSeq(b, lastBefore + 50);
            for (byte[] p; (p = c.tun().awaitWritten(Duration.ofMillis(200))) != null; ) {
                assertTrue(seqOf(p) <= lastBefore, "packet " + seqOf(p) + " reached the removed peer (removed after " + lastBefore + ")");
            }

            a.backend().addPeer(c.backend().localLease());
            int readded = sent.get();
            drainUntilSeq(c, readded + 20);
        } finally {
            running.set(false);
            sender.join();
        }
        afterRemovalUnderLoad(a);
    }

    /** Takes what {@code n} delivers until a packet with a sequence number above {@code seq} arrives, failing after 5 s without one. */
    private static void drainUntilSeq(FakeNode n, int seq) throws InterruptedException {
        while (seqOf(take(n)) <= seq) {
            // earlier packets
        }
    }

    /** The sequence number {@link #aPeerRemovedUnderLoadGetsNothingMoreWhileOthersGoOn} puts in the UDP destination port. */
    private static int seqOf(byte[] packet) {
        return (packet[22] & 0xff) << 8 | (packet[23] & 0xff);
    }

    @Test
    void everyBadDatagramIsCountedUnderItsReasonWhilePingsGoOn() throws Exception {
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
        Map<DropReason, byte[]> bad = badDatagrams();
        int stranger = Ipv4Address.parse("198.51.100.9");
        byte[] fromStranger = datagram(stranger, underlay(2), TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 9, 9, 56));
        int port = conf(0).udpPort();
        int rounds = 25;
        try {
            for (int r = 0; r < rounds; r++) {
                a.tun().inject(TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 7, r + 1, 56));
                for (byte[] d : bad.values()) assertTrue(b.transport().inject(d, underlay(1), port));
                assertTrue(b.transport().inject(fromStranger, stranger, port));
                byte[] reply = take(a);
                assertEquals(r + 1, (reply[26] & 0xff) << 8 | (reply[27] & 0xff), "echo reply sequence");
            }
        } finally {
            running.set(false);
            pod.join();
        }
        await(() -> b.stats().dropped(strangerReason()) == rounds, "the stranger's datagrams counted");
        for (DropReason reason : bad.keySet()) await(() -> b.stats().dropped(reason) == rounds, reason + " drops");
        Counters.Snapshot s = b.stats();
        assertEquals(rounds * (bad.size() + 1L), s.droppedTotal(), "nothing else was dropped");
        assertEquals(0, a.stats().droppedTotal());
    }

    /**
     * Three connected nodes after {@link #peerTraffic}: {@code TO_B} packets went A to B and
     * {@code TO_C} A to C (each {@code request}'s length), then {@code FROM_B} replies B to A.
     */
    protected record PeerTraffic(FakeNode a, FakeNode b, FakeNode c, byte[] request, byte[] reply) {
        /** Packets A sent B. */
        public static final int TO_B = 7;
        /** Packets A sent C. */
        public static final int TO_C = 3;
        /** Packets B sent A. */
        public static final int FROM_B = 5;
    }

    /** Starts nodes 1, 2 and 3, connects A to B and C, and sends the packets of {@link PeerTraffic}, each taken at its end. */
    protected PeerTraffic peerTraffic() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        FakeNode c = node(3);
        connect(a, b);
        connect(a, c);
        byte[] request = TestPackets.udp(pod(1, 5), pod(2, 7), 64, 40000, 1, 100);
        byte[] reply = TestPackets.udp(pod(2, 7), pod(1, 5), 64, 40000, 2, 60);
        for (int i = 0; i < PeerTraffic.TO_B; i++) {
            a.tun().inject(request);
            take(b);
        }
        for (int i = 0; i < PeerTraffic.TO_C; i++) {
            a.tun().inject(TestPackets.udp(pod(1, 5), pod(3, 7), 64, 40000, 3, 100));
            take(c);
        }
        for (int i = 0; i < PeerTraffic.FROM_B; i++) {
            b.tun().inject(reply);
            take(a);
        }
        return new PeerTraffic(a, b, c, request, reply);
    }

    /**
     * Each peer's {@link io.dataplane.core.table.PeerEntry} counts what goes to it and comes from it;
     * a backend that counts its peers elsewhere (WireGuard, by key in its device) overrides this with
     * its own counters.
     */
    @Test
    protected void eachPeerCountsItsPacketsBytesAndDropsEachWay() throws Exception {
        long before = System.currentTimeMillis();
        PeerTraffic t = peerTraffic();
        FakeNode a = t.a(), b = t.b();
        int toB = PeerTraffic.TO_B, toC = PeerTraffic.TO_C, fromB = PeerTraffic.FROM_B;
        byte[] request = t.request(), reply = t.reply();
        PeerEntry bAtA = a.backend().peerEntry(subnet(2));
        PeerEntry cAtA = a.backend().peerEntry(subnet(3));
        PeerEntry aAtB = b.backend().peerEntry(subnet(1));
        assertNotNull(bAtA, "A's entry of B");
        await(() -> bAtA.receivedPackets() == fromB, "B's packets counted at A");
        long after = System.currentTimeMillis();
        assertEquals(toB, bAtA.sentPackets());
        assertEquals((long) toB * request.length, bAtA.sentBytes());
        assertEquals((long) fromB * reply.length, bAtA.receivedBytes());
        assertEquals(0, bAtA.sentDrops() + bAtA.receivedDrops());
        assertTrue(bAtA.lastSentMillis() >= before && bAtA.lastSentMillis() <= after, "time of the last packet to B");
        assertTrue(bAtA.lastReceivedMillis() >= before && bAtA.lastReceivedMillis() <= after, "time of the last packet from B");
        assertEquals(toC, cAtA.sentPackets(), "C's packets on C's entry");
        assertEquals((long) toC * request.length, cAtA.sentBytes());
        assertEquals(0, cAtA.receivedPackets());
        assertEquals(0, cAtA.lastReceivedMillis(), "nothing from C yet");
        await(() -> aAtB.receivedPackets() == toB, "A's packets counted at B");
        assertEquals(fromB, aAtB.sentPackets());

        // Bad datagrams from A's address are A's drops at B; a stranger's are nobody's.
        Map<DropReason, byte[]> bad = badDatagrams();
        int port = conf(0).udpPort();
        for (byte[] d : bad.values()) assertTrue(b.transport().inject(d, underlay(1), port));
        int stranger = Ipv4Address.parse("198.51.100.9");
        assertTrue(b.transport().inject(datagram(stranger, underlay(2), request), stranger, port));
        await(() -> b.stats().dropped(DropReason.UNKNOWN_PEER) == 1, "the stranger's datagram dropped");
        await(() -> aAtB.receivedDrops() == bad.size(), "A's bad datagrams counted on A");
        assertEquals(toB, aAtB.receivedPackets(), "no bad datagram counted as delivered");
        assertEquals(bad.size() + 1L, b.stats().droppedTotal());
    }

    @Test
    void badPacketsFromTheTunAreCountedAndTheNextGoodOneGoes() throws Exception {
        FakeNode a = node(1);
        FakeNode b = node(2);
        connect(a, b);
        byte[] v6 = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 1, 2, 8);
        v6[0] = 0x60;
        a.tun().inject(v6);
        a.tun().inject(new byte[10]);
        byte[] fine = TestPackets.echoRequest(pod(1, 5), pod(2, 7), 64, 1, 3, 8);
        a.tun().inject(fine);
        assertArrayEquals(delivered(fine), take(b));
        await(() -> a.stats().droppedTotal() == 2, "two drops at A");
        assertEquals(1, a.dropped(DropReason.NOT_IPV4));
        assertEquals(1, a.dropped(DropReason.TRUNCATED));
    }

    @Test
    void pingBothWaysOnTheBackendsOwnSockets() throws Exception {
        FakeNode a = null;
        FakeNode b = null;
        // Both ends need the same port (every node listens on the network's port); another test may hold one.
        for (int attempt = 0; b == null; attempt++) {
            BackendConf conf = conf(ThreadLocalRandom.current().nextInt(20000, 60000));
            try {
                a = start(1, Ipv4Address.parse("127.0.0.1"), conf, null);
                b = start(2, Ipv4Address.parse("127.0.0.2"), conf, null);
            } catch (IOException e) {
                if (attempt == 10) throw e;
                closeNodes();
                a = null;
            }
        }
        connect(a, b);
        for (int seq = 1; seq <= 50; seq++) {
            byte[] request = TestPackets.echoRequest(Ipv4Address.parse("10.244.1.5"), Ipv4Address.parse("10.244.2.7"), 63, 7, seq, 1000);
            a.tun().inject(request);
            assertArrayEquals(delivered(request), take(b), "request " + seq);
            byte[] reply = TestPackets.echoReplyTo(request);
            b.tun().inject(reply);
            assertArrayEquals(delivered(reply), take(a), "reply " + seq);
        }
        assertEquals(0, a.stats().droppedTotal() + b.stats().droppedTotal());
    }
}
