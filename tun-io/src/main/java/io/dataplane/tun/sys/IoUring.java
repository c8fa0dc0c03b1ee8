package io.dataplane.tun.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.dataplane.tun.ErrnoException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * One io_uring used as a batch system call: a thread puts reads and writes into the submission
 * queue ({@link #prepareRead}, {@link #prepareWrite}, {@link #prepareWritev}), hands them all to the kernel with one
 * {@code io_uring_enter} that also waits for every one of them to complete ({@link #submitAndWait}),
 * then reads their results ({@link #userData}, {@link #result}) and gives the completions back
 * ({@link #consumed}). Nothing stays in the ring between two batches, so the memory an operation
 * points to is the caller's again once {@link #submitAndWait} returns.
 *
 * <p>Every read and write carries {@code RWF_NOWAIT}: one that cannot proceed now completes at once
 * with EAGAIN (classified by {@link Errno} as for a plain call) instead of waiting in the ring for
 * readiness. On a nonblocking descriptor such as a TUN or a socket the kernel completes them all
 * inside the {@code io_uring_enter} that submits them.
 *
 * <p>The layout follows {@code linux/io_uring.h}: the kernel fills {@code io_uring_params} with the
 * offsets of the head, tail, mask and arrays in the mapped rings; head and tail are read with
 * acquire and written with release, as the kernel's side does. One thread at a time.
 */
public final class IoUring implements AutoCloseable {
    private static final VarHandle INT = JAVA_INT.varHandle();
    // struct io_uring_sqe: the fields this class sets; the rest is written as zero.
    private static final long SQE_OPCODE_FLAGS_FD = 0, SQE_OFF = 8, SQE_ADDR = 16, SQE_LEN_RWFLAGS = 24, SQE_USER_DATA = 32,
            SQE_TAIL = 40;
    private static final long CQE_USER_DATA = 0, CQE_RES = 8;
    private static final long SQE_FLAGS = 1;
    private static final byte IOSQE_IO_LINK = 1 << 2;

    private final int fd;
    private final int entries;
    private final long sqRing, sqRingSize, cqRing, cqRingSize, sqes, sqesSize;
    private final MemorySegment sq, cq, sqeArray;
    private final long sqHead, sqTail, cqHead, cqTail, cqes;
    private final int sqMask, cqMask;
    private final MemorySegment errno = NativeCall.errnoSlot(Arena.ofAuto());
    private int prepared; // SQEs written since the last submit
    private int completed; // completions of the last submit, not yet consumed
    private boolean closed;

    private IoUring(int fd, int entries, MemorySegment params) throws ErrnoException {
        this.fd = fd;
        long sqOff = IoUringNative.PARAMS_SQ_OFF, cqOff = IoUringNative.PARAMS_CQ_OFF;
        this.entries = params.get(JAVA_INT, 0);
        int cqEntries = params.get(JAVA_INT, 4);
        int features = params.get(JAVA_INT, IoUringNative.PARAMS_FEATURES);
        long sqArray = Integer.toUnsignedLong(params.get(JAVA_INT, sqOff + 24));
        long cqesOff = Integer.toUnsignedLong(params.get(JAVA_INT, cqOff + 20));
        long sqSize = sqArray + 4L * this.entries;
        long cqSize = cqesOff + (long) IoUringNative.CQE_SIZE * cqEntries;
        boolean single = (features & IoUringNative.IORING_FEAT_SINGLE_MMAP) != 0;
        if (single) sqSize = cqSize = Math.max(sqSize, cqSize);
        long sqMap = 0, cqMap = 0, sqeMap = 0;
        try {
            sqMap = IoUringNative.map(fd, sqSize, IoUringNative.IORING_OFF_SQ_RING);
            cqMap = single ? sqMap : IoUringNative.map(fd, cqSize, IoUringNative.IORING_OFF_CQ_RING);
            sqeMap = IoUringNative.map(fd, (long) IoUringNative.SQE_SIZE * this.entries, IoUringNative.IORING_OFF_SQES);
        } catch (ErrnoException e) {
            IoUringNative.unmap(sqMap, sqSize);
            if (!single) IoUringNative.unmap(cqMap, cqSize);
            throw e;
        }
        this.sqRing = sqMap;
        this.sqRingSize = sqSize;
        this.cqRing = single ? 0 : cqMap;
        this.cqRingSize = cqSize;
        this.sqes = sqeMap;
        this.sqesSize = (long) IoUringNative.SQE_SIZE * this.entries;
        this.sq = MemorySegment.ofAddress(sqMap).reinterpret(sqSize);
        this.cq = MemorySegment.ofAddress(cqMap).reinterpret(cqSize);
        this.sqeArray = MemorySegment.ofAddress(sqeMap).reinterpret(sqesSize);
        this.sqHead = Integer.toUnsignedLong(params.get(JAVA_INT, sqOff));
        this.sqTail = Integer.toUnsignedLong(params.get(JAVA_INT, sqOff + 4));
        this.sqMask = sq.get(JAVA_INT, Integer.toUnsignedLong(params.get(JAVA_INT, sqOff + 8)));
        this.cqHead = Integer.toUnsignedLong(params.get(JAVA_INT, cqOff));
        this.cqTail = Integer.toUnsignedLong(params.get(JAVA_INT, cqOff + 4));
        this.cqMask = cq.get(JAVA_INT, Integer.toUnsignedLong(params.get(JAVA_INT, cqOff + 8)));
        this.cqes = cqesOff;
        // The SQ array maps ring slot i to SQE i, once: an SQE is then written at the tail's slot.
        for (int i = 0; i < this.entries; i++) sq.set(JAVA_INT, sqArray + 4L * i, i);
    }

    /**
     * A ring of at least {@code entries} submission slots (the kernel rounds up to a power of two).
     *
     * @throws ErrnoException naming the call and errno when the kernel refuses: ENOSYS or EPERM
     *     where io_uring is absent, disabled or filtered out; the caller then does without it
     */
    public static IoUring open(int entries) throws ErrnoException {
        if (entries < 1 || entries > 4096) throw new IllegalArgumentException("io_uring entries out of range: entries=" + entries + " (1-4096)");
        try (Arena setup = Arena.ofConfined()) {
            MemorySegment params = setup.allocate(IoUringNative.PARAMS_SIZE, 8);
            int fd = IoUringNative.setup(entries, params);
            try {
                return new IoUring(fd, entries, params);
            } catch (ErrnoException | RuntimeException e) {
                FdNative.close(fd);
                throw e;
            }
        }
    }

    /** Submission slots: the most operations one {@link #submitAndWait} carries. */
    public int entries() {
        return entries;
    }

    /** Operations prepared and not yet submitted. */
    public int prepared() {
        return prepared;
    }

    /** Queues {@code read(fd, address, length)} under {@code userData}; false if the queue is full. */
    public boolean prepareRead(int fd, long address, int length, long userData) {
        return prepare(IoUringNative.IORING_OP_READ, fd, address, length, userData);
    }

    /** Queues {@code write(fd, address, length)} under {@code userData}; false if the queue is full. */
    public boolean prepareWrite(int fd, long address, int length, long userData) {
        return prepare(IoUringNative.IORING_OP_WRITE, fd, address, length, userData);
    }

    /** Queues {@code writev(fd, iovecs, count)} under {@code userData}; false if the queue is full. */
    public boolean prepareWritev(int fd, long iovecs, int count, long userData) {
        return prepare(IoUringNative.IORING_OP_WRITEV, fd, iovecs, count, userData);
    }

    private boolean prepare(int opcode, int targetFd, long address, int length, long userData) {
        if (prepared == entries || completed != 0) return false;
        int tail = (int) INT.get(sq, sqTail) + prepared;
        long sqe = (long) (tail & sqMask) * IoUringNative.SQE_SIZE;
        // opcode (u8), flags (u8), ioprio (u16), fd (s32); off -1: the descriptor's own position, as read(2)
        sqeArray.set(JAVA_LONG, sqe + SQE_OPCODE_FLAGS_FD, (opcode & 0xffL) | ((long) targetFd << 32));
        sqeArray.set(JAVA_LONG, sqe + SQE_OFF, -1L);
        sqeArray.set(JAVA_LONG, sqe + SQE_ADDR, address);
        sqeArray.set(JAVA_LONG, sqe + SQE_LEN_RWFLAGS, Integer.toUnsignedLong(length) | ((long) IoUringNative.RWF_NOWAIT << 32));
        sqeArray.set(JAVA_LONG, sqe + SQE_USER_DATA, userData);
        sqeArray.set(JAVA_LONG, sqe + SQE_TAIL, 0L);
        sqeArray.set(JAVA_LONG, sqe + SQE_TAIL + 8, 0L);
        sqeArray.set(JAVA_LONG, sqe + SQE_TAIL + 16, 0L);
        prepared++;
        return true;
    }

    /**
     * Links the operations prepared so far into one chain ({@code IOSQE_IO_LINK}): the kernel starts
     * each once the one before it completed, and one that fails (EAGAIN included) cancels those
     * after it, which complete with {@code -ECANCELED}. Writes to a descriptor that keeps
     * messages in order then take effect in the order they were prepared, or not at all from the
     * first that failed.
     */
    public void chain() {
        int tail = (int) INT.get(sq, sqTail);
        for (int k = 0; k < prepared - 1; k++) {
            long sqe = (long) ((tail + k) & sqMask) * IoUringNative.SQE_SIZE;
            sqeArray.set(JAVA_BYTE, sqe + SQE_FLAGS, (byte) (sqeArray.get(JAVA_BYTE, sqe + SQE_FLAGS) | IOSQE_IO_LINK));
        }
    }

    /** Drops what was prepared and not submitted: the kernel sees an operation only once submitted. */
    public void discard() {
        prepared = 0;
    }

    /**
     * Submits what was prepared with one {@code io_uring_enter} and returns once every operation
     * has completed: on a nonblocking descriptor all complete inside that call; a further,
     * waiting call only for what did not (an operation the kernel ran on a worker) or if a
     * signal interrupted it. Returns how many completions are
     * there to read, {@code userData(0..n)}, {@code result(0..n)}.
     *
     * @throws ErrnoException naming {@code io_uring_enter} if the kernel refuses the submission
     */
    public int submitAndWait() throws ErrnoException {
        int n = prepared;
        if (n == 0) return 0;
        INT.setRelease(sq, sqTail, (int) INT.get(sq, sqTail) + n);
        prepared = 0;
        int toSubmit = n;
        boolean first = true;
        while (true) {
            int ready = (int) INT.getAcquire(cq, cqTail) - (int) INT.get(cq, cqHead);
            if (toSubmit == 0 && ready >= n) break;
            // The first call only submits (a critical downcall: it cannot block); whatever did not
            // complete inside it, or was not taken, a waiting call finishes.
            long r = first ? IoUringNative.submit(errno, fd, toSubmit)
                    : IoUringNative.enter(errno, fd, toSubmit, n - Math.min(ready, n), IoUringNative.IORING_ENTER_GETEVENTS);
            first = false;
            if (r < 0) {
                Errno.retryOrThrow("io_uring_enter", "ring " + fd, NativeCall.errno(errno));
                continue;
            }
            if (r == 0 && toSubmit > 0) throw Errno.exception("io_uring_enter(ring " + fd + ")", Errno.EBUSY, "the kernel took none of " + toSubmit);
            toSubmit -= (int) r;
        }
        completed = n;
        return n;
    }

    /** The user data of the completion {@code i} of the last {@link #submitAndWait}. */
    public long userData(int i) {
        return cq.get(JAVA_LONG, cqe(i) + CQE_USER_DATA);
    }

    /** The result of the completion {@code i}: the byte count, or {@code -errno}. */
    public int result(int i) {
        return cq.get(JAVA_INT, cqe(i) + CQE_RES);
    }

    private long cqe(int i) {
        if (i < 0 || i >= completed) throw new IndexOutOfBoundsException("completion " + i + " of " + completed);
        int head = (int) INT.get(cq, cqHead) + i;
        return cqes + (long) (head & cqMask) * IoUringNative.CQE_SIZE;
    }

    /** Gives the completions of the last {@link #submitAndWait} back to the kernel; the ring takes new operations again. */
    public void consumed() {
        INT.setRelease(cq, cqHead, (int) INT.get(cq, cqHead) + completed);
        completed = 0;
    }

    /** Unmaps the rings and closes the descriptor; nothing is in flight between batches. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        IoUringNative.unmap(sqes, sqesSize);
        IoUringNative.unmap(sqRing, sqRingSize);
        IoUringNative.unmap(cqRing, cqRingSize);
        FdNative.close(fd);
    }

    @Override
    public String toString() {
        return "IoUring[fd " + fd + ", " + entries + " entries]";
    }
}
