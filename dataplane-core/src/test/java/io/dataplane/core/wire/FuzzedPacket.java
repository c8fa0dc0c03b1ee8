package io.dataplane.core.wire;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A fuzz input laid out as a header view sees a packet: the bytes at {@code offset} of an off-heap
 * segment, and the {@code available} length passed to {@code validate}. Three shapes, chosen by the
 * input: the segment ends where the bytes end and {@code available} is their length; the same
 * segment with any {@code available} (negative, short, beyond the segment); or the segment ends at
 * {@code available}, so a read past it, not only past the bytes, is an
 * {@link IndexOutOfBoundsException} and fails the fuzz test.
 *
 * @param segment the segment, at most {@code offset + bytes.length} long
 * @param offset where the view starts, 0-8
 * @param available the length passed to {@code validate}
 * @param bytes the packet bytes, for computing the expected verdict in the test
 */
record FuzzedPacket(MemorySegment segment, int offset, int available, byte[] bytes) {

    /** Takes the shape, offset and available from {@code data} and the remaining bytes as the packet. */
    static FuzzedPacket from(FuzzedDataProvider data, Arena arena) {
        int shape = data.consumeInt(0, 2);
        int offset = data.consumeInt(0, 8);
        int available = shape == 0 ? 0 : data.consumeInt();
        byte[] bytes = data.consumeRemainingAsBytes();
        int end = offset + bytes.length;
        switch (shape) {
            case 0 -> available = bytes.length;
            case 2 -> {
                available = Math.floorMod(available, bytes.length + 1);
                end = offset + available;
            }
            default -> { }
        }
        MemorySegment segment = arena.allocate(end);
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, offset, end - offset);
        return new FuzzedPacket(segment, offset, available, bytes);
    }

    /** What validate may read: {@code available} clamped to 0 and to the bytes there are (the package-info rule). */
    long limit() {
        return Math.min(Math.max(available, 0), segment.byteSize() - offset);
    }

    /** The unsigned byte at {@code i} of the packet. */
    int u8(int i) {
        return bytes[i] & 0xff;
    }

    /** The big-endian unsigned 16 bits at {@code i} of the packet. */
    int u16(int i) {
        return u8(i) << 8 | u8(i + 1);
    }
}
