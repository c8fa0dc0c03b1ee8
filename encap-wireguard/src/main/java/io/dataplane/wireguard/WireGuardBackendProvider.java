package io.dataplane.wireguard;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.spi.BackendProvider;
import io.dataplane.core.spi.BackendSetup;

/**
 * Registers flannel's {@code wireguard} backend ({@link WireGuardBackend}): device {@code
 * flannel-wg}, no super-packets (every packet is sealed on its own), the cipher of option {@value
 * #TRANSPORT_CIPHER} when the node names one.
 */
public final class WireGuardBackendProvider extends BackendProvider {
    /** The {@link BackendSetup#option} naming the {@link TransportCipher} ({@code JDK}); without it {@link TransportCipher#DEFAULT}. */
    public static final String TRANSPORT_CIPHER = "wireguardCipher";

    /** Called by {@link java.util.ServiceLoader}. */
    public WireGuardBackendProvider() {
        super(BackendType.WIREGUARD, conf -> "flannel-wg", false, true, (context, setup) -> {
            String cipher = setup.option(TRANSPORT_CIPHER);
            return WireGuardBackend.open(context, WireGuardOptions.defaults()
                    .withTransportCipher(cipher == null ? TransportCipher.DEFAULT : TransportCipher.valueOf(cipher)).withTransports(setup.udp()));
        });
    }
}
