package io.dataplane.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.buffer.PacketTrain;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.testing.FakeNetwork;
import io.dataplane.core.testing.FakeTransport;
import io.dataplane.core.testing.FakeTunnelDevice;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link IngressStage} on a train of datagrams received as one buffer (UDP GRO): every datagram
 * decapsulated on its own, the good ones written into the TUN in order, a bad one dropped alone
 * and counted, a reply from inside the train copied out and sent back, every buffer returned.
 * The encapsulation is {@link PipelineTest.MarkerEncapsulation}: a 4-byte header, {@code 'D'}
 * first, the last byte saying data, ping (reply) or pong (dropped as UNKNOWN_PEER).
 */
class IngressStageTrainTest {
    private static final int UNDERLAY_A = 0x0a000001;
    private static final int UNDERLAY_B = 0x0a000002;
    private static final int PORT = 7777;
    private static final int SIZE = PipelineTest.MarkerEncapsulation.LEN + 100;

    private final PacketPool pool = new PacketPool(8, 8192, 128);
    private final FakeNetwork network = new FakeNetwork();
    private final FakeTransport a = network.attach(UNDERLAY_A, PORT, pool);
    private final FakeTransport b = network.attach(UNDERLAY_B, PORT, pool);
    private final FakeTunnelDevice tun = new FakeTunnelDevice("train-tun", 1400, 32);
    private final Counters counters = new Counters();
    private final IngressStage stage = new IngressStage(a, new PipelineTest.MarkerEncapsulation(),
            new TunOutput.Direct(tun, new Object(), counters, new PathState("train-tun")), counters);

    @AfterEach
    void close() {
        a.close();
        b.close();
        tun.close();
        assertEquals(0, pool.outstanding(), "buffers still out");
        pool.close();
    }

    private static byte[] datagram(byte kind, int seed, int payload) {
        byte[] d = new byte[PipelineTest.MarkerEncapsulation.LEN + payload];
        d[0] = 'D';
        d[1] = 'P';
        d[2] = 'T';
        d[3] = kind;
        for (int i = 4; i < d.length; i++) d[i] = (byte) (seed * 31 + i);
        return d;
    }

    private static byte[] inner(byte[] datagram) {
        return java.util.Arrays.copyOfRange(datagram, PipelineTest.MarkerEncapsulation.LEN, datagram.length);
    }

    /** One buffer holding {@code datagrams} back to back, marked as a train of {@link #SIZE}-byte datagrams from B. */
    private PacketBuffer train(byte[]... datagrams) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] d : datagrams) all.writeBytes(d);
        return pool.acquire().put(all.toByteArray()).setPeer(UNDERLAY_B, PORT).setGsoSize(SIZE);
    }

    private List<byte[]> written(int n) throws InterruptedException {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(tun.awaitWritten(Duration.ofSeconds(1)));
        return out;
    }

    @Test
    void everyDatagramOfATrainIsDecapsulatedAndWrittenInOrder() throws Exception {
        byte[] d0 = datagram(PipelineTest.MarkerEncapsulation.DATA, 0, 100);
        byte[] d1 = datagram(PipelineTest.MarkerEncapsulation.DATA, 1, 100);
        byte[] d2 = datagram(PipelineTest.MarkerEncapsulation.DATA, 2, 37); // the last may be shorter
        stage.forward(new PacketBuffer[] {train(d0, d1, d2)}, 1);
        List<byte[]> got = written(3);
        assertArrayEquals(inner(d0), got.get(0));
        assertArrayEquals(inner(d1), got.get(1));
        assertArrayEquals(inner(d2), got.get(2));
        assertEquals(0, tun.writtenCount(), "more written than the train held");
        assertEquals(3, counters.ingressPackets());
        assertEquals(0, counters.droppedTotal());
    }

    @Test
    void aBadDatagramIsDroppedAloneAndAReplyIsCopiedOut() throws Exception {
        byte[] good0 = datagram(PipelineTest.MarkerEncapsulation.DATA, 0, 100);
        byte[] bad = datagram(PipelineTest.MarkerEncapsulation.DATA, 1, 100);
        bad[0] = 'X';
        byte[] ping = datagram(PipelineTest.MarkerEncapsulation.PING, 2, 100);
        byte[] pong = datagram(PipelineTest.MarkerEncapsulation.PONG, 3, 100);
        byte[] good1 = datagram(PipelineTest.MarkerEncapsulation.DATA, 4, 100);
        byte[] shortOne = {'D', 'P'}; // shorter than the header: the train's last datagram
        PacketBuffer plain = pool.acquire().put(datagram(PipelineTest.MarkerEncapsulation.DATA, 5, 50)).setPeer(UNDERLAY_B, PORT);
        stage.forward(new PacketBuffer[] {plain, train(good0, bad, ping, pong, good1, shortOne)}, 2);

        List<byte[]> got = written(3);
        assertArrayEquals(inner(datagram(PipelineTest.MarkerEncapsulation.DATA, 5, 50)), got.get(0), "the plain datagram before the train");
        assertArrayEquals(inner(good0), got.get(1));
        assertArrayEquals(inner(good1), got.get(2));
        assertEquals(3, counters.ingressPackets());
        assertEquals(1, counters.dropped(DropReason.VXLAN_BAD_FLAGS));
        assertEquals(1, counters.dropped(DropReason.UNKNOWN_PEER));
        assertEquals(1, counters.dropped(DropReason.TRUNCATED));

        PacketBuffer[] in = new PacketBuffer[1];
        pool.acquire(in, 1);
        try {
            assertEquals(1, b.receiveNow(in, 1), "the reply to the ping inside the train");
            byte[] expected = ping.clone();
            expected[3] = PipelineTest.MarkerEncapsulation.PONG;
            assertArrayEquals(expected, in[0].toByteArray());
        } finally {
            in[0].release();
        }
    }

    @Test
    void aTrainOfOnlyBadDatagramsReturnsItsBuffer() {
        byte[] bad = datagram(PipelineTest.MarkerEncapsulation.DATA, 1, 100);
        bad[0] = 'X';
        stage.forward(new PacketBuffer[] {train(bad, bad, bad)}, 1);
        assertEquals(3, counters.dropped(DropReason.VXLAN_BAD_FLAGS));
        assertEquals(0, tun.writtenCount());
        assertEquals(0, pool.outstanding());
    }

    @Test
    void datagramsBeyondWhatATrainHoldsAreDroppedAndCounted() throws Exception {
        byte[][] many = new byte[PacketTrain.MAX_PACKETS + 2][];
        for (int i = 0; i < many.length; i++) many[i] = new byte[] {'D', 'P', 'T', PipelineTest.MarkerEncapsulation.DATA, (byte) i};
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] d : many) all.writeBytes(d);
        PacketBuffer p = pool.acquire().put(all.toByteArray()).setPeer(UNDERLAY_B, PORT).setGsoSize(5);
        stage.forward(new PacketBuffer[] {p}, 1);
        List<byte[]> got = written(PacketTrain.MAX_PACKETS);
        for (int i = 0; i < got.size(); i++) assertArrayEquals(new byte[] {(byte) i}, got.get(i));
        assertEquals(2, counters.dropped(DropReason.TRAIN_TOO_LONG));
    }
}
