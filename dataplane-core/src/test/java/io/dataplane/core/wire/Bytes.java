package io.dataplane.core.wire;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Golden-byte plumbing for the wire tests: literals written as ints, segments on and off heap. */
final class Bytes {
    private Bytes() {}

    /** The bytes of {@code values} (each 0-255), so golden packets can be written as hex with comments. */
    static byte[] of(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            if (values[i] < 0 || values[i] > 255) throw new IllegalArgumentException("not a byte: " + values[i] + " at " + i);
            b[i] = (byte) values[i];
        }
        return b;
    }

    /** Concatenation of byte arrays. */
    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /** An off-heap copy of {@code bytes} at {@code offset} of a segment of {@code offset + bytes.length + slack} bytes. */
    static MemorySegment offHeap(Arena arena, byte[] bytes, int offset, int slack) {
        MemorySegment s = arena.allocate(offset + bytes.length + slack);
        MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, offset, bytes.length);
        return s;
    }

    /** {@code length} bytes at {@code offset} of {@code segment}. */
    static byte[] read(MemorySegment segment, long offset, int length) {
        return segment.asSlice(offset, length).toArray(ValueLayout.JAVA_BYTE);
    }
}
