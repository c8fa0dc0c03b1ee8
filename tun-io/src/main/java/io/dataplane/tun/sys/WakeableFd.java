package io.dataplane.tun.sys;

import io.dataplane.tun.ErrnoException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A nonblocking descriptor that one reader thread and one writer thread use at the same time, and
 * that {@link #close()} can shut from a third thread without leaving either of them blocked.
 *
 * <p>Waiting is {@code poll} on the descriptor together with an eventfd; close sets a flag, signals
 * the eventfd (which then stays readable), waits for both directions to leave their system calls,
 * and only then closes the descriptor, so a number that the kernel may hand out again is never
 * read or written after close. A thread blocked in {@link Direction#await} returns within one
 * wakeup, well under a millisecond.
 *
 * <p>Each {@link Direction} has its own errno slot and pollfd pair, so the reader and the writer
 * share no native scratch memory; both are allocated once, nothing is allocated per call.
 */
public final class WakeableFd implements AutoCloseable {
    /** {@link Direction#await} result: the wait ended because the descriptor is being closed. */
    public static final int WOKEN = -1;
    /** {@link Direction#await(short, int)} result: nothing happened within the timeout. */
    public static final int TIMED_OUT = 0;
    /**
     * How long a reader waits for its first packet before it calls itself idle and gives the
     * pages of the buffers it holds armed back to the system ({@code PacketPool#discard}): long
     * against the gaps within any traffic, so a flow never pays for pages taken back between its
     * packets, short against the seconds a node sits idle.
     */
    public static final int IDLE_MILLIS = 2000;

    private final int fd;
    private final int wakeFd;
    private final Arena arena = Arena.ofShared();
    private final Direction reading;
    private final Direction writing;
    private volatile boolean closed;

    /** Takes ownership of {@code fd} (already nonblocking); {@code what} names it in errors. */
    public WakeableFd(int fd, String what) throws ErrnoException {
        this.fd = fd;
        try {
            this.wakeFd = FdNative.eventfd();
        } catch (ErrnoException e) {
            arena.close();
            throw e;
        }
        this.reading = new Direction(what);
        this.writing = new Direction(what);
    }

    /** The descriptor. */
    public int fd() {
        return fd;
    }

    /** The reading direction: one thread at a time. */
    public Direction reading() {
        return reading;
    }

    /** The writing direction: one thread at a time. */
    public Direction writing() {
        return writing;
    }

    /** True once {@link #close} has begun. */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Wakes any waiter, waits until no thread is inside a call on the descriptor, then closes it.
     * Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        FdNative.signal(wakeFd);
        // Callers leave within one poll wakeup or one nonblocking call; park briefly between checks.
        while (reading.active.get() != 0 || writing.active.get() != 0) {
            LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(50));
        }
        FdNative.close(fd);
        FdNative.close(wakeFd);
        arena.close();
    }

    /** One direction of use (reading or writing) with its own scratch memory. */
    public final class Direction {
        private final AtomicInteger active = new AtomicInteger();
        private final MemorySegment errno;
        private final MemorySegment pollFds;
        private final String what;

        private Direction(String what) {
            this.what = what;
            this.errno = NativeCall.errnoSlot(arena);
            this.pollFds = arena.allocate(Structs.POLLFD, 2);
        }

        /** The descriptor as named in errors. */
        @Override
        public String toString() {
            return what;
        }

        /** This direction's errno slot, for the packet-path calls made between enter and exit. */
        public MemorySegment errno() {
            return errno;
        }

        /**
         * Marks a thread as inside a call on the descriptor. Returns false, marking nothing, once
         * the descriptor is closing; then the caller reports "closed".
         */
        public boolean enter() {
            active.incrementAndGet();
            if (closed) {
                active.decrementAndGet();
                return false;
            }
            return true;
        }

        /** Ends what {@link #enter} began. */
        public void exit() {
            active.decrementAndGet();
        }

        /**
         * Blocks (between enter and exit) until the descriptor reports one of {@code events} or an
         * error, or the descriptor is closed.
         *
         * @return the descriptor's {@code revents}, or {@link #WOKEN} when woken by close
         * @throws ErrnoException if poll itself fails
         */
        public int await(short events) throws ErrnoException {
            return await(events, -1);
        }

        /**
         * As {@link #await(short)}, for at most {@code timeoutMillis} ms (-1: no limit).
         *
         * @return the descriptor's {@code revents}, {@link #WOKEN} when woken by close, or {@link
         *     #TIMED_OUT} when the time passed without either
         * @throws ErrnoException if poll itself fails
         */
        public int await(short events, int timeoutMillis) throws ErrnoException {
            while (true) {
                FdNative.setPollFd(pollFds, 0, fd, events);
                FdNative.setPollFd(pollFds, 1, wakeFd, FdNative.POLLIN);
                int r = FdNative.poll(errno, pollFds.address(), 2, timeoutMillis);
                if (r < 0) {
                    Errno.retryOrThrow("poll", what, NativeCall.errno(errno));
                    continue;
                }
                if (r == 0) return TIMED_OUT;
                if (closed || FdNative.revents(pollFds, 1) != 0) return WOKEN;
                int revents = FdNative.revents(pollFds, 0);
                if (revents != 0) return revents;
            }
        }
    }
}
