package io.dataplane.node.cli;

import io.dataplane.core.config.Lease;
import io.dataplane.core.table.PeerEntry;
import io.dataplane.core.wire.Ipv4Prefix;
import io.dataplane.node.OverlayNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A peer's packets, bytes and drops each way and the time of its last packet each way, as the
 * packet path counts them on the peer's {@link PeerEntry} (vxlan, udp, ipip; subnets of one VTEP
 * share their VTEP's counts). Times are epoch milliseconds, 0 for none yet.
 *
 * @param subnet the peer's subnet
 * @param receivedPackets inner packets from the peer handed to the TUN
 * @param receivedBytes their bytes
 * @param receivedDrops datagrams from the peer's address dropped as bad
 * @param lastReceivedMillis when the last datagram from the peer came
 * @param sentPackets inner packets handed to the transport for the peer
 * @param sentBytes their bytes
 * @param sentDrops packets for the peer the transport did not take
 * @param lastSentMillis when the last packet for the peer went
 */
record PeerCounts(Ipv4Prefix subnet, long receivedPackets, long receivedBytes, long receivedDrops, long lastReceivedMillis,
        long sentPackets, long sentBytes, long sentDrops, long lastSentMillis) {

    /** The counts of {@code entry} now, for the peer with {@code subnet}. */
    static PeerCounts of(Ipv4Prefix subnet, PeerEntry entry) {
        return new PeerCounts(subnet, entry.receivedPackets(), entry.receivedBytes(), entry.receivedDrops(), entry.lastReceivedMillis(),
                entry.sentPackets(), entry.sentBytes(), entry.sentDrops(), entry.lastSentMillis());
    }

    /** The node's peers whose backend counts per peer, by subnet; empty for the others (wireguard, host-gw). */
    static List<PeerCounts> of(OverlayNode node) {
        List<PeerCounts> out = new ArrayList<>();
        for (Lease lease : node.peers()) {
            PeerEntry entry = node.backend().peerEntry(lease.subnet());
            if (entry != null) out.add(of(lease.subnet(), entry));
        }
        out.sort(Comparator.comparingLong((PeerCounts c) -> c.subnet().address() & 0xffffffffL).thenComparingInt(c -> c.subnet().length()));
        return out;
    }

    /** The sum of {@code counts}, the latest of their times; no subnet. */
    static PeerCounts sum(List<PeerCounts> counts) {
        long rp = 0, rb = 0, rd = 0, rl = 0, sp = 0, sb = 0, sd = 0, sl = 0;
        for (PeerCounts c : counts) {
            rp += c.receivedPackets;
            rb += c.receivedBytes;
            rd += c.receivedDrops;
            rl = Math.max(rl, c.lastReceivedMillis);
            sp += c.sentPackets;
            sb += c.sentBytes;
            sd += c.sentDrops;
            sl = Math.max(sl, c.lastSentMillis);
        }
        return new PeerCounts(null, rp, rb, rd, rl, sp, sb, sd, sl);
    }
}
