package io.dataplane.tun.netns;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.sys.Errno;
import io.dataplane.tun.sys.NativeCall;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Namespace and mount calls: unshare, setns, mount, umount2, mkdir, unlink. Each throws an
 * {@link ErrnoException} naming the call and its arguments.
 */
final class NamespaceNative {
    static final int CLONE_NEWNET = 0x40000000;
    static final long MS_BIND = 0x1000;
    static final long MS_REC = 0x4000;
    static final long MS_SHARED = 1 << 20;
    static final int MNT_DETACH = 2;

    private static final MethodHandle UNSHARE = NativeCall.downcall("unshare", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle SETNS = NativeCall.downcall("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle MOUNT = NativeCall.downcall("mount",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    private static final MethodHandle UMOUNT2 = NativeCall.downcall("umount2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle MKDIR = NativeCall.downcall("mkdir", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle UNLINK = NativeCall.downcall("unlink", FunctionDescriptor.of(JAVA_INT, ADDRESS));

    private NamespaceNative() {}

    /** {@code unshare(flags)} for the calling thread. */
    static void unshare(int flags, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            check((int) UNSHARE.invokeExact(errno, flags), errno, "unshare(" + what + ")");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code setns(fd, nstype)}: moves the calling thread into the namespace behind {@code fd}. */
    static void setns(int fd, int nstype, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            check((int) SETNS.invokeExact(errno, fd, nstype), errno, "setns(" + what + ")");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code mount(source, target, "none", flags, NULL)}; a null source passes "". */
    static void mount(String source, String target, long flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            int r = (int) MOUNT.invokeExact(errno, arena.allocateFrom(source == null ? "" : source),
                    arena.allocateFrom(target), arena.allocateFrom("none"), flags, MemorySegment.NULL);
            check(r, errno, "mount(" + (source == null ? "\"\"" : source) + ", " + target + ", flags=0x" + Long.toHexString(flags) + ")");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code umount2(target, flags)}. */
    static void umount2(String target, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            check((int) UMOUNT2.invokeExact(errno, arena.allocateFrom(target), flags), errno, "umount2(" + target + ")");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code mkdir(path, mode)}; EEXIST is not an error. */
    static void mkdirs(String path, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            int r = (int) MKDIR.invokeExact(errno, arena.allocateFrom(path), mode);
            if (r < 0 && NativeCall.errno(errno) != Errno.EEXIST) throw Errno.exception("mkdir(" + path + ")", NativeCall.errno(errno));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code unlink(path)}. */
    static void unlink(String path) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            check((int) UNLINK.invokeExact(errno, arena.allocateFrom(path)), errno, "unlink(" + path + ")");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    private static void check(int r, MemorySegment errno, String call) throws ErrnoException {
        if (r < 0) throw Errno.exception(call, NativeCall.errno(errno));
    }
}
