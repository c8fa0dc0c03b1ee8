package io.dataplane.tun.sys;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.dataplane.tun.ErrnoException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The io_uring system calls ({@code linux/io_uring.h}): {@code io_uring_setup} and {@code
 * io_uring_enter} through libc's {@code syscall}, which has no wrapper of its own for them, and the
 * {@code mmap}/{@code munmap} that map the rings. {@link IoUring} is the ring built on them.
 *
 * <p>The syscall numbers are those of the generic table, which x86_64 and aarch64 share.
 */
public final class IoUringNative {
    /** {@code __NR_io_uring_setup}. */
    public static final long SYS_IO_URING_SETUP = 425;
    /** {@code __NR_io_uring_enter}. */
    public static final long SYS_IO_URING_ENTER = 426;
    /** {@code IORING_ENTER_GETEVENTS}: wait for {@code min_complete} completions. */
    public static final int IORING_ENTER_GETEVENTS = 1;
    /** {@code IORING_FEAT_SINGLE_MMAP}: the SQ and CQ rings share one mapping. */
    public static final int IORING_FEAT_SINGLE_MMAP = 1;
    /** {@code IORING_OFF_SQ_RING}: mmap offset of the SQ ring. */
    public static final long IORING_OFF_SQ_RING = 0;
    /** {@code IORING_OFF_CQ_RING}: mmap offset of the CQ ring. */
    public static final long IORING_OFF_CQ_RING = 0x8000000L;
    /** {@code IORING_OFF_SQES}: mmap offset of the SQE array. */
    public static final long IORING_OFF_SQES = 0x10000000L;
    /** {@code IORING_OP_WRITEV}. */
    public static final int IORING_OP_WRITEV = 2;
    /** {@code IORING_OP_READ}. */
    public static final int IORING_OP_READ = 22;
    /** {@code IORING_OP_WRITE}. */
    public static final int IORING_OP_WRITE = 23;
    /** {@code RWF_NOWAIT}: a read or write that cannot go on now completes with EAGAIN rather than waiting in the ring. */
    public static final int RWF_NOWAIT = 0x8;
    /** Bytes of {@code struct io_uring_params}. */
    public static final int PARAMS_SIZE = 120;
    /** Offset of {@code features} in {@code io_uring_params}. */
    public static final int PARAMS_FEATURES = 20;
    /** Offset of {@code sq_off} ({@code struct io_sqring_offsets}) in {@code io_uring_params}. */
    public static final int PARAMS_SQ_OFF = 40;
    /** Offset of {@code cq_off} ({@code struct io_cqring_offsets}) in {@code io_uring_params}. */
    public static final int PARAMS_CQ_OFF = 80;
    /** Bytes of an SQE ({@code struct io_uring_sqe}). */
    public static final int SQE_SIZE = 64;
    /** Bytes of a CQE ({@code struct io_uring_cqe}). */
    public static final int CQE_SIZE = 16;

    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_SHARED_POPULATE = 0x01 | 0x8000;

    private static final MethodHandle SETUP = NativeCall.downcall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, NativeCall.POINTER_AS_LONG), Linker.Option.firstVariadicArg(1));
    private static final MethodHandle ENTER = NativeCall.downcall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    // Submitting is on the packet path: a call without errno, and the same capturing errno to confirm a failure (see NativeCall).
    private static final MethodHandle SUBMIT = NativeCall.criticalWithoutErrno("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle SUBMIT_CAPTURING = NativeCall.downcall("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.critical(false));
    private static final MethodHandle MMAP = NativeCall.downcall("mmap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = NativeCall.downcall("munmap",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));

    private IoUringNative() {}

    /**
     * {@code io_uring_setup(entries, params)}: the ring's descriptor; the kernel fills {@code params}
     * (sizes, features, the offsets of the ring fields).
     *
     * @throws ErrnoException {@code io_uring_setup(...)} with ENOSYS (no io_uring in this kernel, or a
     *     seccomp filter refusing it), EPERM ({@code kernel.io_uring_disabled}), ENOMEM, EINVAL
     */
    public static int setup(int entries, MemorySegment params) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            long fd = (long) SETUP.invokeExact(errno, SYS_IO_URING_SETUP, (long) entries, params.address());
            if (fd < 0) throw Errno.exception("io_uring_setup(" + entries + " entries)", NativeCall.errno(errno), setupHint(NativeCall.errno(errno)));
            return (int) fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    private static String setupHint(int errno) {
        return switch (errno) {
            case Errno.ENOSYS -> "no io_uring in this kernel, or a seccomp filter refuses it";
            case Errno.EPERM -> "io_uring is disabled (sysctl kernel.io_uring_disabled) for this process";
            default -> null;
        };
    }

    /**
     * {@code io_uring_enter(fd, toSubmit, minComplete, flags, NULL, 0)}: the number of SQEs the
     * kernel took, or -1 with errno in {@code errno}. May block (with {@link #IORING_ENTER_GETEVENTS}).
     */
    public static long enter(MemorySegment errno, int fd, int toSubmit, int minComplete, int flags) {
        try {
            return (long) ENTER.invokeExact(errno, SYS_IO_URING_ENTER, (long) fd, (long) toSubmit, (long) minComplete, (long) flags, 0L, 0L);
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /**
     * {@code io_uring_enter(fd, toSubmit, 0, 0, NULL, 0)} as a critical downcall: submits and does
     * not wait, so it never blocks; what completed inside the call is in the CQ ring when it
     * returns. The number of SQEs the kernel took, or -1 with errno in {@code errno}.
     */
    public static long submit(MemorySegment errno, int fd, int toSubmit) {
        try {
            long r = (long) SUBMIT.invokeExact(SYS_IO_URING_ENTER, (long) fd, (long) toSubmit, 0L, 0L, 0L, 0L);
            return r != -1 || NativeCall.transientErrno(errno) ? r
                    : (long) SUBMIT_CAPTURING.invokeExact(errno, SYS_IO_URING_ENTER, (long) fd, (long) toSubmit, 0L, 0L, 0L, 0L);
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** Maps {@code length} bytes of the ring {@code fd} at {@code offset} (one of the {@code IORING_OFF_*}); the address. */
    public static long map(int fd, long length, long offset) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            long address = (long) MMAP.invokeExact(errno, 0L, length, PROT_READ_WRITE, MAP_SHARED_POPULATE, fd, offset);
            if (address == -1L) throw Errno.exception("mmap(io_uring, offset 0x" + Long.toHexString(offset) + ")", NativeCall.errno(errno));
            return address;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** Unmaps what {@link #map} mapped; errors are ignored (the mapping goes with the process anyway). */
    public static void unmap(long address, long length) {
        if (address == 0) return;
        try (Arena arena = Arena.ofConfined()) {
            int r = (int) MUNMAP.invokeExact(NativeCall.errnoSlot(arena), address, length);
            assert r == 0 || r == -1;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }
}
