package io.dataplane.node;

import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.BackendProvider;
import io.dataplane.core.spi.BackendSetup;
import java.io.IOException;

/** Registers flannel's {@code host-gw} ({@link HostGwBackend}): kernel routes only, no packet path. */
public final class HostGwBackendProvider implements BackendProvider {

    /** Called by {@link java.util.ServiceLoader}. */
    public HostGwBackendProvider() {}

    @Override
    public BackendType type() {
        return BackendType.HOST_GW;
    }

    /** The name flannel's other backends' devices would have; host-gw creates none, and names its messages and state directory by it. */
    @Override
    public String tunName(BackendConf conf) {
        return "flannel-hostgw";
    }

    /** False: nothing passes through user space. */
    @Override
    public boolean superPackets() {
        return false;
    }

    /** False: the kernel forwards. */
    @Override
    public boolean packetPath() {
        return false;
    }

    /** {@link HostGwBackend#open} for the node of {@code context}; it needs no pool and opens no socket. */
    @Override
    public Backend open(BackendContext context, BackendSetup setup) throws IOException {
        return HostGwBackend.open(context.netConf(), context.subnet(), context.publicIp());
    }
}
