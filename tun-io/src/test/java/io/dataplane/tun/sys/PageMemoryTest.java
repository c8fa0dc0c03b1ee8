package io.dataplane.tun.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.buffer.PacketPool;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Anonymous pages: zero, resident only once written, gone with their arena; a pool carved out of them. */
class PageMemoryTest {
    private static final long MB = 1 << 20;

    @Test
    void pagesAreZeroAndResidentOnlyOnceWritten() throws IOException {
        long size = 64 * MB;
        try (Arena arena = Arena.ofConfined()) {
            long before = residentBytes();
            MemorySegment pages = PageMemory.map(arena, size);
            assertEquals(size, pages.byteSize());
            assertEquals(0, pages.address() % 4096, "page-aligned");
            long mapped = residentBytes();
            assertTrue(mapped - before < 16 * MB, "64 MB mapped, nothing written: RSS grew by " + (mapped - before) / MB + " MB");
            for (long at = 0; at < size; at += 4096) {
                assertEquals(0, pages.get(ValueLayout.JAVA_BYTE, at + 17));
                pages.set(ValueLayout.JAVA_BYTE, at, (byte) 1);
            }
            long written = residentBytes();
            assertTrue(written - before > 48 * MB, "64 MB written: RSS grew by only " + (written - before) / MB + " MB");
        }
    }

    @Test
    void closingTheArenaUnmapsThePages() {
        MemorySegment pages;
        try (Arena arena = Arena.ofShared()) {
            pages = PageMemory.map(arena, 8192);
            pages.set(ValueLayout.JAVA_INT, 4096, 42);
            assertEquals(42, pages.get(ValueLayout.JAVA_INT, 4096));
        }
        MemorySegment gone = pages;
        assertThrows(IllegalStateException.class, () -> gone.get(ValueLayout.JAVA_INT, 0));
    }

    @Test
    void refusesAnEmptyOrImpossibleSize() {
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> PageMemory.map(arena, 0));
            OutOfMemoryError e = assertThrows(OutOfMemoryError.class, () -> PageMemory.map(arena, Long.MAX_VALUE - 4095));
            assertTrue(e.getMessage().startsWith("mmap(" + (Long.MAX_VALUE - 4095) + " bytes) failed: errno=12 (ENOMEM)"), e.getMessage());
        }
    }

    @Test
    void aPoolOnAnonymousPagesHandsOutZeroedBuffersAndReturnsThem() {
        try (PacketPool pool = new PacketPool(8, 66_688, PacketPool.DEFAULT_HEADROOM, PageMemory::map)) {
            PacketBuffer[] out = new PacketBuffer[8];
            assertEquals(8, pool.acquire(out, 8));
            for (PacketBuffer b : out) {
                assertEquals(0, b.segment().get(ValueLayout.JAVA_LONG, 66_688 - 8));
                b.put(new byte[] {1, 2, 3});
                assertEquals(3, b.length());
            }
            PacketPool.releaseAll(out, 0, 8);
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void discardedPagesLeaveTheResidentSetAndReadAsZeros() throws IOException {
        long size = 64 * MB;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pages = PageMemory.map(arena, size);
            pages.fill((byte) 0x5A);
            long written = residentBytes();
            // All but the first and the last page.
            PageMemory.discard(pages.asSlice(4096, size - 8192));
            long discarded = residentBytes();
            assertTrue(written - discarded > 48 * MB, "64 MB discarded: RSS fell by only " + (written - discarded) / MB + " MB");
            assertEquals(0x5A, pages.get(ValueLayout.JAVA_BYTE, 4095), "the first page stays");
            assertEquals(0, pages.get(ValueLayout.JAVA_BYTE, 4096));
            assertEquals(0, pages.get(ValueLayout.JAVA_BYTE, size / 2));
            assertEquals(0, pages.get(ValueLayout.JAVA_BYTE, size - 4097));
            assertEquals(0x5A, pages.get(ValueLayout.JAVA_BYTE, size - 4096), "the last page stays");
        }
    }

    @Test
    void discardRefusesWhatIsNotWholePages() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pages = PageMemory.map(arena, 8192);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PageMemory.discard(pages.asSlice(100, 4096)));
            assertTrue(e.getMessage().contains(", 4096, MADV_DONTNEED) failed: errno=22 (EINVAL)"), e.getMessage());
        }
    }

    @Test
    void aPoolOnThePoolMemoryGivesBackEveryPageOfIdleBuffers() throws IOException {
        int size = 66_688; // 16 pages and some: each slot takes 17 whole pages, none shared with another
        int count = 256;
        try (PacketPool pool = new PacketPool(count, size, PacketPool.DEFAULT_HEADROOM, PageMemory.POOL)) {
            PacketBuffer[] out = new PacketBuffer[count];
            assertEquals(count, pool.acquire(out, count));
            for (PacketBuffer b : out) b.segment().fill((byte) 7);
            long written = residentBytes();
            PacketPool.releaseAll(out, 2, count); // two held (armed for a read), the rest free
            PacketPool.discardIdle(out, 0, 2);
            long discarded = residentBytes();
            assertEquals(2, pool.outstanding(), "the held buffers stay the holder's");
            // 256 slots of 17 pages: 17 MiB written, all of it given back (RSS moves by other things too).
            assertTrue(written - discarded > 14 * MB, "RSS fell by only " + (written - discarded) / 1024 + " KiB");
            assertEquals(count - 2, pool.acquire(out, 2, count));
            for (PacketBuffer b : out) {
                MemorySegment s = b.segment();
                assertEquals(0, s.address() & 4095, "buffer #" + b.index() + " starts on a page");
                assertEquals(0, s.get(ValueLayout.JAVA_BYTE, 0), "its first page reads zero");
                assertEquals(0, s.get(ValueLayout.JAVA_BYTE, 4096 * 8), "a middle page reads zero");
                assertEquals(0, s.get(ValueLayout.JAVA_BYTE, size - 1), "its last, partly used page reads zero");
            }
            PacketPool.releaseAll(out, 0, count);
            assertEquals(0, pool.outstanding());
        }
    }

    @Test
    void aPoolOfSmallBuffersOnThePoolMemoryGivesBackThePagesWhoseBuffersAreAllFree() throws IOException {
        int count = 8192; // 16 MiB of 2 KiB buffers, two a page
        try (PacketPool pool = new PacketPool(count, 2048, PacketPool.DEFAULT_HEADROOM, PageMemory.POOL)) {
            PacketBuffer[] out = new PacketBuffer[count];
            assertEquals(count, pool.acquire(out, count));
            for (PacketBuffer b : out) b.segment().fill((byte) 7);
            PacketBuffer kept = out[0]; // its page stays: #1 shares it
            out[0] = null;
            PacketPool.releaseAll(out, 1, count);
            long written = residentBytes();
            assertEquals(count - 1, pool.discardFree());
            long discarded = residentBytes();
            assertTrue(written - discarded > 12 * MB, "RSS fell by only " + (written - discarded) / 1024 + " KiB");
            assertEquals(7, kept.segment().get(ValueLayout.JAVA_BYTE, 0), "the buffer in use keeps its bytes");
            assertEquals(count - 1, pool.acquire(out, 1, count), "every free buffer free again");
            PacketBuffer second = null;
            for (int i = 1; i < count; i++) if (out[i].index() == 1) second = out[i];
            // 7, or the pool's poison for a released buffer with -Ddataplane.buffer.checked=true: written, not discarded.
            assertNotEquals(0, second.segment().get(ValueLayout.JAVA_BYTE, 100), "#1 shares its page with the buffer in use");
            for (int i = 1; i < count; i++) {
                if (out[i].index() == 2) assertEquals(0, out[i].segment().get(ValueLayout.JAVA_BYTE, 100), "#2's page went");
            }
            kept.release();
            PacketPool.releaseAll(out, 1, count);
            assertEquals(0, pool.outstanding());
        }
    }

    // VmRSS of this JVM, in bytes.
    private static long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
