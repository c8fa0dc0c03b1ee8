package io.dataplane.tun.testing;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.dataplane.tun.sys.Errno;
import io.dataplane.tun.sys.IoUringNative;
import io.dataplane.tun.sys.NativeCall;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * What a container runtime's seccomp profile does to io_uring, for one thread of a test: a
 * seccomp filter on the calling thread (and the threads it starts afterwards) that fails
 * {@code io_uring_setup} with ENOSYS and lets every other call through. Nothing else in the
 * process, and nothing on the machine, changes: the filter ends with the threads it covers.
 */
public final class IoUringDenial {
    private static final int PR_SET_SECCOMP = 22;
    private static final int PR_SET_NO_NEW_PRIVS = 38;
    private static final int SECCOMP_MODE_FILTER = 2;
    private static final int SECCOMP_RET_ERRNO = 0x00050000;
    private static final int SECCOMP_RET_ALLOW = 0x7fff0000;
    private static final MethodHandle PRCTL = NativeCall.downcall("prctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1));

    private IoUringDenial() {}

    /**
     * Installs the filter on the calling thread. Sets the thread's {@code no_new_privs}, which
     * a filter needs and which, like the filter, the thread keeps until it ends.
     *
     * @throws IllegalStateException naming prctl and the errno if the kernel refuses
     */
    public static void onThisThread() {
        try (Arena arena = Arena.ofConfined()) {
            // struct sock_filter {u16 code; u8 jt; u8 jf; u32 k}: load the syscall number; io_uring_setup -> ENOSYS; else allow.
            MemorySegment program = arena.allocate(8 * 4, 8);
            filter(program, 0, 0x20, 0, 0, 0); // BPF_LD | BPF_W | BPF_ABS, seccomp_data.nr
            filter(program, 1, 0x15, 0, 1, (int) IoUringNative.SYS_IO_URING_SETUP); // BPF_JMP | BPF_JEQ | BPF_K
            filter(program, 2, 0x06, 0, 0, SECCOMP_RET_ERRNO | Errno.ENOSYS); // BPF_RET
            filter(program, 3, 0x06, 0, 0, SECCOMP_RET_ALLOW);
            MemorySegment fprog = arena.allocate(16, 8); // struct sock_fprog {unsigned short len; struct sock_filter *filter}
            fprog.set(JAVA_SHORT, 0, (short) 4);
            fprog.set(ADDRESS, 8, program);
            MemorySegment errno = NativeCall.errnoSlot(arena);
            if ((int) PRCTL.invokeExact(errno, PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) {
                throw new IllegalStateException("prctl(PR_SET_NO_NEW_PRIVS) failed: " + Errno.name(NativeCall.errno(errno)));
            }
            if ((int) PRCTL.invokeExact(errno, PR_SET_SECCOMP, (long) SECCOMP_MODE_FILTER, fprog.address(), 0L, 0L) != 0) {
                throw new IllegalStateException("prctl(PR_SET_SECCOMP) failed: " + Errno.name(NativeCall.errno(errno)));
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static void filter(MemorySegment program, int index, int code, int jt, int jf, int k) {
        long at = 8L * index;
        program.set(JAVA_SHORT, at, (short) code);
        program.set(JAVA_BYTE, at + 2, (byte) jt);
        program.set(JAVA_BYTE, at + 3, (byte) jf);
        program.set(JAVA_INT, at + 4, k);
    }
}
