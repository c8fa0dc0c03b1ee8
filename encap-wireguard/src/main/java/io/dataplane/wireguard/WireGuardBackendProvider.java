package io.dataplane.wireguard;

import io.dataplane.core.config.BackendConf;
import io.dataplane.core.config.BackendType;
import io.dataplane.core.spi.Backend;
import io.dataplane.core.spi.BackendContext;
import io.dataplane.core.spi.BackendProvider;
import io.dataplane.core.spi.BackendSetup;
import java.io.IOException;

/** Registers flannel's {@code wireguard} backend ({@link WireGuardBackend}) with the nodes that find it on the class path. */
public final class WireGuardBackendProvider implements BackendProvider {
    /** The {@link BackendSetup#option} naming the {@link TransportCipher} ({@code JDK}); without it {@link TransportCipher#DEFAULT}. */
    public static final String TRANSPORT_CIPHER = "wireguardCipher";

    /** Called by {@link java.util.ServiceLoader}. */
    public WireGuardBackendProvider() {}

    @Override
    public BackendType type() {
        return BackendType.WIREGUARD;
    }

    /** flannel's {@code flannel-wg}. */
    @Override
    public String tunName(BackendConf conf) {
        return "flannel-wg";
    }

    /** False: every packet is sealed on its own. */
    @Override
    public boolean superPackets() {
        return false;
    }

    /** {@link WireGuardBackend#open} on a UDP socket of {@code setup}, with the cipher of option {@value #TRANSPORT_CIPHER} if given. */
    @Override
    public Backend open(BackendContext context, BackendSetup setup) throws IOException {
        String cipher = setup.option(TRANSPORT_CIPHER);
        return WireGuardBackend.open(context, WireGuardOptions.defaults()
                .withTransportCipher(cipher == null ? TransportCipher.DEFAULT : TransportCipher.valueOf(cipher)).withTransports(setup.udp()));
    }
}
