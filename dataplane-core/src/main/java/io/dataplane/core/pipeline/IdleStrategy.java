package io.dataplane.core.pipeline;

import io.dataplane.core.ring.PacketRing;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * What a runner's thread does between two {@link Agent#doWork} calls, given the work count of the
 * last one (Agrona's {@code IdleStrategy} shape): nothing while there is work, else wait in a way
 * that suits what the agent waits for.
 */
@FunctionalInterface
interface IdleStrategy {
    /**
     * How long an idle thread waits at most before it looks again: for a dry pool (the buffers come
     * back as other stages finish), or to notice a close no one woke it for.
     */
    long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    /** Called after every {@link Agent#doWork} with what it returned (never {@link Agent#CLOSED}). */
    void idle(int workCount) throws IOException;

    /** Parks {@link #IDLE_NANOS} after a call that moved nothing: for an agent whose calls block while there is no input. */
    static IdleStrategy parkWhenIdle() {
        return work -> {
            if (work == 0) LockSupport.parkNanos(IDLE_NANOS);
        };
    }

    /** Sleeps in {@code ring} after a call that moved nothing, until a producer offers (or {@link #IDLE_NANOS}): for the ring's consumer. */
    static IdleStrategy awaitRing(PacketRing ring) {
        return work -> {
            if (work == 0) ring.await(IDLE_NANOS, TimeUnit.NANOSECONDS);
        };
    }
}
