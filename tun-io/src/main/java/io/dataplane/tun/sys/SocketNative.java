package io.dataplane.tun.sys;

import static io.dataplane.tun.sys.NativeCall.POINTER_AS_LONG;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.dataplane.core.wire.NetworkOrder;
import io.dataplane.tun.ErrnoException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Socket calls: socket, bind, setsockopt, sendto/recvfrom (netlink), and sendmmsg/recvmmsg for the
 * packet path. Setup calls throw {@link ErrnoException}; packet-path calls are critical downcalls
 * that return -1 with errno in the caller's slot, and must only be used with {@link #MSG_DONTWAIT}
 * or on a nonblocking socket.
 */
public final class SocketNative {
    /** {@code AF_INET}. */
    public static final int AF_INET = 2;
    /** {@code AF_BRIDGE}. */
    public static final int AF_BRIDGE = 7;
    /** {@code AF_NETLINK}. */
    public static final int AF_NETLINK = 16;
    /** {@code SOCK_DGRAM}. */
    public static final int SOCK_DGRAM = 2;
    /** {@code SOCK_RAW}. */
    public static final int SOCK_RAW = 3;
    /** {@code SOL_SOCKET}. */
    public static final int SOL_SOCKET = 1;
    /** {@code SO_SNDBUF}. */
    public static final int SO_SNDBUF = 7;
    /** {@code SO_RCVBUF}. */
    public static final int SO_RCVBUF = 8;
    /** {@code SO_REUSEPORT}: sockets of one user bind one address and port together; the kernel picks one per datagram. */
    public static final int SO_REUSEPORT = 15;
    /** {@code SO_ATTACH_REUSEPORT_CBPF}: a classic BPF program that picks the socket of a reuseport group by index. */
    public static final int SO_ATTACH_REUSEPORT_CBPF = 51;
    /** {@code IPPROTO_IP} (the socket option level). */
    public static final int IPPROTO_IP = 0;
    /** {@code IP_HDRINCL}: the caller writes the IPv4 header. */
    public static final int IP_HDRINCL = 3;
    /** {@code SOL_UDP}. */
    public static final int SOL_UDP = 17;
    /** {@code UDP_SEGMENT}: GSO segment size for sends on this socket. */
    public static final int UDP_SEGMENT = 103;
    /** {@code UDP_GRO}: receive trains of datagrams as one, their size in a control message of that type. */
    public static final int UDP_GRO = 104;
    /** {@code MSG_DONTWAIT}. */
    public static final int MSG_DONTWAIT = 0x40;
    /** {@code MSG_TRUNC}. */
    public static final int MSG_TRUNC = 0x20;
    /** {@code sockaddr_in} and friends hold the port and address in network order: {@link NetworkOrder#U16}. */
    public static final ValueLayout.OfShort NET_U16 = NetworkOrder.U16;
    /** A network-order 32-bit field (an IPv4 address): {@link NetworkOrder#U32}. */
    public static final ValueLayout.OfInt NET_U32 = NetworkOrder.U32;

    private static final MethodHandle SOCKET = NativeCall.downcall("socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle BIND = NativeCall.downcall("bind",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, POINTER_AS_LONG, JAVA_INT));
    private static final MethodHandle GETSOCKNAME = NativeCall.downcall("getsockname",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, POINTER_AS_LONG, POINTER_AS_LONG));
    private static final MethodHandle SETSOCKOPT = NativeCall.downcall("setsockopt",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, POINTER_AS_LONG, JAVA_INT));
    private static final MethodHandle SENDTO = NativeCall.downcall("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, POINTER_AS_LONG, JAVA_LONG, JAVA_INT, POINTER_AS_LONG, JAVA_INT));
    private static final MethodHandle RECVFROM = NativeCall.downcall("recvfrom",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, POINTER_AS_LONG, JAVA_LONG, JAVA_INT, POINTER_AS_LONG, POINTER_AS_LONG));
    private static final FunctionDescriptor SENDMMSG_DESCRIPTOR = FunctionDescriptor.of(JAVA_INT, JAVA_INT, POINTER_AS_LONG, JAVA_INT, JAVA_INT);
    private static final FunctionDescriptor RECVMMSG_DESCRIPTOR = FunctionDescriptor.of(JAVA_INT, JAVA_INT, POINTER_AS_LONG, JAVA_INT, JAVA_INT,
            POINTER_AS_LONG);
    // The packet path's calls, and the same calls capturing errno to confirm a failure (see NativeCall).
    private static final MethodHandle SENDMMSG = NativeCall.criticalWithoutErrno("sendmmsg", SENDMMSG_DESCRIPTOR);
    private static final MethodHandle SENDMMSG_CAPTURING = NativeCall.critical("sendmmsg", SENDMMSG_DESCRIPTOR);
    private static final MethodHandle RECVMMSG = NativeCall.criticalWithoutErrno("recvmmsg", RECVMMSG_DESCRIPTOR);
    private static final MethodHandle RECVMMSG_CAPTURING = NativeCall.critical("recvmmsg", RECVMMSG_DESCRIPTOR);

    private SocketNative() {}

    /** {@code socket(domain, type | SOCK_CLOEXEC, protocol)}; {@code what} names it in the error. */
    public static int socket(int domain, int type, int protocol, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            int fd = (int) SOCKET.invokeExact(errno, domain, type | FdNative.O_CLOEXEC, protocol);
            if (fd < 0) throw Errno.exception("socket(" + what + ")", NativeCall.errno(errno));
            return fd;
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code bind(fd, address)}; {@code what} names the address in the error. */
    public static void bind(int fd, MemorySegment address, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            int r = (int) BIND.invokeExact(errno, fd, address.address(), (int) address.byteSize());
            if (r < 0) throw Errno.exception("bind(" + what + ")", NativeCall.errno(errno));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** The local port of an {@code AF_INET} socket ({@code getsockname}); {@code what} names it in the error. */
    public static int localPort(int fd, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            MemorySegment sa = arena.allocate(Structs.SOCKADDR_IN);
            MemorySegment len = arena.allocateFrom(JAVA_INT, (int) sa.byteSize());
            int r = (int) GETSOCKNAME.invokeExact(errno, fd, sa.address(), len.address());
            if (r < 0) throw Errno.exception("getsockname(" + what + ")", NativeCall.errno(errno));
            return Short.toUnsignedInt(sa.get(NET_U16, Structs.SOCKADDR_IN_PORT));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code setsockopt(fd, level, name, &value, 4)}; {@code what} names the option in the error. */
    public static void setsockopt(int fd, int level, int name, int value, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            MemorySegment v = arena.allocateFrom(JAVA_INT, value);
            int r = (int) SETSOCKOPT.invokeExact(errno, fd, level, name, v.address(), 4);
            if (r < 0) throw Errno.exception("setsockopt(" + what + ")", NativeCall.errno(errno));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code setsockopt(fd, level, name, value, value.byteSize())} for an option that is a struct; {@code what} names it in the error. */
    public static void setsockopt(int fd, int level, int name, MemorySegment value, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = NativeCall.errnoSlot(arena);
            int r = (int) SETSOCKOPT.invokeExact(errno, fd, level, name, value.address(), (int) value.byteSize());
            if (r < 0) throw Errno.exception("setsockopt(" + what + ")", NativeCall.errno(errno));
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code sendto}; the byte count or -1 with errno in {@code errno}. {@code address} may be 0 (connected/no name). */
    public static long sendto(MemorySegment errno, int fd, long buffer, long length, int flags, long address, int addressLength) {
        try {
            return (long) SENDTO.invokeExact(errno, fd, buffer, length, flags, address, addressLength);
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code recvfrom} without a source address; the byte count or -1 with errno in {@code errno}. May block. */
    public static long recv(MemorySegment errno, int fd, long buffer, long length, int flags) {
        try {
            return (long) RECVFROM.invokeExact(errno, fd, buffer, length, flags, 0L, 0L);
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code sendmmsg} (critical: pass {@link #MSG_DONTWAIT}); messages sent or -1 with errno in {@code errno}. */
    public static int sendmmsg(MemorySegment errno, int fd, long messages, int count, int flags) {
        try {
            int r = (int) SENDMMSG.invokeExact(fd, messages, count, flags);
            return r != -1 || NativeCall.transientErrno(errno) ? r : (int) SENDMMSG_CAPTURING.invokeExact(errno, fd, messages, count, flags);
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** {@code recvmmsg} without timeout (critical: pass {@link #MSG_DONTWAIT}); messages received or -1 with errno. */
    public static int recvmmsg(MemorySegment errno, int fd, long messages, int count, int flags) {
        try {
            int r = (int) RECVMMSG.invokeExact(fd, messages, count, flags, 0L);
            return r != -1 || NativeCall.transientErrno(errno) ? r : (int) RECVMMSG_CAPTURING.invokeExact(errno, fd, messages, count, flags, 0L);
        } catch (Throwable t) {
            throw NativeCall.rethrow(t);
        }
    }

    /** Fills a {@code sockaddr_in} for {@code address:port} (address as an int, see Ipv4Address). */
    public static void setSockaddrIn(MemorySegment sockaddr, long offset, int address, int port) {
        sockaddr.set(ValueLayout.JAVA_SHORT, offset, (short) AF_INET);
        sockaddr.set(NET_U16, offset + Structs.SOCKADDR_IN_PORT, (short) port);
        sockaddr.set(NET_U32, offset + Structs.SOCKADDR_IN_ADDR, address);
        sockaddr.set(ValueLayout.JAVA_LONG_UNALIGNED, offset + 8, 0L);
    }
}
