package io.dataplane.tun.raw;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.socket.MmsgSocket;
import io.dataplane.tun.socket.SocketTransport;
import io.dataplane.tun.sys.FdNative;
import io.dataplane.tun.sys.MmsgBatch;
import io.dataplane.tun.sys.SegmentBatch;
import io.dataplane.tun.sys.SocketNative;
import io.dataplane.tun.sys.Structs;
import io.dataplane.tun.sys.WakeableFd;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An IPv4 raw socket ({@code AF_INET}, {@code SOCK_RAW}) for one IP protocol number, sending and
 * receiving batches of datagrams with {@code sendmmsg}/{@code recvmmsg}: the ipip backend's
 * socket (protocol 4), under {@link SocketTransport#rawIp}.
 *
 * <p><b>Send.</b> {@link #send} sends each buffer's data to its {@link PacketBuffer#peerAddress()}.
 * Without {@code IP_HDRINCL} the data is the payload and the kernel writes the outer IPv4 header;
 * with it ({@code headerIncluded}) the data starts with an IPv4 header the caller wrote (the kernel
 * still fills in the checksum, the total length, and a zero identification or source). Buffers
 * stay with the caller. A datagram the kernel refuses (no route: ENETUNREACH, too large:
 * EMSGSIZE, ...) is skipped and not counted, as TUN writes are. A TCP super-packet goes out as
 * the datagrams of its segments ({@link #sendsSuperPackets()}).
 *
 * <p><b>Receive.</b> A raw IPv4 socket always receives the whole datagram, outer IPv4 header
 * included, whichever way it sends. {@link #receive} reads it at the buffer's offset and then
 * moves the data offset past the outer header ({@code offset += IHL * 4}), so the data is the
 * payload (for ipip: the inner IPv4 packet) and the outer header stays readable just in front of
 * it, from the offset the buffer had before the call; a socket opened to receive whole datagrams
 * leaves the data at the outer header instead. The peer address is the outer source. A datagram
 * larger than the buffer is dropped (the buffer is reused) and counted in {@link #truncated()},
 * never handed on cut short.
 *
 * <p>The socket is nonblocking; {@link #receive} waits in {@code poll} and {@link #close} wakes it
 * within a millisecond, as with {@code TunDevice}. One thread sends and one receives at a time.
 * The socket belongs to the network namespace of the thread that opens it.
 */
public final class RawIpSocket extends MmsgSocket {
    private final int protocol;
    private final boolean headerIncluded;
    private final boolean wholeDatagrams;
    private int boundAddress;

    private RawIpSocket(int protocol, boolean headerIncluded, boolean wholeDatagrams, int batchSize, WakeableFd fd) {
        super(batchSize, fd);
        this.protocol = protocol;
        this.headerIncluded = headerIncluded;
        this.wholeDatagrams = wholeDatagrams;
    }

    /**
     * Opens a raw socket for IP protocol {@code protocol} (4 for ipip) in the calling thread's
     * network namespace.
     *
     * @param batchSize most datagrams one send or receive call moves (1-1024)
     * @param headerIncluded set {@code IP_HDRINCL}: sent data starts with the caller's IPv4 header
     * @throws ErrnoException naming the call: EPERM without CAP_NET_RAW
     */
    public static RawIpSocket open(int protocol, int batchSize, boolean headerIncluded) throws IOException {
        return open(protocol, batchSize, headerIncluded, false);
    }

    /**
     * As {@link #open(int, int, boolean)}; with {@code wholeDatagrams} a received buffer's data is
     * the whole datagram, outer IPv4 header included, instead of its payload.
     */
    public static RawIpSocket open(int protocol, int batchSize, boolean headerIncluded, boolean wholeDatagrams) throws IOException {
        if (protocol < 1 || protocol > 254) throw new IllegalArgumentException("IP protocol out of range: protocol=" + protocol + " (1-254)");
        if (batchSize < 1 || batchSize > 1024) throw new IllegalArgumentException("raw socket batch size out of range: batchSize=" + batchSize + " (1-1024)");
        String what = "AF_INET, SOCK_RAW, protocol " + protocol;
        int s = SocketNative.socket(SocketNative.AF_INET, SocketNative.SOCK_RAW | FdNative.O_NONBLOCK, protocol, what);
        try {
            if (headerIncluded) SocketNative.setsockopt(s, SocketNative.IPPROTO_IP, SocketNative.IP_HDRINCL, 1, "IP_HDRINCL");
            return new RawIpSocket(protocol, headerIncluded, wholeDatagrams, batchSize, new WakeableFd(s, "raw IP protocol " + protocol));
        } catch (IOException | RuntimeException e) {
            FdNative.close(s);
            throw e;
        }
    }

    /** Receives only datagrams addressed to {@code localAddress} (and sends from it when the kernel writes the header). */
    public void bind(int localAddress) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment sa = a.allocate(Structs.SOCKADDR_IN);
            SocketNative.setSockaddrIn(sa, 0, localAddress, 0);
            SocketNative.bind(fdNumber, sa, "raw IP protocol " + protocol + ", " + Ipv4Address.toString(localAddress));
        }
        boundAddress = localAddress;
    }

    /**
     * Asks for socket buffers of these sizes ({@code SO_RCVBUF}, {@code SO_SNDBUF}; the kernel caps
     * them at {@code net.core.rmem_max} and {@code wmem_max}); 0 leaves a buffer at the kernel's default.
     */
    public void setBufferSizes(int receiveBytes, int sendBytes) throws IOException {
        if (receiveBytes < 0 || sendBytes < 0) {
            throw new IllegalArgumentException("socket buffer size negative: receiveBytes=" + receiveBytes + " sendBytes=" + sendBytes);
        }
        if (receiveBytes > 0) SocketNative.setsockopt(fdNumber, SocketNative.SOL_SOCKET, SocketNative.SO_RCVBUF, receiveBytes, "SO_RCVBUF");
        if (sendBytes > 0) SocketNative.setsockopt(fdNumber, SocketNative.SOL_SOCKET, SocketNative.SO_SNDBUF, sendBytes, "SO_SNDBUF");
    }

    /** The IP protocol number. */
    public int protocol() {
        return protocol;
    }

    /** True if sent data carries the caller's IPv4 header ({@code IP_HDRINCL}). */
    public boolean headerIncluded() {
        return headerIncluded;
    }

    /**
     * Sends {@code packets[0..count)}, each to its peer address, in {@code sendmmsg} batches;
     * returns how many the kernel took (refused ones are skipped), or {@link #CLOSED}. Waits in
     * poll while the send buffer is full.
     */
    public int send(PacketBuffer[] packets, int count) throws IOException {
        return send(packets, count, true);
    }

    /**
     * As {@link #send(PacketBuffer[], int)}, but never waits: when the socket's send buffer is full
     * (EAGAIN) the datagrams not yet taken are refused, and the result says how many went.
     */
    public int trySend(PacketBuffer[] packets, int count) throws IOException {
        return send(packets, count, false);
    }

    @Override
    public int send(PacketBuffer[] packets, int count, boolean wait) throws IOException {
        return sendWithSegments(packets, count, wait, false);
    }

    /** One datagram per segment: a raw socket has no GSO. */
    @Override
    protected SegmentBatch newSegmentBatch(Arena arena) {
        SegmentBatch b = new SegmentBatch(arena);
        b.disableGso();
        return b;
    }

    /** The data starts past the outer header (unless whole datagrams), the outer source is the peer. */
    @Override
    protected boolean accept(MmsgBatch b, int i, PacketBuffer p) {
        int len = b.length(i);
        int off = p.offset();
        int ihl = len > 0 ? (Byte.toUnsignedInt(p.segment().get(ValueLayout.JAVA_BYTE, off)) & 0x0f) * 4 : 0;
        if (ihl < 20 || ihl > len) return false; // the kernel delivers only whole IPv4 datagrams
        if (wholeDatagrams) p.setLength(len);
        else p.setData(off + ihl, len - ihl);
        p.setPeer(b.peerAddress(i), 0);
        return true;
    }

    /** 0: a raw IP socket has no port. */
    @Override
    public int localPort() {
        return 0;
    }

    /**
     * True: {@link #send} cuts a TCP super-packet into the datagrams of its segments, all in one
     * {@code sendmmsg}, each the repeated prefix and headers then its slice of the payload (no copy).
     * With {@code IP_HDRINCL} the prefix is the outer IPv4 header, written once for the whole
     * super-packet: the kernel fills in each datagram's total length and checksum, and an
     * identification where it is 0.
     */
    @Override
    public boolean sendsSuperPackets() {
        return true;
    }

    /** {@code "rawPROTOCOL"}. */
    @Override
    public String label() {
        return "raw" + protocol;
    }

    @Override
    public String toString() {
        return "RawIpSocket[protocol " + protocol + " " + Ipv4Address.toString(boundAddress) + (headerIncluded ? ", IP_HDRINCL" : "") + "]";
    }
}
