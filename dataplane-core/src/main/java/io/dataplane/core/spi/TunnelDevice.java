package io.dataplane.core.spi;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketTrain;
import java.io.IOException;

/**
 * The pod side of the dataplane: a device that IP packets are read from and written to in batches,
 * a TUN device in production and an in-memory fake in tests (as wireguard-go's {@code tun.Device}).
 *
 * <p>Buffers stay with the caller: {@link #read} fills buffers the caller acquired and still owns
 * afterwards; {@link #write} writes them and leaves releasing them to the caller.
 */
public interface TunnelDevice extends AutoCloseable {
    /** Result of {@link #read} and {@link #write} once the device is closed. */
    int CLOSED = -1;

    /** The device's name (the interface name for a TUN). */
    String name();

    /** The MTU of the device in bytes. */
    int mtu();

    /** Largest number of packets one {@link #read} or {@link #write} call handles; fixed for the life of the device. */
    int batchSize();

    /**
     * Reads up to {@code count} packets, one into each of {@code packets[0..count)} at the buffer's
     * current offset (its headroom), setting each one's length. Blocks until at least one packet is
     * there or the device is closed.
     *
     * @return the number of buffers filled (at least 1), or {@link #CLOSED} once the device is closed
     * @throws IOException when the device fails (it was removed, say), naming the call and the errno
     */
    int read(PacketBuffer[] packets, int count) throws IOException;

    /**
     * Writes {@code packets[0..count)}, each from its offset for its length.
     *
     * @return the number written; a packet the kernel refuses is skipped (the caller counts
     *     {@code count - result} as {@code TUN_WRITE_FAILED}), or {@link #CLOSED} once closed
     * @throws IOException when the device itself fails
     */
    int write(PacketBuffer[] packets, int count) throws IOException;

    /**
     * Writes the packets of {@code train} in order, each from its offset for its length; the
     * train's buffer stays the caller's. This one writes them one at a time through {@link
     * #write}; a device that can joins consecutive TCP segments into one super-packet, as it does
     * for a batch. Writing a packet may overwrite the bytes in front of it (a device's own header),
     * which in a train belong to the packets before: so the packets go in order, each after the
     * ones before it were written.
     *
     * @return the number written, or {@link #CLOSED} once closed
     * @throws IOException when the device itself fails
     */
    default int writeTrain(PacketTrain train) throws IOException {
        PacketBuffer[] one = train.single();
        int written = 0;
        try {
            for (int i = 0; i < train.count(); i++) {
                one[0] = train.select(i);
                int r = write(one, 1);
                if (r == CLOSED) return CLOSED;
                written += r;
            }
            return written;
        } finally {
            one[0] = null;
        }
    }

    /** Closes the device and wakes a reader blocked in {@link #read}, which then returns {@link #CLOSED}. */
    @Override
    void close();
}
