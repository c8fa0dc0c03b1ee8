package io.dataplane.core.table;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class SubtreeTest {
    private static final long SEED = Long.getLong("table.seed", System.nanoTime());
    private static final int HI = 0x0af40000; // 10.244.0.0/16

    @Test
    void splicedUpdateGivesTheSameArrayAsAFullBuild() {
        SplittableRandom random = new SplittableRandom(SEED);
        // key -> packed prefix, kept sorted like the route table's per-/16 list.
        TreeMap<Integer, Long> prefixes = new TreeMap<>();
        ReferenceLpm reference = new ReferenceLpm();
        long fallback = 99;
        long[] t = null;
        for (int step = 0; step < 6000; step++) {
            // Mostly long prefixes crowded into a few /22s, some /17-/22 that change the root.
            int length = random.nextInt(10) == 0 ? 17 + random.nextInt(6) : 23 + random.nextInt(10);
            int low16 = (random.nextInt(4) << 10 | random.nextInt(1 << 10)) << (random.nextInt(3) == 0 ? 4 : 0) & 0xffff;
            Ipv4Prefix prefix = Ipv4Prefix.containing(HI | low16, length);
            int key = Subtree.key(prefix.address(), length);
            if (prefixes.containsKey(key) && random.nextBoolean()) {
                prefixes.remove(key);
                reference.remove(prefix);
            } else {
                int value = random.nextInt(1000);
                prefixes.put(key, Subtree.pack(prefix.address(), length, value));
                reference.add(prefix, value);
            }
            long[] list = prefixes.values().stream().mapToLong(Long::longValue).toArray();
            if (list.length == 0) {
                t = null;
                continue;
            }
            long[] updated = Subtree.update(t, list, prefix.address() & 0xffff, length, fallback);
            assertArrayEquals(Subtree.build(list, fallback), updated, () -> "after " + prefix + " seed " + SEED);
            t = updated;
            if (step % 1000 == 999) {
                for (int low = 0; low < 1 << 16; low++) {
                    long expected = reference.lookup(HI | low);
                    assertEquals(expected == -1 ? fallback : expected, Subtree.lookup(t, HI | low),
                            Ipv4Address.toString(HI | low) + " seed " + SEED);
                }
            }
        }
    }

    @Test
    void emptyListGivesAConstantSubtree() {
        long[] t = Subtree.build(new long[0], 7);
        assertEquals(5, t.length);
        for (int address : new int[] {HI, HI | 0xffff, HI | 0x1234}) assertEquals(7, Subtree.lookup(t, address));
        assertEquals(-1, Subtree.lookup(Subtree.withFallback(t, -1), HI));
        assertEquals(7, Subtree.lookup(t, HI), "withFallback copies");
    }

    @Test
    void packedPrefixesSortByAddressThenLength() {
        long a = Subtree.pack(HI | 0x0100, 24, -1);
        long b = Subtree.pack(HI | 0x0100, 32, 0);
        long c = Subtree.pack(HI | 0x0101, 32, 5);
        long[] sorted = {c, b, a};
        Arrays.sort(sorted);
        assertArrayEquals(new long[] {a, b, c}, sorted);
        assertEquals(0x0100, Subtree.low16(a));
        assertEquals(24, Subtree.lengthOf(a));
        assertEquals(-1, Subtree.valueOf(a));
    }
}
