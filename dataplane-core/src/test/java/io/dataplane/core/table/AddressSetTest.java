package io.dataplane.core.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.wire.Ipv4Address;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AddressSetTest {
    private static final long SEED = Long.getLong("table.seed", System.nanoTime());

    @Test
    void anAddressAddedTwiceLeavesWithItsSecondRemoval() {
        AddressSet set = new AddressSet();
        int a = Ipv4Address.parse("192.0.2.2");
        assertFalse(set.contains(a));
        assertFalse(set.remove(a));
        set.add(a);
        set.add(a);
        assertEquals(1, set.size());
        assertEquals(2, set.count(a));
        assertTrue(set.remove(a));
        assertTrue(set.contains(a));
        assertTrue(set.remove(a));
        assertFalse(set.contains(a));
        assertEquals(0, set.count(a));
        assertEquals(0, set.size());
    }

    @Test
    void extremeAddresses() {
        AddressSet set = new AddressSet();
        set.add(0);
        set.add(-1);
        assertTrue(set.contains(0));
        assertTrue(set.contains(-1), "255.255.255.255 is a key like any other, not the empty-slot marker");
        assertFalse(set.contains(1));
        assertEquals(Map.of(0, 1, -1, 1), set.snapshot());
        assertEquals("AddressSet[0.0.0.0, 255.255.255.255]", set.toString());
    }

    @Test
    void matchesAHashMapOfCounts() {
        SplittableRandom random = new SplittableRandom(SEED);
        int[] addresses = new int[500];
        for (int i = 0; i < addresses.length; i++) addresses[i] = random.nextInt();
        AddressSet set = new AddressSet();
        Map<Integer, Integer> reference = new HashMap<>();
        for (int step = 0; step < 20_000; step++) {
            int a = addresses[random.nextInt(addresses.length)];
            if (random.nextBoolean()) {
                set.add(a);
                reference.merge(a, 1, Integer::sum);
            } else {
                Integer c = reference.get(a);
                assertEquals(c != null, set.remove(a), "seed " + SEED);
                if (c != null) {
                    if (c == 1) reference.remove(a);
                    else reference.put(a, c - 1);
                }
            }
        }
        for (int a : addresses) assertEquals(reference.getOrDefault(a, 0), set.count(a), "seed " + SEED);
        assertEquals(reference.size(), set.size());
        assertEquals(reference, set.snapshot());
    }

    @Test
    void readersSeeStableAddressesWhileAWriterChurns() throws Exception {
        AddressSet set = new AddressSet();
        int[] stable = new int[100];
        for (int i = 0; i < stable.length; i++) {
            stable[i] = 0xc0000200 + i;
            set.add(stable[i]);
        }
        SplittableRandom writerRandom = new SplittableRandom(SEED);
        boolean[] present = new boolean[2048];
        ReaderWriterRun.Result result = ReaderWriterRun.run(500_000_000L, 2, () -> {
            int i = writerRandom.nextInt(present.length);
            // The churned addresses (10.x) never meet the stable ones (192.0.2.x).
            if (present[i]) set.remove(0x0a000000 + i);
            else set.add(0x0a000000 + i);
            present[i] = !present[i];
        }, reader -> {
            for (int a : stable) {
                if (!set.contains(a)) return "lost " + Ipv4Address.toString(a);
            }
            return null;
        });
        assertNull(result.failure(), "seed " + SEED);
        assertTrue(result.writes() > 1000, "writer made only " + result.writes() + " changes");
    }
}
