package io.dataplane.tun.sys;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.dataplane.core.testing.AllocationRounds;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The packet path's system calls allocate nothing ({@link AllocationRounds}), succeeding or failing
 * with EAGAIN: {@code write}, {@code writev}, {@code read}, {@code sendmmsg}, {@code recvmmsg} and
 * the io_uring submit, over a nonblocking UNIX datagram socket pair (no root needed); and a failure
 * other than EAGAIN still comes with its errno.
 */
class PacketPathCallsAllocationTest {
    private static final int LENGTH = 64;

    private final Arena arena = Arena.ofConfined();
    private MemorySegment errno;
    private MemorySegment data;
    private MemorySegment iovec;
    private MemorySegment messages;
    private int a = -1, b = -1;

    @BeforeEach
    void setUp() throws Throwable {
        int[] ends = SocketPairs.unix(SocketNative.SOCK_DGRAM | FdNative.O_NONBLOCK | FdNative.O_CLOEXEC);
        a = ends[0];
        b = ends[1];
        errno = NativeCall.errnoSlot(arena);
        data = arena.allocate(LENGTH, 64);
        iovec = arena.allocate(Structs.IOVEC);
        iovec.set(JAVA_LONG, Structs.IOVEC_BASE, data.address());
        iovec.set(JAVA_LONG, Structs.IOVEC_LEN, LENGTH);
        messages = arena.allocate(Structs.MMSGHDR);
        messages.set(JAVA_LONG, Structs.MSGHDR_IOV, iovec.address());
        messages.set(JAVA_LONG, Structs.MSGHDR_IOVLEN, 1);
    }

    @AfterEach
    void tearDown() {
        FdNative.close(a);
        FdNative.close(b);
        arena.close();
    }

    @Test
    void readsWritesAndTheirEagainAllocateNothing() {
        AllocationRounds.assertAllocatesNothing("write, writev, read, and read on an empty socket", () -> {
            assertEquals(LENGTH, FdNative.write(errno, a, data.address(), LENGTH));
            assertEquals(LENGTH, FdNative.writev(errno, a, iovec.address(), 1));
            assertEquals(LENGTH, FdNative.read(errno, b, data.address(), LENGTH));
            assertEquals(LENGTH, FdNative.read(errno, b, data.address(), LENGTH));
            assertEquals(-1, FdNative.read(errno, b, data.address(), LENGTH));
            assertEquals(Errno.EAGAIN, NativeCall.errno(errno));
        });
    }

    @Test
    void sendmmsgRecvmmsgAndTheirEagainAllocateNothing() {
        AllocationRounds.assertAllocatesNothing("sendmmsg, recvmmsg, and recvmmsg on an empty socket", () -> {
            assertEquals(1, SocketNative.sendmmsg(errno, a, messages.address(), 1, SocketNative.MSG_DONTWAIT));
            assertEquals(1, SocketNative.recvmmsg(errno, b, messages.address(), 1, SocketNative.MSG_DONTWAIT));
            assertEquals(-1, SocketNative.recvmmsg(errno, b, messages.address(), 1, SocketNative.MSG_DONTWAIT));
            assertEquals(Errno.EAGAIN, NativeCall.errno(errno));
        });
    }

    @Test
    void ioUringSubmitsAllocateNothing() throws Exception {
        try (IoUring ring = IoUringTest.openOrSkip(4)) {
            AllocationRounds.assertAllocatesNothing("an io_uring write and read submitted together, and a read of an empty socket", () -> {
                ring.prepareWrite(a, data.address(), LENGTH, 1);
                ring.prepareRead(b, data.address(), LENGTH, 2);
                ring.prepareRead(b, data.address(), LENGTH, 3);
                assertEquals(3, ring.submitAndWait());
                assertEquals(LENGTH, ring.result(0));
                assertEquals(LENGTH, ring.result(1));
                assertEquals(-Errno.EAGAIN, ring.result(2));
                ring.consumed();
            });
        }
    }

    @Test
    void aFailureOtherThanEagainComesWithItsErrno() {
        FdNative.close(b);
        int closed = b;
        b = -1;
        assertEquals(-1, FdNative.read(errno, closed, data.address(), LENGTH));
        assertEquals(Errno.EBADF, NativeCall.errno(errno));
        assertEquals(-1, FdNative.write(errno, a, data.address(), LENGTH), "the peer is gone");
        assertFalse(NativeCall.errno(errno) == Errno.EAGAIN || NativeCall.errno(errno) == Errno.EINTR,
                "a write to a closed peer fails for good: " + Errno.name(NativeCall.errno(errno)));
        assertEquals(-1, SocketNative.recvmmsg(errno, closed, messages.address(), 1, SocketNative.MSG_DONTWAIT));
        assertEquals(Errno.EBADF, NativeCall.errno(errno));
    }
}
