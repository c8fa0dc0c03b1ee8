package io.dataplane.tun.sys;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

    // VmRSS of this JVM, in bytes.
    private static long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
