package io.dataplane.core.testing;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.spi.PollableTransport;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An in-memory {@link io.dataplane.core.spi.Transport} on a {@link FakeNetwork}. Sends copy the
 * payload into a buffer of the receiving transport's pool and queue it; a delivery thread hands
 * queued datagrams to the receiver in batches, or, polled ({@link FakePoller}), {@link #receiveNow}
 * copies them into the caller's buffers. Datagrams to an address nobody attached are counted as
 * {@code SEND_FAILED}. A train ({@link PacketBuffer#TRAIN}) arrives as one buffer with its datagram
 * size, as a UDP socket with GRO takes one up.
 */
public final class FakeTransport implements PollableTransport, FakePoller.Source {
    private static final int BATCH = 32;
    private final FakeNetwork network;
    private final int address;
    private final int port;
    private final PacketPool pool;
    private final BlockingQueue<PacketBuffer> inbox = new LinkedBlockingQueue<>(4096);
    private final Counters counters = new Counters();
    private volatile boolean closed;
    private volatile Runnable onInput;
    private Thread delivery;
    private boolean polled;

    FakeTransport(FakeNetwork network, int address, int port, PacketPool pool) {
        this.network = network;
        this.address = address;
        this.port = port;
        this.pool = pool;
    }

    /** This transport's IPv4 address on the fake underlay. */
    public int address() {
        return address;
    }

    /** Delivers a datagram to this transport as if {@code srcAddress:srcPort} had sent it (bad-input tests). */
    public boolean inject(byte[] payload, int srcAddress, int srcPort) {
        return inject(payload, srcAddress, srcPort, 0);
    }

    /**
     * Delivers {@code payload} as a socket with UDP GRO hands up what the kernel reported with a GRO
     * size of {@code gsoSize} (above 0: a train of datagrams of that size, or one datagram the
     * receiver may find to be a whole super-packet).
     */
    public boolean inject(byte[] payload, int srcAddress, int srcPort, int gsoSize) {
        PacketBuffer b = pool.acquire();
        if (b == null) return false;
        if (payload.length > b.capacity() - b.offset()) {
            b.release();
            return false;
        }
        b.put(payload).setPeer(srcAddress, srcPort).setGsoSize(gsoSize);
        return enqueue(b);
    }

    /**
     * Delivers {@code datagrams}, back to back, as one train received at once (as UDP GRO hands one
     * up): each {@code gsoSize} bytes but the last (bad-input tests).
     */
    public boolean injectTrain(byte[] datagrams, int gsoSize, int srcAddress, int srcPort) {
        PacketBuffer b = pool.acquire();
        if (b == null) return false;
        if (datagrams.length > b.capacity() - b.offset()) {
            b.release();
            return false;
        }
        b.put(datagrams).setPeer(srcAddress, srcPort).setGsoSize(gsoSize);
        return enqueue(b);
    }

    // Under the inbox's lock so that close() cannot miss a buffer queued while it drains.
    private boolean enqueue(PacketBuffer b) {
        boolean queued;
        synchronized (inbox) {
            queued = !closed && inbox.offer(b);
        }
        if (!queued) {
            b.release();
            return false;
        }
        Runnable r = onInput;
        if (r != null) r.run();
        return true;
    }

    @Override
    public synchronized void start(Receiver receiver) {
        if (delivery != null) throw new IllegalStateException("already started");
        if (polled) throw new IllegalStateException("polled (receiveNow): cannot also be started");
        delivery = Thread.ofPlatform().name("fake-transport-" + port).daemon().start(() -> deliver(receiver));
    }

    private void deliver(Receiver receiver) {
        PacketBuffer[] batch = new PacketBuffer[BATCH];
        try {
            deliver(receiver, batch);
        } finally {
            receiver.onIdle();
        }
    }

    // As a socket transport's receive thread: the receiver hears of an empty inbox before each wait.
    private void deliver(Receiver receiver, PacketBuffer[] batch) {
        while (!closed) {
            try {
                PacketBuffer first = inbox.poll();
                if (first == null) {
                    receiver.onIdle();
                    first = inbox.poll(20, TimeUnit.MILLISECONDS);
                }
                if (first == null) continue;
                batch[0] = first;
                int n = 1;
                PacketBuffer b;
                while (n < BATCH && (b = inbox.poll()) != null) batch[n++] = b;
                receiver.onReceive(batch, n);
                java.util.Arrays.fill(batch, 0, n, null);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Copies queued datagrams into the caller's buffers (releasing the queued ones); never blocks. */
    @Override
    public int receiveNow(PacketBuffer[] packets, int count) {
        synchronized (this) {
            if (delivery != null) throw new IllegalStateException("started: the delivery thread receives");
            polled = true;
        }
        if (closed) return CLOSED;
        int limit = Math.min(count, BATCH);
        int n = 0;
        PacketBuffer queued;
        while (n < limit && (queued = inbox.poll()) != null) {
            PacketBuffer b = packets[n];
            int len = queued.length();
            if (len > b.capacity() - b.offset()) {
                counters.drop(DropReason.OVERSIZE);
            } else {
                MemorySegment.copy(queued.segment(), queued.offset(), b.segment(), b.offset(), len);
                b.setLength(len).setPeer(queued.peerAddress(), queued.peerPort()).setGsoSize(queued.gsoSize());
                n++;
            }
            queued.release();
        }
        return n;
    }

    @Override
    public boolean ready() {
        return closed || !inbox.isEmpty();
    }

    @Override
    public void onInput(Runnable action) {
        onInput = action;
    }

    @Override
    public int send(PacketBuffer[] batch, int count) {
        for (int i = 0; i < count; i++) {
            PacketBuffer p = batch[i];
            FakeTransport dst = closed ? null : network.lookup(p.peerAddress(), p.peerPort());
            if (dst == null || !dst.receiveCopy(p, address, port)) counters.drop(DropReason.SEND_FAILED);
            p.release();
        }
        return count;
    }

    private boolean receiveCopy(PacketBuffer src, int srcAddress, int srcPort) {
        if (closed) return false;
        PacketBuffer b = pool.acquire();
        if (b == null) return false;
        int len = src.length();
        if (len > b.capacity() - b.offset()) {
            b.release();
            return false;
        }
        MemorySegment.copy(src.segment(), src.offset(), b.segment(), b.offset(), len);
        b.setLength(len).setPeer(srcAddress, srcPort);
        if (src.gsoPrefix() == PacketBuffer.TRAIN) b.setGsoSize(src.gsoSize()); // received as one, as UDP GRO would
        return enqueue(b);
    }

    /** True: a train of datagrams reaches its receiver as one buffer with the datagram size, as UDP GSO and GRO on both ends would. */
    @Override
    public boolean sendsTrains() {
        return true;
    }

    /** True: the delivery thread calls {@link Receiver#onIdle} whenever the inbox is empty, before it waits, and as it stops. */
    @Override
    public boolean reportsIdle() {
        return true;
    }

    @Override
    public int localPort() {
        return port;
    }

    @Override
    public int batchSize() {
        return BATCH;
    }

    @Override
    public Counters counters() {
        return counters;
    }

    @Override
    public void close() {
        synchronized (inbox) {
            closed = true;
        }
        network.detach(this);
        Thread t;
        synchronized (this) {
            t = delivery;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        PacketBuffer b;
        while ((b = inbox.poll()) != null) b.release();
        Runnable r = onInput;
        if (r != null) r.run();
    }
}
