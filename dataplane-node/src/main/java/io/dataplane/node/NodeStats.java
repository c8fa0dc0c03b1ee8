package io.dataplane.node;

import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import java.util.EnumMap;
import java.util.Map;

/**
 * The counters of a node at one moment: packets and bytes each way (inner packets, as the pods
 * see them), drops by reason, and the packet buffers in use. Two snapshots and their
 * {@link #nanoTime()} give rates.
 *
 * @param nanoTime {@link System#nanoTime()} when the snapshot was taken
 * @param counters every stage's counters summed: egress = TUN to network, ingress = network to TUN
 * @param buffersInUse packet buffers out of the pool (in rings, in flight, armed for receive)
 * @param buffers packet buffers the node allocated
 */
public record NodeStats(long nanoTime, Counters.Snapshot counters, int buffersInUse, int buffers) {

    /** Packets read from the TUN and sent to a peer. */
    public long egressPackets() {
        return counters.egressPackets();
    }

    /** Inner bytes read from the TUN and sent to a peer. */
    public long egressBytes() {
        return counters.egressBytes();
    }

    /** Packets received from a peer and written to the TUN. */
    public long ingressPackets() {
        return counters.ingressPackets();
    }

    /** Inner bytes received from a peer and written to the TUN. */
    public long ingressBytes() {
        return counters.ingressBytes();
    }

    /** Packets dropped for {@code reason}. */
    public long dropped(DropReason reason) {
        return counters.dropped(reason);
    }

    /** Packets dropped for any reason. */
    public long droppedTotal() {
        return counters.droppedTotal();
    }

    /** The reasons with at least one drop, and their counts, in {@link DropReason} order. */
    public Map<DropReason, Long> drops() {
        Map<DropReason, Long> m = new EnumMap<>(DropReason.class);
        for (DropReason r : DropReason.values()) {
            long n = counters.dropped(r);
            if (n != 0) m.put(r, n);
        }
        return m;
    }

    /** One line: packets and bytes each way, the drops by reason, buffers in use. */
    @Override
    public String toString() {
        return "egress " + egressPackets() + " pkts " + egressBytes() + " B, ingress " + ingressPackets() + " pkts " + ingressBytes()
                + " B, drops " + drops() + ", buffers " + buffersInUse + "/" + buffers;
    }
}
