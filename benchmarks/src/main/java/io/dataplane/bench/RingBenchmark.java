package io.dataplane.bench;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.ring.PacketRing;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Packet handoff between two threads through a {@link PacketRing}: a producer takes a batch of
 * buffers from the pool, writes a length into each and offers the batch; a consumer drains up to a
 * batch, reads the lengths and releases the buffers, which go back to the producer through the pool.
 *
 * <p>The pool has as many buffers as the ring has slots, so the ring never overflows: the producer
 * is held back by the pool running dry until the consumer releases, the closed loop of a real
 * pipeline. Read the {@code handoff:consumed} row: packets per second that crossed the ring. {@code
 * produced} counts packets the ring accepted and {@code dropped} those a full ring refused (should be
 * 0). The {@code handoff:consume}/{@code produce} rows count calls, not packets; with two threads on
 * a busy machine the pair is only as fast as the scheduler runs them side by side.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Group)
public class RingBenchmark {
    /** Packets moved per offer and per drain. */
    @Param({"32"})
    public int batch;

    /** Ring slots. */
    @Param({"1024"})
    public int capacity;

    private PacketPool pool;
    private PacketRing ring;

    /** Per-thread packet counters, reported by JMH as rates. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Packets {
        /** Packets the ring accepted. */
        public long produced;
        /** Packets refused by a full ring. */
        public long dropped;
        /** Packets drained by the consumer. */
        public long consumed;
        PacketBuffer[] slots;
    }

    /** A pool of as many buffers as ring slots (a power of two, so JCTools does not round up). */
    @Setup(Level.Trial)
    public void setup() {
        pool = new PacketPool(capacity, 2048, PacketPool.DEFAULT_HEADROOM);
        ring = new PacketRing(capacity, false);
    }

    /** Returns what is left in the ring to the pool and frees it. */
    @TearDown(Level.Trial)
    public void tearDown() {
        ring.clear();
        if (pool.outstanding() != 0) throw new IllegalStateException("buffers lost: outstanding=" + pool.outstanding());
        pool.close();
    }

    /** Acquires a batch of buffers, stamps their lengths and offers them to the ring. */
    @Benchmark
    @Group("handoff")
    @GroupThreads(1)
    public int produce(Packets packets) {
        if (packets.slots == null) packets.slots = new PacketBuffer[batch];
        PacketBuffer[] slots = packets.slots;
        int n = pool.acquire(slots, batch);
        for (int i = 0; i < n; i++) slots[i].setLength(64 + i);
        int accepted = ring.offer(slots, n);
        packets.produced += accepted;
        packets.dropped += n - accepted;
        return accepted;
    }

    /** Drains up to a batch, reads each length and releases the buffers. */
    @Benchmark
    @Group("handoff")
    @GroupThreads(1)
    public long consume(Packets packets) {
        if (packets.slots == null) packets.slots = new PacketBuffer[batch];
        PacketBuffer[] slots = packets.slots;
        int n = ring.drain(slots, batch);
        long bytes = 0;
        for (int i = 0; i < n; i++) bytes += slots[i].length();
        PacketPool.releaseAll(slots, 0, n);
        packets.consumed += n;
        return bytes;
    }
}
