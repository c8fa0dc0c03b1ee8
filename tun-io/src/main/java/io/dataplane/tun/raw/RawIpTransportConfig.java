package io.dataplane.tun.raw;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.socket.SocketTransport;

/**
 * How a raw IP transport ({@link SocketTransport#rawIp}) opens its socket, batches and sends.
 *
 * @param protocol the IP protocol number the socket sends and receives (4 for ipip), 1-254
 * @param bindAddress the local IPv4 address to bind, as an int: only datagrams addressed to it are
 *     received (and, without {@code headerIncluded}, the kernel sends from it); 0 for every address
 * @param headerIncluded datagram mode ({@code IP_HDRINCL}): the data handed to send and received is
 *     the whole IPv4 datagram, outer header included; false for payload mode, where the kernel
 *     writes and strips the outer header (see {@link SocketTransport#rawIp})
 * @param batchSize datagrams per sendmmsg and recvmmsg, 1 to 1024
 * @param ringCapacity datagrams the send ring holds while the sender thread catches up, a power of two
 * @param receiveBufferBytes {@code SO_RCVBUF} to ask for, 0 for the kernel's default (capped at
 *     {@code net.core.rmem_max})
 * @param sendBufferBytes {@code SO_SNDBUF} to ask for, 0 for the kernel's default (capped at
 *     {@code net.core.wmem_max})
 * @param sendOnCaller send on the thread that calls {@code send} (sendmmsg without waiting: no
 *     ring, no sender thread, a full socket buffer drops; the default); false queues into the ring
 *     that the sender thread drains (see {@link SocketTransport})
 */
public record RawIpTransportConfig(int protocol, int bindAddress, boolean headerIncluded, int batchSize, int ringCapacity,
        int receiveBufferBytes, int sendBufferBytes, boolean sendOnCaller) {
    /** Default datagrams per system call, as the UDP transport's. */
    public static final int DEFAULT_BATCH_SIZE = 64;
    /** Default send ring: a few batches of every sender thread. */
    public static final int DEFAULT_RING_CAPACITY = 4096;
    /** Default socket buffers: room for bursts of full-size datagrams, as the UDP transport's. */
    public static final int DEFAULT_SOCKET_BUFFER_BYTES = 4 << 20;
    /** Most datagrams one sendmmsg/recvmmsg may carry (Linux {@code UIO_MAXIOV}). */
    public static final int MAX_BATCH_SIZE = 1024;

    /** Checks every field; the message names the field and its value. */
    public RawIpTransportConfig {
        if (protocol < 1 || protocol > 254) throw new IllegalArgumentException("IP protocol out of range: protocol=" + protocol + " (1-254)");
        if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
            throw new IllegalArgumentException("batch size out of range: batchSize=" + batchSize + " (1 to " + MAX_BATCH_SIZE + ")");
        }
        if (ringCapacity < 2 || Integer.bitCount(ringCapacity) != 1) {
            throw new IllegalArgumentException("send ring capacity must be a power of two >= 2: ringCapacity=" + ringCapacity);
        }
        if (receiveBufferBytes < 0) throw new IllegalArgumentException("receive buffer size negative: receiveBufferBytes=" + receiveBufferBytes);
        if (sendBufferBytes < 0) throw new IllegalArgumentException("send buffer size negative: sendBufferBytes=" + sendBufferBytes);
    }

    /** Datagram mode ({@code IP_HDRINCL}) for {@code protocol} bound to {@code bindAddress}, default sizes, sending on the caller. */
    public static RawIpTransportConfig datagrams(int protocol, int bindAddress) {
        return new RawIpTransportConfig(protocol, bindAddress, true, DEFAULT_BATCH_SIZE, DEFAULT_RING_CAPACITY,
                DEFAULT_SOCKET_BUFFER_BYTES, DEFAULT_SOCKET_BUFFER_BYTES, true);
    }

    /** Payload mode (the kernel writes the outer header) for {@code protocol} bound to {@code bindAddress}, default sizes, sending on the caller. */
    public static RawIpTransportConfig payloads(int protocol, int bindAddress) {
        return new RawIpTransportConfig(protocol, bindAddress, false, DEFAULT_BATCH_SIZE, DEFAULT_RING_CAPACITY,
                DEFAULT_SOCKET_BUFFER_BYTES, DEFAULT_SOCKET_BUFFER_BYTES, true);
    }

    /** This config with another batch size. */
    public RawIpTransportConfig withBatchSize(int batchSize) {
        return new RawIpTransportConfig(protocol, bindAddress, headerIncluded, batchSize, ringCapacity, receiveBufferBytes, sendBufferBytes, sendOnCaller);
    }

    /** This config with another send ring capacity. */
    public RawIpTransportConfig withRingCapacity(int ringCapacity) {
        return new RawIpTransportConfig(protocol, bindAddress, headerIncluded, batchSize, ringCapacity, receiveBufferBytes, sendBufferBytes, sendOnCaller);
    }

    /** This config sending on the caller's thread ({@code true}) or through the ring and the sender thread. */
    public RawIpTransportConfig withSendOnCaller(boolean sendOnCaller) {
        return new RawIpTransportConfig(protocol, bindAddress, headerIncluded, batchSize, ringCapacity, receiveBufferBytes, sendBufferBytes, sendOnCaller);
    }

    /** This config with other socket buffer sizes (0: the kernel's default). */
    public RawIpTransportConfig withSocketBuffers(int receiveBufferBytes, int sendBufferBytes) {
        return new RawIpTransportConfig(protocol, bindAddress, headerIncluded, batchSize, ringCapacity, receiveBufferBytes, sendBufferBytes, sendOnCaller);
    }

    @Override
    public String toString() {
        return "RawIpTransportConfig[protocol " + protocol + " " + Ipv4Address.toString(bindAddress)
                + (headerIncluded ? " IP_HDRINCL" : "") + " batchSize=" + batchSize + " ringCapacity=" + ringCapacity
                + " rcvbuf=" + receiveBufferBytes + " sndbuf=" + sendBufferBytes + (sendOnCaller ? " sendOnCaller" : "") + "]";
    }
}
