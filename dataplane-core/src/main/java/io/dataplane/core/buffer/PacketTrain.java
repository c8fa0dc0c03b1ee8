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
 * <p>{@link #append} puts the packets of a second train behind those of this one, each still in
 * its own buffer: a sender's super-packet of more segments than one UDP GSO message carries comes
 * as two trains, and the device writes their segments as one super-packet again. The train then
 * holds both buffers ({@link #bufferCount}), and its owner releases both.
 *
 * <p>A device writes a train with {@code TunnelDevice#writeTrain}, joining consecutive TCP
 * segments where it can. {@link #select} points a buffer's data at one packet, so code written
 * for one packet per buffer reads it unchanged. One instance per thread, reused for train after
 * train; nothing allocates.
 */
public final class PacketTrain {
    /** Most packets a train holds: the kernel's most datagrams in one UDP GSO message (UDP_MAX_SEGMENTS). */
    public static final int MAX_PACKETS = 128;
    /** Most buffers a train's packets are in: its own, and one {@link #append}ed train's. */
    public static final int MAX_BUFFERS = 2;

    private final int[] offsets = new int[MAX_PACKETS];
    private final int[] lengths = new int[MAX_PACKETS];
    private final byte[] in = new byte[MAX_PACKETS]; // which of buffers each packet is in
    private final PacketBuffer[] buffers = new PacketBuffer[MAX_BUFFERS];
    private final PacketBuffer[] single = new PacketBuffer[1];
    private int bufferCount;
    private int count;

    /** Starts an empty train in {@code buffer}. */
    public void reset(PacketBuffer buffer) {
        buffers[0] = buffer;
        buffers[1] = null;
        this.bufferCount = 1;
        this.count = 0;
    }

    /** Adds the packet at {@code offset}, {@code length} bytes long, in the last buffer; false, adding nothing, when the train holds {@link #MAX_PACKETS}. */
    public boolean add(int offset, int length) {
        if (count == MAX_PACKETS) return false;
        offsets[count] = offset;
        lengths[count] = length;
        in[count] = (byte) (bufferCount - 1);
        count++;
        return true;
    }

    /**
     * Adds the packets of {@code next}, a train in one buffer of its own, behind this train's, with
     * that buffer, which this train's owner then releases; false, changing neither, when this train
     * holds {@link #MAX_BUFFERS} buffers already or the packets would not fit.
     */
    public boolean append(PacketTrain next) {
        if (bufferCount == MAX_BUFFERS || next.bufferCount != 1 || count + next.count > MAX_PACKETS) return false;
        buffers[bufferCount++] = next.buffers[0];
        for (int i = 0; i < next.count; i++) add(next.offsets[i], next.lengths[i]);
        return true;
    }

    /** Takes over {@code other}'s buffers and packets, leaving {@code other} empty (as {@link #clear} does). */
    public void moveFrom(PacketTrain other) {
        System.arraycopy(other.offsets, 0, offsets, 0, other.count);
        System.arraycopy(other.lengths, 0, lengths, 0, other.count);
        System.arraycopy(other.in, 0, in, 0, other.count);
        System.arraycopy(other.buffers, 0, buffers, 0, MAX_BUFFERS);
        bufferCount = other.bufferCount;
        count = other.count;
        other.clear();
    }

    /** The buffer the first packets are in. */
    public PacketBuffer buffer() {
        return buffers[0];
    }

    /** Buffers the packets are in: 1, or 2 after an {@link #append}; 0 once {@link #clear}ed. */
    public int bufferCount() {
        return bufferCount;
    }

    /** Buffer {@code k} of {@link #bufferCount()}, in the order the packets are. */
    public PacketBuffer buffer(int k) {
        return buffers[k];
    }

    /** Packets in the train. */
    public int count() {
        return count;
    }

    /** The buffer packet {@code i} is in. */
    public PacketBuffer bufferOf(int i) {
        return buffers[in[i]];
    }

    /** Where packet {@code i} starts in its buffer. */
    public int offset(int i) {
        return offsets[i];
    }

    /** Packet {@code i}'s length. */
    public int length(int i) {
        return lengths[i];
    }

    /** Points packet {@code i}'s buffer's data at it and returns that buffer. */
    public PacketBuffer select(int i) {
        return buffers[in[i]].setData(offsets[i], lengths[i]);
    }

    /** A one-slot array this train's writer may use to hand one packet to a batch call; clear it after. */
    public PacketBuffer[] single() {
        return single;
    }

    /** Forgets the buffers (their owner releases them). */
    public void clear() {
        buffers[0] = null;
        buffers[1] = null;
        bufferCount = 0;
        count = 0;
    }
}
