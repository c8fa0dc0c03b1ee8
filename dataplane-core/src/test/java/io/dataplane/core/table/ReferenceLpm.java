package io.dataplane.core.table;

import io.dataplane.core.wire.Ipv4Prefix;
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

    /** The same answer as {@link #lookup}, by scanning every prefix. */
    long scan(int address) {
        int bestLength = -1;
        long best = -1;
        for (Map.Entry<Ipv4Prefix, Integer> e : prefixes.entrySet()) {
            Ipv4Prefix p = e.getKey();
            if (p.contains(address) && p.length() > bestLength) {
                bestLength = p.length();
                best = Integer.toUnsignedLong(e.getValue());
            }
        }
        return best;
    }
}
