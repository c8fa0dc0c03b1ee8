package io.dataplane.tun.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.spi.Transport;
import io.dataplane.core.stats.Counters;
import io.dataplane.core.stats.DropReason;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.ErrnoException;
import io.dataplane.tun.sys.Errno;
import io.dataplane.tun.sys.FdNative;
import io.dataplane.tun.sys.NativeCall;
import io.dataplane.tun.sys.SegmentBatch;
import io.dataplane.tun.sys.SocketNative;
import io.dataplane.tun.sys.Structs;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The transport of {@link ReceiveFuzzing} and {@link SendFuzzing}: keeps what a stage sends
 * (replies, datagrams) and releases the buffers. A TCP super-packet or a train (the datagrams an
 * encapsulation sealed back to back, {@link PacketBuffer#TRAIN}) goes through the real {@link
 * SegmentBatch} ({@code send} or {@code sendTrain}) to a receiving socket on loopback, and the
 * transport keeps the datagrams that arrive there, on the kind of socket the tunnel's transport
 * sends on, whose limits are the kernel's: for a UDP tunnel a UDP socket with UDP GSO, as the UDP
 * socket transport sends, to 127.0.0.1; for a raw IP tunnel (ipip) a raw socket with {@code
 * IP_HDRINCL}, one message per segment, as {@code RawIpSocket} sends, to an address of 127/8 of
 * this process's own, with the protocol number 253 (RFC 3692's, for experiments: no kernel
 * handler takes it, no other socket waits for it) written over the outer header's destination
 * and protocol while it is sent. A buffer {@code SegmentBatch} refuses is counted as {@code
 * SEND_FAILED}, as the socket transport counts it, and kept nowhere: the kernel refuses a datagram
 * longer than {@link #largestDatagram()} (EMSGSIZE: 65507 bytes of UDP payload, or a raw IPv4
 * datagram of 65535 bytes, its header included), so a super-packet of one segment whose inner
 * packet is nearly 64 KiB goes nowhere ({@link #tooLong} counts those handed over). Without
 * CAP_NET_RAW a raw IP tunnel's datagrams go over UDP, and a super-packet whose datagrams only the
 * raw socket would take is sent but not checked ({@link #beyondTestBed}). The receiving socket
 * holds a super-packet's datagrams whatever their number (up to 65483 of one byte): as root its
 * buffer is forced to 32 MiB; without CAP_NET_ADMIN {@code net.core.rmem_max} caps it, and a
 * super-packet or train of more datagrams than that may hold is still sent through {@code
 * SegmentBatch} but cannot be checked: the transport says so ({@link #beyondTestBed}) and the
 * driver checks no more of that input than that every buffer came back. Reports idle if told so.
 * Receives nothing: the driver calls the stage itself. Close it to close its sockets.
 */
final class CapturingTransport implements Transport {
    /** What one buffer handed over became: one datagram, or a super-packet's or a train's datagrams; and where it went. */
    record Sent(boolean superPacket, List<byte[]> datagrams, int peerAddress, int peerPort) {}

    private static final int LOOPBACK = Ipv4Address.parse("127.0.0.1");
    private static final long ARRIVAL_NANOS = 5_000_000_000L; // loopback delivers as the send returns; this is a bound, not a wait
    private static final int SO_RCVBUFFORCE = 33;
    // What the receiving socket holds (the kernel doubles it): a super-packet's 65483 datagrams at most (1-byte segments), about 420 bytes each.
    private static final int RECEIVE_BUFFER = 32 << 20;
    private static final int LARGEST_DATAGRAM = 65535;
    /** The longest datagram a UDP socket sends over IPv4: 65535 less the IPv4 and UDP headers. */
    static final int LARGEST_UDP_PAYLOAD = 65535 - 20 - 8;
    /** The longest datagram a raw socket with {@code IP_HDRINCL} sends (IPv4's total length; loopback's MTU is larger). */
    static final int LARGEST_RAW_DATAGRAM = 65535;
    private static final int PROTO_EXPERIMENT = 253;
    private final boolean reportsIdle;
    private final boolean gso;
    private final Counters counters = new Counters();
    final List<Sent> sent = new ArrayList<>();
    /** Super-packets and trains handed over with a datagram longer than the sending socket takes ({@link #largestDatagram()}). */
    int tooLong;
    /** The datagrams the super-packets and trains SegmentBatch refused would have made. */
    long refusedDatagrams;
    private Arena arena; // the socket pair's, made on the first super-packet or train
    private SegmentBatch batch;
    private MemorySegment errno;
    private int fd = -1;
    private int receiver = -1;
    private int receiverPort;
    private int receiverAddress = LOOPBACK;
    private boolean raw; // the sockets are raw IP with IP_HDRINCL, not UDP
    private boolean forced; // the receive buffer is RECEIVE_BUFFER, not what net.core.rmem_max allows
    private MemorySegment arrived;
    private long holds; // bytes the receiving socket may hold without CAP_NET_ADMIN (0: forced, any number)
    /** The datagrams of a super-packet or train were more than the receiving socket may hold (no CAP_NET_ADMIN). */
    boolean beyondTestBed;

    /** A transport that reports idle if {@code reportsIdle}, and sends super-packets with UDP GSO if {@code gso}. */
    CapturingTransport(boolean reportsIdle, boolean gso) {
        this.reportsIdle = reportsIdle;
        this.gso = gso;
    }

    @Override
    public void start(Receiver receiver) {}

    @Override
    public int send(PacketBuffer[] batch, int count) {
        for (int i = 0; i < count; i++) {
            PacketBuffer p = batch[i];
            try {
                List<byte[]> datagrams = p.gsoSize() == 0 ? List.of(p.toByteArray()) : segmentsSent(p);
                if (datagrams == null) counters.drop(DropReason.SEND_FAILED);
                else sent.add(new Sent(p.gsoSize() != 0, datagrams, p.peerAddress(), p.peerPort()));
            } finally {
                p.release();
            }
        }
        return count;
    }

    /*
     * The super-packet or train sent by SegmentBatch to our receiving socket (its peer restored after), and the datagrams
     * that arrived, in order; null if SegmentBatch refused it (then what arrived of it is discarded).
     */
    private List<byte[]> segmentsSent(PacketBuffer p) {
        boolean train = p.gsoPrefix() == PacketBuffer.TRAIN;
        int expected = train ? datagrams(p.length(), p.gsoSize()) : segments(p);
        int peerAddress = p.peerAddress();
        int peerPort = p.peerPort();
        try {
            open();
            int longest = longest(p, train);
            if (longest > largestDatagram()) tooLong++;
            boolean untestable = !gso && !raw && longest > LARGEST_UDP_PAYLOAD && longest <= LARGEST_RAW_DATAGRAM;
            p.setPeer(receiverAddress, receiverPort);
            long outer = p.address() + p.offset(); // a raw datagram's IPv4 header, which the kernel sends as it finds it
            boolean readdress = raw && !train && p.gsoPrefix() >= 20;
            int destination = readdress ? MemorySegment.ofAddress(outer).reinterpret(20).get(SocketNative.NET_U32, 16) : 0;
            byte protocol = readdress ? MemorySegment.ofAddress(outer).reinterpret(20).get(ValueLayout.JAVA_BYTE, 9) : 0;
            if (readdress) readdress(outer, receiverAddress, (byte) PROTO_EXPERIMENT);
            int r;
            try {
                r = train ? batch.sendTrain(errno, fd, p) : batch.send(errno, fd, p);
            } finally {
                if (readdress) readdress(outer, destination, protocol);
                p.setPeer(peerAddress, peerPort);
            }
            if (untestable || !forced && (long) expected * charge(longest) > holds) {
                while (receive() != null) {} // what the socket held of it
                beyondTestBed = true;
                if (r != 1) {
                    refusedDatagrams += expected;
                    return null;
                }
                return List.of();
            }
            List<byte[]> datagrams = new ArrayList<>();
            long deadline = System.nanoTime() + ARRIVAL_NANOS;
            while (r == 1 && datagrams.size() < expected && System.nanoTime() < deadline) {
                byte[] d = receive();
                if (d == null) Thread.onSpinWait();
                else datagrams.add(d);
            }
            if (r != 1) {
                while (receive() != null) {} // what went of it before the refusal
                refusedDatagrams += expected;
                return null;
            }
            String what = (train ? "train" : "super-packet") + " of " + expected + " datagrams of " + p.gsoSize() + " bytes";
            assertEquals(expected, datagrams.size(), "datagrams of the " + what + " that arrived"
                    + (forced ? "" : " (without CAP_NET_ADMIN the receiving socket holds what net.core.rmem_max allows)"));
            assertNull(receive(), "no datagram beyond the " + what + "'s");
            return datagrams;
        } catch (ErrnoException e) {
            throw new AssertionError("the socket pair on 127.0.0.1 is unusable", e);
        }
    }

    /** The longest datagram the sending socket takes: a UDP payload, or a raw IPv4 datagram (as root). */
    int largestDatagram() {
        return raw ? LARGEST_RAW_DATAGRAM : LARGEST_UDP_PAYLOAD;
    }

    private static void readdress(long header, int destination, byte protocol) {
        MemorySegment h = MemorySegment.ofAddress(header).reinterpret(20);
        h.set(SocketNative.NET_U32, 16, destination);
        h.set(ValueLayout.JAVA_BYTE, 9, protocol);
    }

    // The datagram waiting on the receiving socket, or null.
    private byte[] receive() {
        long n = SocketNative.recv(errno, receiver, arrived.address(), LARGEST_DATAGRAM, SocketNative.MSG_DONTWAIT);
        if (n >= 0) return arrived.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        int e = NativeCall.errno(errno);
        if (e == Errno.EAGAIN || e == Errno.EINTR) return null;
        throw new AssertionError("recv on 127.0.0.1:" + receiverPort + ": errno " + e);
    }

    // A bound of what the kernel charges a receiving socket for one datagram of up to length bytes on loopback.
    private static long charge(int length) {
        return 2L * (length + 512);
    }

    private static int datagrams(int length, int size) {
        return (length + size - 1) / size;
    }

    // The longest datagram of the train or super-packet: its first, header and all.
    private static int longest(PacketBuffer p, boolean train) {
        if (train) return Math.min(p.length(), p.gsoSize());
        int headers = p.length() - payload(p);
        return headers + Math.min(p.gsoSize(), payload(p));
    }

    // How many segments the super-packet's payload makes (its IPv4 header gsoPrefix bytes into its data), read off its headers.
    private static int segments(PacketBuffer p) {
        return datagrams(payload(p), p.gsoSize());
    }

    // The super-packet's TCP payload length (its IPv4 header gsoPrefix bytes into its data), read off its headers.
    private static int payload(PacketBuffer p) {
        long ip = (long) p.offset() + p.gsoPrefix();
        int ihl = (p.segment().get(ValueLayout.JAVA_BYTE, ip) & 0x0f) * 4;
        int thl = (p.segment().get(ValueLayout.JAVA_BYTE, ip + ihl + 12) >>> 4 & 0x0f) * 4;
        return p.length() - p.gsoPrefix() - ihl - thl;
    }

    private void open() throws ErrnoException {
        if (batch != null) return;
        arena = Arena.ofShared();
        batch = new SegmentBatch(arena);
        if (!gso) batch.disableGso();
        errno = NativeCall.errnoSlot(arena);
        arrived = arena.allocate(LARGEST_DATAGRAM);
        if (!gso) openRaw();
        if (!raw) {
            fd = SocketNative.socket(SocketNative.AF_INET, SocketNative.SOCK_DGRAM, 0, "segment sender");
            receiver = SocketNative.socket(SocketNative.AF_INET, SocketNative.SOCK_DGRAM, 0, "segment receiver");
        }
        try {
            SocketNative.setsockopt(receiver, SocketNative.SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER, "SO_RCVBUFFORCE");
            forced = true;
        } catch (ErrnoException e) { // no CAP_NET_ADMIN: net.core.rmem_max caps it (the kernel doubles what it grants)
            SocketNative.setsockopt(receiver, SocketNative.SOL_SOCKET, SocketNative.SO_RCVBUF, RECEIVE_BUFFER, "SO_RCVBUF");
            holds = 2L * Math.min(RECEIVE_BUFFER, rmemMax());
        }
        MemorySegment loopback = arena.allocate(Structs.SOCKADDR_IN);
        SocketNative.setSockaddrIn(loopback, 0, receiverAddress, 0);
        SocketNative.bind(receiver, loopback, Ipv4Address.toString(receiverAddress));
        if (raw) {
            SocketNative.setSockaddrIn(loopback, 0, LOOPBACK, 0);
            SocketNative.bind(fd, loopback, "127.0.0.1"); // the sender takes none of the datagrams itself
        } else {
            receiverPort = SocketNative.localPort(receiver, "segment receiver");
        }
    }

    // Raw sockets of protocol 253 with IP_HDRINCL, the receiver's address 127/8 of this process's own; none without CAP_NET_RAW.
    private void openRaw() throws ErrnoException {
        try {
            fd = SocketNative.socket(SocketNative.AF_INET, SocketNative.SOCK_RAW, PROTO_EXPERIMENT, "segment sender");
        } catch (ErrnoException e) {
            if (e.errno() != Errno.EPERM) throw e;
            return; // no CAP_NET_RAW: UDP
        }
        SocketNative.setsockopt(fd, SocketNative.IPPROTO_IP, SocketNative.IP_HDRINCL, 1, "IP_HDRINCL");
        receiver = SocketNative.socket(SocketNative.AF_INET, SocketNative.SOCK_RAW, PROTO_EXPERIMENT, "segment receiver");
        long pid = ProcessHandle.current().pid();
        receiverAddress = 127 << 24 | (int) (pid & 0x3fffff) << 2 | 2; // 127.0.0.2 and up, one per process
        raw = true;
    }

    private static long rmemMax() {
        try {
            return Long.parseLong(Files.readString(Path.of("/proc/sys/net/core/rmem_max")).trim());
        } catch (IOException | NumberFormatException e) {
            return 212992; // the kernel's default
        }
    }

    @Override
    public boolean sendsSuperPackets() {
        return true;
    }

    @Override
    public boolean sendsTrains() {
        return true;
    }

    @Override
    public boolean reportsIdle() {
        return reportsIdle;
    }

    @Override
    public int localPort() {
        return 8472;
    }

    @Override
    public int batchSize() {
        return 64;
    }

    @Override
    public Counters counters() {
        return counters;
    }

    @Override
    public void close() {
        if (batch == null) return;
        if (fd >= 0) FdNative.close(fd);
        if (receiver >= 0) FdNative.close(receiver);
        arena.close();
        batch = null;
    }
}
