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
import io.dataplane.tun.udp.FlowSteering;
import io.dataplane.tun.udp.UdpSocket;
import io.dataplane.tun.udp.UdpTransportConfig;
import io.dataplane.vxlan.VxlanBackendProvider;
import io.dataplane.wireguard.WireGuardBackendProvider;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

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
        // The inner packet follows the tunnel's headers in the UDP payload (udp: none; vxlan: VXLAN and Ethernet);
        // a backend on a raw IP socket (ipip) has less overhead than outer IPv4 and UDP, and no UDP socket.
        int innerOffset = provider.overhead() - Ipv4Header.HEADER_LEN - UdpHeader.HEADER_LEN;
        FlowSteering steering = config.packetPath().queues() > 1 && innerOffset >= 0
                ? new FlowSteering(innerOffset, config.packetPath().queues()) : null;
        return provider.open(context, setup(config, largestDatagram, receiveTrains, steering));
    }

    /**
     * The sockets and options {@code config} gives a backend; its UDP sockets take trains up as one
     * if {@code receiveTrains}, and then drop datagrams longer than {@code largestDatagram} as OVERSIZE.
     */
    static BackendSetup setup(NodeConfig config, int largestDatagram, boolean receiveTrains) {
        return setup(config, largestDatagram, receiveTrains, null);
    }

    /**
     * As {@link #setup(NodeConfig, int, boolean)}; with {@code steering} every UDP socket opened on
     * one port joins the group of that port, in the order opened ({@link FlowSteering}): one per
     * queue, the first on the backend's port, the others on the port it bound. The first checks that
     * the port is free, so that a node never joins the group of another on the same address and port.
     */
    static BackendSetup setup(NodeConfig config, int largestDatagram, boolean receiveTrains, FlowSteering steering) {
        PacketPathOptions packetPath = config.packetPath();
        boolean sendOnCaller = packetPath.socket() == PacketPathOptions.SocketDriver.DIRECT;
        AtomicBoolean first = new AtomicBoolean(true);
        TransportFactory udp = (address, port, pool) -> {
            if (steering != null && first.getAndSet(false) && port != 0) UdpSocket.open(address, port, 1, 0).close(); // EADDRINUSE if taken
            return SocketTransport.udp(UdpTransportConfig.of(address, port)
                    .withBatchSize(packetPath.transportBatch()).withRingCapacity(packetPath.transportRing()).withSendOnCaller(sendOnCaller)
                    .withLargestDatagram(largestDatagram).withReceiveTrains(receiveTrains).withSendRuns(packetPath.offload()), pool, steering);
        };
        Map<String, String> options = new HashMap<>();
        if (config.vtepMac() != null) options.put(VxlanBackendProvider.VTEP_MAC, config.vtepMac().toString());
        if (config.wireguardCipher() != null) options.put(WireGuardBackendProvider.TRANSPORT_CIPHER, config.wireguardCipher().name());
        return new BackendSetup(udp, protocol -> (address, port, pool) -> SocketTransport.rawIp(RawIpTransportConfig.datagrams(protocol, address)
                .withBatchSize(packetPath.transportBatch()).withRingCapacity(packetPath.transportRing()).withSendOnCaller(sendOnCaller), pool),
                options);
    }
}
