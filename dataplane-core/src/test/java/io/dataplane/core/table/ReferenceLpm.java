package io.dataplane.core.table;

import io.dataplane.core.wire.Ipv4Prefix;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The slow, obviously correct longest-prefix match the route table is checked against: a map of
 * prefixes, and a lookup that tries every length from 32 down to 0. {@link #scan} is the even more
 * obvious linear scan over all prefixes, used to check this reference itself.
 */
final class ReferenceLpm {
    private final Map<Ipv4Prefix, Integer> prefixes = new HashMap<>();

    void add(Ipv4Prefix prefix, int value) {
        prefixes.put(prefix, value);
    }

    boolean remove(Ipv4Prefix prefix) {
        return prefixes.remove(prefix) != null;
    }

    boolean contains(Ipv4Prefix prefix) {
        return prefixes.containsKey(prefix);
    }

    int size() {
        return prefixes.size();
    }

    Map<Ipv4Prefix, Integer> prefixes() {
        return prefixes;
    }

    /** The value of the longest prefix containing {@code address} as an unsigned int, or -1. */
    long lookup(int address) {
        for (int length = 32; length >= 0; length--) {
            Integer v = prefixes.get(Ipv4Prefix.containing(address, length));
            if (v != null) return Integer.toUnsignedLong(v);
        }
        return -1;
    }

    /** The length of the longest prefix containing {@code address}, or -1. */
    int matchLength(int address) {
        for (int length = 32; length >= 0; length--) {
            if (prefixes.containsKey(Ipv4Prefix.containing(address, length))) return length;
        }
        return -1;
    }

    /**
     * The same answers as {@link #lookup} for each of {@code addresses}, by scanning every prefix
     * (once, trying each address against it).
     */
    long[] scan(int... addresses) {
        int[] bestLength = new int[addresses.length];
        long[] best = new long[addresses.length];
        Arrays.fill(bestLength, -1);
        Arrays.fill(best, -1);
        for (Map.Entry<Ipv4Prefix, Integer> e : prefixes.entrySet()) {
            Ipv4Prefix p = e.getKey();
            for (int i = 0; i < addresses.length; i++) {
                if (p.contains(addresses[i]) && p.length() > bestLength[i]) {
                    bestLength[i] = p.length();
                    best[i] = Integer.toUnsignedLong(e.getValue());
                }
            }
        }
        return best;
    }
}
