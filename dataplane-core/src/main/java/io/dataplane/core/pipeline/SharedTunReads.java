package io.dataplane.core.pipeline;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.spi.PollableTunnelDevice;
import io.dataplane.core.spi.Poller;
import io.dataplane.core.spi.TunnelDevice;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The TUN's reads in {@link Pipeline.TunWriter#RECEIVE_THREAD} mode over a {@link
 * PollableTunnelDevice}, shared by two threads under one lock: the egress thread ("dp-egress-NAME",
 * this class as its agent and idle strategy), which reads whatever the TUN has and waits in a
 * {@link Poller} while it has nothing, and the transport's receive thread, which {@linkplain
 * #claim claims} the reads before it writes packets into the TUN and, having them, makes one read of
 * its own after the write ({@link #answer}).
 *
 * <p>Why the receive thread reads: a packet written into the TUN goes through the kernel's stack
 * inside that write, and what the kernel answers at once (an ICMP echo reply, a TCP
 * acknowledgement) is queued in the TUN before the write returns. The receive thread, still
 * running, takes it and sends it, where otherwise the egress thread would have to be woken for it,
 * often on the other core: one wakeup fewer on the way of every request that the kernel answers,
 * per node. The kernel still wakes the egress thread, which waits for the lock and then finds the
 * TUN empty, off the packet's way. The claim comes before the write because the egress thread, woken
 * inside it, would otherwise often read first. The receive thread only tries the lock, so it never
 * waits for the egress thread, and claims nothing while the egress thread reads or forwards, which
 * keeps a busy TUN's traffic on the egress thread; and it reads one batch.
 *
 * <p>The egress stage, the read batch and the device's reading side are used under the lock only,
 * so by one thread at a time, as their contracts ask.
 */
final class SharedTunReads implements Agent, IdleStrategy {
    /** Longest the egress thread spins for the lock the receive thread holds before it sleeps in it. */
    static final long SPIN_NANOS = java.util.concurrent.TimeUnit.MICROSECONDS.toNanos(50);
    private final ReentrantLock lock = new ReentrantLock();
    private final PathState state;
    private final PollableTunnelDevice tun;
    private final EgressStage egress;
    private final ReadBatch buffers;
    private final Poller poller;
    private boolean poolDry; // the egress thread's: its last doWork found no buffer to read into
    private boolean ended; // under the lock: the egress thread returned the buffers, no more reads

    /** Reads of up to {@code batch} packets of {@code tun} into buffers of {@code tunPool}, forwarded by {@code egress}. */
    SharedTunReads(PathState state, PollableTunnelDevice tun, PacketPool tunPool, int batch, EgressStage egress) throws IOException {
        this.state = state;
        this.tun = tun;
        this.egress = egress;
        this.buffers = new ReadBatch(tunPool, batch);
        this.poller = tun.pollers().open(List.of(tun));
    }

    /** The egress thread: reads and forwards what the TUN has now (0: nothing, or no buffer to read into). */
    @Override
    public int doWork() throws IOException {
        acquire();
        try {
            int n = readAndForward();
            poolDry = n == 0 && buffers.held() == 0;
            return n;
        } finally {
            lock.unlock();
        }
    }

    /*
     * The egress thread takes the lock. Held, it is the receive thread's between its TUN write and
     * the send of what it read after (microseconds): the egress thread spins for that rather than
     * sleeps, since sleeping and being woken at the unlock would cost both threads a context switch
     * (the receive thread's a preemption by the thread it woke); past SPIN_NANOS it waits in the lock.
     */
    private void acquire() {
        if (lock.tryLock()) return;
        long deadline = System.nanoTime() + SPIN_NANOS;
        while (lock.isLocked() && System.nanoTime() - deadline < 0) Thread.onSpinWait();
        lock.lock();
    }

    /** The egress thread, after a doWork that moved nothing: waits until the TUN has input (or a millisecond, for a dry pool). */
    @Override
    public void idle(int workCount) throws IOException {
        if (workCount > 0) return;
        if (poolDry) {
            LockSupport.parkNanos(IDLE_NANOS); // the buffers come back as the other stages finish; the packets wait in the kernel
            return;
        }
        if (state.running()) poller.await(-1);
    }

    /**
     * The receive thread, about to write packets into the TUN: takes the reads if the egress thread
     * is not reading or forwarding (true), so that what the kernel answers inside the write is this
     * thread's to read ({@link #answer}), not the egress thread's, which the kernel wakes for it.
     * False: the egress thread reads as usual. Never waits.
     */
    boolean claim() {
        return state.running() && lock.tryLock();
    }

    /**
     * The receive thread, after its TUN write, having {@link #claim claimed} the reads: reads and
     * forwards what the TUN has now, once, and gives the reads back. A device that fails is the
     * path's failure.
     */
    void answer() {
        try {
            readAndForward();
        } catch (IOException e) {
            state.fail("egress", e);
        } finally {
            lock.unlock();
        }
    }

    /** The receive thread: gives back reads it {@link #claim claimed} and has nothing to read for. */
    void release() {
        lock.unlock();
    }

    // Under the lock: one nonblocking read of up to a batch, forwarded; the number moved, or CLOSED.
    private int readAndForward() throws IOException {
        if (ended) return CLOSED;
        int held = buffers.fill();
        if (held == 0) return 0;
        int n = tun.readNow(buffers.buffers(), held);
        if (n == TunnelDevice.CLOSED) return CLOSED;
        if (n > 0) {
            egress.forward(buffers.buffers(), n);
            buffers.handedOn(n);
        }
        return n;
    }

    /** Wakes the egress thread out of its wait (after {@link PathState#stop}). */
    void wake() {
        poller.wake();
    }

    /** The egress thread, as it ends: returns the buffers held. */
    @Override
    public void onClose() {
        lock.lock();
        try {
            ended = true;
            buffers.release();
        } finally {
            lock.unlock();
        }
    }

    /** Releases the poller; once no thread can be in it or in {@link #answer} (both threads joined). */
    void close() {
        poller.close();
    }
}
