package io.dataplane.bench;

import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Route table update rate while a reader runs: one thread toggles prefixes (add if absent, remove if
 * present) in a table of {@code prefixes} random prefixes while another looks up random addresses.
 * The {@code churn:update} score is changes per second, {@code churn:lookup} the reader's lookups per
 * second under that churn.
 *
 * <p>The toggled prefixes have the same length mix as the table (8-32), so the score blends cheap
 * long-prefix changes (one /16 subtree rebuilt) with the dearer short ones (up to 256 /16s rewritten
 * for a /8).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Group)
public class LpmUpdateBenchmark {
    private static final int CHURN = 1 << 14;
    private static final int ADDRESSES = 1 << 16;

    /** Number of prefixes in the table before the churn starts. */
    @Param({"100000"})
    public int prefixes;

    private RouteTable table;
    private Ipv4Prefix[] churn;
    private boolean[] present;
    private int[] addresses;
    private int nextChange;
    private int nextLookup;

    /** Fills the table and prepares the prefixes to toggle and the addresses to look up. */
    @Setup
    public void setup() {
        SplittableRandom random = new SplittableRandom(7);
        table = LpmBenchmark.fill(prefixes, random);
        churn = new Ipv4Prefix[CHURN];
        for (int i = 0; i < CHURN; i++) churn[i] = Ipv4Prefix.containing(random.nextInt(), 8 + random.nextInt(25));
        present = new boolean[CHURN];
        for (int i = 0; i < CHURN; i++) present[i] = table.get(churn[i]) != RouteTable.NO_ROUTE;
        addresses = random.ints(ADDRESSES).toArray();
    }

    /** One change: adds the next churn prefix, or removes it if the writer added it before. */
    @Benchmark
    @Group("churn")
    @GroupThreads(1)
    public boolean update() {
        int i = nextChange++ & (CHURN - 1);
        if (present[i]) {
            present[i] = false;
            return table.remove(churn[i]);
        }
        present[i] = true;
        table.add(churn[i], i);
        return true;
    }

    /** One lookup of a random address, racing the writer. */
    @Benchmark
    @Group("churn")
    @GroupThreads(1)
    public long lookup() {
        return table.lookup(addresses[nextLookup++ & (ADDRESSES - 1)]);
    }
}
