package io.dataplane.core.table;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A writer thread adds and removes prefixes for about two seconds while reader threads look up
 * addresses whose answer the writer's prefixes cannot change: every answer must stay right, and no
 * lookup may throw.
 */
class RouteTableConcurrencyTest {
    private static final long SEED = Long.getLong("table.seed", System.nanoTime());
    private static final long RUN_NANOS = 2_000_000_000L;

    @Test
    void readersSeeStableAnswersWhileAWriterChurns() throws Exception {
        SplittableRandom random = new SplittableRandom(SEED);
        RouteTable table = new RouteTable();
        ReferenceLpm stable = new ReferenceLpm();
        while (stable.size() < 5000) {
            Ipv4Prefix prefix = Ipv4Prefix.containing(random.nextInt(), 8 + random.nextInt(25));
            int value = random.nextInt();
            stable.add(prefix, value);
            table.add(prefix, value);
        }
        // Probe addresses: the first, last and a random address of every stable prefix, with the
        // length and value of their longest stable match.
        List<Ipv4Prefix> stablePrefixes = new ArrayList<>(stable.prefixes().keySet());
        int[] probes = new int[3 * stablePrefixes.size()];
        for (int i = 0; i < stablePrefixes.size(); i++) {
            Ipv4Prefix prefix = stablePrefixes.get(i);
            probes[3 * i] = prefix.address();
            probes[3 * i + 1] = prefix.lastAddress();
            probes[3 * i + 2] = prefix.address() | (random.nextInt() & ~prefix.mask());
        }
        long[] expected = new long[probes.length];
        int[] matchLength = new int[probes.length];
        for (int i = 0; i < probes.length; i++) {
            expected[i] = stable.lookup(probes[i]);
            matchLength[i] = stable.matchLength(probes[i]);
        }
        List<Ipv4Prefix> churn = churnPrefixes(random, stable, probes, matchLength);
        assertTrue(churn.size() > 2000, "too few churn prefixes survived the filter: " + churn.size());

        AtomicReference<String> failure = new AtomicReference<>();
        AtomicLong lookups = new AtomicLong();
        AtomicLong writes = new AtomicLong();
        long deadline = System.nanoTime() + RUN_NANOS;
        Set<Ipv4Prefix> present = new HashSet<>();
        ReferenceLpm finalState = new ReferenceLpm();
        stable.prefixes().forEach(finalState::add);
        Thread writer = new Thread(() -> {
            SplittableRandom r = new SplittableRandom(SEED + 1);
            try {
                long n = 0;
                while (System.nanoTime() < deadline && failure.get() == null) {
                    Ipv4Prefix prefix = churn.get(r.nextInt(churn.size()));
                    if (present.remove(prefix)) {
                        table.remove(prefix);
                        finalState.remove(prefix);
                    } else {
                        int value = r.nextInt();
                        table.add(prefix, value);
                        finalState.add(prefix, value);
                        present.add(prefix);
                    }
                    n++;
                }
                writes.set(n);
            } catch (Throwable t) {
                failure.compareAndSet(null, "writer threw " + t);
            }
        }, "route-writer");
        List<Thread> readers = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int offset = t * 7919;
            readers.add(new Thread(() -> {
                long n = 0;
                try {
                    while (System.nanoTime() < deadline && failure.get() == null) {
                        for (int k = 0; k < probes.length; k++) {
                            int i = (k + offset) % probes.length;
                            long got = table.lookup(probes[i]);
                            if (got != expected[i]) {
                                failure.compareAndSet(null, "lookup " + Ipv4Address.toString(probes[i]) + " gave " + got + ", expected " + expected[i]);
                                return;
                            }
                        }
                        n += probes.length;
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, "reader threw " + e);
                } finally {
                    lookups.addAndGet(n);
                }
            }, "route-reader-" + t));
        }
        writer.start();
        readers.forEach(Thread::start);
        writer.join();
        for (Thread reader : readers) reader.join();

        assertNull(failure.get(), "seed " + SEED);
        assertTrue(writes.get() > 1000, "writer made only " + writes.get() + " changes");
        assertTrue(lookups.get() > probes.length, "readers made only " + lookups.get() + " lookups");
        // Quiescent again: the whole table agrees with the reference of what the writer left.
        assertEquals(finalState.prefixes(), table.snapshot(), "seed " + SEED);
        SplittableRandom check = new SplittableRandom(SEED + 2);
        for (int i = 0; i < 50_000; i++) {
            int address = check.nextInt();
            assertEquals(finalState.lookup(address), table.lookup(address), "seed " + SEED);
        }
    }

    /**
     * Random prefixes for the writer, kept only if they cannot change a probe's answer: not a stable
     * prefix itself, and no longer than the stable match of any probe they contain. Many are built
     * next to stable prefixes so that the writer rebuilds the same subtrees the readers walk.
     */
    private static List<Ipv4Prefix> churnPrefixes(SplittableRandom random, ReferenceLpm stable, int[] probes, int[] matchLength) {
        long[] sorted = new long[probes.length];
        for (int i = 0; i < probes.length; i++) sorted[i] = Integer.toUnsignedLong(probes[i]) << 6 | matchLength[i];
        Arrays.sort(sorted);
        List<Ipv4Prefix> stableList = new ArrayList<>(stable.prefixes().keySet());
        Set<Ipv4Prefix> churn = new HashSet<>();
        for (int i = 0; i < 20_000; i++) {
            Ipv4Prefix candidate;
            int kind = random.nextInt(10);
            if (kind == 0) {
                candidate = Ipv4Prefix.containing(random.nextInt(), random.nextInt(8)); // short, up to /0
            } else if (kind < 4) {
                candidate = Ipv4Prefix.containing(random.nextInt(), 8 + random.nextInt(25));
            } else {
                Ipv4Prefix near = stableList.get(random.nextInt(stableList.size()));
                int address = near.address() ^ (random.nextInt() & 0xffff);
                candidate = Ipv4Prefix.containing(address, 17 + random.nextInt(16));
            }
            if (!stable.contains(candidate) && !changesAProbe(candidate, sorted)) churn.add(candidate);
        }
        return new ArrayList<>(churn);
    }

    private static boolean changesAProbe(Ipv4Prefix candidate, long[] sorted) {
        long first = Integer.toUnsignedLong(candidate.address()) << 6;
        int i = Arrays.binarySearch(sorted, first);
        if (i < 0) i = -i - 1;
        long last = Integer.toUnsignedLong(candidate.lastAddress());
        for (; i < sorted.length && (sorted[i] >>> 6) <= last; i++) {
            if (candidate.length() > (int) (sorted[i] & 63)) return true;
        }
        return false;
    }
}
