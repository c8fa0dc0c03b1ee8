package io.dataplane.tun.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * How this module links libc: every downcall captures errno into a caller-supplied slot
 * ({@link #errnoSlot}), so the errno a call left is read back exactly, never one the JVM overwrote
 * on the way out.
 *
 * <p>Two flavours. {@link #downcall} for anything that may block ({@code poll}) or runs rarely.
 * {@link #critical} for nonblocking calls on the packet path ({@code read}/{@code write} on a
 * nonblocking fd, {@code sendmmsg}/{@code recvmmsg} with {@code MSG_DONTWAIT}): no thread-state
 * transition, which is what makes a downcall about as cheap as a C call. A critical call must not
 * block, because the JVM cannot reach a safepoint while it runs.
 *
 * <p>Packet-path calls take pointers as {@code long} addresses ({@link #POINTER_AS_LONG}) so no
 * {@link MemorySegment} is made per call. That relies on an LP64 ABI where a pointer is passed like
 * a 64-bit integer, which the class checks when it loads.
 */
public final class NativeCall {
    /** The platform's C linker. */
    public static final Linker LINKER = Linker.nativeLinker();
    /** Layout of the errno slot that {@code captureCallState("errno")} fills. */
    public static final StructLayout ERRNO_LAYOUT = Linker.Option.captureStateLayout();
    /** A pointer passed as its address; see the class comment. */
    public static final ValueLayout.OfLong POINTER_AS_LONG = ValueLayout.JAVA_LONG;
    private static final VarHandle ERRNO = ERRNO_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    static {
        if (ValueLayout.ADDRESS.byteSize() != 8) {
            throw new ExceptionInInitializerError("tun-io needs a 64-bit JVM (pointer size " + ValueLayout.ADDRESS.byteSize() + ")");
        }
    }

    private NativeCall() {}

    /** A downcall to libc's {@code name}, capturing errno (its first argument becomes the errno slot). */
    public static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        Linker.Option[] all = new Linker.Option[options.length + 1];
        all[0] = CAPTURE_ERRNO;
        System.arraycopy(options, 0, all, 1, options.length);
        MemorySegment symbol = LINKER.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
        return LINKER.downcallHandle(symbol, descriptor, all);
    }

    /** A critical (no thread-state transition) downcall for a call that never blocks; captures errno. */
    public static MethodHandle critical(String name, FunctionDescriptor descriptor) {
        return downcall(name, descriptor, Linker.Option.critical(false));
    }

    /** A fresh errno slot in {@code arena}; hot paths keep one per thread and direction. */
    public static MemorySegment errnoSlot(Arena arena) {
        return arena.allocate(ERRNO_LAYOUT);
    }

    /** The errno the last call through {@code slot} left. */
    public static int errno(MemorySegment slot) {
        return (int) ERRNO.get(slot, 0L);
    }

    /** Rethrows what a downcall threw; downcalls throw only JVM errors, which are not checked. */
    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) throw r;
        if (t instanceof Error e) throw e;
        throw new IllegalStateException("downcall failed", t);
    }
}
