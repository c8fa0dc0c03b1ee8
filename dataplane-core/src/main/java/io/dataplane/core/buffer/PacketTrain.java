package io.dataplane.core.buffer;

/**
 * Packets that share one buffer: what a train of datagrams received as one (UDP GRO) becomes once
 * each datagram is decapsulated in place. Each packet is an offset and a length into the buffer,
 * in the order the datagrams came; the bytes between them (the tunnel headers of the next datagram)
 * stay where they are, so nothing is copied.
 *
 * <pre>
 * buffer: [outer 0][packet 0][outer 1][packet 1] ... [outer n-1][packet n-1]    datagrams of gsoSize bytes
 * train:  (offset 0, length 0), (offset 1, length 1), ...                      the packets, for the TUN
 * </pre>
 *
 * <p>A device writes a train with {@code TunnelDevice#writeTrain}, joining consecutive TCP
 * segments where it can. {@link #select} points the buffer's data at one packet, so code written
 * for one packet per buffer reads it unchanged. One instance per thread, reused for train after
 * train; nothing allocates.
 */
public final class PacketTrain {
    /** Most packets a train holds: the kernel's most datagrams in one UDP GSO message (UDP_MAX_SEGMENTS). */
    public static final int MAX_PACKETS = 128;

    private final int[] offsets = new int[MAX_PACKETS];
    private final int[] lengths = new int[MAX_PACKETS];
    private final PacketBuffer[] single = new PacketBuffer[1];
    private PacketBuffer buffer;
    private int count;

    /** Starts an empty train in {@code buffer}. */
    public void reset(PacketBuffer buffer) {
        this.buffer = buffer;
        this.count = 0;
    }

    /** Adds the packet at {@code offset}, {@code length} bytes long; false, adding nothing, when the train holds {@link #MAX_PACKETS}. */
    public boolean add(int offset, int length) {
        if (count == MAX_PACKETS) return false;
        offsets[count] = offset;
        lengths[count] = length;
        count++;
        return true;
    }

    /** The buffer the packets are in. */
    public PacketBuffer buffer() {
        return buffer;
    }

    /** Packets in the train. */
    public int count() {
        return count;
    }

    /** Where packet {@code i} starts in the buffer. */
    public int offset(int i) {
        return offsets[i];
    }

    /** Packet {@code i}'s length. */
    public int length(int i) {
        return lengths[i];
    }

    /** Points the buffer's data at packet {@code i} and returns the buffer. */
    public PacketBuffer select(int i) {
        return buffer.setData(offsets[i], lengths[i]);
    }

    /** A one-slot array this train's writer may use to hand one packet to a batch call; clear it after. */
    public PacketBuffer[] single() {
        return single;
    }

    /** Forgets the buffer (its owner releases it). */
    public void clear() {
        buffer = null;
        count = 0;
    }
}
