package io.dataplane.tun;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketTrain;
import io.dataplane.core.wire.TcpCoalescer;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Writes a {@link PacketTrain} into a {@link TunDevice} with TSO: consecutive segments of one TCP
 * flow (as {@link TcpCoalescer} decides) go in as one super-packet, the first segment with its
 * rewritten headers and the payloads of the others gathered from the train's one buffer by one
 * {@code writev}; a packet that joins no run goes in alone. Beside the device, as wireguard-go keeps
 * its offload code beside its TUN.
 *
 * <pre>
 * buffer: [outer][IP TCP payload 0][outer][IP TCP payload 1][outer][IP TCP payload 2]
 * writev: [vnet hdr][IP TCP payload 0]      [payload 1]            [payload 2]
 * </pre>
 *
 * <p>Each packet is written after the ones before it, so the virtio_net_hdr a write puts in front
 * of a packet may overwrite what came before it in the buffer. The device's writer only; nothing
 * allocates.
 */
final class TunTrainWriter {
    private final TunDevice device;
    private final TcpCoalescer coalescer = new TcpCoalescer();

    TunTrainWriter(TunDevice device) {
        this.device = device;
    }

    /** Writes {@code train}'s packets in order; returns how many the kernel took, or {@link TunDevice#CLOSED}. */
    int write(PacketTrain train) throws IOException {
        PacketBuffer[] one = train.single();
        int n = train.count();
        int written = 0;
        try {
            for (int i = 0; i < n; ) {
                int run = i + 1 < n && coalescer.start(train.select(i)) ? joinRun(train, i) : 1;
                int r;
                if (run > 1) {
                    r = device.writeJoined(coalescer, train.select(i), run);
                } else {
                    one[0] = train.select(i);
                    r = device.write(one, 1);
                }
                if (r == TunDevice.CLOSED) return TunDevice.CLOSED;
                written += r;
                i += run;
            }
            return written;
        } finally {
            one[0] = null;
        }
    }

    // Extends the run the coalescer started at packet i; fills the device's iovecs with the payloads. Returns its length.
    private int joinRun(PacketTrain train, int i) {
        MemorySegment iov = device.joinIovecs();
        int run = 1;
        while (i + run < train.count() && run < TcpCoalescer.MAX_SEGMENTS && coalescer.append(train.select(i + run))) run++;
        int headers = coalescer.headerLength();
        long base = train.buffer().address();
        for (int k = 1; k < run; k++) {
            iov.set(ValueLayout.JAVA_LONG, 16L * k, base + train.offset(i + k) + headers);
            iov.set(ValueLayout.JAVA_LONG, 16L * k + 8, train.length(i + k) - headers);
        }
        return run;
    }
}
