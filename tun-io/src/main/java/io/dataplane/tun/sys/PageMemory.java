package io.dataplane.tun.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.dataplane.core.buffer.PacketPool;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Anonymous private pages from {@code mmap}: zero-filled by the kernel when first touched, so memory
 * that is never written never becomes resident. The JDK's native allocation writes zeros over all
 * of it up front; a pool of 64 KiB buffers that carry MTU-sized datagrams would be resident in full.
 * {@link #POOL} is the {@link PacketPool.Memory} of these pages: {@link #map} to allocate, and
 * {@link #discard} ({@code madvise(MADV_DONTNEED)}) to give the pages of idle buffers back.
 */
public final class PageMemory {
    private static final int PROT_READ = 0x1;
    private static final int PROT_WRITE = 0x2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_NORESERVE = 0x4000;
    private static final long MAP_FAILED = -1L;
    private static final int MADV_DONTNEED = 4;
    private static final int SC_PAGESIZE = 30;

    private static final MethodHandle MMAP = NativeCall.downcall("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = NativeCall.downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle MADVISE = NativeCall.downcall("madvise",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SYSCONF = NativeCall.downcall("sysconf", FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
    private static final long PAGE_SIZE = pageSize();

    /** Packet pools on these pages: {@link #map}, and {@link #discard} for {@link PacketPool#discardFreePages()}. */
    public static final PacketPool.Memory POOL = new PacketPool.Memory() {
        @Override
        public MemorySegment allocate(Arena arena, long bytes) {
            return map(arena, bytes);
        }

        @Override
        public void discard(MemorySegment range) {
            PageMemory.discard(range);
        }
    };

    private PageMemory() {}

    /**
     * {@code bytes} bytes of anonymous pages, unmapped when {@code arena} closes.
     *
     * @throws OutOfMemoryError naming the size and errno when the kernel refuses the mapping
     */
    public static MemorySegment map(Arena arena, long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("mapping size must be positive: bytes=" + bytes);
        try (Arena call = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(call);
            MemorySegment pages = (MemorySegment) MMAP.invokeExact(errno, MemorySegment.NULL, bytes,
                    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0L);
            if (pages.address() == MAP_FAILED) {
                int e = NativeCall.errno(errno);
                throw new OutOfMemoryError("mmap(" + bytes + " bytes) failed: errno=" + e + " (" + Errno.name(e) + ")");
            }
            return pages.reinterpret(bytes, arena, PageMemory::unmap);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /**
     * Gives the whole pages inside {@code range} back to the kernel ({@code madvise(MADV_DONTNEED)} on
     * anonymous private pages): they read as zero afterwards and are resident again only once
     * written. The bytes of a page that {@code range} covers only in part are kept, so a range may
     * end inside a page another user of the mapping is writing. Returns the bytes given back.
     *
     * @throws IllegalStateException naming errno when the kernel refuses (a range outside a mapping of {@link #map})
     */
    public static long discard(MemorySegment range) {
        long start = (range.address() + PAGE_SIZE - 1) & -PAGE_SIZE;
        long end = (range.address() + range.byteSize()) & -PAGE_SIZE;
        if (end <= start) return 0;
        try (Arena call = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(call);
            int r = (int) MADVISE.invokeExact(errno, MemorySegment.ofAddress(start), end - start, MADV_DONTNEED);
            if (r != 0) {
                int e = NativeCall.errno(errno);
                throw new IllegalStateException("madvise(MADV_DONTNEED, " + (end - start) + " bytes) failed: errno=" + e + " (" + Errno.name(e) + ")");
            }
            return end - start;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    private static long pageSize() {
        try (Arena call = Arena.ofConfined()) {
            long size = (long) SYSCONF.invokeExact(NativeCall.errnoSlot(call), SC_PAGESIZE);
            return size > 0 && Long.bitCount(size) == 1 ? size : 4096;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    private static void unmap(MemorySegment pages) {
        try (Arena call = Arena.ofConfined()) {
            int r = (int) MUNMAP.invokeExact(NativeCall.errnoSlot(call), pages, pages.byteSize());
            assert r == 0 : "munmap of a mapping of our own failed";
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }
}
