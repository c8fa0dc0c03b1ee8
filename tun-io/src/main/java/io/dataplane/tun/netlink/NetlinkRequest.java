package io.dataplane.tun.netlink;

import io.dataplane.tun.sys.SocketNative;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Builds one rtnetlink request in a reusable buffer: the {@code nlmsghdr}, the family header
 * ({@code ifinfomsg}, {@code rtmsg}, ...) and {@code rtattr}s, each padded to 4 bytes as
 * {@code NLMSG_ALIGN}/{@code RTA_ALIGN} require. Every request asks for an ack.
 */
final class NetlinkRequest {
    private final MemorySegment buf;
    private int length;

    NetlinkRequest(MemorySegment buf) {
        this.buf = buf;
    }

    /** Starts a request of {@code type} with {@code flags} (REQUEST and ACK are added). */
    NetlinkRequest start(int type, int flags) {
        buf.asSlice(0, Rtnl.NLMSG_HDRLEN).fill((byte) 0);
        buf.set(ValueLayout.JAVA_SHORT, Rtnl.NLMSG_TYPE, (short) type);
        buf.set(ValueLayout.JAVA_SHORT, Rtnl.NLMSG_FLAGS, (short) (flags | Rtnl.NLM_F_REQUEST | Rtnl.NLM_F_ACK));
        length = Rtnl.NLMSG_HDRLEN;
        return this;
    }

    /** Appends a zeroed family header of {@code layout}; returns its offset for the caller to fill. */
    long body(StructLayout layout) {
        long at = reserve((int) layout.byteSize());
        return at;
    }

    /** The buffer the request is built in. */
    MemorySegment segment() {
        return buf;
    }

    /** Appends an attribute with a host-order 32-bit value. */
    NetlinkRequest u32(int type, int value) {
        long at = attr(type, 4);
        buf.set(ValueLayout.JAVA_INT_UNALIGNED, at, value);
        return this;
    }

    /** Appends an attribute with an IPv4 address (network order). */
    NetlinkRequest ipv4(int type, int address) {
        long at = attr(type, 4);
        buf.set(SocketNative.NET_U32, at, address);
        return this;
    }

    /** Appends an attribute with raw bytes. */
    NetlinkRequest bytes(int type, byte[] value) {
        long at = attr(type, value.length);
        MemorySegment.copy(value, 0, buf, ValueLayout.JAVA_BYTE, at, value.length);
        return this;
    }

    /** Appends an attribute with a NUL-terminated string. */
    NetlinkRequest string(int type, String value) {
        byte[] b = value.getBytes(StandardCharsets.UTF_8);
        long at = attr(type, b.length + 1);
        MemorySegment.copy(b, 0, buf, ValueLayout.JAVA_BYTE, at, b.length);
        buf.set(ValueLayout.JAVA_BYTE, at + b.length, (byte) 0);
        return this;
    }

    /** Opens a nested attribute of {@code type}; the attributes appended until {@link #endNested} go inside it. */
    long startNested(int type) {
        long at = reserve(Rtnl.RTA_HDRLEN);
        buf.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + Rtnl.RTA_TYPE, (short) (type | Rtnl.NLA_F_NESTED));
        return at;
    }

    /** Closes the nested attribute {@link #startNested} opened at {@code at}: its length covers what was appended since. */
    NetlinkRequest endNested(long at) {
        buf.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + Rtnl.RTA_LEN, (short) (length - at));
        return this;
    }

    /** Appends an attribute with an 8-bit value. */
    NetlinkRequest u8(int type, int value) {
        long at = attr(type, 1);
        buf.set(ValueLayout.JAVA_BYTE, at, (byte) value);
        return this;
    }

    /** Sets the length and sequence number; returns the request's length in bytes. */
    int finish(int seq) {
        buf.set(ValueLayout.JAVA_INT, Rtnl.NLMSG_LEN, length);
        buf.set(ValueLayout.JAVA_INT, Rtnl.NLMSG_SEQ, seq);
        return length;
    }

    private long attr(int type, int payload) {
        long at = reserve(Rtnl.RTA_HDRLEN + payload);
        buf.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + Rtnl.RTA_LEN, (short) (Rtnl.RTA_HDRLEN + payload));
        buf.set(ValueLayout.JAVA_SHORT_UNALIGNED, at + Rtnl.RTA_TYPE, (short) type);
        return at + Rtnl.RTA_HDRLEN;
    }

    private long reserve(int bytes) {
        int aligned = align(bytes);
        if (length + aligned > buf.byteSize()) {
            throw new IllegalStateException("netlink request larger than its buffer: " + (length + aligned) + " > " + buf.byteSize());
        }
        long at = length;
        buf.asSlice(at, aligned).fill((byte) 0);
        length += aligned;
        return at;
    }

    /** {@code NLMSG_ALIGN}/{@code RTA_ALIGN}: rounds up to 4. */
    static int align(int n) {
        return (n + 3) & ~3;
    }
}
