package io.dataplane.node;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.ConfigException;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.TransportFactory;
import io.dataplane.tun.udp.DirectUdpTransport;
import io.dataplane.tun.udp.UdpTransport;
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

    /** Throws {@link ConfigException} naming the type when the node cannot run it yet. */
    static void checkSupported(BackendType type) {
        switch (type) {
            case VXLAN, UDP, WIREGUARD -> {}
            case IPIP, HOST_GW -> throw new ConfigException(null, "Backend.Type",
                    "backend not supported by the node yet: " + type + " (the node runs udp, vxlan and wireguard)");
        }
    }

    /**
     * Opens the backend {@code context.netConf()} names, its UDP socket (driven as {@code
     * config.packetPath()} says) bound to the public IP and the backend's port.
     */
    static Backend open(BackendContext context, NodeConfig config) throws IOException {
        PacketPathOptions packetPath = config.packetPath();
        TransportFactory sockets = (address, port, pool) -> {
            UdpTransportConfig udp = UdpTransportConfig.of(address, port).withBatchSize(packetPath.transportBatch())
                    .withRingCapacity(packetPath.transportRing());
            return switch (packetPath.socket()) {
                case NETTY -> UdpTransport.open(udp, pool);
                case DIRECT -> DirectUdpTransport.open(udp, pool);
            };
        };
        BackendType type = context.netConf().backend().type();
        return switch (type) {
            case VXLAN -> VxlanBackend.open(context, VxlanOptions.defaults().withVtepMac(config.vtepMac()).withTransports(sockets));
            case UDP -> UdpBackend.open(context, UdpOptions.defaults().withTransports(sockets));
            case WIREGUARD -> WireGuardBackend.open(context, WireGuardOptions.defaults()
                    .withTransportCipher(config.effectiveWireguardCipher()).withTransports(sockets));
            case IPIP, HOST_GW -> {
                checkSupported(type);
                throw new AssertionError(type);
            }
        };
    }
}
