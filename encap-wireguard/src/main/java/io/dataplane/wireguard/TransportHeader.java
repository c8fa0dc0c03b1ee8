package io.dataplane.wireguard;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The 16-byte header of a transport data message (type 4), little-endian, read and written in
 * place in the packet buffer:
 *
 * <pre>
 *  0       4          8                  16
 *  | type  | receiver | counter (u64)    | ciphertext ... | tag (16) |
 * </pre>
 *
 * Static accessors rather than a flyweight instance: the transport path runs on several threads
 * (TUN reader, receiver, timers) and a stateless view needs no per-thread copy. The caller checks
 * the length (at least {@link MessageType#KEEPALIVE_LEN}) before reading.
 */
public final class TransportHeader {
    /** Offset of the type. */
    public static final int TYPE = 0;
    /** Offset of the receiver index. */
    public static final int RECEIVER = 4;
    /** Offset of the 64-bit counter (the nonce). */
    public static final int COUNTER = 8;
    /** Size of the header. */
    public static final int HEADER_LEN = COUNTER + 8;

    static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TransportHeader() {}

    /** The message type at {@code offset}: the whole little-endian u32 (any message type, not only transport). */
    public static int type(MemorySegment segment, long offset) {
        return segment.get(LE_INT, offset + TYPE);
    }

    /** The receiver index. */
    public static int receiver(MemorySegment segment, long offset) {
        return segment.get(LE_INT, offset + RECEIVER);
    }

    /** The counter. */
    public static long counter(MemorySegment segment, long offset) {
        return segment.get(LE_LONG, offset + COUNTER);
    }

    /** Writes type 4, {@code receiver} and {@code counter} at {@code offset}. */
    public static void emit(MemorySegment segment, long offset, int receiver, long counter) {
        segment.set(LE_INT, offset + TYPE, MessageType.TRANSPORT);
        segment.set(LE_INT, offset + RECEIVER, receiver);
        segment.set(LE_LONG, offset + COUNTER, counter);
    }
}
