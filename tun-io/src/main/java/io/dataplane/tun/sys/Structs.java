package io.dataplane.tun.sys;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/**
 * The C structs this module passes to the kernel, declared once as {@link MemoryLayout}s with their
 * field offsets derived from the layouts (so an offset cannot drift from its struct). Kernel ABI
 * structs are in host byte order unless a field says "network order"; the netlink message structs
 * live with the netlink code that owns them.
 */
public final class Structs {
    private Structs() {}

    /** {@code struct ifreq}: a 16-byte interface name and a 24-byte union (flags, mtu, index, hwaddr). */
    public static final StructLayout IFREQ = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("ifr_name"),
            MemoryLayout.unionLayout(
                    JAVA_SHORT.withName("ifr_flags"),
                    JAVA_INT.withName("ifr_ifindex"),
                    JAVA_INT.withName("ifr_mtu"),
                    MemoryLayout.sequenceLayout(24, JAVA_BYTE).withName("ifr_raw"))
                    .withName("ifr_ifru"));
    /** Offset of the union in {@code ifreq} (flags, mtu and ifindex all start there). */
    public static final long IFREQ_UNION = IFREQ.byteOffset(groupElement("ifr_ifru"));
    /** Bytes of an interface name including its NUL ({@code IFNAMSIZ}). */
    public static final int IFNAMSIZ = 16;

    /** {@code struct pollfd}: fd, requested events, returned events. */
    public static final StructLayout POLLFD = MemoryLayout.structLayout(
            JAVA_INT.withName("fd"), JAVA_SHORT.withName("events"), JAVA_SHORT.withName("revents"));
    /** Offset of {@code events} in {@code pollfd}. */
    public static final long POLLFD_EVENTS = POLLFD.byteOffset(groupElement("events"));
    /** Offset of {@code revents} in {@code pollfd}. */
    public static final long POLLFD_REVENTS = POLLFD.byteOffset(groupElement("revents"));

    /** {@code struct sockaddr_in}: family, port and address (both network order), 8 bytes of zero. */
    public static final StructLayout SOCKADDR_IN = MemoryLayout.structLayout(
            JAVA_SHORT.withName("sin_family"),
            JAVA_SHORT.withName("sin_port"),
            JAVA_INT.withName("sin_addr"),
            MemoryLayout.sequenceLayout(8, JAVA_BYTE).withName("sin_zero"));
    /** Offset of the port (network order) in {@code sockaddr_in}. */
    public static final long SOCKADDR_IN_PORT = SOCKADDR_IN.byteOffset(groupElement("sin_port"));
    /** Offset of the address (network order) in {@code sockaddr_in}. */
    public static final long SOCKADDR_IN_ADDR = SOCKADDR_IN.byteOffset(groupElement("sin_addr"));

    /** {@code struct sockaddr_nl}: family, padding, port id, multicast groups. */
    public static final StructLayout SOCKADDR_NL = MemoryLayout.structLayout(
            JAVA_SHORT.withName("nl_family"),
            JAVA_SHORT.withName("nl_pad"),
            JAVA_INT.withName("nl_pid"),
            JAVA_INT.withName("nl_groups"));

    /** {@code struct iovec}: base pointer and length. */
    public static final StructLayout IOVEC = MemoryLayout.structLayout(
            ADDRESS.withName("iov_base"), JAVA_LONG.withName("iov_len"));
    /** Offset of {@code iov_base}. */
    public static final long IOVEC_BASE = IOVEC.byteOffset(groupElement("iov_base"));
    /** Offset of {@code iov_len}. */
    public static final long IOVEC_LEN = IOVEC.byteOffset(groupElement("iov_len"));

    /** {@code struct msghdr} (LP64): name, name length, iovec array and count, control, flags. */
    public static final StructLayout MSGHDR = MemoryLayout.structLayout(
            ADDRESS.withName("msg_name"),
            JAVA_INT.withName("msg_namelen"),
            MemoryLayout.paddingLayout(4),
            ADDRESS.withName("msg_iov"),
            JAVA_LONG.withName("msg_iovlen"),
            ADDRESS.withName("msg_control"),
            JAVA_LONG.withName("msg_controllen"),
            JAVA_INT.withName("msg_flags"),
            MemoryLayout.paddingLayout(4));
    /** Offset of {@code msg_name}. */
    public static final long MSGHDR_NAME = MSGHDR.byteOffset(groupElement("msg_name"));
    /** Offset of {@code msg_namelen}. */
    public static final long MSGHDR_NAMELEN = MSGHDR.byteOffset(groupElement("msg_namelen"));
    /** Offset of {@code msg_iov}. */
    public static final long MSGHDR_IOV = MSGHDR.byteOffset(groupElement("msg_iov"));
    /** Offset of {@code msg_iovlen}. */
    public static final long MSGHDR_IOVLEN = MSGHDR.byteOffset(groupElement("msg_iovlen"));
    /** Offset of {@code msg_control}. */
    public static final long MSGHDR_CONTROL = MSGHDR.byteOffset(groupElement("msg_control"));
    /** Offset of {@code msg_controllen}. */
    public static final long MSGHDR_CONTROLLEN = MSGHDR.byteOffset(groupElement("msg_controllen"));
    /** Offset of {@code msg_flags}. */
    public static final long MSGHDR_FLAGS = MSGHDR.byteOffset(groupElement("msg_flags"));

    /** {@code struct mmsghdr}: a msghdr and the byte count the kernel fills in. */
    public static final StructLayout MMSGHDR = MemoryLayout.structLayout(
            MSGHDR.withName("msg_hdr"), JAVA_INT.withName("msg_len"), MemoryLayout.paddingLayout(4));
    /** Offset of {@code msg_len} in {@code mmsghdr}. */
    public static final long MMSGHDR_LEN = MMSGHDR.byteOffset(groupElement("msg_len"));

    /** {@code struct sock_filter}: one classic BPF instruction, opcode, jump offsets if true and if false, operand. */
    public static final StructLayout SOCK_FILTER = MemoryLayout.structLayout(
            JAVA_SHORT.withName("code"), JAVA_BYTE.withName("jt"), JAVA_BYTE.withName("jf"), JAVA_INT.withName("k"));
    /** Offset of {@code jt} in {@code sock_filter}. */
    public static final long SOCK_FILTER_JT = SOCK_FILTER.byteOffset(groupElement("jt"));
    /** Offset of {@code jf} in {@code sock_filter}. */
    public static final long SOCK_FILTER_JF = SOCK_FILTER.byteOffset(groupElement("jf"));
    /** Offset of {@code k} in {@code sock_filter}. */
    public static final long SOCK_FILTER_K = SOCK_FILTER.byteOffset(groupElement("k"));

    /** {@code struct sock_fprog}: the number of instructions and a pointer to them. */
    public static final StructLayout SOCK_FPROG = MemoryLayout.structLayout(
            JAVA_SHORT.withName("len"), MemoryLayout.paddingLayout(6), JAVA_LONG.withName("filter"));
    /** Offset of {@code filter} in {@code sock_fprog}. */
    public static final long SOCK_FPROG_FILTER = SOCK_FPROG.byteOffset(groupElement("filter"));
}
