package io.dataplane.core.ring;

import io.dataplane.core.buffer.PacketBuffer;
import java.lang.invoke.VarHandle;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jctools.queues.atomic.MpscAtomicArrayQueue;
import org.jctools.queues.atomic.SpscAtomicArrayQueue;

/**
 * A bounded lock-free ring that hands packets from one thread to another, ownership included.
 *
 * <p>Follows JCTools' contracts: {@link #offer} never blocks and returns false iff the ring is full;
 * a packet that does not fit is released on the spot so no buffer is ever lost, and the caller
 * counts it as {@code RING_FULL}. {@link #drain} takes up to a limit in one go.
 *
 * <p>One consumer thread. It may sleep in {@link #await} when the ring is empty; producers wake it
 * after they offer, at the cost of one volatile read when it is awake.
 */
public final class PacketRing {
    private final Queue<PacketBuffer> queue;
    private final int capacity;
    private volatile Thread sleeper;

    /**
     * A ring of at least {@code capacity} slots (JCTools rounds up to a power of two); {@code
     * multiProducer} when more than one thread offers.
     */
    public PacketRing(int capacity, boolean multiProducer) {
        if (capacity < 2) throw new IllegalArgumentException("ring capacity too small: capacity=" + capacity + " (min 2)");
        this.queue = multiProducer ? new MpscAtomicArrayQueue<>(capacity) : new SpscAtomicArrayQueue<>(capacity);
        this.capacity = capacity;
    }

    /** Hands {@code packet} to the consumer; false (and the packet released) when the ring is full. */
    public boolean offer(PacketBuffer packet) {
        if (queue.offer(packet)) {
            wake();
            return true;
        }
        packet.release();
        return false;
    }

    /**
     * Hands {@code packets[0..count)} to the consumer in order and clears those array slots; returns
     * how many fit. Those that did not were released.
     */
    public int offer(PacketBuffer[] packets, int count) {
        int accepted = 0;
        for (int i = 0; i < count; i++) {
            PacketBuffer p = packets[i];
            packets[i] = null;
            if (queue.offer(p)) {
                accepted++;
            } else {
                p.release();
            }
        }
        if (accepted > 0) wake();
        return accepted;
    }

    /** Moves up to {@code limit} packets into {@code out[0..)}; returns how many. Consumer thread only. */
    public int drain(PacketBuffer[] out, int limit) {
        int n = 0;
        PacketBuffer p;
        while (n < limit && (p = queue.poll()) != null) out[n++] = p;
        return n;
    }

    /**
     * Parks the consumer thread until a producer offers or {@code timeout} passes, unless the ring
     * already holds something. Consumer thread only; spurious returns are allowed.
     */
    public void await(long timeout, TimeUnit unit) {
        if (!queue.isEmpty()) return;
        sleeper = Thread.currentThread();
        try {
            if (queue.isEmpty()) LockSupport.parkNanos(this, unit.toNanos(timeout));
        } finally {
            sleeper = null;
        }
    }

    /** Wakes the consumer if it sleeps in {@link #await} (also used to make it notice a shutdown). */
    public void wake() {
        // Orders our offer before reading sleeper; pairs with the volatile write in await (Dekker).
        VarHandle.fullFence();
        Thread t = sleeper;
        if (t != null) LockSupport.unpark(t);
    }

    /** Packets waiting (approximate while producers run). */
    public int size() {
        return queue.size();
    }

    /** True when nothing waits. */
    public boolean isEmpty() {
        return queue.isEmpty();
    }

    /** The capacity asked for. */
    public int capacity() {
        return capacity;
    }

    /** Releases every packet still in the ring (at shutdown, from the consumer's side); returns how many. */
    public int clear() {
        int n = 0;
        PacketBuffer p;
        while ((p = queue.poll()) != null) {
            p.release();
            n++;
        }
        return n;
    }
}
