package io.dataplane.core.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * Peer entries with lanes, one per packet path: each path counts on its own lane entry, the entry
 * reads the sum, and no count is lost when the paths count at the same time; the endpoint and the
 * subnet are the entry's on every lane, for entries added before and after the lane.
 */
class PeerEntryLanesTest {
    private static final Ipv4Prefix SUBNET = Ipv4Prefix.parse("10.244.2.0/24");

    @Test
    void lanesCountApartAndTheEntryReadsTheSum() throws Exception {
        PeerEntries entries = new PeerEntries();
        PeerEntry before = entries.add(SUBNET, Ipv4Address.parse("192.0.2.2"));
        List<PeerEntries> lanes = List.of(entries, entries.addLane(), entries.addLane());
        PeerEntry after = entries.add(Ipv4Prefix.parse("10.244.3.0/24"), Ipv4Address.parse("192.0.2.3"));
        for (PeerEntry main : List.of(before, after)) {
            for (int l = 0; l < lanes.size(); l++) {
                PeerEntry lane = lanes.get(l).get(main.id());
                if (l == 0) assertSame(main, lane); else assertNotSame(main, lane);
                assertEquals(main.id(), lane.id());
                assertEquals(main.subnet(), lane.subnet());
                assertEquals(main.endpoint(), lane.endpoint());
            }
        }
        before.setEndpoint(Ipv4Address.parse("192.0.2.9"));
        assertEquals(Ipv4Address.parse("192.0.2.9"), lanes.get(2).get(before.id()).endpoint(), "a move is seen on every lane");

        int perLane = 200_000;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int l = 0; l < lanes.size(); l++) {
            PeerEntry lane = lanes.get(l).get(before.id());
            long stamp = 1000 + l;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perLane; i++) {
                    lane.countSent(1, 100, stamp);
                    lane.countReceived(2, 10, stamp);
                }
                lane.dropSent(3);
                lane.dropReceived(4, stamp);
            }));
        }
        go.countDown();
        for (Thread t : threads) t.join();
        int n = lanes.size();
        assertEquals((long) n * perLane, before.sentPackets());
        assertEquals((long) n * perLane * 100, before.sentBytes());
        assertEquals((long) n * perLane * 2, before.receivedPackets());
        assertEquals((long) n * perLane * 10, before.receivedBytes());
        assertEquals(3L * n, before.sentDrops());
        assertEquals(4L * n, before.receivedDrops());
        assertEquals(1000 + n - 1, before.lastSentMillis(), "the latest of the lanes");
        assertEquals(before.sentPackets(), lanes.get(1).get(before.id()).sentPackets(), "a lane entry reads the sum too");
        assertEquals(0, after.sentPackets());
    }

    @Test
    void aRemovedEntryLeavesEveryLane() {
        PeerEntries entries = new PeerEntries();
        PeerEntries lane = entries.addLane();
        PeerEntry e = entries.add(SUBNET, 1);
        assertTrue(lane.get(e.id()) != null);
        assertTrue(entries.remove(e));
        assertEquals(null, lane.get(e.id()));
        assertEquals(1, lane.lane());
    }
}
