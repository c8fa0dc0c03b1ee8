package io.dataplane.tun.sys;

import io.dataplane.core.spi.Pollable;
import io.dataplane.core.spi.Poller;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * A {@link Poller} over file descriptors: one {@code poll(2)} on the sources' descriptors
 * ({@link Pollable#pollFd()}) and an eventfd of its own that {@link #wake} signals. What the
 * descriptor-backed pollables of tun-io ({@code TunDevice}, {@code SocketTransport}) return from {@link Pollable#pollers()}.
 *
 * <p>Why {@code poll} and not {@code epoll}: the set is fixed and two or three descriptors long, so
 * {@code poll}'s per-call walk over it costs nothing measurable, and one system call per wait
 * (instead of {@code epoll_ctl} at setup and a second descriptor to own) keeps it simple. The
 * pollfd array and the errno slot are allocated once; a wait allocates nothing.
 *
 * <p>The poller never reads or closes a source's descriptor. Closing a source while a thread waits
 * here does not wake that thread (Linux's {@code poll} does not notice a close from another
 * thread): whoever closes the sources wakes the waiter first, as the pipeline does.
 */
public final class FdPoller implements Poller {
    /** Opens an {@code FdPoller}: what {@link Pollable#pollers()} of a descriptor-backed source returns. */
    public static final Poller.Factory FACTORY = FdPoller::open;

    private static final int MAX_SOURCES = 31;
    private static final long POLLFD_SIZE = Structs.POLLFD.byteSize();

    private final Arena arena = Arena.ofShared();
    private final int sources;
    private final int wakeFd;
    private final MemorySegment pollFds;
    private final MemorySegment errno;
    private final MemorySegment counter; // the eventfd's 8 bytes, read to clear a wake
    private final String what;
    private volatile boolean closed;

    private FdPoller(int[] fds, int wakeFd, String what) {
        this.sources = fds.length;
        this.wakeFd = wakeFd;
        this.what = what;
        this.pollFds = arena.allocate(Structs.POLLFD, fds.length + 1L);
        this.errno = NativeCall.errnoSlot(arena);
        this.counter = arena.allocate(ValueLayout.JAVA_LONG);
        for (int i = 0; i < fds.length; i++) FdNative.setPollFd(pollFds, i, fds[i], FdNative.POLLIN);
        FdNative.setPollFd(pollFds, fds.length, wakeFd, FdNative.POLLIN);
    }

    /**
     * Opens a poller over {@code sources}, each with a file descriptor.
     *
     * @throws IllegalArgumentException naming the source that has none ({@link Pollable#NO_FD}), or
     *     when there are none or more than 31
     * @throws IOException when the eventfd cannot be created
     */
    public static FdPoller open(List<? extends Pollable> sources) throws IOException {
        if (sources.isEmpty() || sources.size() > MAX_SOURCES) {
            throw new IllegalArgumentException("poll sources out of range: " + sources.size() + " (1-" + MAX_SOURCES + ")");
        }
        int[] fds = new int[sources.size()];
        for (int i = 0; i < fds.length; i++) {
            Pollable s = sources.get(i);
            fds[i] = s.pollFd();
            if (fds[i] < 0) throw new IllegalArgumentException("cannot poll a source without a file descriptor: " + s + " (pollFd=" + fds[i] + ")");
        }
        return new FdPoller(fds, FdNative.eventfd(), sources.toString());
    }

    @Override
    public int await(long timeoutNanos) throws IOException {
        int millis = timeoutNanos < 0 ? -1 : (int) Math.min(Integer.MAX_VALUE, (timeoutNanos + 999_999) / 1_000_000);
        int r = FdNative.poll(errno, pollFds.address(), sources + 1, millis);
        if (r < 0) {
            Errno.retryOrThrow("poll", what, NativeCall.errno(errno));
            return 0; // interrupted: a spurious end, as the contract allows
        }
        if (r == 0) return 0;
        int ready = 0;
        for (int i = 0; i < sources; i++) {
            if (FdNative.revents(pollFds, i) != 0) ready |= 1 << i;
        }
        if (FdNative.revents(pollFds, sources) != 0) {
            // Clear the wake so the next wait blocks again; nonblocking, so a concurrent clear is harmless.
            FdNative.read(errno, wakeFd, counter.address(), 8);
        }
        return ready;
    }

    /** Signals the eventfd (it allocates a little: waking is for shutdown and the like, not per packet). */
    @Override
    public void wake() {
        synchronized (this) {
            if (!closed) FdNative.signal(wakeFd);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        FdNative.close(wakeFd);
        arena.close();
    }

    @Override
    public String toString() {
        return "FdPoller" + what;
    }
}
