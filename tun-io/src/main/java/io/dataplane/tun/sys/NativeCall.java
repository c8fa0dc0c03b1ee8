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
 * How this module links libc: a downcall captures errno into a caller-supplied slot
 * ({@link #errnoSlot}), so the errno a call left is read back exactly, never one the JVM overwrote
 * on the way out.
 *
 * <p>Two flavours. {@link #downcall} for anything that may block ({@code poll}) or runs rarely.
 * {@link #critical} for nonblocking calls on the packet path ({@code read}/{@code write} on a
 * nonblocking fd, {@code sendmmsg}/{@code recvmmsg} with {@code MSG_DONTWAIT}): no thread-state
 * transition, which is what makes a downcall about as cheap as a C call. A critical call must not
 * block, because the JVM cannot reach a safepoint while it runs.
 *
 * <p>The packet path makes its calls through {@link #criticalWithoutErrno} handles. A handle that
 * captures errno makes a new view of the slot on every call (the JDK checks the slot by slicing it),
 * and in the node's deep call chains the JIT does not remove that object: one allocation per system
 * call. A call without capture allocates nothing; when it fails, {@link #transientErrno} reads the
 * thread's errno through {@code __errno_location} right after the call. A critical call makes no
 * thread-state transition, so no safepoint and no VM code of the call's own run between its return
 * and that read (HotSpot's signal handlers keep errno). Only EAGAIN and EINTR, which the loops see
 * all the time and answer by waiting or calling again, are taken as read; any other errno is
 * confirmed by making the call again through the capturing handle, which is safe because a read,
 * write, send, receive or submit that failed did nothing, and the errno of that call is the one the
 * caller acts on. An errno that something else on the thread set in between (the interpreter's
 * runtime, say) costs at most one more wait or call, never a wrong verdict.
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
    private static final MethodHandle ERRNO_LOCATION = LINKER.downcallHandle(symbol("__errno_location"),
            FunctionDescriptor.of(POINTER_AS_LONG), Linker.Option.critical(false));
    /** All of the address space, to read errno where {@code __errno_location} says it is without making a segment per read. */
    private static final MemorySegment ADDRESS_SPACE = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    static {
        if (ValueLayout.ADDRESS.byteSize() != 8) {
            throw new ExceptionInInitializerError("tun-io needs a 64-bit JVM (pointer size " + ValueLayout.ADDRESS.byteSize() + ")");
        }
        // The errno read is linked here, before any packet-path call can fail, so that linking (Java
        // code of the JDK's, which may itself set errno) never runs between a failed call and the read.
        transientErrno(Arena.ofAuto().allocate(ERRNO_LAYOUT));
    }

    private NativeCall() {}

    /** A downcall to libc's {@code name}, capturing errno (its first argument becomes the errno slot). */
    public static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        Linker.Option[] all = new Linker.Option[options.length + 1];
        all[0] = CAPTURE_ERRNO;
        System.arraycopy(options, 0, all, 1, options.length);
        return LINKER.downcallHandle(symbol(name), descriptor, all);
    }

    private static MemorySegment symbol(String name) {
        return LINKER.defaultLookup().find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol " + name));
    }

    /** A critical (no thread-state transition) downcall for a call that never blocks; captures errno. */
    public static MethodHandle critical(String name, FunctionDescriptor descriptor) {
        return downcall(name, descriptor, Linker.Option.critical(false));
    }

    /**
     * A critical downcall that captures no errno, for the packet path (see the class comment): the
     * caller asks {@link #transientErrno} when it fails, and repeats the call through the capturing
     * {@link #critical} handle of the same function when that returns false.
     */
    public static MethodHandle criticalWithoutErrno(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        Linker.Option[] all = java.util.Arrays.copyOf(options, options.length + 1);
        all[options.length] = Linker.Option.critical(false);
        return LINKER.downcallHandle(symbol(name), descriptor, all);
    }

    /**
     * Right after a {@link #criticalWithoutErrno} call returned -1: puts the thread's errno into
     * {@code slot} and returns true if it is EAGAIN or EINTR, which the caller takes as read; false
     * for any other, which the caller confirms by making the call again through its capturing
     * handle (into the same slot). Allocates nothing.
     */
    public static boolean transientErrno(MemorySegment slot) {
        int errno;
        try {
            errno = ADDRESS_SPACE.get(ValueLayout.JAVA_INT, (long) ERRNO_LOCATION.invokeExact());
        } catch (Throwable t) {
            throw rethrow(t);
        }
        ERRNO.set(slot, 0L, errno);
        return errno == Errno.EAGAIN || errno == Errno.EINTR;
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
