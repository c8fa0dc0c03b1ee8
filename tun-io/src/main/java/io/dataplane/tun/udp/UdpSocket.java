package io.dataplane.tun.udp;

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

/**
 * A nonblocking IPv4 UDP socket driven through FFM: {@code sendmmsg} and {@code recvmmsg} straight
 * from and into pool buffers, on the caller's thread, with no event loop in between; the socket of
 * {@link SocketTransport#udp}.
 *
 * <p><b>Send.</b> {@link #send} sends each buffer's data to its peer address and port, in batches
 * of up to {@link #batchSize()}. A datagram the kernel refuses (EMSGSIZE, ENETUNREACH) is skipped
 * and left out of the count it returns; while the send buffer is full it waits, or refuses the rest.
 *
 * <p><b>Receive.</b> {@link #receive} reads into buffers at their offset and sets each one's
 * length and peer (the sender's address and port); it blocks in {@code poll} for the first
 * datagram, and {@link #close} wakes it within a millisecond. A datagram larger than the room after
 * the offset arrives cut short; the kernel says so ({@code MSG_TRUNC}) and receive drops it,
 * counting it in {@link #truncated()}. With {@link #enableGro} a train of datagrams from one sender
 * comes up in one buffer, marked with the datagram size ({@link PacketBuffer#gsoSize()}).
 *
 * <p>One thread receives and one sends at a time (they may run concurrently). The socket belongs
 * to the network namespace of the thread that opens it.
 */
public final class UdpSocket extends MmsgSocket {
    private final int localAddress;
    private final int localPort;
    private boolean gro; // set before the first receive
    private int largestDatagram = UdpTransportConfig.MAX_DATAGRAM; // with gro

    private UdpSocket(int batchSize, WakeableFd fd, int localAddress, int localPort) {
        super(batchSize, fd);
        this.localAddress = localAddress;
        this.localPort = localPort;
    }

    /**
     * Opens a UDP socket bound to {@code address:port} in the calling thread's network namespace.
     *
     * @param address local IPv4 address, 0 for every address
     * @param port local port, 0 for an ephemeral one
     * @param batchSize most datagrams one send or receive call moves (1-1024)
     * @param socketBufferBytes {@code SO_RCVBUF} and {@code SO_SNDBUF} to ask for, 0 for the kernel's defaults
     * @throws ErrnoException naming the address and port: EADDRINUSE, EADDRNOTAVAIL (not an address of this host)
     */
    public static UdpSocket open(int address, int port, int batchSize, int socketBufferBytes) throws IOException {
        return open(address, port, batchSize, socketBufferBytes, null);
    }

    /**
     * As {@link #open(int, int, int, int)}, and with {@code steering} one socket of a group that
     * binds {@code address:port} together ({@code SO_REUSEPORT}): the kernel hands each datagram to
     * the socket {@code steering} picks by the inner flow. The sockets of a group take their index
     * in the order they bind, so each queue's socket should bind in the queue's order.
     *
     * @param steering the group's steering (the same for every socket of it), or null for a socket of its own
     */
    public static UdpSocket open(int address, int port, int batchSize, int socketBufferBytes, FlowSteering steering) throws IOException {
        if (port < 0 || port > 0xffff) throw new IllegalArgumentException("UDP port out of range: port=" + port);
        if (batchSize < 1 || batchSize > UdpTransportConfig.MAX_BATCH_SIZE) {
            throw new IllegalArgumentException("UDP batch size out of range: batchSize=" + batchSize + " (1-"
                    + UdpTransportConfig.MAX_BATCH_SIZE + ")");
        }
        String where = Ipv4Address.toString(address) + ":" + port;
        int s = SocketNative.socket(SocketNative.AF_INET, SocketNative.SOCK_DGRAM | FdNative.O_NONBLOCK, 0, "AF_INET, SOCK_DGRAM");
        try {
            if (socketBufferBytes > 0) {
                SocketNative.setsockopt(s, SocketNative.SOL_SOCKET, SocketNative.SO_RCVBUF, socketBufferBytes, "SO_RCVBUF, " + where);
                SocketNative.setsockopt(s, SocketNative.SOL_SOCKET, SocketNative.SO_SNDBUF, socketBufferBytes, "SO_SNDBUF, " + where);
            }
            if (steering != null) SocketNative.setsockopt(s, SocketNative.SOL_SOCKET, SocketNative.SO_REUSEPORT, 1, "SO_REUSEPORT, " + where);
            int boundPort;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment sa = a.allocate(Structs.SOCKADDR_IN);
                SocketNative.setSockaddrIn(sa, 0, address, port);
                SocketNative.bind(s, sa, "UDP " + where);
                boundPort = SocketNative.localPort(s, "UDP " + where);
            }
            if (steering != null) steering.attach(s, where);
            return new UdpSocket(batchSize, new WakeableFd(s, "UDP " + where), address, boundPort);
        } catch (IOException | RuntimeException e) {
            FdNative.close(s);
            throw e;
        }
    }

    /** The local port (the ephemeral one the kernel chose when opened with 0). */
    @Override
    public int localPort() {
        return localPort;
    }

    /** The local address bound (0 for every address). */
    public int localAddress() {
        return localAddress;
    }

    /**
     * Sends {@code packets[0..count)}, each buffer's data to its peer address and port, in
     * {@code sendmmsg} batches; returns how many the kernel took (refused ones are skipped: the
     * caller counts the difference), or {@link #CLOSED}. With {@code wait} it waits in poll while
     * the send buffer is full; without, what the kernel does not take at once is refused. A TCP
     * super-packet (gsoSize above 0, {@link PacketBuffer#gsoPrefix()} set) goes out as the datagrams
     * of its segments ({@link SegmentBatch}: UDP GSO, no copy, never waiting) and counts as taken
     * only if all of them were. With {@link #enableSendRuns} consecutive datagrams to one peer of
     * one length go out as one GSO message, and count as taken together or not at all.
     */
    @Override
    public int send(PacketBuffer[] packets, int count, boolean wait) throws ErrnoException {
        return sendWithSegments(packets, count, wait, true);
    }

    /**
     * The datagram's payload is the data, its sender the peer. With {@link #enableGro} a train of
     * datagrams that the kernel received as one is one buffer: the datagrams back to back, each
     * {@link PacketBuffer#gsoSize() gsoSize} bytes but the last, which may be shorter.
     */
    @Override
    protected boolean accept(MmsgBatch b, int i, PacketBuffer p) {
        int length = b.length(i);
        p.setLength(length).setPeer(b.peerAddress(i), b.peerPort(i));
        if (!gro) return true;
        int segmentSize = b.controlInt(i, SocketNative.SOL_UDP, SocketNative.UDP_GRO);
        boolean train = segmentSize > 0 && segmentSize < length;
        if ((train ? segmentSize : length) > largestDatagram) {
            countTruncated();
            return false;
        }
        if (!train) return true;
        p.setGsoSize(segmentSize);
        countTrain((length + segmentSize - 1) / segmentSize);
        return true;
    }

    /**
     * Asks the kernel to hand up trains of datagrams from one sender (UDP GSO messages, or what
     * GRO joined) in one receive ({@code UDP_GRO}), each train in one buffer marked with its
     * datagram size ({@link PacketBuffer#gsoSize()}). A train is up to 64 KiB: the buffers
     * received into must hold 65535 bytes after their offset, or a train is cut short and dropped
     * as truncated. A datagram longer than {@code largestDatagram}, alone or in a train, is dropped
     * and counted as truncated too, as it would be by a buffer of that size. A receive without a GRO
     * size is one datagram: the kernel gives the size for {@code SKB_GSO_UDP_L4} only ({@code
     * udp_cmsg_recv}), so a kernel tunnel peer's TCP super-packet, which crosses a veth as one UDP
     * datagram of up to 64 KiB, comes up whole and without one; a backend that takes those passes
     * the largest UDP payload as {@code largestDatagram} and judges each datagram itself. Called before the first receive; false, changing nothing, if the kernel refuses.
     */
    public boolean enableGro(int largestDatagram) {
        try {
            SocketNative.setsockopt(fdNumber, SocketNative.SOL_UDP, SocketNative.UDP_GRO, 1, "UDP_GRO, " + this);
        } catch (ErrnoException e) {
            return false;
        }
        receiveControl();
        this.largestDatagram = largestDatagram;
        gro = true;
        return true;
    }

    /** True once {@link #enableGro} succeeded. */
    public boolean gro() {
        return gro;
    }

    /**
     * Sends runs of datagrams, consecutive in a batch, to one peer and equally long (the last may be
     * shorter), as one UDP GSO message each from now on ({@link MmsgBatch#sendRuns}): one pass
     * through the kernel's stack for the run, and one receive for a peer that takes trains. Called
     * before the first send.
     */
    public void enableSendRuns() {
        sendBatch.sendRuns(arena);
    }

    /** True while runs of equally long datagrams go out as one GSO message (until {@link #disableGso} or a kernel that refuses it). */
    public boolean sendsRuns() {
        return sendBatch.sendsRuns();
    }

    /** Sends each super-packet segment, and each datagram of a run, as a datagram of its own from now on, instead of with UDP GSO. */
    public void disableGso() {
        WakeableFd.Direction out = fd.writing();
        if (!out.enter()) return;
        try {
            sendBatch.stopRuns();
            segmentBatch().disableGso();
        } finally {
            out.exit();
        }
    }

    /** True while super-packets go out with UDP GSO (until {@link #disableGso} or a kernel that refuses it). */
    public boolean gso() {
        return !sentSegments() || segmentBatch().gso();
    }

    /** True: {@link #send} cuts TCP super-packets into datagrams. */
    @Override
    public boolean sendsSuperPackets() {
        return true;
    }

    /** {@code "udp-PORT"}. */
    @Override
    public String label() {
        return "udp-" + localPort;
    }

    @Override
    public String toString() {
        return "UdpSocket[" + Ipv4Address.toString(localAddress) + ":" + localPort + "]";
    }
}
