package io.dataplane.node;

import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.BackendProvider;
import io.dataplane.core.spi.BackendSetup;
import io.dataplane.core.spi.TransportFactory;
import io.dataplane.core.wire.Ipv4Header;
import io.dataplane.core.wire.UdpHeader;
import io.dataplane.tun.raw.RawIpTransportConfig;
import io.dataplane.tun.socket.SocketTransport;
import io.dataplane.tun.udp.UdpTransportConfig;
import io.dataplane.vxlan.VxlanBackendProvider;
import io.dataplane.wireguard.WireGuardBackendProvider;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Opens a node's {@link Backend} through its {@link BackendProvider}: the sockets every backend
 * gets (tun-io's socket transport, driven as {@link NodeConfig#packetPath()} says, bound to the
 * public IP and the backend's port) and the node's per-backend choices as options.
 */
final class Backends {
    private Backends() {}

    /**
     * Opens {@code provider}'s backend for {@code context}, with the sockets and choices of {@code
     * config}; its UDP socket takes trains of datagrams up as one if {@code receiveTrains}.
     */
    static Backend open(BackendProvider provider, BackendContext context, NodeConfig config, boolean receiveTrains) throws IOException {
        // The datagram of a full TUN packet: with trains (UDP GRO) a longer one is dropped as OVERSIZE,
        // but for a backend whose peers send whole super-packets alone (a kernel VTEP), which it judges itself.
        int largestDatagram = provider.receive() == BackendProvider.Receive.WHOLE_SUPER_PACKETS ? UdpTransportConfig.MAX_DATAGRAM
                : Math.min(context.tunMtu() + provider.overhead() - Ipv4Header.HEADER_LEN - UdpHeader.HEADER_LEN, UdpTransportConfig.MAX_DATAGRAM);
        return provider.open(context, setup(config, largestDatagram, receiveTrains));
    }

    /**
     * The sockets and options {@code config} gives a backend; its UDP sockets take trains up as one
     * if {@code receiveTrains}, and then drop datagrams longer than {@code largestDatagram} as OVERSIZE.
     */
    static BackendSetup setup(NodeConfig config, int largestDatagram, boolean receiveTrains) {
        PacketPathOptions packetPath = config.packetPath();
        boolean sendOnCaller = packetPath.socket() == PacketPathOptions.SocketDriver.DIRECT;
        TransportFactory udp = (address, port, pool) -> SocketTransport.udp(UdpTransportConfig.of(address, port)
                .withBatchSize(packetPath.transportBatch()).withRingCapacity(packetPath.transportRing()).withSendOnCaller(sendOnCaller)
                .withLargestDatagram(largestDatagram).withReceiveTrains(receiveTrains), pool);
        Map<String, String> options = new HashMap<>();
        if (config.vtepMac() != null) options.put(VxlanBackendProvider.VTEP_MAC, config.vtepMac().toString());
        if (config.wireguardCipher() != null) options.put(WireGuardBackendProvider.TRANSPORT_CIPHER, config.wireguardCipher().name());
        return new BackendSetup(udp, protocol -> (address, port, pool) -> SocketTransport.rawIp(RawIpTransportConfig.datagrams(protocol, address)
                .withBatchSize(packetPath.transportBatch()).withRingCapacity(packetPath.transportRing()).withSendOnCaller(sendOnCaller), pool),
                options);
    }
}
