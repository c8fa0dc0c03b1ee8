package io.dataplane.core.testing;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.PollableTunnelDevice;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An in-memory {@link io.dataplane.core.spi.TunnelDevice}: tests {@link #inject} packets as if a
 * pod sent them and {@link #awaitWritten take} what the dataplane wrote, as a pod would receive it.
 * Pollable with a {@link FakePoller}.
 */
public final class FakeTunnelDevice implements PollableTunnelDevice, FakePoller.Source {
    private final String name;
    private final int mtu;
    private final int batchSize;
    private final BlockingQueue<Read> toRead = new LinkedBlockingQueue<>();
    private final BlockingQueue<byte[]> written = new LinkedBlockingQueue<>();
    private volatile boolean closed;
    private volatile Runnable onInput;

    /** A fake device called {@code name} with this MTU and batch size. */
    public FakeTunnelDevice(String name, int mtu, int batchSize) {
        this.name = name;
        this.mtu = mtu;
        this.batchSize = batchSize;
    }

    private record Read(byte[] packet, int gsoSize) {}

    /** Queues a packet for the dataplane to read, as if a pod had sent it. */
    public void inject(byte[] packet) {
        inject(packet, 0);
    }

    /** Queues a TSO super-packet of {@code gsoSize}-byte segments (0: a plain packet), as a TUN with offloads reads it. */
    public void inject(byte[] packet, int gsoSize) {
        toRead.add(new Read(packet.clone(), gsoSize));
        Runnable r = onInput;
        if (r != null) r.run();
    }

    /** The next packet the dataplane wrote, or null after {@code timeout}. */
    public byte[] awaitWritten(Duration timeout) throws InterruptedException {
        return written.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Packets written and not yet taken. */
    public int writtenCount() {
        return written.size();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int mtu() {
        return mtu;
    }

    @Override
    public int batchSize() {
        return batchSize;
    }

    @Override
    public int read(PacketBuffer[] packets, int count) {
        int limit = Math.min(count, batchSize);
        int n = 0;
        while (n == 0) {
            if (closed) return CLOSED;
            Read p;
            try {
                p = toRead.poll(20, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return CLOSED;
            }
            while (p != null) {
                fill(packets[n], p);
                if (++n == limit) break;
                p = toRead.poll();
            }
        }
        return n;
    }

    @Override
    public int readNow(PacketBuffer[] packets, int count) {
        if (closed) return CLOSED;
        int limit = Math.min(count, batchSize);
        int n = 0;
        Read p;
        while (n < limit && (p = toRead.poll()) != null) fill(packets[n++], p);
        return n;
    }

    private static void fill(PacketBuffer b, Read r) {
        byte[] p = r.packet();
        int off = b.offset();
        int len = Math.min(p.length, b.capacity() - off);
        MemorySegment.copy(p, 0, b.segment(), ValueLayout.JAVA_BYTE, off, len);
        b.setLength(len).setGsoSize(r.gsoSize());
    }

    @Override
    public boolean ready() {
        return closed || !toRead.isEmpty();
    }

    @Override
    public void onInput(Runnable action) {
        onInput = action;
    }

    @Override
    public int write(PacketBuffer[] packets, int count) {
        if (closed) return CLOSED;
        for (int i = 0; i < count; i++) written.add(packets[i].toByteArray());
        return count;
    }

    @Override
    public void close() {
        closed = true;
        Runnable r = onInput;
        if (r != null) r.run();
    }
}
