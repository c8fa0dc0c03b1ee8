package io.dataplane.core.testing;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.pipeline.Pipeline;
import io.dataplane.core.pipeline.PipelineConfig;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * A node for tests of a {@link Backend} without root: a {@link FakeTunnelDevice} as its TUN, the
 * backend's transport (on a {@link FakeNetwork}) and a real {@link Pipeline} between them.
 * {@link #close} stops the pipeline and the backend and frees the pool, after checking that every
 * buffer came back.
 */
public final class FakeNode implements AutoCloseable {
    private final String name;
    private final PacketPool pool;
    private final FakeTunnelDevice tun;
    private final Backend backend;
    private final Pipeline pipeline;

    private FakeNode(String name, PacketPool pool, FakeTunnelDevice tun, Backend backend, Pipeline pipeline) {
        this.name = name;
        this.pool = pool;
        this.tun = tun;
        this.backend = backend;
        this.pipeline = pipeline;
    }

    /**
     * Starts a pipeline for {@code backend}, whose transport receives into {@code pool}, with a fake
     * TUN called {@code name} of MTU {@code tunMtu}.
     */
    public static FakeNode start(String name, PacketPool pool, Backend backend, int tunMtu) throws IOException {
        FakeTunnelDevice tun = new FakeTunnelDevice(name, tunMtu, 16);
        Pipeline pipeline = Pipeline.start(PipelineConfig.of(tun, backend.transport(), backend.encapsulation(), backend.routes(), pool));
        return new FakeNode(name, pool, tun, backend, pipeline);
    }

    /** The node's TUN: inject what a pod sends, take what the node delivers. */
    public FakeTunnelDevice tun() {
        return tun;
    }

    /** The node's backend. */
    public Backend backend() {
        return backend;
    }

    /** The node's transport, the in-memory one the backend opened. */
    public FakeTransport transport() {
        return (FakeTransport) backend.transport();
    }

    /** The node's pipeline. */
    public Pipeline pipeline() {
        return pipeline;
    }

    /** The node's pool. */
    public PacketPool pool() {
        return pool;
    }

    /** All counters of the pipeline, the transport's and the backend's own included, summed now. */
    public Counters.Snapshot stats() {
        List<Counters> all = new ArrayList<>(pipeline.counters());
        all.addAll(backend.counters());
        return Counters.Snapshot.of(all);
    }

    /** Drops for {@code reason} so far. */
    public long dropped(DropReason reason) {
        return stats().dropped(reason);
    }

    /** Waits up to 5 s for {@code condition}; throws AssertionError naming {@code what} if it never holds. */
    public static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(2);
        }
    }

    /** Stops the pipeline and the backend; throws AssertionError if a buffer did not come back; frees the pool. */
    @Override
    public void close() {
        pipeline.close();
        backend.close();
        int out = pool.outstanding();
        pool.close();
        if (out != 0) throw new AssertionError(out + " buffers still out after closing node " + name);
        if (pipeline.failure() != null) throw new AssertionError("node " + name + " failed", pipeline.failure());
    }
}
