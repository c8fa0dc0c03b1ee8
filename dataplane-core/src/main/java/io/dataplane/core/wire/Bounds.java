package io.dataplane.core.wire;

import java.lang.foreign.MemorySegment;

/** The one bounds rule every {@code validate} shares, so none of them can read past its segment. */
final class Bounds {
    private Bounds() {}

    /**
     * How many bytes a view at {@code offset} may read: {@code available}, clamped to 0 when
     * negative and to what the segment holds from {@code offset}; 0 if the offset is outside it.
     */
    static long limit(MemorySegment segment, long offset, int available) {
        long size = segment.byteSize();
        if (offset < 0 || offset > size || available <= 0) return 0;
        return Math.min(available, size - offset);
    }
}
