package io.dataplane.bench;

import io.dataplane.core.table.RouteTable;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Route table lookup: {@code prefixes} random prefixes (random addresses, lengths uniform in 8-32),
 * looked up at random addresses. {@code lookup} is one lookup per call; {@code lookupBatch} looks up
 * 256 addresses per call through the batch API, the way the pipeline does, and reports ns per address.
 *
 * <p>Setup prints the table's size in bytes and bytes per prefix ({@code RouteTable.memoryBytes()}).
 * Goal: at most 20 ns per lookup and 0 B/op ({@code -prof gc}) at 100k prefixes.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class LpmBenchmark {
    private static final int ADDRESSES = 1 << 16;
    private static final int BATCH = 256;

    /** Number of distinct prefixes in the table. */
    @Param({"1000", "100000", "1000000"})
    public int prefixes;

    private RouteTable table;
    private int[] addresses;
    private int[][] batches;
    private long[] values;
    private int next;

    /** Fills the table and the address array, and prints the memory figures. */
    @Setup
    public void setup() {
        SplittableRandom random = new SplittableRandom(42);
        table = fill(prefixes, random);
        addresses = random.ints(ADDRESSES).toArray();
        batches = new int[ADDRESSES / BATCH][];
        for (int i = 0; i < batches.length; i++) batches[i] = Arrays.copyOfRange(addresses, i * BATCH, (i + 1) * BATCH);
        values = new long[BATCH];
        long bytes = table.memoryBytes();
        System.out.printf("%nLpmBenchmark: prefixes=%d memoryBytes=%d bytesPerPrefix=%.1f%n", table.size(), bytes, (double) bytes / table.size());
    }

    /** A table of {@code count} distinct random prefixes, lengths uniform in 8-32, random values. */
    static RouteTable fill(int count, SplittableRandom random) {
        RouteTable table = new RouteTable();
        while (table.size() < count) {
            table.add(Ipv4Prefix.containing(random.nextInt(), 8 + random.nextInt(25)), random.nextInt());
        }
        return table;
    }

    /** One lookup of the next random address. */
    @Benchmark
    public long lookup() {
        return table.lookup(addresses[next++ & (ADDRESSES - 1)]);
    }

    /** 256 lookups through the batch API; the score is per address. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long lookupBatch() {
        int[] batch = batches[next++ & (batches.length - 1)];
        table.lookup(batch, values, BATCH);
        long sum = 0;
        for (int i = 0; i < BATCH; i++) sum += values[i];
        return sum;
    }
}
