package io.dataplane.tun.socket;

import io.dataplane.core.buffer.PacketBuffer;
import java.io.IOException;
import java.util.function.BooleanSupplier;

/**
 * The socket under a {@link SocketTransport}: a nonblocking IPv4 datagram socket moved in
 * {@code sendmmsg}/{@code recvmmsg} batches straight from and into pool buffers. What differs
 * between UDP ({@code UdpSocket}) and raw IP ({@code RawIpSocket}) lives behind this interface:
 * addresses and ports, headers, super-packets; the threads, the ring, the counters and the pool
 * live in the transport.
 *
 * <p>One thread sends and one receives at a time (they may run concurrently); {@link #close} from
 * a third thread wakes both.
 */
public interface TransportSocket extends AutoCloseable {
    /** Result of {@link #send} and {@link #receive} once the socket is closed. */
    int CLOSED = -1;

    /**
     * Sends {@code packets[0..count)}, each buffer's data to its peer; the buffers stay the
     * caller's. A datagram the kernel refuses (no route, too large) is skipped and left out of the
     * result. With {@code wait} the call waits in {@code poll} while the send buffer is full;
     * without it, what the kernel does not take at once is refused too.
     *
     * @return how many datagrams the kernel took, or {@link #CLOSED}
     * @throws IOException naming the socket if waiting fails
     */
    int send(PacketBuffer[] packets, int count, boolean wait) throws IOException;

    /**
     * Receives up to {@code min(count, batchSize())} datagrams into {@code packets[0..count)} at
     * their offsets, each one's data and peer set as a transport's receiver gets them; with
     * {@code block} it waits in {@code poll} for the first. A datagram too large for its buffer is
     * dropped and counted in {@link #truncated()}. The filled buffers are {@code packets[0..result)};
     * the buffers may change places within {@code packets[0..count)}.
     *
     * @return the number of buffers filled (0 only without {@code block}), or {@link #CLOSED}
     * @throws IOException naming the call, the socket and the errno if receiving fails
     */
    int receive(PacketBuffer[] packets, int count, boolean block) throws IOException;

    /**
     * As {@link #receive(PacketBuffer[], int, boolean) receive(packets, count, true)}, asking
     * {@code beforeWait} each time the socket is found empty, before the wait: true has it try the
     * socket once more (the hook slept a moment meanwhile), false has it wait now. By default one
     * receive without waiting tells; a socket that can, asks where it finds the socket empty anyway.
     */
    default int receive(PacketBuffer[] packets, int count, BooleanSupplier beforeWait) throws IOException {
        while (true) {
            int n = receive(packets, count, false);
            if (n != 0) return n;
            if (!beforeWait.getAsBoolean()) return receive(packets, count, true);
        }
    }

    /** Datagrams {@link #receive} dropped because they did not fit their buffer, so far. */
    long truncated();

    /** Datagrams received so far (accepted or not), each datagram of a train counted, truncated ones aside. */
    long received();

    /**
     * Receives that were a train of datagrams from one sender in one buffer (UDP GRO, see
     * {@code UdpSocket#enableGro}) so far.
     */
    long trainsReceived();

    /** Datagrams that came in those trains so far (part of {@link #received()}). */
    long trainDatagrams();

    /** Most datagrams one call moves. */
    int batchSize();

    /** The descriptor, for {@code poll} (readable while datagrams wait). */
    int fd();

    /** The local port, 0 for a socket without ports. */
    int localPort();

    /** True if {@link #send} cuts TCP super-packets into datagrams (see {@code Transport#sendsSuperPackets}). */
    boolean sendsSuperPackets();

    /** A short name for the transport's threads: {@code "udp-8472"}, {@code "raw4"}. */
    String label();

    /** Closes the socket, waking a thread blocked in send or receive (it returns {@link #CLOSED}). Idempotent. */
    @Override
    void close();
}
