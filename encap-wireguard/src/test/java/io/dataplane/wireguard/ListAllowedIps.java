package io.dataplane.wireguard;

import io.dataplane.core.wire.Ipv4Prefix;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The obviously correct reference LPM for tests: scan every prefix, keep the longest match. The
 * device is meant to run on the core's RouteTable; this stands in for it in unit tests.
 */
final class ListAllowedIps implements AllowedIps {
    private final Map<Ipv4Prefix, Integer> prefixes = new ConcurrentHashMap<>();

    @Override
    public int lookup(int address) {
        int best = NONE;
        int bestLen = -1;
        for (Map.Entry<Ipv4Prefix, Integer> e : prefixes.entrySet()) {
            if (e.getKey().contains(address) && e.getKey().length() > bestLen) {
                bestLen = e.getKey().length();
                best = e.getValue();
            }
        }
        return best;
    }

    @Override
    public void add(Ipv4Prefix prefix, int peerId) {
        prefixes.put(prefix, peerId);
    }

    @Override
    public void remove(Ipv4Prefix prefix) {
        prefixes.remove(prefix);
    }
}
