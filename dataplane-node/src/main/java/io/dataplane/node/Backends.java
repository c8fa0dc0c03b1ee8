package io.dataplane.node;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.TransportFactory;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.UdpHeader;
import io.dataplane.ipip.IpipBackend;
import io.dataplane.ipip.IpipOptions;
import io.dataplane.tun.raw.RawIpTransportConfig;
import io.dataplane.tun.socket.SocketTransport;
import io.dataplane.tun.udp.UdpTransportConfig;
import io.dataplane.udp.UdpBackend;
import io.dataplane.udp.UdpOptions;
import io.dataplane.vxlan.VxlanBackend;
import io.dataplane.vxlan.VxlanOptions;
import io.dataplane.wireguard.WireGuardBackend;
import io.dataplane.wireguard.WireGuardOptions;
import java.io.IOException;

/** Opens the {@link Backend} of a configured {@link BackendType}: the one place that knows every backend module. */
final class Backends {
    private Backends() {}

    /** Throws {@link ConfigException} naming the type when the node cannot run it; every {@link BackendType} has a backend, so none is refused. */
    static void checkSupported(BackendType type) {
        switch (type) {
            case VXLAN, UDP, WIREGUARD, IPIP, HOST_GW -> {}
        }
    }

    /**
     * Opens the backend {@code context.netConf()} names, its socket (driven as {@code
     * config.packetPath()} says) bound to the public IP and the backend's port: UDP, or for ipip a
     * raw socket for protocol 4. Not for host-gw, which has no packet path ({@link #openHostGw}).
     */
    static Backend open(BackendContext context, NodeConfig config) throws IOException {
        PacketPathOptions packetPath = config.packetPath();
        boolean sendOnCaller = packetPath.socket() == PacketPathOptions.SocketDriver.DIRECT;
        BackendType type = context.netConf().backend().type();
        // The datagram of a full TUN packet: with trains (UDP GRO) a longer one is dropped as OVERSIZE.
        int largestDatagram = Math.min(context.tunMtu() + type.overhead() - Ipv4Header.HEADER_LEN - UdpHeader.HEADER_LEN,
                UdpTransportConfig.MAX_DATAGRAM);
        TransportFactory sockets = (address, port, pool) -> SocketTransport.udp(UdpTransportConfig.of(address, port)
                .withBatchSize(packetPath.transportBatch()).withRingCapacity(packetPath.transportRing()).withSendOnCaller(sendOnCaller)
                .withLargestDatagram(largestDatagram), pool);
        TransportFactory rawSockets = (address, port, pool) -> SocketTransport.rawIp(RawIpTransportConfig.datagrams(Ipv4Header.PROTO_IPIP, address)
                .withBatchSize(packetPath.transportBatch()).withRingCapacity(packetPath.transportRing()).withSendOnCaller(sendOnCaller), pool);
        return switch (type) {
            case VXLAN -> VxlanBackend.open(context, VxlanOptions.defaults().withVtepMac(config.vtepMac()).withTransports(sockets));
            case UDP -> UdpBackend.open(context, UdpOptions.defaults().withTransports(sockets));
            case WIREGUARD -> WireGuardBackend.open(context, WireGuardOptions.defaults()
                    .withTransportCipher(config.effectiveWireguardCipher()).withTransports(sockets));
            case IPIP -> IpipBackend.open(context, IpipOptions.defaults().withTransports(rawSockets));
            case HOST_GW -> throw new IllegalArgumentException("host-gw has no packet path: open it with openHostGw");
        };
    }

    /** Opens flannel's host-gw for the node of {@code config}: kernel routes only, no TUN, pool or socket. */
    static HostGwBackend openHostGw(NodeConfig config) throws IOException {
        return HostGwBackend.open(config.netConf(), config.subnet(), config.publicIp());
    }
}
