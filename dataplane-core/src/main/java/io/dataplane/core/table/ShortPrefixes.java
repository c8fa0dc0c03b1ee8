package io.dataplane.core.table;

import io.dataplane.core.wire.Ipv4Prefix;
import java.util.function.BiConsumer;

/**
 * The writer's record of the prefixes of length 0-16 in a {@link RouteTable}: per length, a value
 * array and a presence bitmap indexed by the prefix's top bits, allocated the first time a prefix of
 * that length arrives (all of them together take about 530 KB).
 *
 * <p>Not thread-safe; only the route table's writer touches it. Readers never see it: they read the
 * per-/16 result the writer derives with {@link #best}.
 */
final class ShortPrefixes {
    static final int MAX_LENGTH = 16;
    private final int[][] values = new int[MAX_LENGTH + 1][];
    private final long[][] present = new long[MAX_LENGTH + 1][];
    private int count;

    /** The value of exactly {@code prefix} as an unsigned int in a long, or -1. */
    long get(int address, int length) {
        int[] v = values[length];
        if (v == null) return -1;
        int i = index(address, length);
        return isSet(present[length], i) ? Integer.toUnsignedLong(v[i]) : -1;
    }

    /** Sets the value of a prefix of length 0-16; true if it was not there before. */
    boolean put(int address, int length, int value) {
        if (values[length] == null) {
            values[length] = new int[1 << length];
            present[length] = new long[Math.max(1, (1 << length) >>> 6)];
        }
        int i = index(address, length);
        boolean added = !isSet(present[length], i);
        present[length][i >>> 6] |= 1L << i;
        values[length][i] = value;
        if (added) count++;
        return added;
    }

    /** Removes a prefix; true if it was there. */
    boolean remove(int address, int length) {
        if (values[length] == null) return false;
        int i = index(address, length);
        if (!isSet(present[length], i)) return false;
        present[length][i >>> 6] &= ~(1L << i);
        count--;
        return true;
    }

    /** True if a prefix of exactly {@code length} bits is stored over the /16 whose top bits are {@code top16}. */
    boolean covers(int top16, int length) {
        long[] bits = present[length];
        return bits != null && isSet(bits, top16 >>> (MAX_LENGTH - length));
    }

    /**
     * The value of the longest stored prefix that covers the /16 whose top bits are {@code top16},
     * as an unsigned int in a long, or -1 when none does.
     */
    long best(int top16) {
        for (int length = MAX_LENGTH; length >= 0; length--) {
            long[] bits = present[length];
            if (bits == null) continue;
            int i = top16 >>> (MAX_LENGTH - length);
            if (isSet(bits, i)) return Integer.toUnsignedLong(values[length][i]);
        }
        return -1;
    }

    /** Number of stored prefixes. */
    int count() {
        return count;
    }

    /** Calls {@code action} with every stored prefix and its value. */
    void forEach(BiConsumer<Ipv4Prefix, Integer> action) {
        for (int length = 0; length <= MAX_LENGTH; length++) {
            long[] bits = present[length];
            if (bits == null) continue;
            for (int w = 0; w < bits.length; w++) {
                for (long word = bits[w]; word != 0; word &= word - 1) {
                    int i = w << 6 | Long.numberOfTrailingZeros(word);
                    int address = length == 0 ? 0 : i << (32 - length);
                    action.accept(new Ipv4Prefix(address, length), values[length][i]);
                }
            }
        }
    }

    /** Approximate heap bytes of the arrays allocated so far. */
    long bytes() {
        long bytes = 2 * (16 + 4L * values.length);
        for (int length = 0; length <= MAX_LENGTH; length++) {
            if (values[length] != null) bytes += 16 + 4L * values[length].length + 16 + 8L * present[length].length;
        }
        return bytes;
    }

    private static int index(int address, int length) {
        return length == 0 ? 0 : address >>> (32 - length);
    }

    private static boolean isSet(long[] bits, int i) {
        return (bits[i >>> 6] & (1L << i)) != 0;
    }
}
