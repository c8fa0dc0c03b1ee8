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
 * {@link #POOL} is a pool's memory from {@link #map}, whose pages {@link #discard} gives back
 * ({@code madvise(MADV_DONTNEED)}) when the pool's holders have been idle a while.
 */
public final class PageMemory {
    private static final int PROT_READ = 0x1;
    private static final int PROT_WRITE = 0x2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_NORESERVE = 0x4000;
    private static final long MAP_FAILED = -1L;
    private static final int MADV_DONTNEED = 4;

    private static final MethodHandle MMAP = NativeCall.downcall("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MADVISE = NativeCall.downcall("madvise",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle MUNMAP = NativeCall.downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

    /** A {@link PacketPool}'s memory: {@link #map} to allocate, {@link #discard} to give pages back. */
    public static final PacketPool.Memory POOL = new PacketPool.Memory() {
        @Override
        public MemorySegment allocate(Arena arena, long bytes) {
            return map(arena, bytes);
        }

        @Override
        public void discard(MemorySegment pages) {
            PageMemory.discard(pages);
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
     * Gives the pages of {@code pages} (page-aligned, whole pages of a mapping from {@link #map})
     * back to the kernel: no longer resident, they read as zeros when next touched
     * ({@code madvise(MADV_DONTNEED)}). The caller owns them and nothing writes into them meanwhile.
     *
     * @throws IllegalArgumentException when {@code pages} is not whole pages (the kernel's EINVAL)
     */
    public static void discard(MemorySegment pages) {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(call);
            int r = (int) MADVISE.invokeExact(errno, pages, pages.byteSize(), MADV_DONTNEED);
            if (r != 0) {
                int e = NativeCall.errno(errno);
                throw new IllegalArgumentException("madvise(0x" + Long.toHexString(pages.address()) + ", " + pages.byteSize()
                        + ", MADV_DONTNEED) failed: errno=" + e + " (" + Errno.name(e) + ")");
            }
        } catch (RuntimeException | Error e) {
            throw e;
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
