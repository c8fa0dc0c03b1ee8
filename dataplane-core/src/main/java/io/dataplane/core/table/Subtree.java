package io.dataplane.core.table;

import java.util.Arrays;

/**
 * The compressed multibit trie that resolves the low 16 bits of an address under one /16 of a
 * {@link RouteTable}: three levels of 6, 6 and 4 bits, each node a poptrie-style pair of bitmaps
 * over a flat {@code long[]}.
 *
 * <p>A subtree holds only the prefixes longer than /16 inside its /16. Where none of them covers an
 * address its leaf is {@link #INHERIT} and the caller falls back to the /16's own value; that keeps
 * the short prefixes out of the subtrees, so changing a /8 never rebuilds the 256 subtrees under it.
 *
 * <p>Layout of the array: a node is three longs at index {@code n}:
 * <pre>
 *   t[n]     vector   bit i set: slot i has a child node
 *   t[n + 1] leafvec  bit i set: a run of equal leaves starts at slot i (child slots are skipped)
 *   t[n + 2] childBase &lt;&lt; 32 | leafBase
 * </pre>
 * The children of a node are consecutive nodes from {@code childBase}, in slot order; its leaves are
 * consecutive longs from {@code leafBase}, one per run. Slot {@code i}'s child is at {@code childBase
 * + 3 * popcount(vector below i)}, its leaf at {@code leafBase + popcount(leafvec up to i) - 1}. The
 * root node is at index 0. Runs of equal leaves collapse into one long, which is what keeps a sparse
 * /16 (the common case for random prefixes) down to a few dozen bytes.
 *
 * <p>A subtree is immutable once built: the route table swaps in a new array for every change, so a
 * reader that still holds the old one sees a consistent old answer, and the garbage collector
 * reclaims it only when no reader can reach it any more.
 */
final class Subtree {
    /** Leaf value meaning "no prefix in this subtree covers the address": use the /16's value. */
    static final long INHERIT = -1;
    static final int NODE_LONGS = 3;
    // Bit positions of the slot index at each level, the slot widths, and the prefix length a slot
    // of each level stands for (16 + 6, + 6, + 4).
    private static final int[] SHIFT = {10, 4, 0};
    private static final int[] WIDTH = {6, 6, 4};
    private static final int[] BASE_LEN = {16, 22, 28};

    private Subtree() {}

    /**
     * The value of the longest prefix in subtree {@code t} that covers {@code address}, as an
     * unsigned int in a long, or {@link #INHERIT}. Allocation-free; {@code t} must come from {@link #build}.
     */
    static long lookup(long[] t, int address) {
        int n = 0;
        long vector = t[0];
        int slot = (address >>> 10) & 63;
        if ((vector & (1L << slot)) != 0) {
            n = (int) (t[2] >>> 32) + NODE_LONGS * Long.bitCount(vector & ((1L << slot) - 1));
            vector = t[n];
            slot = (address >>> 4) & 63;
            if ((vector & (1L << slot)) != 0) {
                n = (int) (t[n + 2] >>> 32) + NODE_LONGS * Long.bitCount(vector & ((1L << slot) - 1));
                slot = address & 15;
            }
        }
        // (2L << slot) - 1 keeps bits 0..slot; for slot 63 it wraps to all ones, as wanted.
        return t[(int) t[n + 2] + Long.bitCount(t[n + 1] & ((2L << slot) - 1)) - 1];
    }

    /**
     * Packs a prefix longer than /16 for a subtree's sorted prefix list: the low 16 address bits and
     * the length as the high int (so a plain {@code long} sort orders by address, then length), the
     * value as the low int.
     */
    static long pack(int address, int length, int value) {
        return (long) key(address, length) << 32 | Integer.toUnsignedLong(value);
    }

    /** The sort key of a prefix within its /16: low 16 address bits, then the length. */
    static int key(int address, int length) {
        return (address & 0xffff) << 8 | length;
    }

    /** The key of a packed prefix. */
    static int keyOf(long packed) {
        return (int) (packed >>> 32);
    }

    /** The low 16 address bits of a packed prefix. */
    static int low16(long packed) {
        return (int) (packed >>> 40) & 0xffff;
    }

    /** The length of a packed prefix (17-32). */
    static int lengthOf(long packed) {
        return (int) (packed >>> 32) & 0xff;
    }

    /** The value of a packed prefix. */
    static int valueOf(long packed) {
        return (int) packed;
    }

    /**
     * Builds the subtree of {@code prefixes}, packed by {@link #pack} and sorted ascending, all longer
     * than /16 and inside one /16. Returns null for an empty list (no subtree needed).
     */
    static long[] build(long[] prefixes) {
        if (prefixes.length == 0) return null;
        return new Builder().build(prefixes);
    }

    /** Approximate heap size of a subtree array in bytes (array header plus elements). */
    static long bytes(long[] t) {
        return t == null ? 0 : 16 + 8L * t.length;
    }

    /** Writer-side scratch for one build: the output array and one set of slot arrays per level. */
    private static final class Builder {
        private long[] out = new long[64];
        private int size;
        private final long[][] slotValue = {new long[64], new long[64], new long[64]};
        private final int[][] slotLength = {new int[64], new int[64], new int[64]};

        long[] build(long[] prefixes) {
            int root = alloc(NODE_LONGS);
            node(root, prefixes, 0, prefixes.length, 0, INHERIT);
            return Arrays.copyOf(out, size);
        }

        private int alloc(int longs) {
            if (size + longs > out.length) out = Arrays.copyOf(out, Math.max(out.length * 2, size + longs));
            int at = size;
            size += longs;
            return at;
        }

        /**
         * Fills node {@code at} of {@code level} from {@code p[from..to)}: every prefix there lies in
         * the node's range and is longer than the node's base length. Slots no prefix covers get
         * {@code inherited}, the value the parent's slot had.
         */
        private void node(int at, long[] p, int from, int to, int level, long inherited) {
            int shift = SHIFT[level];
            int width = WIDTH[level];
            int slots = 1 << width;
            int slotMask = slots - 1;
            int slotLen = BASE_LEN[level] + width;
            long[] value = slotValue[level];
            int[] length = slotLength[level];
            Arrays.fill(value, 0, slots, inherited);
            Arrays.fill(length, 0, slots, 0);
            long vector = 0;
            // Paint every prefix that ends at this level over the slots it covers; a longer prefix
            // wins over a shorter one whatever the order they come in.
            for (int i = from; i < to; i++) {
                long q = p[i];
                int len = lengthOf(q);
                int slot = (low16(q) >>> shift) & slotMask;
                if (len > slotLen) {
                    vector |= 1L << slot;
                    continue;
                }
                int end = slot + (1 << (slotLen - len));
                for (int s = slot; s < end; s++) {
                    if (len > length[s]) {
                        length[s] = len;
                        value[s] = Integer.toUnsignedLong(valueOf(q));
                    }
                }
            }
            // Leaves: one per run of equal values among the slots without a child.
            long leafvec = 0;
            int leaves = 0;
            boolean first = true;
            long previous = 0;
            for (int s = 0; s < slots; s++) {
                if ((vector & (1L << s)) != 0) continue;
                if (first || value[s] != previous) {
                    leafvec |= 1L << s;
                    leaves++;
                    previous = value[s];
                    first = false;
                }
            }
            int children = Long.bitCount(vector);
            int childBase = alloc(NODE_LONGS * children);
            int leafBase = alloc(leaves);
            out[at] = vector;
            out[at + 1] = leafvec;
            out[at + 2] = (long) childBase << 32 | leafBase;
            int leaf = leafBase;
            for (int s = 0; s < slots; s++) {
                if ((leafvec & (1L << s)) != 0) out[leaf++] = value[s];
            }
            // Children: each gets the contiguous run of prefixes in its slot that are longer than
            // this level (p is sorted by address, then length, so shorter ones starting at the same
            // address come first and are skipped).
            int i = from;
            int child = childBase;
            for (int s = 0; s < slots; s++) {
                if ((vector & (1L << s)) == 0) continue;
                while (i < to && (((low16(p[i]) >>> shift) & slotMask) < s || lengthOf(p[i]) <= slotLen)) i++;
                int start = i;
                while (i < to && ((low16(p[i]) >>> shift) & slotMask) == s) i++;
                node(child, p, start, i, level + 1, value[s]);
                child += NODE_LONGS;
            }
        }
    }
}
