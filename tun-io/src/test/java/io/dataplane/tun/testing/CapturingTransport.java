package io.dataplane.tun.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.wire.TcpSegments;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The transport of {@link ReceiveFuzzing} and {@link SendFuzzing}: keeps what a stage sends
 * (replies, datagrams) and releases the buffers; takes TCP super-packets and cuts each into its
 * datagrams as the socket transport's {@code SegmentBatch} does (prepared at the buffer's prefix,
 * each segment's headers written by {@link TcpSegments}, its payload sliced); reports idle if
 * told so. Receives nothing: the driver calls the stage itself.
 */
final class CapturingTransport implements Transport {
    /** What one buffer handed over became: one datagram, or a super-packet's datagrams. */
    record Sent(boolean superPacket, List<byte[]> datagrams) {}

    private final boolean reportsIdle;
    private final Counters counters = new Counters();
    private final TcpSegments segments = new TcpSegments();
    private final MemorySegment scratch = Arena.ofAuto().allocate(TcpSegments.MAX_HEADER_LENGTH);
    final List<Sent> sent = new ArrayList<>();

    CapturingTransport(boolean reportsIdle) {
        this.reportsIdle = reportsIdle;
    }

    @Override
    public void start(Receiver receiver) {}

    @Override
    public int send(PacketBuffer[] batch, int count) {
        for (int i = 0; i < count; i++) {
            PacketBuffer p = batch[i];
            try {
                sent.add(p.gsoSize() == 0 ? new Sent(false, List.of(p.toByteArray())) : new Sent(true, cut(p)));
            } finally {
                p.release();
            }
        }
        return count;
    }

    private List<byte[]> cut(PacketBuffer p) {
        assertTrue(p.gsoPrefix() != PacketBuffer.TRAIN, "no train from an encapsulation that does not seal");
        assertEquals(TcpSegments.VALID, segments.prepare(p, p.gsoPrefix()), "a super-packet handed over can be cut");
        List<byte[]> datagrams = new ArrayList<>();
        int h = segments.headerLength();
        for (int k = 0; k < segments.segments(); k++) {
            segments.writeHeader(k, scratch, 0);
            byte[] d = new byte[h + segments.payloadLength(k)];
            MemorySegment.copy(scratch, ValueLayout.JAVA_BYTE, 0, d, 0, h);
            MemorySegment.copy(p.segment(), ValueLayout.JAVA_BYTE, segments.payloadOffset(k), d, h, segments.payloadLength(k));
            datagrams.add(d);
        }
        return datagrams;
    }

    @Override
    public boolean sendsSuperPackets() {
        return true;
    }

    @Override
    public boolean reportsIdle() {
        return reportsIdle;
    }

    @Override
    public int localPort() {
        return 8472;
    }

    @Override
    public int batchSize() {
        return 64;
    }

    @Override
    public Counters counters() {
        return counters;
    }

    @Override
    public void close() {}
}
