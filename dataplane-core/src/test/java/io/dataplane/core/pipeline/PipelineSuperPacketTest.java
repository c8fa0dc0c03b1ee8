package io.dataplane.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Encapsulation;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.table.RouteTable;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.testing.FakeTransport;
import io.dataplane.core.testing.FakeTunnelDevice;
import io.dataplane.core.testing.TestPackets;
import io.dataplane.core.wire.Icmpv4Header;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.core.wire.NetworkOrder;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * TSO super-packets read from the TUN: dropped as {@code BAD_SUPER_PACKET}, buffer back, unless
 * the encapsulation and the transport both take them; then encapsulated whole, handed over with
 * the prefix length set, and counted as the segments they are. Under an underlay MTU too small for
 * their segments they are cut smaller; a lone packet with DF too long for it is answered with ICMP
 * fragmentation needed into the TUN, one without DF goes on.
 */
class PipelineSuperPacketTest {
    private static final int PORT = 7777;
    private static final int UNDERLAY_A = Ipv4Address.parse("192.0.2.1");
    private static final int UNDERLAY_B = Ipv4Address.parse("192.0.2.2");
    private static final int POD_A = Ipv4Address.parse("10.244.1.5");
    private static final int POD_B = Ipv4Address.parse("10.244.2.7");
    private static final int TUN_BATCH = 4;
    private static final int MSS = 1000;
    /** A 20-byte IPv4 header, a 32-byte TCP header (timestamps) and 3 * 1000 + 123 bytes of payload: 4 segments. */
    private static final int PAYLOAD = 3 * MSS + 123;
    private static final int HEADERS = 20 + 32;

    private final PacketPool pool = new PacketPool(64);
    private final PacketPool tunPool = new PacketPool(8, 65536 + PacketPool.DEFAULT_HEADROOM, PacketPool.DEFAULT_HEADROOM);
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose.reversed()) c.close();
        assertEquals(0, pool.outstanding(), "buffers still out after close");
        assertEquals(0, tunPool.outstanding(), "TUN buffers still out after close");
        pool.close();
        tunPool.close();
    }

    /** What a transport was handed: the data and the super-packet fields. */
    record Sent(byte[] data, int gsoSize, int gsoPrefix, int peerAddress, int peerPort) {}

    /** A transport that keeps what it is handed and releases the buffers; takes super-packets if told so. */
    static final class RecordingTransport implements Transport {
        final BlockingQueue<Sent> sent = new LinkedBlockingQueue<>();
        private final boolean superPackets;
        private final Counters counters = new Counters();

        RecordingTransport(boolean superPackets) {
            this.superPackets = superPackets;
        }

        @Override
        public void start(Receiver receiver) {}

        @Override
        public int send(PacketBuffer[] batch, int count) {
            for (int i = 0; i < count; i++) {
                PacketBuffer p = batch[i];
                sent.add(new Sent(p.toByteArray(), p.gsoSize(), p.gsoPrefix(), p.peerAddress(), p.peerPort()));
                p.release();
            }
            return count;
        }

        @Override
        public boolean sendsSuperPackets() {
            return superPackets;
        }

        @Override
        public int localPort() {
            return PORT;
        }

        @Override
        public int batchSize() {
            return 32;
        }

        @Override
        public Counters counters() {
            return counters;
        }

        @Override
        public void close() {}
    }

    /** {@link PipelineTest.MarkerEncapsulation}, which leaves the inner bytes alone, declared able to take super-packets. */
    static final class SuperMarkerEncapsulation extends PipelineTest.MarkerEncapsulation {
        @Override
        public boolean encapsulatesSuperPackets() {
            return true;
        }
    }

    /** A TCP packet POD_A -> POD_B with flags ACK|PSH and {@code payload} bytes (checksums left partial, as a TUN hands them over). */
    private static byte[] tcpSuperPacket(int payload, int protocol) {
        int total = HEADERS + payload;
        byte[] b = new byte[total];
        MemorySegment s = MemorySegment.ofArray(b);
        ValueLayout.OfShort u16 = NetworkOrder.U16;
        ValueLayout.OfInt u32 = NetworkOrder.U32;
        b[0] = 0x45;
        s.set(u16, 2, (short) total);
        s.set(u16, 6, (short) 0x4000);
        b[8] = 64;
        b[9] = (byte) protocol;
        s.set(u32, 12, POD_A);
        s.set(u32, 16, POD_B);
        s.set(u16, 20, (short) 40000);
        s.set(u16, 22, (short) 5201);
        s.set(u32, 24, 0x10000);
        b[32] = (byte) 0x80; // data offset 8: 32 bytes
        b[33] = 0x18;
        byte[] options = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
        System.arraycopy(options, 0, b, 40, options.length);
        for (int i = HEADERS; i < total; i++) b[i] = (byte) (i * 13 + 1);
        return b;
    }

    private Pipeline pipeline(TunnelDevice tun, Transport transport, Encapsulation encap) throws Exception {
        RouteTable routes = new RouteTable();
        routes.add(Ipv4Prefix.parse("10.244.2.0/24"), UNDERLAY_B);
        Pipeline p = Pipeline.start(PipelineConfig.of(tun, transport, encap, routes, pool).withTunPool(tunPool)
                .withTunWriter(Pipeline.TunWriter.THREAD).withTunRing(64));
        toClose.add(p);
        return p;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(5);
        }
    }

    private static Counters.Snapshot stats(Pipeline p) {
        return Counters.Snapshot.of(p.counters());
    }

    /**
     * More super-packets than the TUN pool has buffers, then a plain packet: all dropped as
     * {@code BAD_SUPER_PACKET} with their buffers back (else the read loop would run dry before
     * the plain one), and the read loop holding no more than its one batch.
     */
    private void superPacketsAreDroppedAndPlainOnesFlow(FakeTunnelDevice tun, Pipeline p, BooleanSupplier plainArrived)
            throws InterruptedException {
        byte[] superPacket = tcpSuperPacket(PAYLOAD, 6);
        for (int i = 0; i < 2 * tunPool.capacity(); i++) tun.inject(superPacket, MSS);
        tun.inject(TestPackets.udp(POD_A, POD_B, 64, 1234, 5678, 100), 0);
        await(plainArrived, "the plain packet after the super-packets");
        await(() -> stats(p).dropped(DropReason.BAD_SUPER_PACKET) == 2L * tunPool.capacity(), "every super-packet counted");
        await(() -> tunPool.outstanding() == TUN_BATCH, "TUN buffers back but the read loop's batch");
        Counters.Snapshot s = stats(p);
        assertEquals(1, s.egressPackets());
        assertEquals(s.dropped(DropReason.BAD_SUPER_PACKET), s.droppedTotal(), "no other drop");
    }

    @Test
    void superPacketToTheDefaultFakeTransportIsDroppedAndItsBufferReturned() throws Exception {
        FakeNetwork network = new FakeNetwork();
        FakeTransport a = network.attach(UNDERLAY_A, PORT, pool);
        FakeTransport b = network.attach(UNDERLAY_B, PORT, pool);
        toClose.add(b);
        BlockingQueue<byte[]> atB = new LinkedBlockingQueue<>();
        b.start((batch, n) -> {
            for (int i = 0; i < n; i++) {
                atB.add(batch[i].toByteArray());
                batch[i].release();
            }
        });
        FakeTunnelDevice tun = new FakeTunnelDevice("tso-tun", 1400, TUN_BATCH);
        Pipeline p = pipeline(tun, a, new PipelineTest.MarkerEncapsulation());
        superPacketsAreDroppedAndPlainOnesFlow(tun, p, () -> !atB.isEmpty());
        byte[] plain = atB.poll();
        assertEquals('D', plain[0], "the plain packet went through the encapsulation");
        assertEquals(4 + 20 + 8 + 100, plain.length);
    }

    @Test
    void superPacketIsDroppedUnlessBothTheEncapsulationAndTheTransportTakeThem() throws Exception {
        record Case(boolean encap, boolean transport) {}
        for (Case c : List.of(new Case(true, false), new Case(false, true))) {
            RecordingTransport transport = new RecordingTransport(c.transport());
            FakeTunnelDevice tun = new FakeTunnelDevice("tso-tun", 1400, TUN_BATCH);
            Encapsulation encap = c.encap() ? new SuperMarkerEncapsulation() : new PipelineTest.MarkerEncapsulation();
            Pipeline p = pipeline(tun, transport, encap);
            superPacketsAreDroppedAndPlainOnesFlow(tun, p, () -> !transport.sent.isEmpty());
            Sent plain = transport.sent.poll();
            assertEquals(0, plain.gsoSize(), c.toString());
            p.close();
            assertEquals(0, tunPool.outstanding(), c + ": TUN buffers out after close");
        }
    }

    @Test
    void superPacketGoesToTheTransportWholeWithItsPrefixAndCountsItsSegments() throws Exception {
        RecordingTransport transport = new RecordingTransport(true);
        FakeTunnelDevice tun = new FakeTunnelDevice("tso-tun", 1400, TUN_BATCH);
        Pipeline p = pipeline(tun, transport, new SuperMarkerEncapsulation());
        byte[] superPacket = tcpSuperPacket(PAYLOAD, 6);
        tun.inject(superPacket, MSS);
        Sent sent = transport.sent.poll(5, TimeUnit.SECONDS);
        assertNotNull(sent, "the super-packet did not reach the transport");
        byte[] marker = {'D', 'P', 'T', PipelineTest.MarkerEncapsulation.DATA};
        byte[] expected = new byte[marker.length + superPacket.length];
        System.arraycopy(marker, 0, expected, 0, marker.length);
        System.arraycopy(superPacket, 0, expected, marker.length, superPacket.length);
        assertArrayEquals(expected, sent.data(), "encapsulated whole: the marker in front of the untouched super-packet");
        assertEquals(MSS, sent.gsoSize());
        assertEquals(PipelineTest.MarkerEncapsulation.LEN, sent.gsoPrefix());
        assertEquals(UNDERLAY_B, sent.peerAddress());
        assertEquals(PORT, sent.peerPort());
        Counters.Snapshot s = stats(p);
        assertEquals(4, s.egressPackets(), "a super-packet of 4 segments");
        assertEquals(4L * HEADERS + PAYLOAD, s.egressBytes(), "inner bytes of the 4 segments, each with its own headers");
        assertEquals(0, s.droppedTotal());

        // One that TcpSegments cannot cut (UDP), then a plain packet: dropped and counted, the plain one still goes.
        tun.inject(tcpSuperPacket(PAYLOAD, 17), MSS);
        byte[] udp = TestPackets.udp(POD_A, POD_B, 64, 1234, 5678, 100);
        tun.inject(udp, 0);
        Sent plain = transport.sent.poll(5, TimeUnit.SECONDS);
        assertNotNull(plain, "the plain packet did not reach the transport");
        assertEquals(0, plain.gsoSize());
        assertEquals(marker.length + udp.length, plain.data().length);
        await(() -> stats(p).dropped(DropReason.BAD_SUPER_PACKET) == 1, "the UDP super-packet counted");
        await(() -> tunPool.outstanding() == TUN_BATCH, "TUN buffers back but the read loop's batch");
        s = stats(p);
        assertEquals(5, s.egressPackets());
        assertEquals(4L * HEADERS + PAYLOAD + udp.length, s.egressBytes());
    }

    @Test
    void underTheUnderlayMtuSuperPacketsAreCutSmallerAndLonePacketsWithDfGetFragmentationNeeded() throws Exception {
        RecordingTransport transport = new RecordingTransport(true);
        FakeTunnelDevice tun = new FakeTunnelDevice("tso-tun", 1400, TUN_BATCH);
        Pipeline p = pipeline(tun, transport, new SuperMarkerEncapsulation());
        int overhead = new SuperMarkerEncapsulation().overhead();
        int limit = HEADERS + 600; // the longest inner packet a datagram carries
        p.underlayMtu(limit + overhead);

        byte[] superPacket = tcpSuperPacket(PAYLOAD, 6);
        tun.inject(superPacket, MSS);
        Sent sent = transport.sent.poll(5, TimeUnit.SECONDS);
        assertNotNull(sent, "the super-packet did not reach the transport");
        assertEquals(600, sent.gsoSize(), "segments cut to fit the underlay");
        assertEquals(PipelineTest.MarkerEncapsulation.LEN + superPacket.length, sent.data().length, "the super-packet whole");
        assertEquals(6, stats(p).egressPackets(), "3123 bytes in segments of 600");

        // A lone segment of 1000 bytes with DF: ICMP fragmentation needed back into the TUN, from its destination.
        byte[] lone = tcpSuperPacket(MSS, 6);
        tun.inject(lone, 0);
        byte[] error = tun.awaitWritten(Duration.ofSeconds(5));
        assertNotNull(error, "no ICMP error written into the TUN");
        MemorySegment e = MemorySegment.ofArray(error);
        Ipv4Header ip = new Ipv4Header().wrap(e, 0);
        assertEquals(20 + 8 + 20 + 8, error.length, "IPv4 and ICMP header, the quoted header and 8 bytes");
        assertEquals(Ipv4Header.VALID, ip.validate(error.length));
        assertTrue(ip.verifyChecksum());
        assertEquals(Ipv4Header.PROTO_ICMP, ip.protocol());
        assertEquals(POD_B, ip.srcAddr());
        assertEquals(POD_A, ip.dstAddr());
        Icmpv4Header icmp = new Icmpv4Header().wrap(e, 20);
        assertEquals(Icmpv4Header.TYPE_DEST_UNREACHABLE, icmp.type());
        assertEquals(Icmpv4Header.CODE_FRAGMENTATION_NEEDED, icmp.code());
        assertEquals(limit, icmp.nextHopMtu());
        assertTrue(icmp.verifyChecksum(error.length - 20));
        assertArrayEquals(Arrays.copyOf(lone, 28), Arrays.copyOfRange(error, 28, 56), "the quoted header and 8 bytes");
        await(() -> stats(p).dropped(DropReason.FRAGMENTATION_NEEDED) == 1, "the packet counted");

        // Without DF it goes on (the kernel fragments the datagram), and so does everything once no MTU is known.
        byte[] mayFragment = lone.clone();
        mayFragment[6] = 0;
        mayFragment[10] = 0;
        mayFragment[11] = 0;
        new Ipv4Header().wrap(MemorySegment.ofArray(mayFragment), 0).fillChecksum();
        tun.inject(mayFragment, 0);
        Sent plain = transport.sent.poll(5, TimeUnit.SECONDS);
        assertNotNull(plain, "the packet without DF did not reach the transport");
        assertEquals(PipelineTest.MarkerEncapsulation.LEN + lone.length, plain.data().length);
        // Cut to fit it would be 79 segments, more than a super-packet may have: with DF, as a lone packet.
        p.underlayMtu(HEADERS + 40 + overhead);
        tun.inject(superPacket, MSS);
        byte[] aboutSuper = tun.awaitWritten(Duration.ofSeconds(5));
        assertNotNull(aboutSuper, "no ICMP error about the super-packet");
        assertEquals(HEADERS + 40, new Icmpv4Header().wrap(MemorySegment.ofArray(aboutSuper), 20).nextHopMtu());
        await(() -> stats(p).dropped(DropReason.FRAGMENTATION_NEEDED) == 2, "the super-packet counted");

        p.underlayMtu(0);
        tun.inject(lone, 0);
        assertNotNull(transport.sent.poll(5, TimeUnit.SECONDS), "the packet with DF did not reach the transport with no MTU known");
        tun.inject(superPacket, MSS);
        Sent whole = transport.sent.poll(5, TimeUnit.SECONDS);
        assertNotNull(whole);
        assertEquals(MSS, whole.gsoSize());
        Counters.Snapshot s = stats(p);
        assertEquals(2, s.droppedTotal(), "no other drop");
        assertEquals(0, tun.writtenCount(), "no error but the two");
    }
}
