package io.dataplane.core.table;

/**
 * The compressed multibit trie that resolves the low 16 bits of an address under one /16 of a
 * {@link RouteTable}: three levels of 6, 6 and 4 bits, each node a poptrie-style pair of bitmaps
 * over a flat {@code long[]}.
 *
 * <p>The trie holds only the prefixes longer than /16 inside its /16. Where none of them covers an
 * address its leaf is {@link #INHERIT} and the answer is the subtree's {@code fallback}: the value
 * of the longest prefix of 0-16 bits over the whole /16, kept in the array's fourth long, next to
 * the root node. A change to a short prefix then only has to copy the subtrees under it with a new
 * fallback, never rebuild them; a /16 that has no longer prefixes at all is a five-long constant
 * array, shared by neighbouring /16s with the same value.
 *
 * <p>Layout of the array: a node is three longs at index {@code n}:
 * <pre>
 *   t[n]     vector   bit i set: slot i has a child node
 *   t[n + 1] leafvec  bit i set: a run of equal leaves starts at slot i (child slots are skipped)
 *   t[n + 2] childOffset &lt;&lt; 32 | leafOffset    (relative to n)
 * </pre>
 * The root node is at index 0, the fallback at 3, everything else follows. The children of a node
 * are consecutive nodes from {@code n + childOffset}, in slot order; its leaves are consecutive longs
 * from {@code n + leafOffset}, one per run. Slot {@code i}'s child is at {@code n + childOffset + 3 *
 * popcount(vector below i)}, its leaf at {@code n + leafOffset + popcount(leafvec up to i) - 1}. Runs
 * of equal leaves collapse into one long, which is what keeps a sparse /16 (the common case for
 * random prefixes) down to a few dozen bytes.
 *
 * <p>The array is laid out depth first: root, the level-1 nodes, the root's leaves, then one region
 * per level-1 node with everything below it. Offsets are relative, so a region does not care where
 * it sits: {@link #update} rebuilds only the region of the /22 a prefix longer than /22 falls in and
 * splices it in, which keeps a change to a /16 crowded with /32s (a WireGuard peer list) at a copy
 * of the array instead of a rebuild of all its prefixes. A full build gives exactly the same array.
 *
 * <p>A subtree is immutable once built: the route table swaps in a new array for every change, so a
 * reader that still holds the old one sees a consistent old answer, and the garbage collector
 * reclaims it only when no reader can reach it any more.
 */
final class Subtree {
    /** Leaf value meaning "no prefix in this subtree covers the address": use the /16's value. */
    static final long INHERIT = -1;
    static final int NODE_LONGS = 3;
    /** Index of the fallback value: the /16's answer where the trie has none. */
    static final int FALLBACK = 3;
    // Bit positions of the slot index at each level, the slot widths, and the prefix length a node
    // of each level starts at (its slots stand for 16 + 6, + 6, + 4 bits).
    static final int[] SHIFT = {10, 4, 0};
    static final int[] WIDTH = {6, 6, 4};
    static final int[] BASE_LEN = {16, 22, 28};

    private Subtree() {}

    /**
     * The value of the longest prefix that covers {@code address}, as an unsigned int in a long: from
     * the trie, else the fallback (which may be -1, no route). Allocation-free; {@code t} must come
     * from {@link #build}.
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
                n += (int) (t[n + 2] >>> 32) + NODE_LONGS * Long.bitCount(vector & ((1L << slot) - 1));
                slot = address & 15;
            }
        }
        // (2L << slot) - 1 keeps bits 0..slot; for slot 63 it wraps to all ones, as wanted.
        long value = t[n + (int) t[n + 2] + Long.bitCount(t[n + 1] & ((2L << slot) - 1)) - 1];
        return value != INHERIT ? value : t[FALLBACK];
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
     * than /16 and inside one /16, with {@code fallback} (an unsigned int in a long, or -1) for the
     * addresses none of them covers. An empty list gives the five-long constant subtree.
     */
    static long[] build(long[] prefixes, long fallback) {
        long[] t = new SubtreeBuilder().build(prefixes);
        t[FALLBACK] = fallback;
        return t;
    }

    /**
     * The subtree of {@code prefixes} (as for {@link #build}) after the prefix {@code low16/length}
     * was added, replaced or removed, given the subtree {@code old} from before the change. When the
     * prefix is longer than /22 and its /22 had and keeps a level-1 node, only that node's region is
     * rebuilt and spliced into a copy of {@code old}; otherwise the whole subtree is built.
     */
    static long[] update(long[] old, long[] prefixes, int low16, int length, long fallback) {
        int split = BASE_LEN[1];
        int slot = low16 >>> SHIFT[0];
        if (old == null || length <= split || (old[0] & (1L << slot)) == 0) return build(prefixes, fallback);
        int from = lowerBound(prefixes, key(slot << SHIFT[0], split + 1));
        int to = slot == 63 ? prefixes.length : lowerBound(prefixes, key((slot + 1) << SHIFT[0], 0));
        if (from == to) return build(prefixes, fallback); // the /22 loses its node: the root changes
        long[] piece = new SubtreeBuilder().buildLevel1(prefixes, from, to, inherited(prefixes, slot << SHIFT[0]));
        int children = Long.bitCount(old[0]);
        int k = Long.bitCount(old[0] & ((1L << slot) - 1));
        int firstChild = (int) (old[2] >>> 32);
        int node = firstChild + NODE_LONGS * k;
        int start = node + childOffset(old, node);
        int end = k + 1 < children ? node + NODE_LONGS + childOffset(old, node + NODE_LONGS) : old.length;
        int regionLength = piece.length - NODE_LONGS;
        int delta = regionLength - (end - start);
        long[] t = new long[old.length + delta];
        System.arraycopy(old, 0, t, 0, start);
        System.arraycopy(piece, NODE_LONGS, t, start, regionLength);
        System.arraycopy(old, end, t, start + regionLength, old.length - end);
        // The new node's offsets count from 0 with its region at NODE_LONGS; its region is at start now.
        t[node] = piece[0];
        t[node + 1] = piece[1];
        int shift = start - NODE_LONGS - node;
        t[node + 2] = offsets(childOffset(piece, 0) + shift, leafOffset(piece, 0) + shift);
        // The regions after it moved by delta; their level-1 nodes did not.
        for (int j = k + 1; j < children; j++) {
            int n = firstChild + NODE_LONGS * j;
            t[n + 2] = offsets(childOffset(t, n) + delta, leafOffset(t, n) + delta);
        }
        return t;
    }

    /** The value of the longest prefix of 17-22 bits covering the /22 at {@code low16}, or {@link #INHERIT}. */
    private static long inherited(long[] prefixes, int low16) {
        for (int length = BASE_LEN[1]; length > BASE_LEN[0]; length--) {
            int aligned = low16 & (0xffff << (BASE_LEN[1] - length + SHIFT[0])) & 0xffff;
            int at = lowerBound(prefixes, key(aligned, length));
            if (at < prefixes.length && keyOf(prefixes[at]) == key(aligned, length)) return Integer.toUnsignedLong(valueOf(prefixes[at]));
        }
        return INHERIT;
    }

    /** The first index of the sorted packed list whose key is at least {@code key}. */
    static int lowerBound(long[] prefixes, int key) {
        int lo = 0;
        int hi = prefixes.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (keyOf(prefixes[mid]) < key) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    static long offsets(int childOffset, int leafOffset) {
        return (long) childOffset << 32 | leafOffset;
    }

    static int childOffset(long[] t, int node) {
        return (int) (t[node + 2] >>> 32);
    }

    static int leafOffset(long[] t, int node) {
        return (int) t[node + 2];
    }

    /** The fallback value of subtree {@code t}. */
    static long fallback(long[] t) {
        return t[FALLBACK];
    }

    /** A copy of {@code t} with another fallback value. */
    static long[] withFallback(long[] t, long fallback) {
        long[] copy = t.clone();
        copy[FALLBACK] = fallback;
        return copy;
    }

    /** Approximate heap size of a subtree array in bytes (array header plus elements). */
    static long bytes(long[] t) {
        return 16 + 8L * t.length;
    }
}
