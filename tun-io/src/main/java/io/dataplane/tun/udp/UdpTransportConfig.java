package io.dataplane.tun.udp;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.tun.socket.SocketTransport;

/**
 * How a UDP transport ({@link SocketTransport#udp}) binds, batches and sends.
 *
 * @param bindAddress local IPv4 address to bind, as an int ({@code 0} for every address)
 * @param port local UDP port, {@code 0} for an ephemeral one
 * @param batchSize datagrams per recvmmsg and sendmmsg, 1 to 1024 ({@code UIO_MAXIOV})
 * @param ringCapacity datagrams the send ring holds while the sender thread catches up, a power of
 *     two; unused when sending on the caller
 * @param receiveBufferBytes {@code SO_RCVBUF} to ask for, 0 for the kernel's default (the kernel caps
 *     it at {@code net.core.rmem_max})
 * @param sendBufferBytes {@code SO_SNDBUF} to ask for, 0 for the kernel's default (capped at
 *     {@code net.core.wmem_max})
 * @param sendOnCaller send on the thread that calls {@code send} (sendmmsg without waiting: no
 *     ring, no sender thread, a full socket buffer drops; the default); false queues into the ring
 *     that a sender thread drains. A transport with an event loop of its own sends from there and
 *     ignores it.
 * @param largestDatagram with trains of datagrams received as one (UDP GRO, see {@link
 *     SocketTransport#udp}): the longest datagram taken, alone or in a train; a longer one is
 *     dropped as too large for its buffer, as without trains (see {@link UdpSocket#enableGro}). 0:
 *     up to 65507 bytes, what a train buffer holds
 * @param receiveTrains take trains of datagrams up as one where the pool's buffers hold them (the
 *     default); false receives every datagram on its own whatever the buffers hold
 * @param sendRuns send a run of equally long datagrams to one peer, consecutive in a batch, as one
 *     UDP GSO message (the default; see {@link UdpSocket#send}); false sends every datagram on its own
 */
public record UdpTransportConfig(
        int bindAddress, int port, int batchSize, int ringCapacity, int receiveBufferBytes, int sendBufferBytes,
        boolean sendOnCaller, int largestDatagram, boolean receiveTrains, boolean sendRuns) {
    /** Default datagrams per system call, as wireguard-go's batch order of magnitude. */
    public static final int DEFAULT_BATCH_SIZE = 64;
    /** Default send ring: a few batches of every sender thread. */
    public static final int DEFAULT_RING_CAPACITY = 4096;
    /** Default socket buffers: room for bursts of full-size datagrams. */
    public static final int DEFAULT_SOCKET_BUFFER_BYTES = 4 << 20;
    /** Most datagrams one sendmmsg/recvmmsg may carry (Linux {@code UIO_MAXIOV}). */
    public static final int MAX_BATCH_SIZE = 1024;
    /** The longest UDP payload over IPv4: 65535 minus the IPv4 and UDP headers. */
    public static final int MAX_DATAGRAM = 65535 - 20 - 8;

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
        if (largestDatagram < 0 || largestDatagram > MAX_DATAGRAM) {
            throw new IllegalArgumentException("largest datagram out of range: largestDatagram=" + largestDatagram + " (0 to " + MAX_DATAGRAM + ")");
        }
    }

    /** Binds {@code bindAddress:port} with the default batch, ring and socket buffer sizes, sending on the caller. */
    public static UdpTransportConfig of(int bindAddress, int port) {
        return new UdpTransportConfig(bindAddress, port, DEFAULT_BATCH_SIZE, DEFAULT_RING_CAPACITY,
                DEFAULT_SOCKET_BUFFER_BYTES, DEFAULT_SOCKET_BUFFER_BYTES, true, 0, true, true);
    }

    /** This config with another batch size. */
    public UdpTransportConfig withBatchSize(int batchSize) {
        return new UdpTransportConfig(bindAddress, port, batchSize, ringCapacity, receiveBufferBytes, sendBufferBytes, sendOnCaller, largestDatagram, receiveTrains, sendRuns);
    }

    /** This config with another send ring capacity. */
    public UdpTransportConfig withRingCapacity(int ringCapacity) {
        return new UdpTransportConfig(bindAddress, port, batchSize, ringCapacity, receiveBufferBytes, sendBufferBytes, sendOnCaller, largestDatagram, receiveTrains, sendRuns);
    }

    /** This config with other socket buffer sizes. */
    public UdpTransportConfig withSocketBuffers(int receiveBufferBytes, int sendBufferBytes) {
        return new UdpTransportConfig(bindAddress, port, batchSize, ringCapacity, receiveBufferBytes, sendBufferBytes, sendOnCaller, largestDatagram, receiveTrains, sendRuns);
    }

    /** This config sending on the caller's thread ({@code true}) or through the ring and a sender thread. */
    public UdpTransportConfig withSendOnCaller(boolean sendOnCaller) {
        return new UdpTransportConfig(bindAddress, port, batchSize, ringCapacity, receiveBufferBytes, sendBufferBytes, sendOnCaller, largestDatagram, receiveTrains, sendRuns);
    }

    /** This config with another {@code largestDatagram} (0: as long as a train buffer holds). */
    public UdpTransportConfig withLargestDatagram(int largestDatagram) {
        return new UdpTransportConfig(bindAddress, port, batchSize, ringCapacity, receiveBufferBytes, sendBufferBytes, sendOnCaller, largestDatagram, receiveTrains, sendRuns);
    }

    /** This config taking trains of datagrams up as one ({@code true}, where the buffers hold them) or not. */
    public UdpTransportConfig withReceiveTrains(boolean receiveTrains) {
        return new UdpTransportConfig(bindAddress, port, batchSize, ringCapacity, receiveBufferBytes, sendBufferBytes, sendOnCaller, largestDatagram, receiveTrains, sendRuns);
    }

    /** This config sending runs of equally long datagrams to one peer as one UDP GSO message ({@code true}) or each on its own. */
    public UdpTransportConfig withSendRuns(boolean sendRuns) {
        return new UdpTransportConfig(bindAddress, port, batchSize, ringCapacity, receiveBufferBytes, sendBufferBytes, sendOnCaller, largestDatagram, receiveTrains, sendRuns);
    }

    @Override
    public String toString() {
        return "UdpTransportConfig[" + Ipv4Address.toString(bindAddress) + ":" + port + " batchSize=" + batchSize
                + " ringCapacity=" + ringCapacity + " rcvbuf=" + receiveBufferBytes + " sndbuf=" + sendBufferBytes
                + (sendOnCaller ? " sendOnCaller" : "") + (largestDatagram != 0 ? " largestDatagram=" + largestDatagram : "")
                + (sendRuns ? "" : " noSendRuns") + "]";
    }
}
