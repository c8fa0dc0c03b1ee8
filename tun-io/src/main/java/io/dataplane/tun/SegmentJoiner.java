package io.dataplane.tun;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketTrain;
import io.dataplane.core.wire.TcpCoalescer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The joined writes of a TUN with TSO: finds the runs of consecutive segments of one TCP flow in
 * what the writer is about to write (as {@link TcpCoalescer} decides) and lays out each run as one
 * super-packet for one {@code writev}, the first segment with its virtio_net_hdr and headers
 * rewritten for the whole, then the payload of each of the others where it lies, no copy. This is
 * what GRO does for a NIC: the kernel's TCP takes up one packet where it would have taken up dozens.
 * Beside the device, as wireguard-go keeps {@code tcp_offload_linux.go} beside {@code tun_linux.go}:
 * the device makes the call, this class decides what goes into it.
 *
 * <pre>
 * batch:  [IP TCP payload 0]     [IP TCP payload 1]     [IP TCP payload 2]   one buffer each
 * train:  [outer][IP TCP payload 0][outer][IP TCP payload 1][outer][IP TCP payload 2]   one buffer (or two)
 * writev: [vnet hdr][IP' TCP' payload 0]  [payload 1]   [payload 2]
 * </pre>
 *
 * <p>Packets go in in order, each after the ones before it, so the virtio_net_hdr in front of a
 * train's packet may overwrite what came before it in the buffer. The device's writer only;
 * nothing allocates.
 */
final class SegmentJoiner {
    private static final long IOVEC = 16; // struct iovec: base, length
    private final TcpCoalescer coalescer = new TcpCoalescer();
    private final MemorySegment iovecs = Arena.ofAuto().allocate(IOVEC * TcpCoalescer.MAX_SEGMENTS, 8);
    private final VnetHeaderCodec codec;

    /** A joiner whose super-packets get their virtio_net_hdr from the writer's {@code codec}. */
    SegmentJoiner(VnetHeaderCodec codec) {
        this.codec = codec;
    }

    /**
     * The length of the run that starts at {@code packets[from]} among {@code packets[from..count)}:
     * 1 if it joins nothing, otherwise the iovecs of the others' payloads are laid out for
     * {@link #finish}.
     */
    int join(PacketBuffer[] packets, int from, int count) {
        if (from + 1 >= count || !coalescer.start(packets[from])) return 1;
        int run = 1;
        while (from + run < count && coalescer.append(packets[from + run])) run++;
        int headers = coalescer.headerLength();
        for (int k = 1; k < run; k++) {
            PacketBuffer q = packets[from + k];
            payload(k, q.address() + q.offset() + headers, q.length() - headers);
        }
        return run;
    }

    /** As {@link #join(PacketBuffer[], int, int)} for the run that starts at packet {@code from} of {@code train}. */
    int join(PacketTrain train, int from) {
        int count = train.count();
        if (from + 1 >= count || !coalescer.start(train.select(from))) return 1;
        int run = 1;
        while (from + run < count && coalescer.append(train.select(from + run))) run++;
        int headers = coalescer.headerLength();
        for (int k = 1; k < run; k++) {
            int i = from + k;
            payload(k, train.bufferOf(i).address() + train.offset(i) + headers, train.length(i) - headers);
        }
        return run;
    }

    private void payload(int k, long address, long length) {
        iovecs.set(ValueLayout.JAVA_LONG, IOVEC * k, address);
        iovecs.set(ValueLayout.JAVA_LONG, IOVEC * k + 8, length);
    }

    /**
     * Makes {@code first} (the packet the last {@code join} started with, in the buffer the run's
     * {@link PacketTrain#select} or batch gave) the head of the super-packet: its headers rewritten
     * for the whole run, its virtio_net_hdr written in front. Returns the address of the run's
     * iovecs, ready for {@code writev}.
     *
     * @throws IllegalArgumentException if {@code first}'s offset leaves no room for the virtio_net_hdr
     */
    long finish(PacketBuffer first) {
        codec.checkHeadroom(first);
        int firstLength = first.length();
        coalescer.finish(first);
        codec.encodeJoined(first, coalescer.headerLength(), coalescer.mss());
        int before = codec.length();
        payload(0, first.address() + first.offset() - before, (long) firstLength + before);
        return iovecs.address();
    }
}
