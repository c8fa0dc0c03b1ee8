package io.dataplane.core.stats;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Packet and byte counters of one pipeline stage, and its drops by {@link DropReason}.
 *
 * <p>Single writer: one thread updates an instance (plain add, opaque store, no lock or CAS on the
 * packet path); any thread may read it and sees values at most a moment old. Stages that run on
 * different threads keep their own instance; {@link #addTo} sums them for reports.
 */
public final class Counters {
    private static final int EGRESS_PACKETS = 0;
    private static final int EGRESS_BYTES = 1;
    private static final int INGRESS_PACKETS = 2;
    private static final int INGRESS_BYTES = 3;
    private static final int FIRST_DROP = 4;
    /** Number of slots in a snapshot array: four traffic counters, then one per drop reason. */
    public static final int SNAPSHOT_LENGTH = FIRST_DROP + DropReason.count();

    private final AtomicLongArray values = new AtomicLongArray(SNAPSHOT_LENGTH);

    private void add(int slot, long delta) {
        values.setOpaque(slot, values.getPlain(slot) + delta);
    }

    /** One packet of {@code bytes} (inner packet size) sent from the TUN to the network. */
    public void countEgress(int bytes) {
        add(EGRESS_PACKETS, 1);
        add(EGRESS_BYTES, bytes);
    }

    /** {@code packets} packets of {@code bytes} in all (a super-packet's segments) sent from the TUN to the network. */
    public void countEgress(int packets, int bytes) {
        add(EGRESS_PACKETS, packets);
        add(EGRESS_BYTES, bytes);
    }

    /** One packet of {@code bytes} (inner packet size) delivered from the network to the TUN. */
    public void countIngress(int bytes) {
        add(INGRESS_PACKETS, 1);
        add(INGRESS_BYTES, bytes);
    }

    /** One packet dropped for {@code reason}. */
    public void drop(DropReason reason) {
        add(FIRST_DROP + reason.ordinal(), 1);
    }

    /** {@code n} packets dropped for {@code reason}. */
    public void drop(DropReason reason, int n) {
        add(FIRST_DROP + reason.ordinal(), n);
    }

    /** One packet dropped for the reason with this ordinal (the int form hot paths return). */
    public void drop(int reasonOrdinal) {
        add(FIRST_DROP + reasonOrdinal, 1);
    }

    /** Packets sent from the TUN to the network. */
    public long egressPackets() {
        return values.getOpaque(EGRESS_PACKETS);
    }

    /** Inner bytes sent from the TUN to the network. */
    public long egressBytes() {
        return values.getOpaque(EGRESS_BYTES);
    }

    /** Packets delivered from the network to the TUN. */
    public long ingressPackets() {
        return values.getOpaque(INGRESS_PACKETS);
    }

    /** Inner bytes delivered from the network to the TUN. */
    public long ingressBytes() {
        return values.getOpaque(INGRESS_BYTES);
    }

    /** Packets dropped for {@code reason}. */
    public long dropped(DropReason reason) {
        return values.getOpaque(FIRST_DROP + reason.ordinal());
    }

    /** Packets dropped for any reason. */
    public long droppedTotal() {
        long sum = 0;
        for (int i = FIRST_DROP; i < SNAPSHOT_LENGTH; i++) sum += values.getOpaque(i);
        return sum;
    }

    /** Adds this instance's values into {@code snapshot} (of {@link #SNAPSHOT_LENGTH}); see {@link Snapshot}. */
    public void addTo(long[] snapshot) {
        for (int i = 0; i < SNAPSHOT_LENGTH; i++) snapshot[i] += values.getOpaque(i);
    }

    /** The sum of several stages' counters at one moment, for reports. */
    public record Snapshot(long egressPackets, long egressBytes, long ingressPackets, long ingressBytes, long[] drops) {
        /** Sums {@code counters}. */
        public static Snapshot of(Iterable<Counters> counters) {
            long[] s = new long[SNAPSHOT_LENGTH];
            for (Counters c : counters) c.addTo(s);
            long[] drops = new long[DropReason.count()];
            System.arraycopy(s, FIRST_DROP, drops, 0, drops.length);
            return new Snapshot(s[EGRESS_PACKETS], s[EGRESS_BYTES], s[INGRESS_PACKETS], s[INGRESS_BYTES], drops);
        }

        /** Drops for {@code reason}. */
        public long dropped(DropReason reason) {
            return drops[reason.ordinal()];
        }

        /** Drops for any reason. */
        public long droppedTotal() {
            long sum = 0;
            for (long d : drops) sum += d;
            return sum;
        }
    }
}
