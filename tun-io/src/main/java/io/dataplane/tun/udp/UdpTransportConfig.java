package io.dataplane.tun.udp;

import io.dataplane.core.wire.Ipv4Address;

/**
 * How a {@link UdpTransport} binds and batches.
 *
 * @param bindAddress local IPv4 address to bind, as an int ({@code 0} for every address)
 * @param port local UDP port, {@code 0} for an ephemeral one
 * @param batchSize datagrams per recvmmsg (and per sendmmsg flush), 1 to 1024 ({@code UIO_MAXIOV});
 *     1 uses plain recvmsg/sendto
 * @param ringCapacity datagrams the send ring holds while the event loop catches up, a power of two
 * @param receiveBufferBytes {@code SO_RCVBUF} to ask for, 0 for the kernel's default (the kernel caps
 *     it at {@code net.core.rmem_max})
 * @param sendBufferBytes {@code SO_SNDBUF} to ask for, 0 for the kernel's default (capped at
 *     {@code net.core.wmem_max})
 */
public record UdpTransportConfig(
        int bindAddress, int port, int batchSize, int ringCapacity, int receiveBufferBytes, int sendBufferBytes) {
    /** Default datagrams per system call, as wireguard-go's batch order of magnitude. */
    public static final int DEFAULT_BATCH_SIZE = 64;
    /** Default send ring: a few batches of every sender thread. */
    public static final int DEFAULT_RING_CAPACITY = 4096;
    /** Default socket buffers: room for bursts of full-size datagrams. */
    public static final int DEFAULT_SOCKET_BUFFER_BYTES = 4 << 20;
    /** Most datagrams one sendmmsg/recvmmsg may carry (Linux {@code UIO_MAXIOV}). */
    public static final int MAX_BATCH_SIZE = 1024;

    /** Checks every field; the message names the field and its value. */
    public UdpTransportConfig {
        if (port < 0 || port > 0xffff) throw new IllegalArgumentException("UDP port out of range: port=" + port);
        if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
            throw new IllegalArgumentException(
                    "batch size out of range: batchSize=" + batchSize + " (1 to " + MAX_BATCH_SIZE + ")");
        }
        if (ringCapacity < 2 || Integer.bitCount(ringCapacity) != 1) {
            throw new IllegalArgumentException(
                    "send ring capacity must be a power of two >= 2: ringCapacity=" + ringCapacity);
        }
        if (receiveBufferBytes < 0) {
            throw new IllegalArgumentException("receive buffer size negative: receiveBufferBytes=" + receiveBufferBytes);
        }
        if (sendBufferBytes < 0) {
            throw new IllegalArgumentException("send buffer size negative: sendBufferBytes=" + sendBufferBytes);
        }
    }

    /** Binds {@code bindAddress:port} with the default batch, ring and socket buffer sizes. */
    public static UdpTransportConfig of(int bindAddress, int port) {
        return new UdpTransportConfig(bindAddress, port, DEFAULT_BATCH_SIZE, DEFAULT_RING_CAPACITY,
                DEFAULT_SOCKET_BUFFER_BYTES, DEFAULT_SOCKET_BUFFER_BYTES);
    }

    /** This config with another batch size. */
    public UdpTransportConfig withBatchSize(int batchSize) {
        return new UdpTransportConfig(bindAddress, port, batchSize, ringCapacity, receiveBufferBytes, sendBufferBytes);
    }

    /** This config with another send ring capacity. */
    public UdpTransportConfig withRingCapacity(int ringCapacity) {
        return new UdpTransportConfig(bindAddress, port, batchSize, ringCapacity, receiveBufferBytes, sendBufferBytes);
    }

    /** This config with other socket buffer sizes. */
    public UdpTransportConfig withSocketBuffers(int receiveBufferBytes, int sendBufferBytes) {
        return new UdpTransportConfig(bindAddress, port, batchSize, ringCapacity, receiveBufferBytes, sendBufferBytes);
    }

    @Override
    public String toString() {
        return "UdpTransportConfig[" + Ipv4Address.toString(bindAddress) + ":" + port + " batchSize=" + batchSize
                + " ringCapacity=" + ringCapacity + " rcvbuf=" + receiveBufferBytes + " sndbuf=" + sendBufferBytes + "]";
    }
}
