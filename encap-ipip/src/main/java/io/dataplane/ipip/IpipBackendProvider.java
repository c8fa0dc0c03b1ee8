package io.dataplane.ipip;

import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.BackendProvider;
import io.dataplane.core.spi.BackendSetup;
import io.dataplane.core.wire.Ipv4Header;
import java.io.IOException;

/** Registers flannel's {@code ipip} backend ({@link IpipBackend}) with the nodes that find it on the class path. */
public final class IpipBackendProvider implements BackendProvider {

    /** Called by {@link java.util.ServiceLoader}. */
    public IpipBackendProvider() {}

    @Override
    public BackendType type() {
        return BackendType.IPIP;
    }

    /** flannel's {@code flannel.ipip}. */
    @Override
    public String tunName(BackendConf conf) {
        return "flannel.ipip";
    }

    /** False: the raw socket sends one datagram per packet. */
    @Override
    public boolean superPackets() {
        return false;
    }

    /** {@link IpipBackend#open} on a raw IP socket of {@code setup} for protocol 4. */
    @Override
    public Backend open(BackendContext context, BackendSetup setup) throws IOException {
        return IpipBackend.open(context, IpipOptions.defaults().withTransports(setup.rawIp().apply(Ipv4Header.PROTO_IPIP)));
    }
}
