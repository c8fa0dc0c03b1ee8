package io.dataplane.tun;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketTrain;
import io.dataplane.core.spi.TunnelDevice;
import io.dataplane.tun.sys.Errno;
import io.dataplane.tun.sys.IoUring;
import io.dataplane.tun.sys.WakeableFd;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A {@link TunDevice}'s batch reads and writes through io_uring: a TUN has no {@code readv} of
 * many packets and no {@code sendmmsg}, so the plain path makes one system call per packet; here
 * a batch of reads, or of writes, goes to the kernel in one {@code io_uring_enter}, which also
 * reaps their completions. One ring per direction, since the reader and the writer run on their
 * own threads.
 *
 * <p>The reads of a batch complete inside that {@code io_uring_enter} ({@link IoUring}'s
 * {@code RWF_NOWAIT}); none is left in flight, so the buffers stay the caller's as the {@link
 * TunnelDevice} contract says, and waiting for the first packet stays the device's {@code poll}
 * (which {@link TunDevice#close} wakes and a poller of several descriptors shares). A read whose
 * turn came after the kernel's queue ran dry completes with EAGAIN. A batch reads as many as the
 * last one brought, twice that if the last one filled every read, within the batch size: a flood
 * takes the whole batch, a trickle one read or two. Fewer than {@value #RING_MIN_READS} reads are
 * plain {@code read} calls: a read through the ring costs more than a call of its own (above all
 * one that completes with EAGAIN), which the one {@code io_uring_enter} for a batch of a few does
 * not win back. So lone packets, TCP's acknowledgements and a TCP flow's 64 KiB super-packets (of
 * which the kernel seldom holds more than two at once) take plain reads, and runs of small packets
 * the ring.
 *
 * <p>Writes of single packets are submitted together, in order, and the kernel takes them in
 * order; fewer than {@value #RING_MIN_WRITES} in a row (a train of TCP acknowledgements, say) are
 * plain writes, as few reads are. A run of TCP segments that the device joins into one
 * super-packet is written on its own ({@code writev}), after the single packets before it. A
 * write the kernel leaves with EAGAIN is made again the plain way, waiting for room. A TUN never
 * does: its queue's send buffer is {@code INT_MAX} from the open on, and only the descriptor's
 * holder, this device, could lower it ({@code TUNSETSNDBUF}). A descriptor that may leave a write
 * with EAGAIN ({@code chainWrites}: not a TUN) has each batch's writes linked into one chain
 * ({@link IoUring#chain}), so that none overtakes the one that met EAGAIN: that one cancels the
 * ones after it, and they go through the ring again once it is written. Linking is not free (the
 * kernel starts each linked write only from the completion of the one before it), so a TUN's
 * batches go unlinked. The packets of a {@link PacketTrain} (the datagrams
 * of a UDP GRO receive, decapsulated in their one buffer) are written the same way; a packet whose
 * header would go over the packet before it (back to back, with no tunnel header between them, as
 * flannel's udp leaves them) is gathered instead ({@code writev}: its header from an area of the
 * ring's own, then the packet), so that both are in flight together.
 *
 * <p>{@link #open} returns null when the kernel refuses io_uring (ENOSYS: none, or a seccomp filter;
 * EPERM: {@code kernel.io_uring_disabled}), after one log line naming the device and the errno: the
 * device then makes one system call per packet, as without io_uring.
 */
final class TunIoUring implements AutoCloseable {
    private static final Logger LOG = System.getLogger(TunDevice.class.getName());
    private static final int RING_MIN_READS = 4, RING_MIN_WRITES = 4;
    // Per write slot, for a gathered write: two iovecs (header, packet) and the header itself.
    private static final int GATHER_STRIDE = 48, GATHER_HEADER = 32;
    private static final long GATHERED = 1L << 32; // in a write's user data: gathered from slot (user data >>> 33)

    private final TunDevice device;
    private final int fd;
    private final boolean chainWrites; // see the class comment: the descriptor may leave a write with EAGAIN
    private final int hdrLen;
    private final VnetHeaderCodec readCodec;
    private final VnetHeaderCodec writeCodec;
    private final IoUring reads;
    private final IoUring writes;
    private final int[] lengths; // per read of the batch: the packet's length, or -1 if it brought none
    private int nextReads;
    private long ringReads; // batches read through the ring; the reading thread's
    private final Arena arena = Arena.ofShared();
    private final MemorySegment gather; // GATHER_STRIDE bytes per write slot
    private PacketBuffer[] writing; // what writeEach writes from: an array of packets,
    private PacketTrain writingTrain; // or the packets of a train

    private TunIoUring(TunDevice device, int fd, boolean chainWrites, VnetHeaderCodec readCodec, VnetHeaderCodec writeCodec,
            IoUring reads, IoUring writes) {
        this.device = device;
        this.chainWrites = chainWrites;
        this.fd = fd;
        this.hdrLen = readCodec.length();
        this.readCodec = readCodec;
        this.writeCodec = writeCodec;
        this.reads = reads;
        this.writes = writes;
        this.lengths = new int[reads.entries()];
        this.gather = arena.allocate((long) GATHER_STRIDE * writes.entries(), 8);
        this.nextReads = 1;
    }

    /**
     * Rings for {@code device}'s descriptor {@code fd}, sized for batches of {@code batchSize}; null
     * (and one log line) when the kernel refuses io_uring. {@code chainWrites}: the descriptor may
     * leave a write with EAGAIN (not a TUN), so a batch's writes are linked (the class comment).
     */
    static TunIoUring open(TunDevice device, int fd, boolean chainWrites, int batchSize, VnetHeaderCodec readCodec,
            VnetHeaderCodec writeCodec) {
        int entries = Integer.highestOneBit(Math.max(batchSize, 64) * 2 - 1);
        IoUring reads = null;
        try {
            reads = IoUring.open(entries);
            IoUring writes = IoUring.open(entries);
            return new TunIoUring(device, fd, chainWrites, readCodec, writeCodec, reads, writes);
        } catch (ErrnoException e) {
            if (reads != null) reads.close();
            LOG.log(Level.INFO, "TUN {0}: io_uring unavailable ({1}); reads and writes take one system call per packet",
                    device.name(), e.getMessage());
            return null;
        }
    }

    /**
     * Reads up to {@code limit} packets into {@code packets[0..limit)}, with one {@code
     * io_uring_enter} or, for fewer than {@value #RING_MIN_READS}, with plain reads ({@code errno}
     * is theirs); the filled buffers are at the front, in the order of their packets.
     *
     * @return the number filled (0 if the kernel had none), or {@link TunnelDevice#CLOSED}
     * @throws ErrnoException naming the device if the device fails and no packet came with the batch
     */
    int read(MemorySegment errno, PacketBuffer[] packets, int limit) throws IOException {
        int k = Math.min(Math.min(limit, nextReads), reads.entries());
        int n = k < RING_MIN_READS ? device.readEach(errno, packets, k) : readRing(packets, k);
        if (n >= 0) nextReads = n < k ? Math.max(1, n) : 2 * k;
        return n;
    }

    /** Batches read through the ring so far (the others took plain reads). */
    long ringReads() {
        return ringReads;
    }

    // k reads through the ring, the filled buffers moved to the front; the number filled, or CLOSED.
    private int readRing(PacketBuffer[] packets, int k) throws IOException {
        ringReads++;
        for (int i = 0; i < k; i++) readCodec.checkHeadroom(packets[i]);
        for (int i = 0; i < k; i++) {
            PacketBuffer b = packets[i];
            reads.prepareRead(fd, b.address() + b.offset() - hdrLen, room(b), i);
            lengths[i] = -1;
        }
        int completions = reads.submitAndWait();
        int failure = 0;
        boolean closed = false;
        for (int c = 0; c < completions; c++) {
            int i = (int) reads.userData(c);
            int res = reads.result(c);
            if (res >= 0) {
                lengths[i] = Math.min(res, room(packets[i])) - hdrLen; // shorter than the virtio_net_hdr: none
            } else {
                Errno.Outcome o = Errno.outcome(-res);
                if (o == Errno.Outcome.CLOSED) closed = true;
                else if (o == Errno.Outcome.FAILED) failure = -res;
            }
        }
        reads.consumed();
        int n = 0;
        for (int i = 0; i < k; i++) {
            if (lengths[i] < 0) continue;
            PacketBuffer b = packets[i];
            if (i != n) {
                packets[i] = packets[n];
                packets[n] = b;
            }
            b.setLength(lengths[i]);
            readCodec.decode(b);
            n++;
        }
        if (n == 0 && closed) return TunnelDevice.CLOSED;
        if (n == 0 && failure != 0) throw Errno.exception("read(" + device.name() + ")", failure);
        return n;
    }

    private int room(PacketBuffer b) {
        return b.capacity() - b.offset() + hdrLen;
    }

    /**
     * Writes {@code packets[0..count)}, single packets together through the ring, joined runs on
     * their own; see {@link TunDevice#write}.
     *
     * @return the number the kernel took, or {@link TunnelDevice#CLOSED}
     */
    int write(WakeableFd.Direction out, MemorySegment errno, PacketBuffer[] packets, int count) throws IOException {
        writing = packets;
        try {
            return writeAll(out, errno, count);
        } finally {
            writing = null;
        }
    }

    /**
     * Writes the packets of {@code train} as {@link #write} writes an array: single packets
     * together through the ring, joined runs on their own; see {@link TunDevice#writeTrain}.
     *
     * @return the number the kernel took, or {@link TunnelDevice#CLOSED}
     */
    int writeTrain(WakeableFd.Direction out, MemorySegment errno, PacketTrain train) throws IOException {
        writingTrain = train;
        try {
            return writeAll(out, errno, train.count());
        } finally {
            writingTrain = null;
        }
    }

    // Packet i of what is being written (a train's: its buffer pointed at packet i).
    private PacketBuffer packet(int i) {
        return writingTrain != null ? writingTrain.select(i) : writing[i];
    }

    // True if packet i's virtio_net_hdr would go over the packet before it in a train (packets back to back,
    // as flannel's udp leaves them), which may still be in flight: packet i is then gathered.
    private boolean headerOverlapsPrevious(int i) {
        PacketTrain t = writingTrain;
        return hdrLen > 0 && t != null && i > 0 && t.bufferOf(i) == t.bufferOf(i - 1)
                && t.offset(i) - hdrLen < t.offset(i - 1) + t.length(i - 1);
    }

    // Packets [0..count) of what is being written; the number taken, or CLOSED.
    private int writeAll(WakeableFd.Direction out, MemorySegment errno, int count) throws IOException {
        SegmentJoiner joiner = device.joiner();
        int written = 0;
        int singles = 0; // first of the single packets not yet written
        for (int i = 0; i < count; ) {
            int run = joiner == null ? 1 : writingTrain != null ? joiner.join(writingTrain, i) : joiner.join(writing, i, count);
            if (run == 1) {
                i++;
                continue;
            }
            int r = writeEach(out, errno, singles, i);
            if (r == TunnelDevice.CLOSED) return r;
            written += r;
            r = device.writeJoined(out, errno, packet(i), run);
            if (r == TunnelDevice.CLOSED) return r;
            written += r;
            i += run;
            singles = i;
        }
        int r = writeEach(out, errno, singles, count);
        return r == TunnelDevice.CLOSED ? r : written + r;
    }

    // Writes packets [from..to), a ring's worth per io_uring_enter, or fewer than RING_MIN_WRITES with plain writes
    // (in order, so a packet's header may go over the tail of the one before, already written); the number taken, or CLOSED.
    private int writeEach(WakeableFd.Direction out, MemorySegment errno, int from, int to) throws IOException {
        int written = 0;
        if (to - from < RING_MIN_WRITES) {
            for (int j = from; j < to; j++) {
                int r = device.writeOne(out, errno, packet(j));
                if (r == TunnelDevice.CLOSED) return r;
                written += r;
            }
            return written;
        }
        int i = from;
        while (i < to) {
            try {
                while (i < to && writes.prepared() < writes.entries()) {
                    PacketBuffer b = packet(i);
                    if (headerOverlapsPrevious(i)) {
                        int slot = writes.prepared();
                        long g = (long) slot * GATHER_STRIDE;
                        writeCodec.encodeSingle(b, gather, g + GATHER_HEADER);
                        gather.set(ValueLayout.JAVA_LONG, g, gather.address() + g + GATHER_HEADER);
                        gather.set(ValueLayout.JAVA_LONG, g + 8, hdrLen);
                        gather.set(ValueLayout.JAVA_LONG, g + 16, b.address() + b.offset());
                        gather.set(ValueLayout.JAVA_LONG, g + 24, b.length());
                        writes.prepareWritev(fd, gather.address() + g, 2, i | GATHERED | (long) slot << 33);
                    } else if (writeCodec.encode(b)) {
                        writes.prepareWrite(fd, b.address() + b.offset() - hdrLen, b.length() + hdrLen, i);
                    }
                    i++;
                }
            } catch (RuntimeException e) {
                writes.discard(); // a bad buffer (no room for the header): none of this batch goes out
                throw e;
            }
            if (chainWrites) writes.chain();
            int completions = writes.submitAndWait();
            boolean closed = false;
            try {
                for (int c = 0; c < completions; c++) {
                    int res = writes.result(c);
                    if (res >= 0) {
                        written++;
                        continue;
                    }
                    long data = writes.userData(c);
                    if (-res == Errno.ECANCELED) {
                        i = Math.min(i, (int) data); // linked after one that failed: written again, in order
                        continue;
                    }
                    Errno.Outcome o = Errno.sendResult("write", device.name(), -res);
                    if (o == Errno.Outcome.CLOSED) {
                        closed = true;
                    } else if (o != Errno.Outcome.FAILED && !closed) {
                        // EAGAIN (or EINTR): the plain way, waiting for room; in a chain, the ones after it were cancelled.
                        int r = (data & GATHERED) != 0 ? device.writeGathered(out, errno, gather.address() + (data >>> 33) * GATHER_STRIDE, 2)
                                : device.writeEncoded(out, errno, packet((int) data));
                        if (r == TunnelDevice.CLOSED) closed = true;
                        else written += r;
                    }
                }
            } finally {
                writes.consumed();
            }
            if (closed) return TunnelDevice.CLOSED;
        }
        return written;
    }

    /** Closes both rings; called once no thread is inside the device. */
    @Override
    public void close() {
        reads.close();
        writes.close();
        arena.close();
    }
}
