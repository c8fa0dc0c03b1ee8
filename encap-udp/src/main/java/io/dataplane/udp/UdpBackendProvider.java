package io.dataplane.udp;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.spi.BackendProvider;

/**
 * Registers flannel's {@code udp} backend ({@link UdpBackend}): device {@code flannel0}, TCP
 * super-packets taken (one UDP header and the inner packet, the same on every segment).
 */
public final class UdpBackendProvider extends BackendProvider {

    /** Called by {@link java.util.ServiceLoader}. */
    public UdpBackendProvider() {
        super(BackendType.UDP, conf -> "flannel0", true, true, Receive.TRAINS,
                (context, setup) -> UdpBackend.open(context, UdpOptions.defaults().withTransports(setup.udp())));
    }
}
