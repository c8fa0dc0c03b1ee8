package io.dataplane.wireguard;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.wire.TcpSegments;
import java.lang.foreign.MemorySegment;

/**
 * Makes of a TCP super-packet from the TUN (TSO) the train of transport messages of its segments,
 * in its own buffer, as wireguard-go's send path does with {@code tun/offload_linux.go} and
 * {@code conn/gso_linux.go}, but without a buffer per segment: the segments are cut by {@link
 * TcpSegments} and laid out from the last to the first, each payload moved back by the headers
 * and trailers of the messages before it, its IPv4 and TCP headers written in front of it, then
 * padded and sealed in place with its own counter, the counters in segment order.
 *
 * <pre>
 * super-packet at o:     [IPv4+TCP H][payload 0 (mss)][payload 1] ... [payload n-1]
 * train at o - 16:       [hdr|H' payload 0 pad|tag][hdr|H' payload 1 pad|tag] ... [hdr|H' payload n-1 pad|tag]
 *                         &lt;------------- stride ------------&gt;                     the last may be shorter
 * </pre>
 *
 * Every message but the last is {@code 16 + padded(H + mss) + 16} bytes: WireGuard pads to a
 * multiple of 16 (not past the MTU), so equal segments give equal messages, and the train is sent
 * with UDP GSO as it is ({@link PacketBuffer#TRAIN}). Payload 0 does not move, and every later one
 * moves to a higher address than it held, so working backwards never overwrites bytes still to be
 * read; the first segment's headers are written last, over the super-packet's own, which the
 * others are copied from.
 *
 * <p>One instance per thread ({@link #get}): the TUN reader seals most trains, but a super-packet
 * staged for a handshake is sealed by whichever thread sends the staged packets. Nothing allocates.
 */
final class TrainSealer {
    private static final ThreadLocal<TrainSealer> PER_THREAD = ThreadLocal.withInitial(TrainSealer::new);
    private static final int HEADER = MessageType.TRANSPORT_HEADER_LEN;
    private static final int TRAILER = MessageType.TAG_LEN;

    private final TcpSegments segments = new TcpSegments();
    private int count;

    private TrainSealer() {}

    /** This thread's instance. */
    static TrainSealer get() {
        return PER_THREAD.get();
    }

    /**
     * Checks the super-packet in {@code p} and that its train fits the buffer: -1, then {@link
     * #segments()} says how many counters {@link #seal} takes; else the ordinal of {@code
     * BAD_SUPER_PACKET} (not a TCP super-packet that can be cut) or {@code NO_ROOM} (the train
     * would not fit the buffer: headroom under 16 bytes, or too many segments for its tailroom).
     */
    int prepare(PacketBuffer p, int mtu) {
        int bad = segments.prepare(p, 0);
        if (bad != TcpSegments.VALID) return bad;
        int n = segments.segments();
        int h = segments.headerLength();
        long end = (long) p.offset() - HEADER + (long) (n - 1) * stride(mtu)
                + HEADER + TransportCodec.paddedLength(h + segments.payloadLength(n - 1), mtu) + TRAILER;
        if (p.offset() < HEADER || end > p.capacity()) return DropReason.NO_ROOM.ordinal();
        count = n;
        return -1;
    }

    /** Segments, and so messages and counters, of the super-packet {@link #prepare} accepted last. */
    int segments() {
        return count;
    }

    /**
     * Seals the super-packet {@link #prepare} accepted in {@code p} as the train of its messages,
     * segment {@code i} with counter {@code firstCounter + i}, and points the data at the train: a
     * {@link PacketBuffer#TRAIN} of messages {@code gsoSize} bytes long, or one plain message when
     * the super-packet had one segment.
     */
    void seal(Keypair kp, long firstCounter, PacketBuffer p, int mtu) {
        MemorySegment seg = p.segment();
        int n = count;
        int h = segments.headerLength();
        int stride = stride(mtu);
        long start = (long) p.offset() - HEADER;
        int last = 0;
        for (int i = n - 1; i >= 0; i--) {
            long inner = start + (long) i * stride + HEADER;
            int len = segments.payloadLength(i);
            long payload = inner + h;
            if (i > 0) MemorySegment.copy(seg, segments.payloadOffset(i), seg, payload, len);
            segments.writeHeader(i, seg, inner, seg, payload);
            int padded = TransportCodec.paddedLength(h + len, mtu);
            TransportCodec.sealAt(kp, firstCounter + i, seg, inner, h + len, padded);
            if (i == n - 1) last = HEADER + padded + TRAILER;
        }
        p.setData((int) start, (n - 1) * stride + last);
        if (n > 1) {
            p.setGsoSize(stride).setGsoPrefix(PacketBuffer.TRAIN);
        } else {
            p.setGsoSize(0).setGsoPrefix(0);
        }
    }

    /** Inner bytes the messages of the super-packet {@link #prepare} accepted last carry: every segment with its headers. */
    int innerBytes() {
        int n = count;
        return n * segments.headerLength() + (n - 1) * segments.mss() + segments.payloadLength(n - 1);
    }

    /** Length of every message but the last: header, padded full-size segment, tag. */
    private int stride(int mtu) {
        return HEADER + TransportCodec.paddedLength(segments.headerLength() + segments.mss(), mtu) + TRAILER;
    }
}
