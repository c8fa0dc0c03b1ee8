package io.dataplane.ipip;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.spi.BackendProvider;
import io.dataplane.core.wire.Ipv4Header;

/**
 * Registers flannel's {@code ipip} backend ({@link IpipBackend}): device {@code flannel.ipip}, a raw
 * IP socket for protocol 4; TCP super-packets from the TUN go out as one raw datagram per segment.
 * The socket receives whole TCP super-packets of up to 64 KiB besides single datagrams ({@link
 * Receive#WHOLE_SUPER_PACKETS}): what the underlay's GRO joined, or a kernel ipip peer on a veth
 * sent whole (see {@link IpipEncapsulation}).
 */
public final class IpipBackendProvider extends BackendProvider {

    /** Called by {@link java.util.ServiceLoader}. */
    public IpipBackendProvider() {
        super(BackendType.IPIP, conf -> "flannel.ipip", true, true, Receive.WHOLE_SUPER_PACKETS,
                (context, setup) -> IpipBackend.open(context, IpipOptions.defaults().withTransports(setup.rawIp().apply(Ipv4Header.PROTO_IPIP))));
    }
}
