package io.dataplane.tun.sys;

import static io.dataplane.tun.sys.NativeCall.POINTER_AS_LONG;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.dataplane.tun.ErrnoException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * File descriptor calls shared by every device and socket: open, close, read, write, poll and the
 * eventfd that wakes a poller on close.
 *
 * <p>{@link #read} and {@link #write} are the packet-path forms: critical downcalls on a
 * nonblocking fd that return -1 and leave errno in the caller's slot instead of throwing.
 */
public final class FdNative {
    /** {@code O_RDONLY}. */
    public static final int O_RDONLY = 0;
    /** {@code O_RDWR}. */
    public static final int O_RDWR = 2;
    /** {@code O_CREAT}. */
    public static final int O_CREAT = 0x40;
    /** {@code O_EXCL}. */
    public static final int O_EXCL = 0x80;
    /** {@code O_NONBLOCK} (also {@code EFD_NONBLOCK}, {@code SOCK_NONBLOCK}). */
    public static final int O_NONBLOCK = 0x800;
    /** {@code O_CLOEXEC} (also {@code EFD_CLOEXEC}, {@code SOCK_CLOEXEC}). */
    public static final int O_CLOEXEC = 0x80000;
    /** {@code POLLIN}. */
    public static final short POLLIN = 0x1;
    /** {@code POLLOUT}. */
    public static final short POLLOUT = 0x4;
    /** {@code POLLERR}. */
    public static final short POLLERR = 0x8;
    /** {@code POLLHUP}. */
    public static final short POLLHUP = 0x10;
    /** {@code POLLNVAL}. */
    public static final short POLLNVAL = 0x20;

    private static final MethodHandle OPEN = NativeCall.downcall("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = NativeCall.downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final FunctionDescriptor READ_WRITE = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, POINTER_AS_LONG, JAVA_LONG);
    private static final FunctionDescriptor WRITEV_DESCRIPTOR = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, POINTER_AS_LONG, JAVA_INT);
    // The packet path's calls, and the same calls capturing errno to confirm a failure (see NativeCall).
    private static final MethodHandle READ = NativeCall.criticalWithoutErrno("read", READ_WRITE);
    private static final MethodHandle READ_CAPTURING = NativeCall.critical("read", READ_WRITE);
    private static final MethodHandle WRITE = NativeCall.criticalWithoutErrno("write", READ_WRITE);
    private static final MethodHandle WRITE_CAPTURING = NativeCall.critical("write", READ_WRITE);
    private static final MethodHandle WRITEV = NativeCall.criticalWithoutErrno("writev", WRITEV_DESCRIPTOR);
    private static final MethodHandle WRITEV_CAPTURING = NativeCall.critical("writev", WRITEV_DESCRIPTOR);
    private static final MethodHandle POLL = NativeCall.downcall("poll",
            FunctionDescriptor.of(JAVA_INT, POINTER_AS_LONG, JAVA_LONG, JAVA_INT));
    // poll without an errno slot: the JDK makes a view of the slot on every call, which the JIT does not
    // always optimise away in the receive loops, and the packet path polls once per idle period.
    private static final MethodHandle POLL_WITHOUT_ERRNO = NativeCall.LINKER.downcallHandle(
            NativeCall.LINKER.defaultLookup().find("poll").orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol poll")),
            FunctionDescriptor.of(JAVA_INT, POINTER_AS_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle EVENTFD = NativeCall.downcall("eventfd",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    private FdNative() {}

    /** Opens {@code path}; throws naming the path and errno. */
    public static int open(String path, int flags, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            int fd = (int) OPEN.invokeExact(errno, arena.allocateFrom(path), flags, mode);
            if (fd < 0) throw Errno.exception("open(" + path + ")", NativeCall.errno(errno));
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** Closes {@code fd}, ignoring errors: Linux releases the descriptor even when close reports one. */
    public static void close(int fd) {
        if (fd < 0) return;
        try (Arena arena = Arena.ofConfined()) {
            int r = (int) CLOSE.invokeExact(NativeCall.errnoSlot(arena), fd);
            assert r == 0 || r == -1;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code read(fd, address, length)} for the packet path: the byte count, or -1 with errno in {@code errno}. */
    public static long read(MemorySegment errno, int fd, long address, long length) {
        try {
            long r = (long) READ.invokeExact(fd, address, length);
            return r != -1 || NativeCall.transientErrno(errno) ? r : (long) READ_CAPTURING.invokeExact(errno, fd, address, length);
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code write(fd, address, length)} for the packet path: the byte count, or -1 with errno in {@code errno}. */
    public static long write(MemorySegment errno, int fd, long address, long length) {
        try {
            long r = (long) WRITE.invokeExact(fd, address, length);
            return r != -1 || NativeCall.transientErrno(errno) ? r : (long) WRITE_CAPTURING.invokeExact(errno, fd, address, length);
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code writev} of {@code count} iovecs at {@code iovecs} (critical); bytes written or -1 with errno in {@code errno}. */
    public static long writev(MemorySegment errno, int fd, long iovecs, int count) {
        try {
            long r = (long) WRITEV.invokeExact(fd, iovecs, count);
            return r != -1 || NativeCall.transientErrno(errno) ? r : (long) WRITEV_CAPTURING.invokeExact(errno, fd, iovecs, count);
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /**
     * {@code poll(fds, count, timeoutMillis)} over an array of {@link Structs#POLLFD} at {@code address}:
     * the number of ready fds, 0 on timeout, or -1 with errno in {@code errno}. May block, and may
     * return 0 before the timeout when a signal interrupted it.
     *
     * <p>The call that blocks captures no errno. When it fails, a second call that does not block
     * ({@code timeout 0}) captures it: a lasting failure (EFAULT, EINVAL, ENOMEM) fails again and
     * returns -1 with its errno; an interrupted wait (EINTR) does not, and its result stands.
     */
    public static int poll(MemorySegment errno, long address, int count, int timeoutMillis) {
        try {
            int r = (int) POLL_WITHOUT_ERRNO.invokeExact(address, (long) count, timeoutMillis);
            if (r >= 0) return r;
            return (int) POLL.invokeExact(errno, address, (long) count, 0);
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** A nonblocking close-on-exec eventfd with counter 0, used to wake a thread in {@code poll}. */
    public static int eventfd() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            int fd = (int) EVENTFD.invokeExact(errno, 0, O_NONBLOCK | O_CLOEXEC);
            if (fd < 0) throw Errno.exception("eventfd()", NativeCall.errno(errno));
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** Adds 1 to an eventfd's counter so it polls readable (and stays so: nobody drains it). */
    public static void signal(int eventFd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocateFrom(JAVA_LONG, 1L);
            long r = write(NativeCall.errnoSlot(arena), eventFd, one.address(), 8);
            assert r == 8 || r == -1; // -1 only if the counter would overflow: it is readable then anyway
        }
    }

    /** Fills the {@code pollfd} at {@code index} of the array {@code fds}. */
    public static void setPollFd(MemorySegment fds, int index, int fd, short events) {
        long base = index * Structs.POLLFD.byteSize();
        fds.set(JAVA_INT, base, fd);
        fds.set(JAVA_SHORT, base + Structs.POLLFD_EVENTS, events);
        fds.set(JAVA_SHORT, base + Structs.POLLFD_REVENTS, (short) 0);
    }

    /** The {@code revents} of the {@code pollfd} at {@code index} of {@code fds}. */
    public static int revents(MemorySegment fds, int index) {
        return fds.get(JAVA_SHORT, index * Structs.POLLFD.byteSize() + Structs.POLLFD_REVENTS) & 0xffff;
    }
}
