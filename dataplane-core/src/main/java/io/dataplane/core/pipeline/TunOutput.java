package io.dataplane.core.pipeline;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.buffer.PacketTrain;
import io.dataplane.core.ring.PacketRing;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.wire.TcpCoalescer;
import java.io.IOException;

/**
 * Where a stage puts the packets bound for the TUN (decapsulated ones, replies such as ICMP
 * errors): into a {@link Ring} for a writer thread, or {@link Direct}ly into the device on the
 * stage's own thread. Each instance belongs to one thread, and counts on that thread's counters.
 */
sealed interface TunOutput permits TunOutput.Ring, TunOutput.Direct {

    /** Takes {@code p} for the TUN; it is no longer the caller's. */
    void add(PacketBuffer p);

    /**
     * Takes the packets of {@code train}, after those {@link #add}ed before, and its buffer, which
     * is no longer the caller's; the train itself stays the caller's, to reuse.
     */
    void add(PacketTrain train);

    /** Writes what {@link #add} kept back; the caller's batch is done. */
    void flush();

    /** True if what {@link #add} kept back ends with a TCP segment a run may go on after ({@link TcpCoalescer#continuable}). */
    boolean holdsOpenRun();

    /**
     * Hands packets to the TUN writer thread; a full ring drops ({@code RING_FULL}), never blocks,
     * never loses the buffer. A train, whose packets share one buffer, goes into the device on the
     * caller's thread through {@code trains} (the ring carries one packet per buffer).
     */
    final class Ring implements TunOutput {
        private final PacketRing ring;
        private final Counters counters;
        private final Direct trains;

        Ring(PacketRing ring, Counters counters, Direct trains) {
            this.ring = ring;
            this.counters = counters;
            this.trains = trains;
        }

        @Override
        public void add(PacketBuffer p) {
            if (!ring.offer(p)) counters.drop(DropReason.RING_FULL); // offer released it
        }

        @Override
        public void add(PacketTrain train) {
            trains.add(train);
        }

        @Override
        public void flush() {
            trains.flush();
        }

        @Override
        public boolean holdsOpenRun() {
            return trains.holdsOpenRun();
        }
    }

    /**
     * Writes into the device on the caller's thread, up to {@link Pipeline#MAX_BATCH} packets a
     * call, counting each as ingress; a packet the device refuses is {@code TUN_WRITE_FAILED}. Where
     * two threads write into one device each has its own instance and both share {@code lock}
     * (the device takes one writer at a time). A device that fails is recorded as the path's
     * failure; the packets are counted and released either way.
     *
     * <p>A train that ends with a TCP segment its flow may go on after ({@link
     * TcpCoalescer#continuable}) is held until the next {@code add} or {@link #flush}: a sender's
     * super-packet of more segments than one UDP GSO message carries (47 at MTU 1450, where a
     * message carries 44) arrives as two trains, and the next train joins the held one
     * ({@link PacketTrain#append}), so the device writes the whole super-packet in one write and
     * the pod's TCP takes it up, and acknowledges it, once.
     */
    final class Direct implements TunOutput {
        private final TunnelDevice tun;
        private final Object lock;
        private final Counters counters;
        private final PathState state;
        private final PacketBuffer[] pending = new PacketBuffer[Pipeline.MAX_BATCH];
        private final PacketTrain held = new PacketTrain();
        private int count;

        Direct(TunnelDevice tun, Object lock, Counters counters, PathState state) {
            this.tun = tun;
            this.lock = lock;
            this.counters = counters;
            this.state = state;
        }

        @Override
        public void add(PacketBuffer p) {
            if (held.count() > 0) writeHeld();
            pending[count++] = p;
            if (count == pending.length) flush();
        }

        @Override
        public void add(PacketTrain train) {
            flushPending();
            if (held.count() > 0) {
                boolean joined = held.append(train);
                writeHeld();
                if (joined) return;
            }
            int n = train.count();
            if (n > 0 && TcpCoalescer.continuable(train.select(n - 1))) {
                held.moveFrom(train);
                return;
            }
            write(train);
        }

        private void writeHeld() {
            write(held);
            held.clear();
        }

        // Writes train's packets and releases its buffers.
        private void write(PacketTrain train) {
            int n = train.count();
            try {
                int written;
                synchronized (lock) {
                    written = state.running() ? tun.writeTrain(train) : TunnelDevice.CLOSED;
                }
                if (written == TunnelDevice.CLOSED) {
                    counters.drop(DropReason.TUN_WRITE_FAILED, n);
                } else {
                    for (int i = 0; i < n; i++) counters.countIngress(train.length(i));
                    if (written < n) counters.drop(DropReason.TUN_WRITE_FAILED, n - written);
                }
            } catch (IOException | RuntimeException e) {
                counters.drop(DropReason.TUN_WRITE_FAILED, n);
                state.fail("TUN writes", e);
            } finally {
                for (int k = 0; k < train.bufferCount(); k++) train.buffer(k).release();
            }
        }

        @Override
        public boolean holdsOpenRun() {
            return count > 0 ? TcpCoalescer.continuable(pending[count - 1]) : held.count() > 0;
        }

        /** Takes up to {@code limit} (at most {@link Pipeline#MAX_BATCH}) from {@code ring} and writes them; returns how many. */
        int writeFrom(PacketRing ring, int limit) {
            count = ring.drain(pending, limit);
            int n = count;
            flush();
            return n;
        }

        @Override
        public void flush() {
            if (held.count() > 0) writeHeld();
            flushPending();
        }

        private void flushPending() {
            int n = count;
            if (n == 0) return;
            count = 0;
            try {
                int written;
                synchronized (lock) {
                    written = state.running() ? tun.write(pending, n) : TunnelDevice.CLOSED;
                }
                if (written == TunnelDevice.CLOSED) {
                    counters.drop(DropReason.TUN_WRITE_FAILED, n);
                } else {
                    for (int i = 0; i < n; i++) counters.countIngress(pending[i].length());
                    if (written < n) counters.drop(DropReason.TUN_WRITE_FAILED, n - written);
                }
            } catch (IOException | RuntimeException e) {
                counters.drop(DropReason.TUN_WRITE_FAILED, n);
                state.fail("TUN writes", e);
            } finally {
                PacketPool.releaseAll(pending, 0, n);
            }
        }
    }
}
