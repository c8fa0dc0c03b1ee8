package io.dataplane.core.spi;

import io.dataplane.core.buffer.PacketBuffer;
import io.dataplane.core.stats.Counters;
import java.io.IOException;

/**
 * The network side of the dataplane: datagrams to and from underlay endpoints in batches (a UDP or
 * raw IP socket, or an in-memory fake), as wireguard-go's {@code conn.Bind}.
 *
 * <p>A datagram's payload is a buffer's data; its endpoint is the buffer's
 * {@link PacketBuffer#peerAddress() peer address and port}: the destination on send, the source on
 * receive. The transport writes the outer IPv4 (and UDP) header itself, through the kernel.
 * One exception: a raw IP transport in datagram mode ({@code IP_HDRINCL}, the ipip backend's)
 * carries whole IPv4 datagrams both ways, because only a header written per packet can copy each
 * inner packet's DF bit; its encapsulation writes the outer header on send and checks it on receive.
 */
public interface Transport extends AutoCloseable {

    /** Takes datagrams as they arrive. */
    @FunctionalInterface
    interface Receiver {
        /**
         * Called on the transport's own thread with {@code batch[0..count)}, which the receiver now
         * owns (it must release or hand on every one). The array is reused after the call returns.
         */
        void onReceive(PacketBuffer[] batch, int count);

        /**
         * Called on the transport's own thread when no datagram is waiting, before the transport
         * waits for the next, and once more as it stops (also when it has no buffers to receive
         * into): what the receiver held back from earlier batches, to join it with what came right
         * after, goes on now. Only a transport that {@link Transport#reportsIdle() reports idle}
         * calls it. Does nothing by default.
         */
        default void onIdle() {}

        /**
         * Asked on the transport's own thread when no datagram is waiting, before {@link #onIdle}:
         * true if what the receiver holds back ends in the middle of a TCP run that datagrams on
         * their way will likely continue (a sender's segments, cut between two receives). A
         * transport that reports idle may then wait a moment and receive once more before it calls
         * {@link #onIdle}. False by default.
         */
        default boolean expectsMore() {
            return false;
        }
    }

    /** Starts receiving; datagrams go to {@code receiver} on the transport's thread until {@link #close}. */
    void start(Receiver receiver) throws IOException;

    /**
     * Queues {@code batch[0..count)} for sending, taking ownership of all of them: each goes back to
     * its pool once sent or dropped. Safe to call from any thread; never blocks.
     *
     * @return how many were accepted; the others were released at once because the transport's send
     *     ring was full, and the caller counts them as {@code RING_FULL}
     */
    int send(PacketBuffer[] batch, int count);

    /**
     * True if {@link #send} takes TCP super-packets ({@link PacketBuffer#gsoSize()} above 0, the
     * encapsulation's headers {@link PacketBuffer#gsoPrefix()} bytes long in front of the IPv4
     * header) and sends each as the datagrams of its segments, every one with those headers (see
     * {@code TcpSegments}). False by default: then the caller must not hand it any.
     */
    default boolean sendsSuperPackets() {
        return false;
    }

    /**
     * True if {@link #send} takes trains of datagrams ({@link PacketBuffer#gsoPrefix()} {@link
     * PacketBuffer#TRAIN}: the datagrams back to back, each {@link PacketBuffer#gsoSize()} bytes but
     * the last) and sends them as they are, each its own datagram. False by default: then the
     * caller must not hand it any.
     */
    default boolean sendsTrains() {
        return false;
    }

    /**
     * True if the transport calls {@link Receiver#onIdle} whenever its socket is empty, before it
     * waits, and as it stops: its receiver may then keep packets back across batches. False by
     * default: a receiver must finish each batch within {@link Receiver#onReceive}.
     */
    default boolean reportsIdle() {
        return false;
    }

    /** The local UDP port (0 for a raw IP socket). */
    int localPort();

    /** Largest number of datagrams the transport sends or receives per system call. */
    int batchSize();

    /** Counters of the transport's own thread (sends that failed, pool exhaustion on receive). */
    Counters counters();

    /** Stops receiving and sending, returns every buffer the transport holds, and stops its threads. */
    @Override
    void close();
}
