package io.dataplane.udp;

import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.BackendProvider;
import io.dataplane.core.spi.BackendSetup;
import java.io.IOException;

/** Registers flannel's {@code udp} backend ({@link UdpBackend}) with the nodes that find it on the class path. */
public final class UdpBackendProvider implements BackendProvider {

    /** Called by {@link java.util.ServiceLoader}. */
    public UdpBackendProvider() {}

    @Override
    public BackendType type() {
        return BackendType.UDP;
    }

    /** flannel's {@code flannel0}. */
    @Override
    public String tunName(BackendConf conf) {
        return "flannel0";
    }

    /** True: one UDP header and the inner packet, the same headers on every segment. */
    @Override
    public boolean superPackets() {
        return true;
    }

    /** {@link UdpBackend#open} on a UDP socket of {@code setup}. */
    @Override
    public Backend open(BackendContext context, BackendSetup setup) throws IOException {
        return UdpBackend.open(context, UdpOptions.defaults().withTransports(setup.udp()));
    }
}
