package io.dataplane.node;

import io.dataplane.core.config.NetConf;
import io.dataplane.core.control.LeaseAttrs;
import io.dataplane.core.spi.BackendProvider;
import java.io.IOException;
import java.nio.file.Path;

/**
 * What this node's lease carries, known before the node starts and before it has a subnet: a
 * control plane publishes it when it takes the lease, as flanneld publishes its device's data.
 * The backend data comes from the state directory the node will start with (the VTEP MAC in
 * {@code vtep-mac}, the WireGuard key in {@code wgkey}; created there when missing), so the started
 * node's {@link OverlayNode#localLease()} carries the same.
 */
public final class LocalLease {
    private LocalLease() {}

    /**
     * The lease attributes of a node of {@code net} at {@code publicIp} keeping its state in
     * {@code stateDir} ({@link NodeConfig#effectiveStateDir()}).
     *
     * @throws IOException when the state directory's files cannot be read or written
     */
    public static LeaseAttrs attrs(NetConf net, int publicIp, Path stateDir) throws IOException {
        String data = BackendProvider.of(net.backend().type()).leaseData(net, publicIp, stateDir);
        return new LeaseAttrs(publicIp, net.backend().type(), data);
    }
}
