package io.dataplane.core.pipeline;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;

/**
 * The buffers a reader holds for its next read (a TUN read, a receive), kept from one read to the
 * next: a read fills some from the front and hands them on; the rest wait for the next one.
 * One thread; {@link #release} at its end returns them.
 */
final class ReadBatch {
    private final PacketPool pool;
    private final PacketBuffer[] buffers;
    private int held;

    /** Up to {@code size} buffers of {@code pool}. */
    ReadBatch(PacketPool pool, int size) {
        this.pool = pool;
        this.buffers = new PacketBuffer[size];
    }

    /** Tops the batch up from the pool; returns how many buffers it holds now (0: the pool is dry). */
    int fill() {
        held += pool.acquire(buffers, held, buffers.length);
        return held;
    }

    /** The buffers, {@code [0..held())} of them armed for a read. */
    PacketBuffer[] buffers() {
        return buffers;
    }

    /** Buffers held. */
    int held() {
        return held;
    }

    /**
     * After a read filled {@code used} buffers from the front and the stage took them (it owns them
     * now, whoever that passed them to), moves the unused ones down and clears the rest.
     */
    void handedOn(int used) {
        int left = held - used;
        if (used > 0) {
            System.arraycopy(buffers, used, buffers, 0, left);
            java.util.Arrays.fill(buffers, left, held, null);
        }
        held = left;
    }

    /** Returns every buffer held to the pool. */
    void release() {
        PacketPool.releaseAll(buffers, 0, buffers.length);
        held = 0;
    }
}
