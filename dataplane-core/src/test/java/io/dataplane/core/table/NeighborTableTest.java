package io.dataplane.core.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.MacAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class NeighborTableTest {
    private static final long SEED = Long.getLong("table.seed", System.nanoTime());
    private static final MacAddress PEER = MacAddress.parse("22:e8:35:88:1e:9a");

    @Test
    void addLookupReplaceRemove() {
        NeighborTable table = new NeighborTable();
        int gateway = Ipv4Address.parse("10.244.2.0");
        assertEquals(NeighborTable.MISSING, table.lookup(gateway));
        table.add(gateway, PEER);
        assertEquals(0x22e835881e9aL, table.lookup(gateway));
        assertEquals(NeighborTable.MISSING, table.lookup(gateway + 1));
        table.add(gateway, MacAddress.BROADCAST);
        assertEquals(0xffff_ffff_ffffL, table.lookup(gateway));
        assertEquals(1, table.size());
        assertTrue(table.remove(gateway));
        assertFalse(table.remove(gateway));
        assertEquals(NeighborTable.MISSING, table.lookup(gateway));
        assertEquals(0, table.size());
    }

    @Test
    void extremeKeysAndValues() {
        NeighborTable table = new NeighborTable();
        table.add(0, MacAddress.ZERO);
        table.add(-1, PEER);
        table.add(Integer.MIN_VALUE, PEER);
        assertEquals(0, table.lookup(0), "the all-zero MAC is a value, not a miss");
        assertEquals(PEER.value(), table.lookup(-1));
        assertEquals(PEER.value(), table.lookup(Integer.MIN_VALUE));
        assertEquals(NeighborTable.MISSING, table.lookup(Integer.MAX_VALUE));
        assertEquals(List.of(0, Integer.MIN_VALUE, -1), List.copyOf(table.snapshot().keySet()), "unsigned address order");
    }

    @Test
    void matchesAHashMapThroughGrowthAndShrinking() {
        SplittableRandom random = new SplittableRandom(SEED);
        NeighborTable table = new NeighborTable();
        Map<Integer, MacAddress> reference = new HashMap<>();
        for (int step = 0; step < 20_000; step++) {
            // Keys from a small range so removes hit; a phase that mostly adds, then one that mostly removes.
            int address = 0x0af40000 + random.nextInt(5000);
            boolean adding = step < 10_000 ? random.nextInt(4) != 0 : random.nextInt(4) == 0;
            if (adding) {
                MacAddress mac = MacAddress.randomLocallyAdministered(random);
                table.add(address, mac);
                reference.put(address, mac);
            } else {
                assertEquals(reference.remove(address) != null, table.remove(address), "seed " + SEED);
            }
            if (step % 1000 == 0) {
                for (int a = 0x0af40000; a < 0x0af40000 + 5000; a++) {
                    MacAddress mac = reference.get(a);
                    assertEquals(mac == null ? NeighborTable.MISSING : mac.value(), table.lookup(a), "seed " + SEED);
                }
            }
        }
        assertEquals(reference.size(), table.size());
        assertEquals(reference, table.snapshot());
    }

    @Test
    void readersSeeStableEntriesWhileAWriterChurns() throws Exception {
        NeighborTable table = new NeighborTable();
        SplittableRandom random = new SplittableRandom(SEED);
        int[] stable = new int[200];
        long[] macs = new long[stable.length];
        for (int i = 0; i < stable.length; i++) {
            stable[i] = 0x0af40000 | i << 8; // 10.244.i.0, like flannel's per-node gateways
            macs[i] = MacAddress.randomLocallyAdministered(random).value();
            table.add(stable[i], new MacAddress(macs[i]));
        }
        boolean[] present = new boolean[4096];
        SplittableRandom writerRandom = new SplittableRandom(SEED + 1);
        ReaderWriterRun.Result result = ReaderWriterRun.run(1_000_000_000L, 2, () -> {
            int i = writerRandom.nextInt(present.length);
            int address = 0xc6336400 + i; // 198.51.100.0 + i: never a stable key
            if (present[i]) table.remove(address);
            else table.add(address, MacAddress.randomLocallyAdministered(writerRandom));
            present[i] = !present[i];
        }, reader -> {
            for (int i = 0; i < stable.length; i++) {
                long got = table.lookup(stable[i]);
                if (got != macs[i]) return "lookup " + Ipv4Address.toString(stable[i]) + " gave " + got + ", expected " + macs[i];
            }
            return table.lookup(0x0b000000) == NeighborTable.MISSING ? null : "lookup of an absent address hit";
        });
        assertNull(result.failure(), "seed " + SEED);
        assertTrue(result.writes() > 1000, "writer made only " + result.writes() + " changes");
        assertTrue(result.passes() > 100, "readers made only " + result.passes() + " passes");
        int expectedSize = stable.length;
        for (boolean p : present) if (p) expectedSize++;
        assertEquals(expectedSize, table.size());
    }
}
