package io.dataplane.tun.sys;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dataplane.tun.ErrnoException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The io_uring ring against a UNIX datagram socket pair (no root needed): writes and reads
 * submitted together complete in one submit, in order, with the kernel's results; an empty socket
 * gives EAGAIN at once, nothing left in the ring; errors come back as {@code -errno}.
 */
class IoUringTest {

    private final Arena arena = Arena.ofConfined();
    private int a = -1, b = -1;
    private IoUring ring;

    @BeforeEach
    void setUp() throws Throwable {
        ring = openOrSkip(8);
        // Blocking descriptors on purpose: RWF_NOWAIT alone keeps a read from waiting in the ring.
        int[] ends = SocketPairs.unix(SocketNative.SOCK_DGRAM | FdNative.O_CLOEXEC);
        a = ends[0];
        b = ends[1];
    }

    @AfterEach
    void tearDown() {
        if (ring != null) ring.close();
        FdNative.close(a);
        FdNative.close(b);
        arena.close();
    }

    static IoUring openOrSkip(int entries) throws ErrnoException {
        try {
            return IoUring.open(entries);
        } catch (ErrnoException e) {
            assumeTrue(e.errno() != Errno.ENOSYS && e.errno() != Errno.EPERM, "this kernel refuses io_uring: " + e.getMessage());
            throw e;
        }
    }

    @Test
    void writesThenReadsOfOneBatchCompleteInOrderWithTheirLengths() throws Exception {
        String[] messages = {"one", "second", "the third one"};
        for (int i = 0; i < messages.length; i++) {
            MemorySegment m = arena.allocateFrom(messages[i], StandardCharsets.US_ASCII);
            assertTrue(ring.prepareWrite(a, m.address(), messages[i].length(), 100 + i));
        }
        assertEquals(3, ring.prepared());
        assertEquals(3, ring.submitAndWait());
        for (int c = 0; c < 3; c++) {
            assertEquals(100 + c, ring.userData(c));
            assertEquals(messages[c].length(), ring.result(c));
        }
        ring.consumed();

        MemorySegment[] buffers = new MemorySegment[4];
        for (int i = 0; i < 4; i++) {
            buffers[i] = arena.allocate(64);
            assertTrue(ring.prepareRead(b, buffers[i].address(), 64, i));
        }
        assertEquals(4, ring.submitAndWait());
        int[] results = new int[4];
        for (int c = 0; c < 4; c++) results[(int) ring.userData(c)] = ring.result(c);
        ring.consumed();
        for (int i = 0; i < 3; i++) {
            assertEquals(messages[i].length(), results[i], "read " + i);
            assertArrayEquals(messages[i].getBytes(StandardCharsets.US_ASCII), buffers[i].asSlice(0, results[i]).toArray(JAVA_BYTE));
        }
        assertEquals(-Errno.EAGAIN, results[3], "the fourth read finds the socket empty and does not wait");
    }

    @Test
    void readOfAnEmptyBlockingSocketCompletesWithEagainInsteadOfWaiting() throws Exception {
        MemorySegment buffer = arena.allocate(64);
        for (int round = 0; round < 3; round++) {
            assertTrue(ring.prepareRead(b, buffer.address(), 64, 7));
            assertEquals(1, ring.submitAndWait());
            assertEquals(-Errno.EAGAIN, ring.result(0));
            ring.consumed();
        }
        // The ring is empty: a datagram sent now is not taken by a read left behind.
        MemorySegment m = arena.allocateFrom("late", StandardCharsets.US_ASCII);
        assertEquals(4, FdNative.write(NativeCall.errnoSlot(arena), a, m.address(), 4));
        assertTrue(ring.prepareRead(b, buffer.address(), 64, 8));
        assertEquals(1, ring.submitAndWait());
        assertEquals(4, ring.result(0));
        ring.consumed();
    }

    @Test
    void aFullQueueTakesNoMoreAndAClosedDescriptorIsEbadf() throws Exception {
        MemorySegment buffer = arena.allocate(64);
        int entries = ring.entries();
        for (int i = 0; i < entries; i++) assertTrue(ring.prepareRead(-1, buffer.address(), 64, i));
        assertFalse(ring.prepareRead(-1, buffer.address(), 64, entries), "queue full");
        assertEquals(entries, ring.submitAndWait());
        assertFalse(ring.prepareRead(b, buffer.address(), 64, 0), "completions not consumed yet");
        for (int c = 0; c < entries; c++) assertEquals(-Errno.EBADF, ring.result(c));
        assertThrows(IndexOutOfBoundsException.class, () -> ring.result(entries));
        ring.consumed();
        assertEquals(0, ring.submitAndWait(), "nothing prepared");
        assertTrue(ring.prepareRead(-1, buffer.address(), 64, 0));
        ring.discard();
        assertEquals(0, ring.submitAndWait(), "a discarded operation never reaches the kernel");
    }

    @Test
    void manyBatchesReuseTheRingWithoutLosingCompletions() throws Exception {
        MemorySegment m = arena.allocateFrom("x", StandardCharsets.US_ASCII);
        MemorySegment buffer = arena.allocate(8);
        for (int round = 0; round < 1000; round++) {
            ring.prepareWrite(a, m.address(), 1, round);
            ring.prepareRead(b, buffer.address(), 8, round + 1_000_000L);
            assertEquals(2, ring.submitAndWait());
            assertEquals(round, ring.userData(0));
            assertEquals(1, ring.result(0));
            assertEquals(round + 1_000_000L, ring.userData(1));
            assertEquals(1, ring.result(1));
            ring.consumed();
        }
    }

    @Test
    void entriesOutOfRangeAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IoUring.open(0));
        assertTrue(e.getMessage().contains("entries=0"), e.getMessage());
    }
}
