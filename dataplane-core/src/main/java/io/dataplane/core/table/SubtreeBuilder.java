package io.dataplane.core.table;

import static io.dataplane.core.table.Subtree.BASE_LEN;
import static io.dataplane.core.table.Subtree.INHERIT;
import static io.dataplane.core.table.Subtree.NODE_LONGS;
import static io.dataplane.core.table.Subtree.SHIFT;
import static io.dataplane.core.table.Subtree.WIDTH;
import static io.dataplane.core.table.Subtree.lengthOf;
import static io.dataplane.core.table.Subtree.low16;
import static io.dataplane.core.table.Subtree.valueOf;

import java.util.Arrays;

/**
 * Builds {@link Subtree} arrays from sorted packed prefix lists: writer-side scratch for one build,
 * the output array and one set of slot arrays per level. Not thread-safe; use one per build.
 */
final class SubtreeBuilder {
    private long[] out = new long[64];
    private int size;
    private final long[][] slotValue = {new long[64], new long[64], new long[64]};
    private final int[][] slotLength = {new int[64], new int[64], new int[64]};

    /** The whole subtree of {@code prefixes}, fallback left 0 for the caller to set. */
    long[] build(long[] prefixes) {
        int root = alloc(NODE_LONGS + 1); // the root node and the fallback
        node(root, prefixes, 0, prefixes.length, 0, INHERIT);
        return Arrays.copyOf(out, size);
    }

    /**
     * One level-1 node at index 0 and its region from index {@link Subtree#NODE_LONGS}, for the
     * prefixes {@code p[from..to)} (all in one /22 and longer than /22), with {@code inherited} where
     * none covers an address.
     */
    long[] buildLevel1(long[] p, int from, int to, long inherited) {
        int node = alloc(NODE_LONGS);
        node(node, p, from, to, 1, inherited);
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
        out[at + 2] = Subtree.offsets(childBase - at, leafBase - at);
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
