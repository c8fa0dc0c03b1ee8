package io.dataplane.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.profile.InternalProfiler;
import org.openjdk.jmh.results.AggregationPolicy;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.ScalarResult;

/**
 * JMH profiler for what a stage allocates per operation, every thread of the benchmark counted and
 * none of JMH's own work: {@code -prof io.dataplane.bench.StageAllocationProfiler} adds {@code
 * stage.alloc.norm} (B/op) to each benchmark whose class extends {@link Window}.
 *
 * <p>{@code -prof gc}'s {@code gc.alloc.rate.norm} counts every byte the JVM allocated during the
 * iteration (on JDK 21+ through the total of all threads): JMH's runner thread (this profiler's
 * caller), the worker's result objects at each iteration's end, and in the last iteration the
 * trial's tear-down, which JMH runs before the iteration ends. That is a few KB an iteration (more
 * in the last), a few tenths of a byte per operation for operations of 25 us and more, whatever the
 * stage does.
 *
 * <p>Here the worker thread counts its own allocation from its iteration set-up to its iteration
 * tear-down ({@link Window}): between the two JMH runs only its loops around the benchmark method
 * and a latch with nothing to wait for. Every other thread but JMH's runner (a transport's receive
 * thread, say) counts from the iteration's start to its end, threads that ended meanwhile included
 * (the JVM's total of all threads, less the runner's and the workers' own counts). The sum is
 * divided by the iteration's operations (JMH's all-ops count, which also holds the operations of
 * the warm-up and warm-down waits that ran inside the window).
 */
public final class StageAllocationProfiler implements InternalProfiler {
    private static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    /** Worker threads that count their own window, by id. */
    private static final Set<Long> WORKERS = ConcurrentHashMap.newKeySet();
    /** Bytes the workers allocated inside their windows this iteration. */
    private static final AtomicLong WINDOWED = new AtomicLong();
    private static final AtomicLong WINDOWS = new AtomicLong();

    /** The workers' counts at the iteration's start, the runner's, and the JVM's total of all threads. */
    private final Map<Long, Long> workersBefore = new HashMap<>();
    private long runnerBefore;
    private long totalBefore;

    /** Public, for JMH's {@code -prof} (it instantiates the class by name). */
    public StageAllocationProfiler() {
        if (!THREADS.isThreadAllocatedMemorySupported() || !THREADS.isThreadAllocatedMemoryEnabled()) {
            throw new IllegalStateException("this JVM does not count allocated bytes per thread");
        }
    }

    /**
     * The worker's window: a benchmark class extends it so that its worker thread counts what it
     * allocates between its iteration set-up and tear-down. Without the profiler it counts nothing
     * anyone reads, at two calls per iteration.
     */
    public abstract static class Window {
        private long windowStart;

        /** Opens the worker's window: its allocated bytes so far. */
        @Setup(Level.Iteration)
        public void openAllocationWindow() {
            WORKERS.add(Thread.currentThread().threadId());
            windowStart = THREADS.getCurrentThreadAllocatedBytes();
        }

        /** Closes it: what the worker allocated since. */
        @TearDown(Level.Iteration)
        public void closeAllocationWindow() {
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - windowStart;
            WINDOWED.addAndGet(allocated);
            WINDOWS.incrementAndGet();
        }
    }

    @Override
    public String getDescription() {
        return "bytes per operation allocated by the stage under test (benchmarks that extend StageAllocationProfiler.Window), JMH's own left out";
    }

    @Override
    public void beforeIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams) {
        WINDOWED.set(0);
        WINDOWS.set(0);
        workersBefore.clear();
        for (long id : WORKERS) workersBefore.put(id, THREADS.getThreadAllocatedBytes(id));
        // Back to back, nothing allocated between them (the runner's count is part of the total).
        runnerBefore = THREADS.getCurrentThreadAllocatedBytes();
        totalBefore = THREADS.getTotalThreadAllocatedBytes();
    }

    @Override
    public Collection<? extends Result> afterIteration(BenchmarkParams benchmarkParams, IterationParams iterationParams, IterationResult result) {
        long total = THREADS.getTotalThreadAllocatedBytes();
        long runner = THREADS.getCurrentThreadAllocatedBytes();
        if (WINDOWS.get() == 0) return List.of(); // the benchmark has no Window: nothing to say
        long bytes = (total - totalBefore) - (runner - runnerBefore) + WINDOWED.get();
        for (long id : WORKERS) {
            long now = THREADS.getThreadAllocatedBytes(id);
            if (now >= 0) bytes -= now - workersBefore.getOrDefault(id, 0L); // a worker started this iteration counts from 0
        }
        long ops = result.getMetadata().getAllOps();
        List<Result> results = new ArrayList<>();
        results.add(new ScalarResult("stage.alloc.norm", ops == 0 ? Double.NaN : (double) bytes / ops, "B/op", AggregationPolicy.AVG));
        return results;
    }
}
