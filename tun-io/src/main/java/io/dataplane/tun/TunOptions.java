package io.dataplane.tun;

import java.util.EnumSet;
import java.util.Set;

/**
 * How a {@link TunDevice} is opened.
 *
 * @param batchSize most packets one read or write handles (1-1024)
 * @param vnetHeader open with {@code IFF_VNET_HDR}: every packet is preceded by a
 *     {@link VirtioNetHeader} (read and written in the buffer's headroom, see {@link TunDevice})
 * @param offloads what the kernel may hand over unsegmented or with partial checksums; needs
 *     {@code vnetHeader}, and a combination the kernel accepts ({@link TunOffload#validate})
 * @param ioUring batch reads and writes through io_uring, one {@code io_uring_enter} per batch;
 *     where the kernel refuses io_uring the device reads and writes one packet per system call
 */
public record TunOptions(int batchSize, boolean vnetHeader, Set<TunOffload> offloads, boolean ioUring) {
    /** Default batch size: as wireguard-go's TUN batch. */
    public static final int DEFAULT_BATCH_SIZE = 32;

    /** Checks the values; throws {@link IllegalArgumentException} naming the one that is wrong. */
    public TunOptions {
        if (batchSize < 1 || batchSize > 1024) throw new IllegalArgumentException("TUN batch size out of range: batchSize=" + batchSize + " (1-1024)");
        offloads = offloads.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(offloads));
        if (!offloads.isEmpty() && !vnetHeader) {
            throw new IllegalArgumentException("TUN offloads " + offloads + " need the virtio_net_hdr: vnetHeader=false");
        }
        TunOffload.validate(offloads);
    }

    /** Options without io_uring. */
    public TunOptions(int batchSize, boolean vnetHeader, Set<TunOffload> offloads) {
        this(batchSize, vnetHeader, offloads, false);
    }

    /** Batches of {@link #DEFAULT_BATCH_SIZE}, no virtio_net_hdr, no offloads, no io_uring: the plain fallback path. */
    public static TunOptions defaults() {
        return new TunOptions(DEFAULT_BATCH_SIZE, false, Set.of());
    }

    /** These options with another batch size. */
    public TunOptions withBatchSize(int batchSize) {
        return new TunOptions(batchSize, vnetHeader, offloads, ioUring);
    }

    /** These options with the virtio_net_hdr on and {@code offloads} (may be empty). */
    public TunOptions withVnetHeader(Set<TunOffload> offloads) {
        return new TunOptions(batchSize, true, offloads, ioUring);
    }

    /** These options with io_uring batches on or off. */
    public TunOptions withIoUring(boolean ioUring) {
        return new TunOptions(batchSize, vnetHeader, offloads, ioUring);
    }
}
