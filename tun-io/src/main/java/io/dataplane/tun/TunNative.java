package io.dataplane.tun;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.dataplane.tun.sys.Errno;
import io.dataplane.tun.sys.NativeCall;
import io.dataplane.tun.sys.Structs;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The TUN driver's ioctls ({@code linux/if_tun.h}) and the interface ioctls used next to them.
 * {@code ioctl} is variadic; it is linked twice, with a pointer and with an integer argument,
 * because the TUN driver takes some arguments by value ({@code TUNSETOFFLOAD}).
 */
final class TunNative {
    static final int IFF_TUN = 0x0001;
    static final int IFF_MULTI_QUEUE = 0x0100;
    static final int IFF_NO_PI = 0x1000;
    static final int IFF_VNET_HDR = 0x4000;

    static final long TUNSETIFF = 0x400454caL;
    static final long TUNSETOFFLOAD = 0x400454d0L;
    static final long TUNGETIFF = 0x800454d2L;
    static final long TUNSETVNETHDRSZ = 0x400454d8L;
    static final long SIOCGIFMTU = 0x8921L;
    static final long SIOCGIFINDEX = 0x8933L;

    private static final MethodHandle IOCTL_PTR = NativeCall.downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, NativeCall.POINTER_AS_LONG), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle IOCTL_VALUE = NativeCall.downcall("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));

    private TunNative() {}

    /** {@code ioctl(fd, request, &ifreq)} with the name and flags set; returns the ifreq the kernel left. */
    static MemorySegment ioctlIfreq(Arena arena, int fd, long request, String requestName, String ifname, int flags)
            throws ErrnoException {
        MemorySegment ifr = arena.allocate(Structs.IFREQ);
        if (ifname != null) InterfaceName.write(ifr, 0, ifname);
        ifr.set(JAVA_SHORT, Structs.IFREQ_UNION, (short) flags);
        ioctlPointer(fd, request, ifr, requestName + (ifname == null ? "" : ", " + ifname));
        return ifr;
    }

    /** {@code ioctl(fd, request, pointer)}; {@code what} names request and target in the error. */
    static void ioctlPointer(int fd, long request, MemorySegment arg, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            int r = (int) IOCTL_PTR.invokeExact(errno, fd, request, arg.address());
            if (r < 0) throw Errno.exception("ioctl(" + what + ")", NativeCall.errno(errno));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code ioctl(fd, request, value)}; {@code what} names request and target in the error. */
    static void ioctlValue(int fd, long request, long value, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            int r = (int) IOCTL_VALUE.invokeExact(errno, fd, request, value);
            if (r < 0) throw Errno.exception("ioctl(" + what + ")", NativeCall.errno(errno));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** An interface's MTU or index through {@code SIOCGIFMTU}/{@code SIOCGIFINDEX} on {@code socketFd}. */
    static int interfaceInt(int socketFd, long request, String requestName, String ifname) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = ioctlIfreq(arena, socketFd, request, requestName, ifname, 0);
            return ifr.get(JAVA_INT, Structs.IFREQ_UNION);
        }
    }
}
