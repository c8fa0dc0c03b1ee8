package io.dataplane.node;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.spi.BackendProvider;

/**
 * Registers flannel's {@code host-gw} ({@link HostGwBackend}): kernel routes only, no packet path,
 * so no TUN, pool or socket; {@code flannel-hostgw} names its messages and state directory.
 */
public final class HostGwBackendProvider extends BackendProvider {

    /** Called by {@link java.util.ServiceLoader}. */
    public HostGwBackendProvider() {
        super(BackendType.HOST_GW, conf -> "flannel-hostgw", false, false,
                (context, setup) -> HostGwBackend.open(context.netConf(), context.subnet(), context.publicIp()));
    }
}
