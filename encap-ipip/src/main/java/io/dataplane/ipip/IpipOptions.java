package io.dataplane.ipip;

import io.dataplane.core.spi.TransportFactory;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.tun.raw.RawIpTransportConfig;
import io.dataplane.tun.socket.SocketTransport;

/**
 * How an {@link IpipBackend} is built beyond what flannel's net-conf.json says.
 *
 * @param outerTtl the outer header's TTL, 1-255, or 0 to copy the inner TTL (flannel.ipip's "inherit")
 * @param acceptUnknownPeers take datagrams from any source address as the kernel's ipip device does,
 *     instead of only from the peers' public IPs (the default, false)
 * @param transports opens the raw socket: {@link #RAW_SOCKETS} in production, an in-memory network in
 *     tests; called with our public IP and port 0
 */
public record IpipOptions(int outerTtl, boolean acceptUnknownPeers, TransportFactory transports) {
    /**
     * A raw IPv4 socket for protocol 4 in datagram mode ({@code IP_HDRINCL}) bound to our public IP,
     * sending on the caller, with the defaults of {@link RawIpTransportConfig#datagrams}: the node's packet path.
     */
    public static final TransportFactory RAW_SOCKETS =
            (address, port, pool) -> SocketTransport.rawIp(RawIpTransportConfig.datagrams(Ipv4Header.PROTO_IPIP, address), pool);

    /** Checks the fields (the TTL's range is checked by {@link IpipTunnelConfig}). */
    public IpipOptions {
        if (transports == null) throw new IllegalArgumentException("transport factory missing: transports=null");
    }

    /** Outer TTL 64, known peers only, raw sockets. */
    public static IpipOptions defaults() {
        return new IpipOptions(IpipTunnelConfig.DEFAULT_OUTER_TTL, false, RAW_SOCKETS);
    }

    /** These options with another outer TTL (0: the inner packet's). */
    public IpipOptions withOuterTtl(int outerTtl) {
        return new IpipOptions(outerTtl, acceptUnknownPeers, transports);
    }

    /** These options taking datagrams from any source ({@code true}) or from known peers only. */
    public IpipOptions withAcceptUnknownPeers(boolean accept) {
        return new IpipOptions(outerTtl, accept, transports);
    }

    /** These options opening their socket through {@code transports}. */
    public IpipOptions withTransports(TransportFactory transports) {
        return new IpipOptions(outerTtl, acceptUnknownPeers, transports);
    }
}
