package io.dataplane.vxlan;

import io.dataplane.core.spi.TransportFactory;
import io.dataplane.core.wire.MacAddress;
import io.dataplane.tun.socket.SocketTransport;
import io.dataplane.tun.udp.UdpTransportConfig;

/**
 * How a {@link VxlanBackend} is built beyond what flannel's net-conf.json says.
 *
 * @param vtepMac our VTEP's MAC address, or null to use the one kept in the state directory (a
 *     random locally administered one the first time, see {@link VtepMacFile}); a given MAC is not
 *     written to the state directory
 * @param acceptUnknownPeers take datagrams from any source address as the kernel does, instead of
 *     only from the peers' public IPs (the default, false)
 * @param transports opens the UDP socket: {@link #UDP_SOCKETS} in production, an in-memory network in tests
 */
public record VxlanOptions(MacAddress vtepMac, boolean acceptUnknownPeers, TransportFactory transports) {
    /**
     * UDP sockets over FFM with recvmmsg/sendmmsg batches, sending on the caller, with the defaults of
     * {@link UdpTransportConfig#of}: {@link SocketTransport#UDP_SOCKETS}, the node's packet path.
     */
    public static final TransportFactory UDP_SOCKETS = SocketTransport.UDP_SOCKETS;

    /** Checks the fields; throws {@link IllegalArgumentException} naming the field and value. */
    public VxlanOptions {
        if (vtepMac != null && (vtepMac.isMulticast() || vtepMac.value() == 0)) {
            throw new IllegalArgumentException("VTEP MAC not a unicast address: vtepMac=" + vtepMac);
        }
        if (transports == null) throw new IllegalArgumentException("transport factory missing: transports=null");
    }

    /** The MAC from the state directory, known peers only, UDP sockets. */
    public static VxlanOptions defaults() {
        return new VxlanOptions(null, false, UDP_SOCKETS);
    }

    /** These options with {@code vtepMac} as our VTEP's MAC address (null: the kept one). */
    public VxlanOptions withVtepMac(MacAddress vtepMac) {
        return new VxlanOptions(vtepMac, acceptUnknownPeers, transports);
    }

    /** These options taking datagrams from any source ({@code true}) or from known peers only. */
    public VxlanOptions withAcceptUnknownPeers(boolean accept) {
        return new VxlanOptions(vtepMac, accept, transports);
    }

    /** These options opening their socket through {@code transports}. */
    public VxlanOptions withTransports(TransportFactory transports) {
        return new VxlanOptions(vtepMac, acceptUnknownPeers, transports);
    }
}
