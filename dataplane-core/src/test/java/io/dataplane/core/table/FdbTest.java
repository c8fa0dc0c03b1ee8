package io.dataplane.core.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.MacAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FdbTest {
    private static final long SEED = Long.getLong("table.seed", System.nanoTime());
    private static final MacAddress PEER = MacAddress.parse("22:e8:35:88:1e:9a");

    @Test
    void addLookupReplaceRemove() {
        Fdb fdb = new Fdb();
        assertEquals(Fdb.MISSING, fdb.lookup(PEER.value()));
        fdb.add(PEER, Ipv4Address.parse("192.0.2.2"));
        assertEquals(0xc0000202L, fdb.lookup(PEER.value()));
        assertEquals(Fdb.MISSING, fdb.lookup(PEER.value() + 1));
        fdb.add(PEER, Ipv4Address.parse("192.0.2.3"));
        assertEquals(0xc0000203L, fdb.lookup(PEER.value()));
        assertEquals(1, fdb.size());
        assertEquals(Map.of(PEER, Ipv4Address.parse("192.0.2.3")), fdb.snapshot());
        assertTrue(fdb.remove(PEER));
        assertFalse(fdb.remove(PEER));
        assertEquals(Fdb.MISSING, fdb.lookup(PEER.value()));
        assertEquals(0, fdb.size());
    }

    @Test
    void hasEndpointFollowsEveryEntryThatPointsThere() {
        Fdb fdb = new Fdb();
        int node2 = Ipv4Address.parse("192.0.2.2");
        int node3 = Ipv4Address.parse("192.0.2.3");
        MacAddress other = MacAddress.parse("22:e8:35:88:1e:9b");
        assertFalse(fdb.hasEndpoint(node2));
        fdb.add(PEER, node2);
        fdb.add(other, node2);
        assertTrue(fdb.hasEndpoint(node2));
        assertTrue(fdb.remove(PEER));
        assertTrue(fdb.hasEndpoint(node2), "the other MAC still points there");
        fdb.add(other, node3);
        assertFalse(fdb.hasEndpoint(node2), "replaced: nothing points at the old endpoint");
        assertTrue(fdb.hasEndpoint(node3));
        fdb.add(other, node3);
        assertTrue(fdb.remove(other));
        assertFalse(fdb.hasEndpoint(node3), "adding the same entry twice does not count twice");
    }

    @Test
    void extremeKeysAndValues() {
        Fdb fdb = new Fdb();
        fdb.add(MacAddress.ZERO, 0);
        fdb.add(MacAddress.BROADCAST, -1);
        assertEquals(0, fdb.lookup(0));
        assertEquals(0xffff_ffffL, fdb.lookup(0xffff_ffff_ffffL));
        assertEquals(Fdb.MISSING, fdb.lookup(-1L), "a key outside 48 bits misses, even the empty-slot marker");
        assertEquals(Fdb.MISSING, fdb.lookup(1L << 48));
        assertEquals(List.of(MacAddress.ZERO, MacAddress.BROADCAST), List.copyOf(fdb.snapshot().keySet()));
    }

    @Test
    void matchesAHashMapThroughGrowthAndShrinking() {
        SplittableRandom random = new SplittableRandom(SEED);
        List<MacAddress> keys = new ArrayList<>();
        for (int i = 0; i < 3000; i++) keys.add(MacAddress.randomLocallyAdministered(random));
        Fdb fdb = new Fdb();
        Map<MacAddress, Integer> reference = new HashMap<>();
        for (int step = 0; step < 30_000; step++) {
            MacAddress mac = keys.get(random.nextInt(keys.size()));
            boolean adding = step < 15_000 ? random.nextInt(4) != 0 : random.nextInt(4) == 0;
            if (adding) {
                int endpoint = random.nextInt();
                fdb.add(mac, endpoint);
                reference.put(mac, endpoint);
            } else {
                assertEquals(reference.remove(mac) != null, fdb.remove(mac), "seed " + SEED);
            }
            if (step % 1000 == 0) {
                for (MacAddress k : keys) {
                    Integer endpoint = reference.get(k);
                    assertEquals(endpoint == null ? Fdb.MISSING : Integer.toUnsignedLong(endpoint), fdb.lookup(k.value()), "seed " + SEED);
                }
                for (int endpoint : reference.values()) assertTrue(fdb.hasEndpoint(endpoint), "seed " + SEED);
                for (int i = 0; i < 100; i++) {
                    int stranger = random.nextInt();
                    assertEquals(reference.containsValue(stranger), fdb.hasEndpoint(stranger), "seed " + SEED);
                }
            }
        }
        assertEquals(reference.size(), fdb.size());
        assertEquals(reference, fdb.snapshot());
    }

    @Test
    void readersSeeStableEntriesWhileAWriterChurns() throws Exception {
        Fdb fdb = new Fdb();
        SplittableRandom random = new SplittableRandom(SEED);
        long[] stable = new long[200];
        int[] endpoints = new int[stable.length];
        for (int i = 0; i < stable.length; i++) {
            // Stable keys have the multicast bit clear; churn keys below set it, so the two never meet.
            stable[i] = MacAddress.randomLocallyAdministered(random).value();
            endpoints[i] = 0xc0000200 + i;
            fdb.add(new MacAddress(stable[i]), endpoints[i]);
        }
        MacAddress[] churn = new MacAddress[4096];
        for (int i = 0; i < churn.length; i++) churn[i] = new MacAddress(MacAddress.randomLocallyAdministered(random).value() | 1L << 40);
        boolean[] present = new boolean[churn.length];
        SplittableRandom writerRandom = new SplittableRandom(SEED + 1);
        ReaderWriterRun.Result result = ReaderWriterRun.run(1_000_000_000L, 2, () -> {
            int i = writerRandom.nextInt(churn.length);
            if (present[i]) fdb.remove(churn[i]);
            else fdb.add(churn[i], writerRandom.nextInt());
            present[i] = !present[i];
        }, reader -> {
            for (int i = 0; i < stable.length; i++) {
                long got = fdb.lookup(stable[i]);
                if (got != Integer.toUnsignedLong(endpoints[i])) return "lookup " + new MacAddress(stable[i]) + " gave " + got;
            }
            return null;
        });
        assertNull(result.failure(), "seed " + SEED);
        assertTrue(result.writes() > 1000, "writer made only " + result.writes() + " changes");
        assertTrue(result.passes() > 100, "readers made only " + result.passes() + " passes");
        int expectedSize = stable.length;
        for (boolean p : present) if (p) expectedSize++;
        assertEquals(expectedSize, fdb.size());
    }
}
