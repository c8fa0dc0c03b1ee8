package io.dataplane.core.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RouteTableTest {
    private static final long SEED = Long.getLong("table.seed", System.nanoTime());

    private static Ipv4Prefix p(String text) {
        return Ipv4Prefix.parse(text);
    }

    private static int a(String text) {
        return Ipv4Address.parse(text);
    }

    @Test
    void emptyTableHasNoRoute() {
        RouteTable table = new RouteTable();
        assertEquals(RouteTable.NO_ROUTE, table.lookup(0));
        assertEquals(RouteTable.NO_ROUTE, table.lookup(-1));
        assertEquals(RouteTable.NO_ROUTE, table.lookup(a("10.244.1.1")));
        assertEquals(0, table.size());
        assertTrue(table.snapshot().isEmpty());
    }

    @Test
    void defaultRouteCoversEveryAddressAndGoesAway() {
        RouteTable table = new RouteTable();
        table.add(p("0.0.0.0/0"), 7);
        for (int address : new int[] {0, -1, a("10.244.1.1"), a("127.255.255.255"), a("128.0.0.0")}) {
            assertEquals(7, table.lookup(address), Ipv4Address.toString(address));
        }
        table.add(p("10.0.0.0/8"), 8);
        assertEquals(8, table.lookup(a("10.1.2.3")));
        assertEquals(7, table.lookup(a("11.0.0.0")));
        assertTrue(table.remove(p("0.0.0.0/0")));
        assertEquals(RouteTable.NO_ROUTE, table.lookup(a("11.0.0.0")));
        assertEquals(8, table.lookup(a("10.255.255.255")));
        assertFalse(table.remove(p("0.0.0.0/0")));
    }

    @Test
    void hostRouteMatchesExactlyOneAddress() {
        RouteTable table = new RouteTable();
        table.add(p("10.244.1.1/32"), 1);
        table.add(p("0.0.0.0/32"), 2);
        table.add(p("255.255.255.255/32"), 3);
        assertEquals(1, table.lookup(a("10.244.1.1")));
        assertEquals(RouteTable.NO_ROUTE, table.lookup(a("10.244.1.0")));
        assertEquals(RouteTable.NO_ROUTE, table.lookup(a("10.244.1.2")));
        assertEquals(2, table.lookup(0));
        assertEquals(RouteTable.NO_ROUTE, table.lookup(1));
        assertEquals(3, table.lookup(-1));
        assertEquals(RouteTable.NO_ROUTE, table.lookup(-2));
        table.add(p("0.0.0.0/0"), 9);
        assertEquals(9, table.lookup(a("10.244.1.2")));
        assertEquals(1, table.lookup(a("10.244.1.1")));
    }

    @Test
    void removingAPrefixExposesTheNextShorterOneAtEveryLevel() {
        RouteTable table = new RouteTable();
        String[] nested = {"0.0.0.0/0", "10.0.0.0/8", "10.244.0.0/16", "10.244.0.0/20", "10.244.1.0/24", "10.244.1.0/28", "10.244.1.0/31", "10.244.1.1/32"};
        for (int i = 0; i < nested.length; i++) table.add(p(nested[i]), 100 + i);
        int address = a("10.244.1.1");
        for (int i = nested.length - 1; i >= 0; i--) {
            assertEquals(100 + i, table.lookup(address), "with " + nested[i] + " the longest left");
            assertTrue(table.remove(p(nested[i])));
        }
        assertEquals(RouteTable.NO_ROUTE, table.lookup(address));
        // Same prefixes, removed shortest first: the longest stays the answer until it goes.
        for (int i = 0; i < nested.length; i++) table.add(p(nested[i]), 100 + i);
        for (int i = 0; i < nested.length - 1; i++) {
            assertTrue(table.remove(p(nested[i])));
            assertEquals(100 + nested.length - 1, table.lookup(address));
            assertEquals(i == nested.length - 2 ? RouteTable.NO_ROUTE : 100 + nested.length - 2, table.lookup(a("10.244.1.0")));
        }
    }

    @Test
    void valuesUseAllThirtyTwoBits() {
        RouteTable table = new RouteTable();
        table.add(p("10.244.0.0/16"), -1);
        table.add(p("10.244.1.0/24"), 0);
        table.add(p("10.244.2.0/24"), Integer.MIN_VALUE);
        assertEquals(0xffff_ffffL, table.lookup(a("10.244.0.1")));
        assertEquals(0, table.lookup(a("10.244.1.1")));
        assertEquals(0x8000_0000L, table.lookup(a("10.244.2.1")));
        assertEquals(0xffff_ffffL, table.get(p("10.244.0.0/16")));
    }

    @Test
    void addReplacesAnEqualPrefix() {
        RouteTable table = new RouteTable();
        table.add(p("10.244.1.0/24"), 1);
        table.add(p("10.244.1.0/24"), 2);
        table.add(p("10.0.0.0/8"), 3);
        table.add(p("10.0.0.0/8"), 4);
        assertEquals(2, table.size());
        assertEquals(2, table.lookup(a("10.244.1.9")));
        assertEquals(4, table.lookup(a("10.9.9.9")));
        assertEquals(2, table.get(p("10.244.1.0/24")));
        assertEquals(RouteTable.NO_ROUTE, table.get(p("10.244.1.0/25")));
        assertFalse(table.remove(p("10.244.1.0/25")));
        assertFalse(table.remove(p("10.244.0.0/16")));
        assertEquals(2, table.size());
    }

    @Test
    void snapshotListsEveryPrefixInAddressOrder() {
        RouteTable table = new RouteTable();
        table.add(p("10.244.2.0/24"), 2);
        table.add(p("192.168.0.0/16"), 3);
        table.add(p("10.244.0.0/16"), 1);
        table.add(p("0.0.0.0/0"), 0);
        table.add(p("10.244.2.7/32"), 4);
        assertEquals(List.of(p("0.0.0.0/0"), p("10.244.0.0/16"), p("10.244.2.0/24"), p("10.244.2.7/32"), p("192.168.0.0/16")),
                List.copyOf(table.snapshot().keySet()));
        assertEquals(Map.of(p("0.0.0.0/0"), 0, p("10.244.0.0/16"), 1, p("10.244.2.0/24"), 2, p("10.244.2.7/32"), 4, p("192.168.0.0/16"), 3),
                table.snapshot());
    }

    @Test
    void memoryGrowsWithPrefixesAndShrinksBack() {
        RouteTable table = new RouteTable();
        long empty = table.memoryBytes();
        assertTrue(empty > 0);
        SplittableRandom random = new SplittableRandom(SEED);
        List<Ipv4Prefix> added = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            Ipv4Prefix prefix = Ipv4Prefix.containing(random.nextInt(), 17 + random.nextInt(16));
            table.add(prefix, i);
            added.add(prefix);
        }
        assertTrue(table.memoryBytes() > empty + 1000 * 8, "seed " + SEED);
        for (Ipv4Prefix prefix : added) table.remove(prefix);
        assertEquals(0, table.size());
        assertEquals(empty, table.memoryBytes());
    }

    /**
     * 100k random prefixes against the reference: random addresses, and the first and last address of
     * every prefix and their neighbours outside it; then half of them removed, then some re-added.
     */
    @Test
    void matchesReferenceOnHundredThousandRandomPrefixes() {
        SplittableRandom random = new SplittableRandom(SEED);
        RouteTable table = new RouteTable();
        ReferenceLpm reference = new ReferenceLpm();
        List<Ipv4Prefix> prefixes = new ArrayList<>();
        while (reference.size() < 100_000) {
            Ipv4Prefix prefix = RandomPrefixes.next(random);
            int value = random.nextInt();
            table.add(prefix, value);
            reference.add(prefix, value);
            prefixes.add(prefix);
        }
        assertEquals(reference.size(), table.size());
        // The reference against the plain scan, on a sample, so the reference is not taken on trust.
        int[] sample = new int[300];
        for (int i = 0; i < sample.length; i++) {
            sample[i] = i % 2 == 0 ? random.nextInt() : prefixes.get(random.nextInt(prefixes.size())).address();
        }
        long[] scanned = reference.scan(sample);
        for (int i = 0; i < sample.length; i++) {
            assertEquals(scanned[i], reference.lookup(sample[i]), "reference at " + Ipv4Address.toString(sample[i]));
        }
        checkAgainstReference(table, reference, prefixes, random, "after adding");

        Collections.shuffle(prefixes, new java.util.Random(random.nextLong()));
        List<Ipv4Prefix> removed = new ArrayList<>(prefixes.subList(0, prefixes.size() / 2));
        for (Ipv4Prefix prefix : removed) {
            assertEquals(reference.remove(prefix), table.remove(prefix), prefix + " seed " + SEED);
        }
        assertEquals(reference.size(), table.size());
        checkAgainstReference(table, reference, prefixes, random, "after removing half");

        for (int i = 0; i < removed.size(); i += 3) {
            table.add(removed.get(i), i);
            reference.add(removed.get(i), i);
        }
        checkAgainstReference(table, reference, prefixes, random, "after re-adding");
        assertEquals(reference.prefixes(), table.snapshot());
    }

    private static void checkAgainstReference(RouteTable table, ReferenceLpm reference, List<Ipv4Prefix> prefixes,
            SplittableRandom random, String when) {
        for (int i = 0; i < 100_000; i++) {
            int address = random.nextInt();
            assertEquals(reference.lookup(address), table.lookup(address), () -> when + ": " + Ipv4Address.toString(address) + " seed " + SEED);
        }
        for (Ipv4Prefix prefix : prefixes) {
            for (int address : new int[] {prefix.address(), prefix.lastAddress(), prefix.address() - 1, prefix.lastAddress() + 1}) {
                assertEquals(reference.lookup(address), table.lookup(address),
                        () -> when + ": " + Ipv4Address.toString(address) + " near " + prefix + " seed " + SEED);
            }
        }
    }

    @Test
    void batchLookupAnswersLikeSingleLookups() {
        RouteTable table = new RouteTable();
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < 1000; i++) table.add(RandomPrefixes.next(random), i);
        int[] addresses = random.ints(64).toArray();
        long[] values = new long[64];
        table.lookup(addresses, values, 60);
        for (int i = 0; i < 60; i++) assertEquals(table.lookup(addresses[i]), values[i]);
        assertEquals(0, values[60] | values[63], "slots past count untouched");
    }

    @Test
    void lookupDoesNotAllocate() {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        RouteTable table = new RouteTable();
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < 10_000; i++) table.add(RandomPrefixes.next(random), i);
        int[] addresses = random.ints(4096).toArray();
        long sink = 0;
        // Linking the VarHandles and JIT transitions allocate now and then; a lookup that allocated
        // would do so in every round, so the quietest round must be exactly zero.
        long fewest = Long.MAX_VALUE;
        for (int round = 0; round < 6; round++) {
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 200_000; i++) sink += table.lookup(addresses[i & 4095]);
            fewest = Math.min(fewest, threads.getCurrentThreadAllocatedBytes() - before);
        }
        assertEquals(0, fewest, "bytes allocated by 200k lookups in the quietest round (sink " + sink + ")");
    }
}
