package io.dataplane.core.table;

import io.dataplane.core.wire.Ipv4Prefix;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * IPv4 longest-prefix match: prefix -&gt; an int value whose meaning the user defines (the next-hop
 * gateway of a route, a WireGuard peer index for allowed-IPs).
 *
 * <h2>Structure</h2>
 * A 16-bit direct-indexed top level of references, each to the compressed multibit trie of one /16
 * (strides 6-6-4, see {@code Subtree}):
 * <pre>
 *   address bits  31 ........... 16 | 15 ... 10 | 9 ... 4 | 3 .. 0
 *                 subtrees[a &gt;&gt;&gt; 16] |  level 1  | level 2 | level 3    one long[] per /16:
 *                                   |  poptrie nodes, leaves, and the     prefixes longer than /16
 *                                   |  /16's fallback from prefixes 0-16  and the fallback
 * </pre>
 * A lookup reads {@code subtrees[a >>> 16]} (null: no route) and walks at most three nodes of that
 * one array: two cache misses at most for the common case of a small /16, no allocation, no lock,
 * no retry loop.
 *
 * <h2>Why this shape</h2>
 * <ul>
 *   <li>A plain 16-8-8 or DIR-24-8 table expands every prefix into fixed 256-entry chunks: with
 *       random prefixes nearly every /16 and /24 that holds a longer prefix costs a whole chunk,
 *       hundreds of bytes to kilobytes per prefix (DIR-24-8 also starts at 64 MB). Poptrie-style
 *       bitmaps with popcount store one leaf per run of equal values instead; a /16 with a handful
 *       of prefixes takes a few dozen longs. Measured numbers are in benchmarks/README.md
 *       ({@code LpmBenchmark}).</li>
 *   <li>Readers never block and never see a half-made change. Every change builds new per-/16 arrays
 *       and publishes each with one release store; a reader holding an old array keeps a consistent
 *       old answer, and the garbage collector frees the array once nobody can reach it, which is the
 *       grace period an RCU scheme in C needs epochs for. A prefix longer than /16 rebuilds its own
 *       /16 only, and a prefix longer than /22 only the part under its /22, copying the rest of the
 *       /16's array around it (O(size of the /16's array), see {@code Subtree.update}). A prefix of /16 or shorter only changes the fallback of the
 *       /16s under it: each gets a copy with the new fallback (or a shared five-long constant when it
 *       holds nothing longer), so a /8 copies at most 256 small arrays and the default route at most
 *       65536, none where a longer prefix of 0-16 bits covers the /16, and nothing is rebuilt.</li>
 *   <li>The per-/16 arrays are flat {@code long[]}s indexed by offsets, not node objects; the top
 *       level is one flat array.</li>
 * </ul>
 *
 * <h2>Concurrency</h2>
 * Any number of threads may call {@link #lookup} at any time. Writers ({@link #add}, {@link #remove})
 * are serialized on a private lock, so several control-plane threads may write, one at a time; a
 * lookup racing a change sees either the state before or after that change for its address. {@link
 * #get} and {@link #snapshot()} take the writers' lock.
 */
public final class RouteTable {
    /** What {@link #lookup} returns when no prefix covers the address. */
    public static final long NO_ROUTE = -1;
    private static final int TOP_SLOTS = 1 << 16;
    private static final long[] EMPTY = new long[0];
    private static final VarHandle SUBTREE = MethodHandles.arrayElementVarHandle(long[][].class);

    // Read by lookups: one subtree per /16, null where no prefix covers anything.
    private final long[][] subtrees = new long[TOP_SLOTS][];
    // Writer only: the sorted packed prefixes longer than /16 of each /16 that has any (a map, not a
    // second top-level array: a node's routes sit in one or a few /16s, and 65536 slots cost 256 KB
    // of heap), and those of 0-16.
    private final Map<Integer, long[]> longPrefixes = new HashMap<>();
    private final ShortPrefixes shortPrefixes = new ShortPrefixes();
    private final Object writeLock = new Object();
    private volatile int size;

    /** An empty table: every lookup answers {@link #NO_ROUTE}. */
    public RouteTable() {}

    /**
     * The value of the longest prefix that covers {@code address}, as 0..2^32-1 in a long, or {@link
     * #NO_ROUTE}. Lock-free and allocation-free; safe while another thread adds and removes prefixes.
     */
    public long lookup(int address) {
        long[] t = (long[]) SUBTREE.getAcquire(subtrees, address >>> 16);
        return t == null ? NO_ROUTE : Subtree.lookup(t, address);
    }

    /**
     * Looks up {@code addresses[0..count)} into {@code values[0..count)} (each as {@link #lookup}
     * would answer). Batching lets the processor overlap the cache misses of independent lookups.
     */
    public void lookup(int[] addresses, long[] values, int count) {
        for (int i = 0; i < count; i++) values[i] = lookup(addresses[i]);
    }

    /** Adds {@code prefix} with {@code value}, or replaces the value if the prefix is already there. */
    public void add(Ipv4Prefix prefix, int value) {
        int address = prefix.address();
        int length = prefix.length();
        synchronized (writeLock) {
            if (length <= ShortPrefixes.MAX_LENGTH) {
                if (shortPrefixes.put(address, length, value)) size++;
                refreshFallbacks(address, length);
                return;
            }
            int hi = address >>> 16;
            long[] list = longPrefixes.get(hi);
            if (list == null) list = EMPTY;
            long packed = Subtree.pack(address, length, value);
            int at = find(list, Subtree.key(address, length));
            long[] updated;
            if (at >= 0) {
                if (list[at] == packed) return;
                updated = list.clone();
                updated[at] = packed;
            } else {
                int insert = -at - 1;
                updated = new long[list.length + 1];
                System.arraycopy(list, 0, updated, 0, insert);
                updated[insert] = packed;
                System.arraycopy(list, insert, updated, insert + 1, list.length - insert);
                size++;
            }
            publish(hi, updated, address, length);
        }
    }

    /**
     * Removes {@code prefix}; addresses it covered fall back to the next shorter prefix that covers
     * them. Returns false if the prefix was not in the table.
     */
    public boolean remove(Ipv4Prefix prefix) {
        int address = prefix.address();
        int length = prefix.length();
        synchronized (writeLock) {
            if (length <= ShortPrefixes.MAX_LENGTH) {
                if (!shortPrefixes.remove(address, length)) return false;
                size--;
                refreshFallbacks(address, length);
                return true;
            }
            int hi = address >>> 16;
            long[] list = longPrefixes.get(hi);
            if (list == null) return false;
            int at = find(list, Subtree.key(address, length));
            if (at < 0) return false;
            long[] updated = new long[list.length - 1];
            System.arraycopy(list, 0, updated, 0, at);
            System.arraycopy(list, at + 1, updated, at, list.length - at - 1);
            size--;
            publish(hi, updated, address, length);
            return true;
        }
    }

    /** The value stored for exactly {@code prefix} (no longest match), or {@link #NO_ROUTE}. */
    public long get(Ipv4Prefix prefix) {
        int address = prefix.address();
        int length = prefix.length();
        synchronized (writeLock) {
            if (length <= ShortPrefixes.MAX_LENGTH) return shortPrefixes.get(address, length);
            long[] list = longPrefixes.get(address >>> 16);
            if (list == null) return NO_ROUTE;
            int at = find(list, Subtree.key(address, length));
            return at < 0 ? NO_ROUTE : Integer.toUnsignedLong(Subtree.valueOf(list[at]));
        }
    }

    /** Number of prefixes in the table. */
    public int size() {
        return size;
    }

    /**
     * Every prefix and its value, ordered by address then length (a copy, for the control plane and
     * tests; takes the writers' lock).
     */
    public Map<Ipv4Prefix, Integer> snapshot() {
        List<Map.Entry<Ipv4Prefix, Integer>> entries = new ArrayList<>();
        synchronized (writeLock) {
            shortPrefixes.forEach((p, v) -> entries.add(Map.entry(p, v)));
            for (Map.Entry<Integer, long[]> e : longPrefixes.entrySet()) {
                int hi = e.getKey();
                for (long q : e.getValue()) {
                    entries.add(Map.entry(new Ipv4Prefix(hi << 16 | Subtree.low16(q), Subtree.lengthOf(q)), Subtree.valueOf(q)));
                }
            }
        }
        entries.sort(Comparator.comparing((Map.Entry<Ipv4Prefix, Integer> e) -> Integer.toUnsignedLong(e.getKey().address()))
                .thenComparingInt(e -> e.getKey().length()));
        Map<Ipv4Prefix, Integer> map = new LinkedHashMap<>();
        for (Map.Entry<Ipv4Prefix, Integer> e : entries) map.put(e.getKey(), e.getValue());
        return Collections.unmodifiableMap(map);
    }

    /**
     * Approximate heap bytes of the table: the top-level array, every subtree (shared ones once),
     * and the writer's own records of the prefixes (object headers counted as 16 bytes, references
     * as 4, a map entry with its boxed key as 48).
     */
    public long memoryBytes() {
        synchronized (writeLock) {
            long bytes = 16 + 4L * TOP_SLOTS + shortPrefixes.bytes();
            for (long[] list : longPrefixes.values()) bytes += 48 + 16 + 8L * list.length;
            long[] previous = null;
            for (int hi = 0; hi < TOP_SLOTS; hi++) {
                long[] t = subtrees[hi];
                // Constant subtrees are only ever shared between neighbouring /16s.
                if (t != null && t != previous) bytes += Subtree.bytes(t);
                previous = t;
            }
            return bytes;
        }
    }

    /**
     * Publishes the subtree of /16 {@code hi} for its new prefix list, after a change to the prefix
     * {@code address/length} (which lets {@code Subtree.update} rebuild only the part it touched).
     */
    private void publish(int hi, long[] list, int address, int length) {
        long fallback = shortPrefixes.best(hi);
        long[] t;
        if (list.length == 0) {
            longPrefixes.remove(hi);
            t = constant(hi, fallback);
        } else {
            long[] old = longPrefixes.put(hi, list) == null ? null : subtrees[hi];
            t = Subtree.update(old, list, address & 0xffff, length, fallback);
        }
        // The release store makes the fully built array visible before its reference.
        SUBTREE.setRelease(subtrees, hi, t);
    }

    /**
     * Gives the /16s under the changed prefix {@code address/length} (0-16 bits) the fallback they
     * have now. A part of it that a longer stored prefix of 0-16 bits covers keeps that prefix as its
     * fallback whatever the change, and is skipped whole: replacing the default route under two /1s
     * looks at three prefixes, not at 65536 /16s.
     */
    private void refreshFallbacks(int address, int length) {
        refreshFallbacks(address >>> 16, length, length);
    }

    /** {@link #refreshFallbacks(int, int)} for the part {@code top16/length} (top16 its first /16) of a change to a {@code changed}-bit prefix. */
    private void refreshFallbacks(int top16, int length, int changed) {
        if (length > changed && shortPrefixes.covers(top16, length)) return;
        if (length < ShortPrefixes.MAX_LENGTH) {
            refreshFallbacks(top16, length + 1, changed);
            refreshFallbacks(top16 + (1 << (ShortPrefixes.MAX_LENGTH - length - 1)), length + 1, changed);
            return;
        }
        long fallback = shortPrefixes.best(top16);
        long[] t = subtrees[top16];
        if ((t == null ? NO_ROUTE : Subtree.fallback(t)) == fallback) return;
        long[] updated = !longPrefixes.containsKey(top16) ? constant(top16, fallback) : Subtree.withFallback(t, fallback);
        SUBTREE.setRelease(subtrees, top16, updated);
    }

    /**
     * The subtree of a /16 that holds no prefix longer than /16: null for no route, else a constant
     * subtree, the neighbour's when it is one with the same value (runs of /16s under one short
     * prefix then share a single array).
     */
    private long[] constant(int hi, long fallback) {
        if (fallback == NO_ROUTE) return null;
        for (int neighbour : new int[] {hi - 1, hi + 1}) {
            if (neighbour < 0 || neighbour >= TOP_SLOTS) continue;
            long[] t = subtrees[neighbour];
            if (t != null && !longPrefixes.containsKey(neighbour) && Subtree.fallback(t) == fallback) return t;
        }
        return Subtree.build(EMPTY, fallback);
    }

    /** Index of {@code key} in a sorted packed list, or -(insertion point) - 1. */
    private static int find(long[] list, int key) {
        int at = Subtree.lowerBound(list, key);
        return at < list.length && Subtree.keyOf(list[at]) == key ? at : -at - 1;
    }
}
