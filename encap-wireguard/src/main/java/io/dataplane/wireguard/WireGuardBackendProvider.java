package io.dataplane.wireguard;

import io.dataplane.core.config.BackendType;
import io.dataplane.core.config.Lease;
import io.dataplane.core.config.NetConf;
import io.dataplane.core.config.WireguardLeaseData;
import io.dataplane.core.spi.BackendProvider;
import io.dataplane.core.spi.BackendSetup;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Registers flannel's {@code wireguard} backend ({@link WireGuardBackend}): device {@code
 * flannel-wg}; TCP super-packets from the TUN, each segment sealed on its own into a train of
 * messages sent with UDP GSO ({@link TrainSealer}); trains received as one (UDP GRO), each message
 * opened in place; the cipher of option {@value #TRANSPORT_CIPHER} when the node names one.
 */
public final class WireGuardBackendProvider extends BackendProvider {
    /** The {@link BackendSetup#option} naming the {@link TransportCipher} ({@code JDK}); without it {@link TransportCipher#DEFAULT}. */
    public static final String TRANSPORT_CIPHER = "wireguardCipher";

    /** Called by {@link java.util.ServiceLoader}. */
    public WireGuardBackendProvider() {
        super(BackendType.WIREGUARD, conf -> "flannel-wg", true, true, Receive.TRAINS, (context, setup) -> {
            String cipher = setup.option(TRANSPORT_CIPHER);
            return WireGuardBackend.open(context, WireGuardOptions.defaults()
                    .withTransportCipher(cipher == null ? TransportCipher.DEFAULT : TransportCipher.valueOf(cipher)).withTransports(setup.udp()));
        });
    }

    /**
     * 16 KiB: the headers, padding and tag of every segment's message, for {@link
     * #superPacketSegments()} segments of any size (each at most 120 bytes of IPv4 and TCP headers
     * written again, 16 of message header, 15 of padding and 16 of tag).
     */
    @Override
    public int superPacketRoom() {
        return 16 * 1024;
    }

    /**
     * 64: a full super-packet of a 1,500-byte path has 47 segments; one of smaller segments is
     * limited to 64 so that its train always fits {@link #superPacketRoom()} (64 × 167 bytes).
     */
    @Override
    public int superPacketSegments() {
        return 64;
    }

    /** {@code {"PublicKey": ..., "Port": ...}} with the key kept in the state directory's {@value WireGuardBackend#KEY_FILE}. */
    @Override
    public String leaseData(NetConf net, int publicIp, Path stateDir) throws IOException {
        String key = KeyFile.loadOrCreate(stateDir.resolve(WireGuardBackend.KEY_FILE)).publicKey().toBase64();
        return Lease.wireguard(net.subnetMin(), publicIp, new WireguardLeaseData(key, net.backend().listenPort())).backendData();
    }
}
