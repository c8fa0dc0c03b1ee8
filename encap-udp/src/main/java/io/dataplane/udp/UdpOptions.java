package io.dataplane.udp;

import io.dataplane.core.spi.TransportFactory;
import io.dataplane.tun.socket.SocketTransport;
import io.dataplane.tun.udp.UdpTransportConfig;

/**
 * How a {@link UdpBackend} is built beyond what flannel's net-conf.json says.
 *
 * @param acceptUnknownPeers take datagrams from any source address as flannel's proxy does, instead
 *     of only from the peers' public IPs (the default, false)
 * @param icmpPerSecond ICMP net unreachable messages per second at most, 0 for none
 * @param icmpBurst how many of them may go at once
 * @param transports opens the UDP socket: {@link #UDP_SOCKETS} in production, an in-memory network in tests
 */
public record UdpOptions(boolean acceptUnknownPeers, int icmpPerSecond, int icmpBurst, TransportFactory transports) {
    /**
     * UDP sockets over FFM with recvmmsg/sendmmsg batches, sending on the caller, with the defaults of
     * {@link UdpTransportConfig#of}: {@link SocketTransport#UDP_SOCKETS}, the node's packet path.
     */
    public static final TransportFactory UDP_SOCKETS = SocketTransport.UDP_SOCKETS;

    /** Checks the transport factory (the ICMP limits are checked by {@link UdpTunnelConfig}). */
    public UdpOptions {
        if (transports == null) throw new IllegalArgumentException("transport factory missing: transports=null");
    }

    /** Known peers only, the kernel's ICMP limits (1000/s, burst 50), UDP sockets. */
    public static UdpOptions defaults() {
        return new UdpOptions(false, UdpTunnelConfig.DEFAULT_ICMP_PER_SECOND, UdpTunnelConfig.DEFAULT_ICMP_BURST, UDP_SOCKETS);
    }

    /** These options taking datagrams from any source ({@code true}) or from known peers only. */
    public UdpOptions withAcceptUnknownPeers(boolean accept) {
        return new UdpOptions(accept, icmpPerSecond, icmpBurst, transports);
    }

    /** These options with another ICMP error rate limit. */
    public UdpOptions withIcmpLimit(int perSecond, int burst) {
        return new UdpOptions(acceptUnknownPeers, perSecond, burst, transports);
    }

    /** These options opening their socket through {@code transports}. */
    public UdpOptions withTransports(TransportFactory transports) {
        return new UdpOptions(acceptUnknownPeers, icmpPerSecond, icmpBurst, transports);
    }
}
