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
 * {@link #map} is a {@link PacketPool.Memory}.
 */
public final class PageMemory {
    private static final int PROT_READ = 0x1;
    private static final int PROT_WRITE = 0x2;
    private static final int MAP_PRIVATE = 0x02;
    private static final int MAP_ANONYMOUS = 0x20;
    private static final int MAP_NORESERVE = 0x4000;
    private static final long MAP_FAILED = -1L;

    private static final MethodHandle MMAP = NativeCall.downcall("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = NativeCall.downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

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

    private static void unmap(MemorySegment pages) {
        try (Arena call = Arena.ofConfined()) {
            int r = (int) MUNMAP.invokeExact(NativeCall.errnoSlot(call), pages, pages.byteSize());
            assert r == 0 : "munmap of a mapping of our own failed";
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }
}
