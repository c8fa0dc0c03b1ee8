package io.dataplane.tun.socket;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.sys.MmsgBatch;
import io.dataplane.tun.sys.SegmentBatch;
import io.dataplane.tun.sys.WakeableFd;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.util.function.BooleanSupplier;

/**
 * What the {@link TransportSocket}s over {@code sendmmsg}/{@code recvmmsg} share, whatever their
 * protocol: the nonblocking descriptor with its close wakeup ({@link WakeableFd}), the native
 * batches of both directions, and the receive path, which drops and counts datagrams cut short
 * ({@code MSG_TRUNC}) and keeps the filled buffers first. A subclass says how it sends and what a
 * received datagram becomes ({@link #accept}).
 *
 * <p>The socket is nonblocking; a blocking receive waits in {@code poll} and {@link #close} wakes it
 * within a millisecond. One thread sends and one receives at a time (they may run concurrently).
 */
public abstract class MmsgSocket implements TransportSocket {
    /** Most datagrams one call moves. */
    protected final int batchSize;
    /** The descriptor, with its reading and writing directions. */
    protected final WakeableFd fd;
    /** {@code fd}'s number. */
    protected final int fdNumber;
    /** Native memory of the socket, freed at close. */
    protected final Arena arena = Arena.ofShared();
    /** The send direction's slots. */
    protected final MmsgBatch sendBatch;
    private final MmsgBatch receiveBatch;
    private SegmentBatch segmentBatch; // made by the first super-packet sent
    private final MmsgBatch.Acceptor acceptor = this::acceptAll; // one object, not one per call
    // Written by the receiving thread only.
    private volatile long truncated;
    private volatile long datagrams;
    private volatile long trains;
    private volatile long trainDatagrams;

    /** Takes ownership of {@code fd} (nonblocking); batches of up to {@code batchSize} datagrams. */
    protected MmsgSocket(int batchSize, WakeableFd fd) {
        this.batchSize = batchSize;
        this.fd = fd;
        this.fdNumber = fd.fd();
        this.sendBatch = new MmsgBatch(arena, batchSize);
        this.receiveBatch = new MmsgBatch(arena, batchSize);
    }

    /**
     * Sends {@code packets[0..count)} in {@code sendmmsg} batches, each buffer's data to its peer
     * (address, and port when {@code withPort}); returns how many the kernel took, or {@link
     * #CLOSED}. A TCP super-packet (gsoSize above 0, {@link PacketBuffer#gsoPrefix()} set) goes out
     * as the datagrams of its segments ({@link #segmentBatch()}, no copy, never waiting), a {@link
     * PacketBuffer#TRAIN train} as its datagrams, and each counts as taken only if all of them were; the single datagrams around it keep their order.
     */
    protected int sendWithSegments(PacketBuffer[] packets, int count, boolean wait, boolean withPort) throws ErrnoException {
        WakeableFd.Direction out = fd.writing();
        if (!out.enter()) return CLOSED;
        try {
            MmsgBatch b = sendBatch;
            int sent = 0;
            int n = 0; // single datagrams gathered in b's slots, sent when b is full, at the end, or before a super-packet
            for (int i = 0; i < count; i++) {
                PacketBuffer p = packets[i];
                boolean single = p.gsoSize() == 0;
                if (single) {
                    b.toSend(n++, p, withPort);
                    if (n < batchSize && i + 1 < count) continue;
                }
                if (n > 0) {
                    int r = b.send(out, fdNumber, n, wait);
                    if (r == MmsgBatch.CLOSED) return CLOSED;
                    sent += r;
                    n = 0;
                }
                if (!single) {
                    int r = p.gsoPrefix() == PacketBuffer.TRAIN ? segmentBatch().sendTrain(out.errno(), fdNumber, p)
                            : segmentBatch().send(out.errno(), fdNumber, p);
                    if (r == MmsgBatch.CLOSED) return CLOSED;
                    sent += r;
                }
            }
            return sent;
        } finally {
            out.exit();
        }
    }

    /** The segments' send path of {@link #sendWithSegments}, made on first use ({@link #newSegmentBatch}); the sending thread's. */
    protected SegmentBatch segmentBatch() {
        SegmentBatch s = segmentBatch;
        if (s == null) segmentBatch = s = newSegmentBatch(arena);
        return s;
    }

    /** A new {@link SegmentBatch} in {@code arena}, as this socket sends segments (with UDP GSO or one datagram each). */
    protected SegmentBatch newSegmentBatch(Arena arena) {
        return new SegmentBatch(arena);
    }

    /** True once a super-packet was sent. */
    protected boolean sentSegments() {
        return segmentBatch != null;
    }

    /** Gives the receive batch room for a control message per datagram ({@link MmsgBatch#controlInt}); before the first receive. */
    protected void receiveControl() {
        receiveBatch.receiveControl(arena);
    }

    /**
     * Makes slot {@code i}'s datagram, received into {@code p} at its offset, the buffer's data and
     * sets its peer; false drops it (the buffer is reused).
     */
    protected abstract boolean accept(MmsgBatch batch, int i, PacketBuffer p);

    /**
     * Receives up to {@code min(count, batchSize())} datagrams, blocking for the first: each one
     * becomes a buffer's data and its sender the peer. The filled buffers are {@code
     * packets[0..result)}; when a datagram is dropped the array's buffers may change places (they
     * all stay in {@code packets[0..count)}).
     *
     * @return the number of buffers filled (at least 1), or {@link #CLOSED}
     * @throws ErrnoException naming the socket if receiving fails
     */
    public int receive(PacketBuffer[] packets, int count) throws IOException {
        return receive(packets, count, true);
    }

    /**
     * As {@link #receive(PacketBuffer[], int)}, but returns 0 when no datagram is waiting instead of blocking.
     *
     * @return the number of buffers filled, 0 if none was waiting, or {@link #CLOSED}
     * @throws ErrnoException naming the socket if receiving fails
     */
    public int receiveNow(PacketBuffer[] packets, int count) throws IOException {
        return receive(packets, count, false);
    }

    @Override
    public int receive(PacketBuffer[] packets, int count, boolean block) throws IOException {
        return receiveBatch.receive(fd.reading(), fdNumber, packets, Math.min(count, batchSize), block, null, acceptor, this);
    }

    /** Asks {@code beforeWait} where recvmmsg finds the socket empty, before poll: no extra system call. */
    @Override
    public int receive(PacketBuffer[] packets, int count, BooleanSupplier beforeWait) throws IOException {
        return receiveBatch.receive(fd.reading(), fdNumber, packets, Math.min(count, batchSize), true, beforeWait, acceptor, this);
    }

    // Drops (and counts) truncated datagrams and the ones accept refuses; keeps the filled buffers first.
    private int acceptAll(MmsgBatch b, PacketBuffer[] packets, int received) {
        int kept = 0;
        for (int i = 0; i < received; i++) {
            PacketBuffer p = packets[i];
            if (b.truncated(i)) {
                truncated = truncated + 1;
                continue;
            }
            datagrams = datagrams + 1;
            if (!accept(b, i, p)) continue;
            if (kept != i) {
                // Swap this one with the dropped slot before it.
                packets[i] = packets[kept];
                packets[kept] = p;
            }
            kept++;
        }
        return kept;
    }

    @Override
    public long truncated() {
        return truncated;
    }

    /** Counts a datagram that {@link #accept} drops as too long, with those cut short ({@link #truncated()}). */
    protected void countTruncated() {
        truncated = truncated + 1;
    }

    /** Counts a receive that {@link #accept} found to be a train of {@code datagrams} datagrams. */
    protected void countTrain(int datagrams) {
        trains = trains + 1;
        trainDatagrams = trainDatagrams + datagrams;
        this.datagrams = this.datagrams + datagrams - 1; // the train was counted once already
    }

    @Override
    public long received() {
        return datagrams;
    }

    @Override
    public long trainsReceived() {
        return trains;
    }

    @Override
    public long trainDatagrams() {
        return trainDatagrams;
    }

    @Override
    public int batchSize() {
        return batchSize;
    }

    @Override
    public int fd() {
        return fdNumber;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (fd.isClosed()) return;
            fd.close();
        }
        arena.close();
    }
}
