package io.dataplane.tun.sys;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.wire.TcpSegments;
import io.dataplane.tun.ErrnoException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * Sends a TCP super-packet as the UDP (or raw IP) datagrams of its segments without copying its payload: each
 * segment is two iovecs, its headers written by {@link TcpSegments} into a scratch area here and its
 * payload slice of the super-packet's buffer; with UDP GSO ({@code UDP_SEGMENT}) one message
 * carries up to {@link #MAX_SEGMENTS_PER_MESSAGE} segments that the kernel cuts into datagrams
 * (one pass through the IP stack for all of them), and one {@code sendmmsg} sends all the messages
 * of up to {@link #MAX_SEGMENTS_PER_CALL} segments.
 *
 * <pre>
 * message k: name = peer, iov = [hdr 0][payload 0][hdr 1][payload 1] ... , control = UDP_SEGMENT(header + mss)
 *   every datagram but the message's last is exactly header + mss bytes; the kernel sends them in order
 * </pre>
 *
 * <p>Without GSO (a kernel that refuses it, or {@link #disableGso()}) every segment is a message
 * of its own, still two iovecs and still one {@code sendmmsg} for many. A kernel that answers a GSO
 * message with EIO or EINVAL (a device path that cannot take it) turns GSO off for good; the
 * segments of that message are lost (TCP sends them again), and a warning says so once.
 *
 * <p><b>Datagrams longer than the path's MTU.</b> The kernel refuses a GSO message whose datagrams
 * do not fit the route's MTU (EMSGSIZE), where it fragments a lone datagram of that length (the
 * socket's default {@code IP_PMTUDISC_WANT}). That happens while the underlay's MTU is below the
 * one the TUN's MTU was made for: between an underlay MTU change and the TUN following it, or for
 * good under a configured MTU. The datagrams of such a message, and the rest of that super-packet
 * or train, go out again one per message and the kernel fragments them, as the kernel's own VXLAN
 * does with the outer packets of inner packets too large for the underlay; the next super-packet
 * tries GSO again.
 *
 * <p>One thread at a time; nothing allocates after construction.
 */
public final class SegmentBatch {
    private static final Logger LOG = System.getLogger(SegmentBatch.class.getName());
    /** Segments per GSO message at most (the kernel's UDP_MAX_SEGMENTS is 64 on older kernels). */
    public static final int MAX_SEGMENTS_PER_MESSAGE = 64;
    /** Segments per {@code sendmmsg}. */
    public static final int MAX_SEGMENTS_PER_CALL = 128;
    /** Largest UDP payload of one GSO message: 65535 minus the IPv4 and UDP headers. */
    static final int MAX_GSO_PAYLOAD = 65535 - 20 - 8;
    private static final int HEADER_STRIDE = (TcpSegments.MAX_HEADER_LENGTH + 15) & ~15;
    private static final long MMSG = Structs.MMSGHDR.byteSize();
    private static final long IOV = Structs.IOVEC.byteSize();
    static final int CMSG_HDR = 16; // struct cmsghdr on LP64: size_t len, int level, int type
    private static final int CMSG_LEN_U16 = CMSG_HDR + 2;
    static final int CMSG_SPACE_U16 = (CMSG_LEN_U16 + 7) & ~7;

    private final TcpSegments segments = new TcpSegments();
    private final MemorySegment headers;
    private final MemorySegment iovecs;
    private final MemorySegment messages;
    private final MemorySegment controls;
    private final MemorySegment address;
    private final long messagesAddress;
    private final int[] firstDatagram = new int[MAX_SEGMENTS_PER_CALL]; // of each message of the call under way
    private boolean gso = true;
    private int tooLong = -1; // set by sendAll

    /** Allocates the scratch, iovecs, messages and control buffers in {@code arena}. */
    public SegmentBatch(Arena arena) {
        this.headers = arena.allocate((long) HEADER_STRIDE * MAX_SEGMENTS_PER_CALL, 16);
        this.iovecs = arena.allocate(Structs.IOVEC, 2L * MAX_SEGMENTS_PER_CALL);
        this.messages = arena.allocate(Structs.MMSGHDR, MAX_SEGMENTS_PER_CALL);
        this.controls = arena.allocate((long) CMSG_SPACE_U16 * MAX_SEGMENTS_PER_CALL, 8);
        this.address = arena.allocate(Structs.SOCKADDR_IN);
        this.messagesAddress = messages.address();
        address.set(ValueLayout.JAVA_SHORT, 0, (short) SocketNative.AF_INET);
        for (int i = 0; i < MAX_SEGMENTS_PER_CALL; i++) {
            long m = i * MMSG;
            messages.set(ValueLayout.JAVA_LONG, m + Structs.MSGHDR_NAME, address.address());
            messages.set(ValueLayout.JAVA_INT, m + Structs.MSGHDR_NAMELEN, (int) Structs.SOCKADDR_IN.byteSize());
            udpSegmentControl(controls, (long) i * CMSG_SPACE_U16);
        }
    }

    // A UDP_SEGMENT control message at byte c of controls, CMSG_SPACE_U16 bytes; its u16 at c + CMSG_HDR is set per message.
    static void udpSegmentControl(MemorySegment controls, long c) {
        controls.set(ValueLayout.JAVA_LONG, c, CMSG_LEN_U16);
        controls.set(ValueLayout.JAVA_INT, c + 8, SocketNative.SOL_UDP);
        controls.set(ValueLayout.JAVA_INT, c + 12, SocketNative.UDP_SEGMENT);
    }

    /** True while messages carry several segments each (UDP GSO). */
    public boolean gso() {
        return gso;
    }

    /** Sends one datagram per segment from now on (the plain path, and what tests compare GSO with). */
    public void disableGso() {
        gso = false;
    }

    /**
     * Sends the super-packet {@code p} (IPv4 header {@link PacketBuffer#gsoPrefix()} bytes into its
     * data) to its peer as its segments, without waiting.
     *
     * @return 1 if every segment was sent; 0 if it is no super-packet {@link TcpSegments} can cut,
     *     or the kernel refused any of it (EAGAIN included); {@link MmsgBatch#CLOSED} once the
     *     descriptor is closed
     * @throws ErrnoException if the descriptor is unusable ({@link Errno#sendResult})
     */
    public int send(MemorySegment errno, int fd, PacketBuffer p) throws ErrnoException {
        if (segments.prepare(p, p.gsoPrefix()) != TcpSegments.VALID) return 0;
        address.set(SocketNative.NET_U16, Structs.SOCKADDR_IN_PORT, (short) p.peerPort());
        address.set(SocketNative.NET_U32, Structs.SOCKADDR_IN_ADDR, p.peerAddress());
        int n = segments.segments();
        int headerLength = segments.headerLength();
        int datagram = headerLength + segments.mss();
        long base = p.address();
        boolean complete = true;
        boolean apart = !gso; // one datagram per message
        for (int i = 0; i < n; ) {
            int perMessage = apart ? 1 : Math.max(1, Math.min(MAX_SEGMENTS_PER_MESSAGE, MAX_GSO_PAYLOAD / datagram));
            int slot = 0;
            int count = 0;
            while (i < n && slot < MAX_SEGMENTS_PER_CALL) {
                int m = Math.min(perMessage, Math.min(n - i, MAX_SEGMENTS_PER_CALL - slot));
                firstDatagram[count] = i;
                message(count, 2L * slot * IOV, 2L * m, m, datagram);
                for (int j = 0; j < m; j++, i++, slot++) {
                    long h = (long) slot * HEADER_STRIDE;
                    segments.writeHeader(i, headers, h);
                    long v = 2L * slot * IOV;
                    iovecs.set(ValueLayout.JAVA_LONG, v + Structs.IOVEC_BASE, headers.address() + h);
                    iovecs.set(ValueLayout.JAVA_LONG, v + Structs.IOVEC_LEN, headerLength);
                    iovecs.set(ValueLayout.JAVA_LONG, v + IOV + Structs.IOVEC_BASE, base + segments.payloadOffset(i));
                    iovecs.set(ValueLayout.JAVA_LONG, v + IOV + Structs.IOVEC_LEN, segments.payloadLength(i));
                }
                count++;
            }
            int r = sendAll(errno, fd, count);
            if (r == MmsgBatch.CLOSED) return MmsgBatch.CLOSED;
            if (tooLong >= 0) {
                i = firstDatagram[tooLong]; // that message's segments and the rest: one datagram each, fragmented
                apart = true;
            } else if (r < count) {
                complete = false;
            }
        }
        return complete ? 1 : 0;
    }

    /**
     * Sends the train in {@code p} ({@link PacketBuffer#TRAIN}: its datagrams back to back, each
     * {@link PacketBuffer#gsoSize()} bytes but the last) to its peer as those datagrams, without
     * waiting: with UDP GSO each message one iovec of up to {@link #MAX_SEGMENTS_PER_MESSAGE}
     * datagrams, else one message per datagram; one {@code sendmmsg} for up to {@link
     * #MAX_SEGMENTS_PER_CALL} datagrams.
     *
     * @return 1 if every datagram was sent; 0 if the kernel refused any of it (EAGAIN included);
     *     {@link MmsgBatch#CLOSED} once the descriptor is closed
     * @throws ErrnoException if the descriptor is unusable ({@link Errno#sendResult})
     */
    public int sendTrain(MemorySegment errno, int fd, PacketBuffer p) throws ErrnoException {
        int datagram = p.gsoSize();
        int length = p.length();
        if (datagram <= 0 || length <= 0) return 0;
        address.set(SocketNative.NET_U16, Structs.SOCKADDR_IN_PORT, (short) p.peerPort());
        address.set(SocketNative.NET_U32, Structs.SOCKADDR_IN_ADDR, p.peerAddress());
        int n = (length + datagram - 1) / datagram;
        long start = p.address() + p.offset();
        long at = start;
        long end = at + length;
        boolean complete = true;
        boolean apart = !gso; // one datagram per message
        for (int i = 0; i < n; ) {
            int perMessage = apart ? 1 : Math.max(1, Math.min(MAX_SEGMENTS_PER_MESSAGE, MAX_GSO_PAYLOAD / datagram));
            int count = 0;
            while (i < n && count < MAX_SEGMENTS_PER_CALL) {
                int m = Math.min(perMessage, n - i);
                firstDatagram[count] = i;
                long bytes = Math.min((long) m * datagram, end - at);
                long v = count * IOV;
                iovecs.set(ValueLayout.JAVA_LONG, v + Structs.IOVEC_BASE, at);
                iovecs.set(ValueLayout.JAVA_LONG, v + Structs.IOVEC_LEN, bytes);
                message(count, v, 1L, m, datagram);
                at += bytes;
                i += m;
                count++;
            }
            int r = sendAll(errno, fd, count);
            if (r == MmsgBatch.CLOSED) return MmsgBatch.CLOSED;
            if (tooLong >= 0) {
                i = firstDatagram[tooLong]; // that message's datagrams and the rest: one per message, fragmented
                at = start + (long) i * datagram;
                apart = true;
            } else if (r < count) {
                complete = false;
            }
        }
        return complete ? 1 : 0;
    }

    // Message k: iovecs from byte iov of the iovec array, iovLen of them, carrying datagrams of `datagram` bytes (UDP_SEGMENT when more than one).
    private void message(int k, long iov, long iovLen, int datagrams, int datagram) {
        long msg = k * MMSG;
        messages.set(ValueLayout.JAVA_LONG, msg + Structs.MSGHDR_IOV, iovecs.address() + iov);
        messages.set(ValueLayout.JAVA_LONG, msg + Structs.MSGHDR_IOVLEN, iovLen);
        if (datagrams > 1) {
            long c = (long) k * CMSG_SPACE_U16;
            controls.set(ValueLayout.JAVA_SHORT, c + CMSG_HDR, (short) datagram);
            messages.set(ValueLayout.JAVA_LONG, msg + Structs.MSGHDR_CONTROL, controls.address() + c);
            messages.set(ValueLayout.JAVA_LONG, msg + Structs.MSGHDR_CONTROLLEN, CMSG_SPACE_U16);
        } else {
            messages.set(ValueLayout.JAVA_LONG, msg + Structs.MSGHDR_CONTROL, 0L);
            messages.set(ValueLayout.JAVA_LONG, msg + Structs.MSGHDR_CONTROLLEN, 0L);
        }
    }

    /*
     * sendmmsg of messages [0..count); a refused one is skipped. Returns how many went, or CLOSED.
     * A GSO message refused for datagrams longer than the path's MTU ends the call there, with
     * tooLong its index (-1 otherwise): the caller sends it and the rest again one datagram each.
     */
    private int sendAll(MemorySegment errno, int fd, int count) throws ErrnoException {
        tooLong = -1;
        int sent = 0;
        int at = 0;
        while (at < count) {
            int r = SocketNative.sendmmsg(errno, fd, messagesAddress + at * MMSG, count - at, SocketNative.MSG_DONTWAIT);
            if (r > 0) {
                at += r;
                sent += r;
                continue;
            }
            int e = NativeCall.errno(errno);
            Errno.Outcome o = Errno.sendResult("sendmmsg", "UDP GSO", e);
            if (o == Errno.Outcome.RETRY) continue;
            if (o == Errno.Outcome.CLOSED) return MmsgBatch.CLOSED;
            if (o == Errno.Outcome.AGAIN) return sent; // the send buffer is full: the rest would be refused too
            boolean gsoMessage = messages.get(ValueLayout.JAVA_LONG, at * MMSG + Structs.MSGHDR_CONTROLLEN) != 0;
            if (gsoMessage && e == Errno.EMSGSIZE) {
                tooLong = at;
                return sent;
            }
            if (gso && gsoMessage && (e == Errno.EIO || e == Errno.EINVAL)) {
                gso = false; // this path cannot take GSO messages: one datagram per segment from the next send on
                LOG.log(Level.WARNING, "UDP GSO refused (errno " + e + "): sending TCP super-packets one datagram per segment from now on");
            }
            at++;
        }
        return sent;
    }
}
