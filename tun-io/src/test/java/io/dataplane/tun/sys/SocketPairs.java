package io.dataplane.tun.sys;

import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** Connected pairs of {@code AF_UNIX} sockets for tests that need two ends of a descriptor and no network. */
public final class SocketPairs {
    /** {@code SOCK_SEQPACKET}: one message per write, boundaries kept, connection-oriented. */
    public static final int SOCK_SEQPACKET = 5;
    private static final int AF_UNIX = 1;
    private static final MethodHandle SOCKETPAIR = NativeCall.downcall("socketpair", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));

    private SocketPairs() {}

    /**
     * The two ends of a new {@code socketpair(AF_UNIX, type, 0)}; {@code type} may carry {@code
     * O_NONBLOCK} and {@code O_CLOEXEC} (the same bits as {@code SOCK_NONBLOCK}, {@code SOCK_CLOEXEC}).
     */
    public static int[] unix(int type) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment slot = NativeCall.errnoSlot(a);
            MemorySegment fds = a.allocate(ValueLayout.JAVA_INT, 2);
            int r = (int) SOCKETPAIR.invokeExact(slot, AF_UNIX, type, 0, fds);
            if (r < 0) throw new UncheckedIOException(Errno.exception("socketpair(AF_UNIX, " + type + ")", NativeCall.errno(slot)));
            return new int[] {fds.getAtIndex(ValueLayout.JAVA_INT, 0), fds.getAtIndex(ValueLayout.JAVA_INT, 1)};
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }
}
