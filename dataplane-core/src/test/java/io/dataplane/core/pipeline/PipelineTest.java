package io.dataplane.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.testing.FakeTransport;
import io.dataplane.core.testing.FakeTunnelDevice;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.Ipv4Repr;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pipeline between two fake nodes on a fake underlay, with a four-byte test encapsulation,
 * with a TUN writer thread; {@link PipelineReceiveThreadWriterTest} runs the same with the receive
 * thread writing.
 */
class PipelineTest {
    static final int PORT = 7777;
    static final int UNDERLAY_A = Ipv4Address.parse("192.0.2.1");
    static final int UNDERLAY_B = Ipv4Address.parse("192.0.2.2");
    static final int POD_A = Ipv4Address.parse("10.244.1.5");
    static final int POD_B = Ipv4Address.parse("10.244.2.7");

    /** Prepends "DPT" and a kind byte; nextHop is the peer's underlay address. */
    static class MarkerEncapsulation implements Encapsulation {
        static final int LEN = 4;
        static final byte DATA = 'D';
        static final byte PING = 'P';
        static final byte PONG = 'Q';

        @Override
        public int headroom() {
            return LEN;
        }

        @Override
        public int overhead() {
            return 28 + LEN;
        }

        @Override
        public int encap(PacketBuffer p, int nextHop) {
            if (!p.prepend(LEN)) return DropReason.NO_ROOM.ordinal();
            MemorySegment s = p.segment();
            s.set(ValueLayout.JAVA_BYTE, p.offset(), (byte) 'D');
            s.set(ValueLayout.JAVA_BYTE, p.offset() + 1, (byte) 'P');
            s.set(ValueLayout.JAVA_BYTE, p.offset() + 2, (byte) 'T');
            s.set(ValueLayout.JAVA_BYTE, p.offset() + 3, DATA);
            p.setPeer(nextHop, PORT);
            return FORWARD;
        }

        @Override
        public int noRoute(PacketBuffer p) {
            // Echo the packet back into the TUN untouched, standing in for an ICMP error.
            return REPLY;
        }

        @Override
        public int decap(PacketBuffer p) {
            if (p.length() < LEN) return DropReason.TRUNCATED.ordinal();
            MemorySegment s = p.segment();
            if (s.get(ValueLayout.JAVA_BYTE, p.offset()) != 'D') return DropReason.VXLAN_BAD_FLAGS.ordinal();
            byte kind = s.get(ValueLayout.JAVA_BYTE, p.offset() + 3);
            if (kind == PING) {
                s.set(ValueLayout.JAVA_BYTE, p.offset() + 3, PONG);
                return REPLY; // back to the sender, peer endpoint unchanged
            }
            if (kind == PONG) return DropReason.UNKNOWN_PEER.ordinal(); // counted so the test sees it
            p.trimFront(LEN);
            return FORWARD;
        }
    }

    record Node(PacketPool pool, FakeTunnelDevice tun, FakeTransport transport, RouteTable routes, Pipeline pipeline) {}

    final FakeNetwork network = new FakeNetwork();
    private final List<Node> nodes = new ArrayList<>();

    /** Which thread writes into the TUN in these tests. */
    Pipeline.TunWriter tunWriter() {
        return Pipeline.TunWriter.THREAD;
    }

    /** The busy-poll cap the pipelines get (used by the single-thread mode only). */
    long busyPollNanos() {
        return 0;
    }

    /** Starts {@code config} with this test's threads and busy polling. */
    Pipeline start(PipelineConfig config) throws Exception {
        return Pipeline.start(config.withTunWriter(tunWriter()).withBusyPollNanos(busyPollNanos()));
    }

    Node node(int underlay, String name) throws Exception {
        PacketPool pool = new PacketPool(256);
        FakeTunnelDevice tun = new FakeTunnelDevice(name, 1400, 16);
        FakeTransport transport = network.attach(underlay, PORT, pool);
        RouteTable routes = new RouteTable();
        Pipeline pipeline = start(PipelineConfig.of(tun, transport, new MarkerEncapsulation(), routes, pool).withTunRing(256));
        assertEquals(tunWriter(), pipeline.tunWriter());
        Node n = new Node(pool, tun, transport, routes, pipeline);
        nodes.add(n);
        return n;
    }

    @AfterEach
    void closeNodes() {
        for (Node n : nodes) {
            n.pipeline().close();
            assertEquals(0, n.pool().outstanding(), "buffers still out after close of " + n.tun().name());
            n.pool().close();
        }
    }

    static byte[] udpPacket(int src, int dst, int payloadLength) {
        byte[] bytes = new byte[Ipv4Header.HEADER_LEN + payloadLength];
        MemorySegment s = MemorySegment.ofArray(bytes);
        Ipv4Repr.of(src, dst, Ipv4Header.PROTO_UDP, 64, payloadLength).emit(new Ipv4Header().wrap(s, 0));
        for (int i = 0; i < payloadLength; i++) bytes[Ipv4Header.HEADER_LEN + i] = (byte) (i * 13 + 1);
        return bytes;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(5);
        }
    }

    private static Counters.Snapshot stats(Node n) {
        return Counters.Snapshot.of(n.pipeline().counters());
    }

    @Test
    void packetCrossesFromPodToPodUnchanged() throws Exception {
        Node a = node(UNDERLAY_A, "tun-a");
        Node b = node(UNDERLAY_B, "tun-b");
        a.routes().add(Ipv4Prefix.parse("10.244.2.0/24"), UNDERLAY_B);
        byte[] packet = udpPacket(POD_A, POD_B, 1000);
        for (int i = 0; i < 100; i++) a.tun().inject(packet);
        for (int i = 0; i < 100; i++) {
            byte[] got = b.tun().awaitWritten(Duration.ofSeconds(5));
            assertNotNull(got, "packet " + i + " did not arrive");
            assertArrayEquals(packet, got);
        }
        await(() -> stats(b).ingressPackets() == 100, "ingress counter");
        assertEquals(100, stats(a).egressPackets());
        assertEquals(100L * packet.length, stats(a).egressBytes());
        assertEquals(100L * packet.length, stats(b).ingressBytes());
        assertEquals(0, stats(a).droppedTotal());
    }

    @Test
    void badPacketsFromTheTunAreCountedByReasonAndGoodOnesStillFlow() throws Exception {
        Node a = node(UNDERLAY_A, "tun-a");
        Node b = node(UNDERLAY_B, "tun-b");
        a.routes().add(Ipv4Prefix.parse("10.244.2.0/24"), UNDERLAY_B);
        byte[] good = udpPacket(POD_A, POD_B, 64);
        byte[] ipv6 = good.clone();
        ipv6[0] = 0x60;
        byte[] shortIhl = good.clone();
        shortIhl[0] = 0x44;
        byte[] longTotal = good.clone();
        longTotal[2] = 0x7f;
        a.tun().inject(new byte[] {0x45, 0, 0});
        a.tun().inject(ipv6);
        a.tun().inject(shortIhl);
        a.tun().inject(longTotal);
        a.tun().inject(good);
        assertArrayEquals(good, b.tun().awaitWritten(Duration.ofSeconds(5)));
        Counters.Snapshot s = stats(a);
        assertEquals(1, s.dropped(DropReason.TRUNCATED));
        assertEquals(1, s.dropped(DropReason.NOT_IPV4));
        assertEquals(1, s.dropped(DropReason.BAD_IHL));
        assertEquals(1, s.dropped(DropReason.BAD_TOTAL_LENGTH));
        assertEquals(1, s.egressPackets());
    }

    @Test
    void noRouteGoesToTheEncapsulationsNoRouteHandler() throws Exception {
        Node a = node(UNDERLAY_A, "tun-a");
        byte[] packet = udpPacket(POD_A, Ipv4Address.parse("10.99.0.1"), 32);
        a.tun().inject(packet);
        assertArrayEquals(packet, a.tun().awaitWritten(Duration.ofSeconds(5)), "REPLY of noRoute goes back into the TUN");
        await(() -> stats(a).ingressPackets() == 1, "the reply counted as a packet into the TUN, whichever thread wrote it");
        assertEquals(0, stats(a).egressPackets());
    }

    @Test
    void defaultNoRouteDropsAndCounts() throws Exception {
        PacketPool pool = new PacketPool(64);
        FakeTunnelDevice tun = new FakeTunnelDevice("tun-x", 1400, 8);
        FakeTransport transport = network.attach(UNDERLAY_A, PORT, pool);
        Encapsulation plain = new MarkerEncapsulation() {
            @Override
            public int noRoute(PacketBuffer p) {
                return DropReason.NO_ROUTE.ordinal();
            }
        };
        Pipeline p = start(PipelineConfig.of(tun, transport, plain, new RouteTable(), pool).withTunRing(64));
        nodes.add(new Node(pool, tun, transport, new RouteTable(), p));
        tun.inject(udpPacket(POD_A, POD_B, 32));
        await(() -> Counters.Snapshot.of(p.counters()).dropped(DropReason.NO_ROUTE) == 1, "NO_ROUTE drop");
        assertNull(tun.awaitWritten(Duration.ofMillis(50)));
    }

    @Test
    void decapReplyGoesBackToTheSenderAndBadDatagramsAreCounted() throws Exception {
        Node a = node(UNDERLAY_A, "tun-a");
        Node b = node(UNDERLAY_B, "tun-b");
        // b answers a PING with a PONG to a's endpoint; a counts the PONG under UNKNOWN_PEER (see decap).
        a.transport().send(new PacketBuffer[] {a.pool().acquire().put(new byte[] {'D', 'P', 'T', 'P'}).setPeer(UNDERLAY_B, PORT)}, 1);
        await(() -> stats(a).dropped(DropReason.UNKNOWN_PEER) == 1, "PONG back at a");
        b.transport().inject(new byte[] {1, 2}, UNDERLAY_A, PORT);
        b.transport().inject(new byte[] {'X', 0, 0, 0, 0}, UNDERLAY_A, PORT);
        await(() -> stats(b).dropped(DropReason.TRUNCATED) == 1 && stats(b).dropped(DropReason.VXLAN_BAD_FLAGS) == 1,
                "bad datagrams counted at b");
        assertEquals(0, b.tun().writtenCount());
    }

    @Test
    void closeStopsThreadsAndReturnsBuffersUnderLoad() throws Exception {
        Node a = node(UNDERLAY_A, "tun-a");
        Node b = node(UNDERLAY_B, "tun-b");
        a.routes().add(Ipv4Prefix.parse("10.244.2.0/24"), UNDERLAY_B);
        byte[] packet = udpPacket(POD_A, POD_B, 1200);
        for (int i = 0; i < 2000; i++) a.tun().inject(packet);
        Thread.sleep(20);
        a.pipeline().close();
        b.pipeline().close();
        assertTrue(!a.pipeline().isRunning() && !b.pipeline().isRunning());
        assertEquals(0, a.pool().outstanding());
        assertEquals(0, b.pool().outstanding());
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            assertTrue(!t.getName().startsWith("dp-egress-tun-") && !t.getName().startsWith("dp-ingress-tun-")
                    && !t.getName().startsWith("dp-path-tun-") || !t.isAlive(), "thread left running: " + t.getName());
        }
    }

    @Test
    void closeOfAnIdlePipelineReturnsWithin100Milliseconds() throws Exception {
        Node a = node(UNDERLAY_A, "tun-a");
        Node b = node(UNDERLAY_B, "tun-b");
        a.routes().add(Ipv4Prefix.parse("10.244.2.0/24"), UNDERLAY_B);
        a.tun().inject(udpPacket(POD_A, POD_B, 100));
        assertNotNull(b.tun().awaitWritten(Duration.ofSeconds(5)));
        Thread.sleep(100); // every thread is asleep by now, a spinning one too
        long start = System.nanoTime();
        a.pipeline().close();
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < 100, "close took " + millis + " ms");
        assertEquals(0, a.pool().outstanding());
    }
}
