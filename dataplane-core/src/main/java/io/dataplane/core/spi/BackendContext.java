package io.dataplane.core.spi;

import io.dataplane.core.buffer.PacketPool;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.nio.file.Path;

/**
 * What a node gives a {@link Backend} when it creates one.
 *
 * @param netConf the network's configuration (net-conf.json), backend settings included
 * @param subnet this node's lease: the pod subnet routed to this node
 * @param publicIp this node's underlay address, where peers send our tunnel traffic
 * @param tunName the name of the node's TUN device
 * @param tunMtu the MTU of the TUN device (underlay MTU minus the backend's overhead)
 * @param pool the packet buffers the transport receives into; null for a backend without a packet
 *     path ({@link BackendProvider#packetPath()}), which has no transport
 * @param stateDir a directory the backend may keep state in across restarts (the VTEP MAC, the
 *     WireGuard private key); created by the node
 */
public record BackendContext(NetConf netConf, Ipv4Prefix subnet, int publicIp, String tunName, int tunMtu, PacketPool pool,
        Path stateDir) {

    /** Checks that nothing is missing. */
    public BackendContext {
        if (netConf == null) throw new IllegalArgumentException("backend context: netConf missing");
        if (subnet == null) throw new IllegalArgumentException("backend context: subnet missing");
        if (!netConf.network().contains(subnet)) {
            throw new IllegalArgumentException("subnet outside the network: subnet=" + subnet + " network=" + netConf.network());
        }
        if (publicIp == 0) throw new IllegalArgumentException("backend context: publicIp missing (got " + Ipv4Address.toString(publicIp) + ")");
        if (stateDir == null) throw new IllegalArgumentException("backend context: stateDir missing");
    }
}
