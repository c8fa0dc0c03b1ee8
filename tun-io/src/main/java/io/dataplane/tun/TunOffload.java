package io.dataplane.tun;

import java.util.EnumSet;
import java.util.Set;

/**
 * Offloads a TUN device with a virtio_net_hdr accepts ({@code TUN_F_*} for {@code TUNSETOFFLOAD}):
 * with them the kernel hands over TCP/UDP super-packets and packets with partial checksums instead
 * of segmenting and checksumming them first.
 *
 * <p>The kernel accepts the segmentation offloads only with {@link #CSUM}, and {@link #USO4} only
 * together with {@link #USO6}; {@link #validate} says so before the kernel answers EINVAL.
 */
public enum TunOffload {
    /** Packets may carry a partial checksum (NEEDS_CSUM). */
    CSUM(0x01),
    /** TCP over IPv4 super-packets. */
    TSO4(0x02),
    /** TCP over IPv6 super-packets. */
    TSO6(0x04),
    /** TCP super-packets with ECN. */
    TSO_ECN(0x08),
    /** UDP over IPv4 segmentation (UDP_L4 super-packets, as UDP_SEGMENT sends make). */
    USO4(0x20),
    /** UDP over IPv6 segmentation. */
    USO6(0x40);

    private final int flag;

    TunOffload(int flag) {
        this.flag = flag;
    }

    /** The {@code TUN_F_*} bit. */
    public int flag() {
        return flag;
    }

    /** The bits of {@code offloads} for {@code TUNSETOFFLOAD}. */
    public static int flags(Set<TunOffload> offloads) {
        int f = 0;
        for (TunOffload o : offloads) f |= o.flag;
        return f;
    }

    /**
     * Checks a combination the way the kernel's {@code set_offload} does.
     *
     * @throws IllegalArgumentException naming the combination: TSO or USO without CSUM, USO4
     *     without USO6 or the other way round
     */
    public static void validate(Set<TunOffload> offloads) {
        EnumSet<TunOffload> set = offloads.isEmpty() ? EnumSet.noneOf(TunOffload.class) : EnumSet.copyOf(offloads);
        EnumSet<TunOffload> segmentation = EnumSet.of(TSO4, TSO6, TSO_ECN, USO4, USO6);
        segmentation.retainAll(set);
        if (!segmentation.isEmpty() && !set.contains(CSUM)) {
            throw new IllegalArgumentException("TUN offloads " + set + ": " + segmentation + " need CSUM");
        }
        if (set.contains(USO4) != set.contains(USO6)) {
            throw new IllegalArgumentException("TUN offloads " + set + ": the kernel accepts USO4 only together with USO6");
        }
        if (set.contains(TSO_ECN) && !set.contains(TSO4) && !set.contains(TSO6)) {
            throw new IllegalArgumentException("TUN offloads " + set + ": TSO_ECN needs TSO4 or TSO6");
        }
    }
}
