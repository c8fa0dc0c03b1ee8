package io.dataplane.node.cli;

import io.dataplane.core.stats.DropReason;
import io.dataplane.node.NodeStats;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The node's stats line: packets per second and bits per second each way between two snapshots,
 * and the drops so far by reason, only those that happened:
 *
 * <pre>
 * egress 81234 pkt/s 951.2 Mbit/s, ingress 40617 pkt/s 21.4 Mbit/s, drops: no_route 3, unknown_peer 12
 * </pre>
 *
 * Rates are of the inner packets, as the pods see them (egress: TUN to network).
 */
final class StatsLine {
    private StatsLine() {}

    /** The line for the interval from {@code before} to {@code now}. */
    static String of(NodeStats before, NodeStats now) {
        double seconds = Math.max(1e-9, (now.nanoTime() - before.nanoTime()) / 1e9);
        return "egress " + rate(now.egressPackets() - before.egressPackets(), now.egressBytes() - before.egressBytes(), seconds)
                + ", ingress " + rate(now.ingressPackets() - before.ingressPackets(), now.ingressBytes() - before.ingressBytes(), seconds)
                + ", " + drops(now);
    }

    /** Packets and bits per second. */
    static String rate(long packets, long bytes, double seconds) {
        double pps = packets / seconds;
        String p = pps >= 10 || pps == 0 ? String.valueOf(Math.round(pps)) : String.format(Locale.ROOT, "%.1f", pps);
        return p + " pkt/s " + bits(bytes * 8.0 / seconds);
    }

    /** {@code drops: reason n, ...} for the reasons with drops, or {@code no drops}. */
    static String drops(NodeStats stats) {
        Map<DropReason, Long> drops = stats.drops();
        if (drops.isEmpty()) return "no drops";
        StringJoiner j = new StringJoiner(", ", "drops: ", "");
        drops.forEach((reason, n) -> j.add(reasonName(reason) + " " + n));
        return j.toString();
    }

    /** A drop reason as the stats line and the metrics name it: {@code vxlan_unknown_vni}. */
    static String reasonName(DropReason reason) {
        return reason.name().toLowerCase(Locale.ROOT);
    }

    /** Bits per second with a unit that keeps three or four digits: {@code 951.2 Mbit/s}, {@code 1.52 Gbit/s}. */
    static String bits(double bitsPerSecond) {
        if (bitsPerSecond >= 1e9) return String.format(Locale.ROOT, "%.2f Gbit/s", bitsPerSecond / 1e9);
        if (bitsPerSecond >= 1e6) return String.format(Locale.ROOT, "%.1f Mbit/s", bitsPerSecond / 1e6);
        if (bitsPerSecond >= 1e3) return String.format(Locale.ROOT, "%.1f kbit/s", bitsPerSecond / 1e3);
        return String.format(Locale.ROOT, "%.0f bit/s", bitsPerSecond);
    }
}
