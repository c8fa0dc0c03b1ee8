package io.dataplane.tun.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** poll: ready descriptors, a timeout, and a failure that lasts reported with its errno. */
class FdNativePollTest {
    @Test
    void reportsReadyDescriptorsAndTimeouts() throws Exception {
        int fd = FdNative.eventfd();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            MemorySegment fds = arena.allocate(Structs.POLLFD, 1);
            FdNative.setPollFd(fds, 0, fd, FdNative.POLLIN);
            assertEquals(0, FdNative.poll(errno, fds.address(), 1, 10), "nothing to read: times out");
            FdNative.signal(fd);
            FdNative.setPollFd(fds, 0, fd, FdNative.POLLIN);
            assertEquals(1, FdNative.poll(errno, fds.address(), 1, -1));
            assertEquals(FdNative.POLLIN, FdNative.revents(fds, 0));
        } finally {
            FdNative.close(fd);
        }
    }

    @Test
    void aFailureThatLastsReturnsMinusOneWithItsErrno() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            assertEquals(-1, FdNative.poll(errno, 8, 1, -1), "an unmapped pollfd array");
            assertEquals(14, NativeCall.errno(errno), "EFAULT");
        }
    }
}
