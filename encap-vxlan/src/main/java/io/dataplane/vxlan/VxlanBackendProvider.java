package io.dataplane.vxlan;

import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.BackendProvider;
import io.dataplane.core.spi.BackendSetup;
import io.dataplane.core.wire.MacAddress;
import java.io.IOException;

/** Registers flannel's {@code vxlan} backend ({@link VxlanBackend}) with the nodes that find it on the class path. */
public final class VxlanBackendProvider implements BackendProvider {
    /** The {@link BackendSetup#option} that fixes the VTEP MAC ({@code 22:e8:35:88:1e:9a}); without it the state directory keeps one. */
    public static final String VTEP_MAC = "vtepMac";

    /** Called by {@link java.util.ServiceLoader}. */
    public VxlanBackendProvider() {}

    @Override
    public BackendType type() {
        return BackendType.VXLAN;
    }

    /** flannel's {@code flannel.VNI}. */
    @Override
    public String tunName(BackendConf conf) {
        return "flannel." + conf.vni();
    }

    /** True: the same outer headers on every segment. */
    @Override
    public boolean superPackets() {
        return true;
    }

    /** {@link VxlanBackend#open} on a UDP socket of {@code setup}, with the VTEP MAC of option {@value #VTEP_MAC} if given. */
    @Override
    public Backend open(BackendContext context, BackendSetup setup) throws IOException {
        String mac = setup.option(VTEP_MAC);
        return VxlanBackend.open(context, VxlanOptions.defaults().withVtepMac(mac == null ? null : MacAddress.parse(mac))
                .withTransports(setup.udp()));
    }
}
