package io.dataplane.transport.netty;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.ring.PacketRing;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPromise;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The send side of a transport: any thread offers datagrams into a bounded MPSC ring; the channel's
 * event loop drains it, writes a drained batch to the channel and flushes it once, which Netty turns
 * into one sendmmsg.
 *
 * <p>Wakeup: a producer schedules this object (one reusable task) on the event loop only when the
 * {@code scheduled} flag goes from false to true, so a burst of sends costs one task, not one per
 * packet. The task clears the flag before it drains, so a packet offered after its last poll finds
 * the flag clear and schedules the next run.
 *
 * <p>Backpressure: while the channel is not writable (Netty's outbound buffer is above its high-water
 * mark because the socket's send buffer is full), the task leaves packets in the ring; the handler's
 * writability event schedules it again. The ring keeps up to its capacity, and a producer whose
 * packets do not fit gets them released at once and a smaller return value. Nothing ever blocks.
 *
 * <p>Shutdown: {@link #close()} closes the door (producers in flight finish first, later ones get
 * their buffers released at once), so that draining the ring afterwards cannot miss a buffer.
 */
final class DatagramSender implements Runnable {
    private final PacketRing ring;
    private final PacketBuffer[] drained;
    private final PeerAddressCache peers = new PeerAddressCache();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final AtomicInteger producersInside = new AtomicInteger();
    private final Counters counters;
    private final ByteBufAllocator alloc;
    private Channel channel;
    private ChannelPromise voidPromise;
    private volatile boolean closed;
    private volatile long pauses;

    DatagramSender(int ringCapacity, int batchSize, Counters counters, ByteBufAllocator alloc) {
        this.ring = new PacketRing(ringCapacity, true);
        this.drained = new PacketBuffer[batchSize];
        this.counters = counters;
        this.alloc = alloc;
    }

    /** Connects the sender to its bound channel; called once, before any send. */
    void channel(Channel channel) {
        this.channel = channel;
        this.voidPromise = channel.voidPromise();
    }

    /** See {@link io.dataplane.core.spi.Transport#send}; returns 0 (all released) once closed. */
    int send(PacketBuffer[] batch, int count) {
        producersInside.incrementAndGet();
        try {
            if (closed) {
                PacketPool.releaseAll(batch, 0, count);
                return 0;
            }
            int accepted = ring.offer(batch, count);
            if (accepted > 0) schedule();
            return accepted;
        } finally {
            producersInside.decrementAndGet();
        }
    }

    /** Makes sure a drain task runs soon on the event loop; at most one is ever queued. */
    void schedule() {
        // Once closed the event loop may be shutting down and refuse tasks; close() drains the ring itself.
        if (closed) return;
        if (!scheduled.get() && scheduled.compareAndSet(false, true)) {
            channel.eventLoop().execute(this);
        }
    }

    /** The drain task, on the event loop. */
    @Override
    public void run() {
        scheduled.set(false);
        if (closed || !channel.isActive()) return;
        int budget = ring.capacity();
        while (budget > 0 && channel.isWritable()) {
            int n = ring.drain(drained, Math.min(drained.length, budget));
            if (n == 0) break;
            for (int i = 0; i < n; i++) {
                PacketBuffer p = drained[i];
                drained[i] = null;
                write(p);
            }
            channel.flush();
            budget -= n;
        }
        // One ring's worth per run, then let reads have the loop; come back if more is waiting and
        // the socket can take it (if it cannot, the writability event brings us back).
        if (!ring.isEmpty()) {
            if (channel.isWritable()) {
                schedule();
            } else {
                pauses = pauses + 1;
            }
        }
    }

    private void write(PacketBuffer p) {
        int length = p.length();
        int port = p.peerPort();
        if (length == 0 || port <= 0 || port > 0xffff) {
            // Netty's sendmmsg batching miscounts a zero-length datagram, and port 0 is no destination.
            counters.drop(DropReason.SEND_FAILED);
            p.release();
            return;
        }
        InetSocketAddress to = peers.get(p.peerAddress(), port);
        int from = p.offset();
        PacketByteBuf view = PacketByteBuf.of(p, alloc).claim(from, from + length);
        // From here Netty owns the buffer: it releases the view (and so the buffer) once the datagram
        // is sent, has failed, or the channel closes.
        channel.write(view.datagramTo(to), voidPromise);
    }

    /**
     * Refuses new sends and waits for producers already inside {@link #send} to leave; after this no
     * buffer can enter the ring.
     */
    void close() {
        closed = true;
        while (producersInside.get() != 0) Thread.onSpinWait();
    }

    /** Releases what is left in the ring (after {@link #close()} and after the event loop stopped). */
    int releaseQueued() {
        return ring.clear();
    }

    /** Times draining stopped with packets left in the ring because the socket pushed back. */
    long pauses() {
        return pauses;
    }

    /** Capacity of the send ring. */
    int ringCapacity() {
        return ring.capacity();
    }

    /** Datagrams waiting in the ring. */
    int queued() {
        return ring.size();
    }

    /** Endpoints the sender has built socket addresses for. */
    int cachedPeers() {
        return peers.size();
    }
}
