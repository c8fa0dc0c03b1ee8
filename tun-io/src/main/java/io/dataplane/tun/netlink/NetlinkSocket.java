package io.dataplane.tun.netlink;

import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.sys.Errno;
import io.dataplane.tun.sys.FdNative;
import io.dataplane.tun.sys.NativeCall;
import io.dataplane.tun.sys.SocketNative;
import io.dataplane.tun.sys.Structs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * An {@code AF_NETLINK}/{@code NETLINK_ROUTE} socket that sends one request at a time and reads
 * the answer: the replies with the request's sequence number, up to the ack (an NLMSG_ERROR with
 * error 0) or the NLMSG_DONE of a dump. An NLMSG_ERROR with an errno becomes an
 * {@link ErrnoException} naming the request, with the kernel's extended-ack message when it sent one.
 */
final class NetlinkSocket implements AutoCloseable {
    /** Receives the payload (after the nlmsghdr) of each reply message. */
    @FunctionalInterface
    interface ReplyHandler {
        void onReply(int type, MemorySegment segment, long payload, long payloadEnd);
    }

    private static final int RECEIVE_BUFFER = 64 * 1024;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment receive = arena.allocate(RECEIVE_BUFFER, 8);
    private final MemorySegment errno = NativeCall.errnoSlot(arena);
    private final MemorySegment kernelAddress = arena.allocate(Structs.SOCKADDR_NL);
    private final int fd;
    private int seq = 1;

    NetlinkSocket() throws ErrnoException {
        try {
            fd = SocketNative.socket(SocketNative.AF_NETLINK, SocketNative.SOCK_RAW, Rtnl.NETLINK_ROUTE, "AF_NETLINK, NETLINK_ROUTE");
        } catch (ErrnoException e) {
            arena.close();
            throw e;
        }
        try {
            kernelAddress.set(ValueLayout.JAVA_SHORT, 0, (short) SocketNative.AF_NETLINK);
            SocketNative.bind(fd, kernelAddress, "AF_NETLINK");
        } catch (ErrnoException e) {
            close();
            throw e;
        }
        try {
            SocketNative.setsockopt(fd, Rtnl.SOL_NETLINK, Rtnl.NETLINK_EXT_ACK, 1, "NETLINK_EXT_ACK");
        } catch (ErrnoException e) {
            // Older kernels: errors just come without the kernel's text.
        }
    }

    /** The next sequence number. */
    int nextSeq() {
        return seq++;
    }

    /**
     * Sends {@code length} bytes of {@code request} (sequence {@code seq}) and reads the answer up
     * to its ack or end of dump, handing every other reply to {@code handler}.
     *
     * @throws ErrnoException naming {@code description} when the kernel answers with an errno
     */
    void exchange(MemorySegment request, int length, int seq, String description, ReplyHandler handler) throws ErrnoException {
        while (SocketNative.sendto(errno, fd, request.address(), length, 0, kernelAddress.address(), (int) kernelAddress.byteSize()) < 0) {
            Errno.retryOrThrow("sendto", "netlink, " + description, NativeCall.errno(errno));
        }
        while (true) {
            long n = SocketNative.recv(errno, fd, receive.address(), RECEIVE_BUFFER, 0);
            if (n < 0) {
                Errno.retryOrThrow("recv", "netlink, " + description, NativeCall.errno(errno));
                continue;
            }
            if (replies(receive, n, seq, description, handler)) return;
        }
    }

    /**
     * Walks the messages in {@code buffer[0, n)} (one datagram from the kernel): hands each reply
     * to request {@code seq} to {@code handler} with its payload bounds, skips answers to earlier
     * requests, and stops at a message whose length field is impossible (the rest of the datagram
     * cannot be framed).
     *
     * @return true at the end of the answer (the ack, or NLMSG_DONE of a dump), false when more
     *     datagrams follow
     * @throws ErrnoException naming {@code description} when the kernel answers with an errno, or
     *     EPROTO when its NLMSG_ERROR is too short to hold one
     */
    static boolean replies(MemorySegment buffer, long n, int seq, String description, ReplyHandler handler) throws ErrnoException {
        long at = 0;
        while (at + Rtnl.NLMSG_HDRLEN <= n) {
            int len = buffer.get(ValueLayout.JAVA_INT, at + Rtnl.NLMSG_LEN);
            if (len < Rtnl.NLMSG_HDRLEN || at + len > n) break;
            int type = Short.toUnsignedInt(buffer.get(ValueLayout.JAVA_SHORT, at + Rtnl.NLMSG_TYPE));
            int flags = Short.toUnsignedInt(buffer.get(ValueLayout.JAVA_SHORT, at + Rtnl.NLMSG_FLAGS));
            int replySeq = buffer.get(ValueLayout.JAVA_INT, at + Rtnl.NLMSG_SEQ);
            long payload = at + Rtnl.NLMSG_HDRLEN;
            long end = at + len;
            at += NetlinkRequest.align(len);
            if (replySeq != seq) continue; // a late answer to an earlier request
            if (type == Rtnl.NLMSG_DONE) return true;
            if (type == Rtnl.NLMSG_ERROR) {
                if (end - payload < Integer.BYTES) throw new ErrnoException(description, Errno.EPROTO, "NLMSG_ERROR without an error code");
                int error = buffer.get(ValueLayout.JAVA_INT, payload + Rtnl.NLMSGERR_ERROR);
                if (error == 0) return true;
                throw new ErrnoException(description, -error, kernelMessage(buffer, payload, end, flags));
            }
            handler.onReply(type, buffer, payload, end);
        }
        return false;
    }

    // The extended-ack text after the echoed request header (and its payload unless capped).
    private static String kernelMessage(MemorySegment buffer, long payload, long end, int flags) {
        if ((flags & Rtnl.NLM_F_ACK_TLVS) == 0) return null;
        long echoed = payload + Rtnl.NLMSGERR_MSG;
        if (echoed + Rtnl.NLMSG_HDRLEN > end) return null;
        long echoedLen = Integer.toUnsignedLong(buffer.get(ValueLayout.JAVA_INT, echoed + Rtnl.NLMSG_LEN));
        long tlvs = (flags & Rtnl.NLM_F_CAPPED) != 0 ? echoed + Rtnl.NLMSG_HDRLEN : echoed + ((echoedLen + 3) & ~3L);
        long at = Attributes.find(buffer, tlvs, end, Rtnl.NLMSGERR_ATTR_MSG);
        if (at < 0) return null;
        int len = Attributes.payloadLength(buffer, at);
        String text = new String(buffer.asSlice(at, len).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        int nul = text.indexOf('\0');
        return "kernel says \"" + (nul >= 0 ? text.substring(0, nul) : text) + "\"";
    }

    @Override
    public void close() {
        FdNative.close(fd);
        arena.close();
    }
}
