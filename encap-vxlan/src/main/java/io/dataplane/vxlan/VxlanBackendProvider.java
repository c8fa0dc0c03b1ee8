package io.dataplane.vxlan;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.config.VxlanLeaseData;
import io.dataplane.core.spi.BackendProvider;
import io.dataplane.core.spi.BackendSetup;
import io.dataplane.core.wire.MacAddress;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;

/**
 * Registers flannel's {@code vxlan} backend ({@link VxlanBackend}): device {@code flannel.VNI}, TCP
 * super-packets taken (the same outer headers on every segment), trains of datagrams received as
 * one and a kernel VTEP's whole super-packets besides ({@link Receive#WHOLE_SUPER_PACKETS}), the
 * VTEP MAC from option {@value #VTEP_MAC} when the node fixes one.
 */
public final class VxlanBackendProvider extends BackendProvider {
    /** The {@link BackendSetup#option} that fixes the VTEP MAC ({@code 22:e8:35:88:1e:9a}); without it the state directory keeps one. */
    public static final String VTEP_MAC = "vtepMac";

    /** Called by {@link java.util.ServiceLoader}. */
    public VxlanBackendProvider() {
        super(BackendType.VXLAN, conf -> "flannel." + conf.vni(), true, true, Receive.WHOLE_SUPER_PACKETS, (context, setup) -> {
            String mac = setup.option(VTEP_MAC);
            return VxlanBackend.open(context, VxlanOptions.defaults().withVtepMac(mac == null ? null : MacAddress.parse(mac))
                    .withTransports(setup.udp()));
        });
    }

    /** {@code {"VNI": ..., "VtepMAC": ...}} with the VTEP MAC kept in the state directory. */
    @Override
    public String leaseData(NetConf net, int publicIp, Path stateDir) throws IOException {
        MacAddress mac = VtepMacFile.loadOrCreate(stateDir, new SecureRandom());
        return Lease.vxlan(net.subnetMin(), publicIp, new VxlanLeaseData(net.backend().vni(), mac)).backendData();
    }
}
