package io.dataplane.ipip;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.spi.BackendProvider;
import io.dataplane.core.wire.Ipv4Header;

/**
 * Registers flannel's {@code ipip} backend ({@link IpipBackend}): device {@code flannel.ipip}, a raw
 * IP socket for protocol 4; TCP super-packets from the TUN go out as one raw datagram per segment.
 */
public final class IpipBackendProvider extends BackendProvider {

    /** Called by {@link java.util.ServiceLoader}. */
    public IpipBackendProvider() {
        super(BackendType.IPIP, conf -> "flannel.ipip", true, true,
                (context, setup) -> IpipBackend.open(context, IpipOptions.defaults().withTransports(setup.rawIp().apply(Ipv4Header.PROTO_IPIP))));
    }
}
