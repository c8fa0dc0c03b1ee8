package io.dataplane.node.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.node.NodeStats;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stats line: rates between two snapshots, units, and only the drop reasons that happened. */
class StatsLineTest {

    static NodeStats stats(long nanoTime, Counters c) {
        return new NodeStats(nanoTime, Counters.Snapshot.of(List.of(c)), 3, 200);
    }

    @Test
    void ratesOverTheIntervalAndDropsSoFar() {
        Counters c = new Counters();
        NodeStats before = stats(1_000_000_000L, c);
        for (int i = 0; i < 20_000; i++) c.countEgress(1400);
        for (int i = 0; i < 1_000; i++) c.countIngress(52);
        c.drop(DropReason.NO_ROUTE, 3);
        c.drop(DropReason.VXLAN_UNKNOWN_VNI);
        NodeStats now = stats(3_000_000_000L, c); // two seconds later
        assertEquals("egress 10000 pkt/s 112.0 Mbit/s, ingress 500 pkt/s 208.0 kbit/s, drops: no_route 3, vxlan_unknown_vni 1",
                StatsLine.of(before, now));
    }

    @Test
    void idleAndSlowIntervals() {
        Counters c = new Counters();
        NodeStats before = stats(0, c);
        assertEquals("egress 0 pkt/s 0 bit/s, ingress 0 pkt/s 0 bit/s, no drops", StatsLine.of(before, stats(5_000_000_000L, c)));
        c.countEgress(84);
        c.countEgress(84);
        c.countEgress(84);
        assertEquals("egress 0.6 pkt/s 403 bit/s, ingress 0 pkt/s 0 bit/s, no drops", StatsLine.of(before, stats(5_000_000_000L, c)));
    }

    @Test
    void bitsKeepThreeOrFourDigits() {
        assertEquals("999 bit/s", StatsLine.bits(999));
        assertEquals("1.0 kbit/s", StatsLine.bits(1000));
        assertEquals("999.9 Mbit/s", StatsLine.bits(999.94e6));
        assertEquals("1.52 Gbit/s", StatsLine.bits(1.52e9));
        assertEquals("17.10 Gbit/s", StatsLine.bits(17.1e9));
    }
}
