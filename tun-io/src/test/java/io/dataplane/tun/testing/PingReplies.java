package io.dataplane.tun.testing;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The requests of a ping run that must all be answered. Such a run has a deadline ({@code -w}):
 * with {@code -c} alone, once a reply came, ping waits only twice the slowest round trip so far (at
 * least the interval) after its last request and counts a later reply as lost, and a loaded machine
 * delays a reply that long. With {@code -w} ping waits for the replies until the deadline, and may
 * send more than {@code -c} requests while they lag: the first {@code -c} are those that count.
 */
public final class PingReplies {
    private PingReplies() {}

    /** The sequence numbers among {@code 1..count} that are not in {@code answered}, in order. */
    public static List<Integer> unanswered(List<Integer> answered, int count) {
        Set<Integer> got = new HashSet<>(answered);
        List<Integer> missing = new ArrayList<>();
        for (int seq = 1; seq <= count; seq++) {
            if (!got.contains(seq)) missing.add(seq);
        }
        return missing;
    }
}
