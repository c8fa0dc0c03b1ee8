package io.dataplane.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.testing.FakeTransport;
import io.dataplane.core.testing.FakeTunnelDevice;
import io.dataplane.core.testing.TcpSegment;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link IngressStage} on the thread of a transport that reports idle: what goes to the TUN waits
 * from one batch to the next and is written when the transport says its socket is empty, or when
 * a TUN write's worth ({@link Pipeline#MAX_BATCH}) has gathered; bad datagrams are still dropped
 * and counted at once; it expects more while the last packet it holds is a TCP segment a run may
 * go on after; a transport that does not report idle, and the single-thread path
 * ({@link IngressStage#forward}), get every batch written before the call returns.
 */
class IngressStageHoldBackTest {
    private static final int UNDERLAY_B = 0x0a000002;
    private static final int PORT = 7777;

    private final PacketPool pool = new PacketPool(Pipeline.MAX_BATCH + 16, 2048, 128);
    private final FakeNetwork network = new FakeNetwork();
    private final FakeTransport idleReporting = network.attach(0x0a000001, PORT, pool);
    private final FakeTunnelDevice tun = new FakeTunnelDevice("hold-tun", 1400, 32);
    private final Counters counters = new Counters();

    @AfterEach
    void close() {
        idleReporting.close();
        tun.close();
        assertEquals(0, pool.outstanding(), "buffers still out");
        pool.close();
    }

    private IngressStage stage(Transport transport) {
        return new IngressStage(transport, new PipelineTest.MarkerEncapsulation(),
                new TunOutput.Direct(tun, new Object(), counters, new PathState("hold-tun")), counters);
    }

    private PacketBuffer datagram(int seed) {
        byte[] d = new byte[PipelineTest.MarkerEncapsulation.LEN + 60];
        d[0] = 'D';
        d[1] = 'P';
        d[2] = 'T';
        d[3] = PipelineTest.MarkerEncapsulation.DATA;
        d[4] = (byte) seed;
        return pool.acquire().put(d).setPeer(UNDERLAY_B, PORT);
    }

    private void assertWritten(int... seeds) throws InterruptedException {
        for (int seed : seeds) {
            byte[] got = tun.awaitWritten(Duration.ofSeconds(1));
            assertEquals(60, got.length, "packet " + seed + ": the inner packet");
            assertEquals((byte) seed, got[0], "packets out of order");
        }
        assertEquals(0, tun.writtenCount(), "more written than expected");
    }

    @Test
    void packetsWaitAcrossBatchesUntilTheTransportIsIdle() throws Exception {
        IngressStage stage = stage(idleReporting);
        assertTrue(idleReporting.reportsIdle());
        stage.onReceive(new PacketBuffer[] {datagram(0), datagram(1)}, 2);
        PacketBuffer bad = datagram(2);
        bad.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, bad.offset(), (byte) 'X');
        stage.onReceive(new PacketBuffer[] {datagram(3), bad}, 2);
        assertEquals(0, tun.writtenCount(), "written before the transport was idle");
        assertEquals(1, counters.dropped(DropReason.VXLAN_BAD_FLAGS), "a bad datagram is dropped and counted at once");
        assertEquals(3, pool.outstanding(), "the held packets keep their buffers, the dropped one is back");
        stage.onIdle();
        assertWritten(0, 1, 3);
        assertEquals(3, counters.ingressPackets());
        stage.onIdle(); // nothing held: nothing written
        assertEquals(0, tun.writtenCount());
    }

    private PacketBuffer tcp(int flags, int payload) {
        byte[] inner = TcpSegment.of(0x0af40101, 40000, 0x0af40201, 5201, 1000, 1, new byte[0], new byte[payload]).withFlags(flags).bytes();
        byte[] d = new byte[PipelineTest.MarkerEncapsulation.LEN + inner.length];
        d[0] = 'D';
        d[1] = 'P';
        d[2] = 'T';
        d[3] = PipelineTest.MarkerEncapsulation.DATA;
        System.arraycopy(inner, 0, d, PipelineTest.MarkerEncapsulation.LEN, inner.length);
        return pool.acquire().put(d).setPeer(UNDERLAY_B, PORT);
    }

    @Test
    void moreIsExpectedWhileTheLastHeldPacketIsATcpSegmentARunGoesOnAfter() throws Exception {
        IngressStage stage = stage(idleReporting);
        assertFalse(stage.expectsMore(), "nothing held");
        stage.onReceive(new PacketBuffer[] {tcp(TcpSegment.ACK, 100)}, 1);
        assertTrue(stage.expectsMore(), "an ACK-only segment with data: its flow's next segment may join it");
        stage.onReceive(new PacketBuffer[] {tcp(TcpSegment.ACK | TcpSegment.PSH, 100)}, 1);
        assertFalse(stage.expectsMore(), "PSH ends the run");
        stage.onReceive(new PacketBuffer[] {tcp(TcpSegment.ACK, 100), datagram(9)}, 2);
        assertFalse(stage.expectsMore(), "the last held packet is not TCP");
        stage.onReceive(new PacketBuffer[] {tcp(TcpSegment.ACK, 0)}, 1);
        assertFalse(stage.expectsMore(), "a pure ACK");
        stage.onReceive(new PacketBuffer[] {tcp(TcpSegment.ACK, 100)}, 1);
        assertTrue(stage.expectsMore());
        stage.onIdle();
        assertFalse(stage.expectsMore(), "all written");
        for (int i = 0; i < 6; i++) tun.awaitWritten(Duration.ofSeconds(1));
        assertEquals(0, tun.writtenCount());
    }

    @Test
    void aFullTunWriteGoesWithoutWaitingForIdle() throws Exception {
        IngressStage stage = stage(idleReporting);
        int n = Pipeline.MAX_BATCH + 3;
        PacketBuffer[] batch = new PacketBuffer[n];
        for (int i = 0; i < n; i++) batch[i] = datagram(i);
        stage.onReceive(batch, n);
        int[] first = new int[Pipeline.MAX_BATCH];
        for (int i = 0; i < first.length; i++) first[i] = i;
        assertWritten(first);
        stage.onIdle();
        assertWritten(Pipeline.MAX_BATCH, Pipeline.MAX_BATCH + 1, Pipeline.MAX_BATCH + 2);
    }

    /**
     * The receive thread holds a TUN write's worth less one back from batch to batch while it arms
     * the next recvmmsg and other threads take the rest of the pool: a reply inside a train (a
     * WireGuard handshake message or keepalive likewise) then finds the pool dry, and what is held
     * back, this thread's own to write, gives its buffers back first.
     */
    @Test
    void aCopyOutOfATrainThatFindsThePoolDryHasWhatIsHeldBackWrittenFirst() throws Exception {
        IngressStage stage = stage(idleReporting);
        FakeTransport b = network.attach(UNDERLAY_B, PORT, pool);
        PacketBuffer[] elsewhere = new PacketBuffer[pool.capacity()];
        try {
            int heldBack = Pipeline.MAX_BATCH - 1;
            PacketBuffer[] lone = new PacketBuffer[heldBack];
            for (int i = 0; i < heldBack; i++) lone[i] = datagram(i);
            stage.onReceive(lone, heldBack);
            assertEquals(0, tun.writtenCount(), "held back: the socket is not empty yet");
            PacketBuffer train = train(datagramBytes(PipelineTest.MarkerEncapsulation.DATA, 100),
                    datagramBytes(PipelineTest.MarkerEncapsulation.PING, 101), datagramBytes(PipelineTest.MarkerEncapsulation.DATA, 102));
            pool.acquire(elsewhere, elsewhere.length);
            assertEquals(pool.capacity(), pool.outstanding(), "the pool is dry");

            stage.onReceive(new PacketBuffer[] {train}, 1);
            assertEquals(0, counters.dropped(DropReason.POOL_EXHAUSTED), "the reply inside the train got a buffer");
            assertEquals(0, counters.droppedTotal());
            int[] order = new int[heldBack + 2];
            for (int i = 0; i < heldBack; i++) order[i] = i;
            order[heldBack] = 100;
            order[heldBack + 1] = 102;
            assertWritten(order);
            PacketPool.releaseAll(elsewhere, 0, elsewhere.length);
            PacketBuffer[] in = new PacketBuffer[1];
            pool.acquire(in, 1);
            try {
                assertEquals(1, b.receiveNow(in, 1), "the reply to the ping inside the train");
                byte[] expected = datagramBytes(PipelineTest.MarkerEncapsulation.PONG, 101);
                assertArrayEquals(expected, in[0].toByteArray());
            } finally {
                in[0].release();
            }
        } finally {
            PacketPool.releaseAll(elsewhere, 0, elsewhere.length);
            b.close();
        }
    }

    // A marker datagram of the given kind with a 60-byte inner packet that starts with seed.
    private static byte[] datagramBytes(byte kind, int seed) {
        byte[] d = new byte[PipelineTest.MarkerEncapsulation.LEN + 60];
        d[0] = 'D';
        d[1] = 'P';
        d[2] = 'T';
        d[3] = kind;
        d[4] = (byte) seed;
        return d;
    }

    // One buffer holding the datagrams back to back, a train received as one (UDP GRO) from B.
    private PacketBuffer train(byte[]... datagrams) {
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        for (byte[] d : datagrams) all.writeBytes(d);
        return pool.acquire().put(all.toByteArray()).setPeer(UNDERLAY_B, PORT).setGsoSize(datagrams[0].length);
    }

    @Test
    void aTransportThatDoesNotReportIdleGetsEachBatchWrittenAtOnce() throws Exception {
        Transport plain = new Transport() {
            @Override
            public void start(Receiver receiver) {}

            @Override
            public int send(PacketBuffer[] batch, int count) {
                return idleReporting.send(batch, count);
            }

            @Override
            public int localPort() {
                return PORT;
            }

            @Override
            public int batchSize() {
                return 16;
            }

            @Override
            public Counters counters() {
                return idleReporting.counters();
            }

            @Override
            public void close() {}
        };
        assertFalse(plain.reportsIdle());
        IngressStage stage = stage(plain);
        stage.onReceive(new PacketBuffer[] {datagram(7), datagram(8)}, 2);
        assertWritten(7, 8);
        stage.onReceive(new PacketBuffer[] {tcp(TcpSegment.ACK, 100)}, 1);
        assertFalse(stage.expectsMore(), "nothing is held back");
        assertEquals(1, tun.writtenCount());
        tun.awaitWritten(Duration.ofSeconds(1));
    }

    @Test
    void theSingleThreadPathWritesEachBatchAtOnce() throws Exception {
        stage(idleReporting).forward(new PacketBuffer[] {datagram(5)}, 1);
        assertWritten(5);
    }

    @Test
    void heldPacketsAreWrittenFromTheDeliveryThread() throws Exception {
        // The fake's delivery thread says it is idle once its inbox is empty, as the socket transport's does.
        IngressStage stage = stage(idleReporting);
        idleReporting.start(stage);
        FakeTransport b = network.attach(UNDERLAY_B, PORT, pool);
        try {
            PacketBuffer[] out = new PacketBuffer[3];
            for (int i = 0; i < 3; i++) {
                out[i] = datagram(10 + i);
                out[i].setPeer(0x0a000001, PORT);
            }
            assertEquals(3, b.send(out, 3));
            assertWritten(10, 11, 12);
        } finally {
            b.close();
        }
    }
}
