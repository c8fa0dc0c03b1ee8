package io.dataplane.wireguard;

import io.dataplane.core.wire.Ipv4Address;
import io.dataplane.core.wire.Ipv4Prefix;
import java.util.List;

/**
 * One peer as {@code wg set} or a flannel lease describes it.
 *
 * @param publicKey the peer's public key
 * @param presharedKey the optional preshared key ({@link PresharedKey#NONE} when there is none)
 * @param endpointAddress the peer's underlay IPv4 address (0 when unknown: we then wait for it to
 *     initiate, and learn its endpoint from the first authenticated packet)
 * @param endpointPort the peer's UDP port (0 when unknown)
 * @param allowedIps the inner prefixes routed to and accepted from this peer
 * @param persistentKeepaliveSeconds keepalive interval, 0 for none
 */
public record PeerConfig(NoisePublicKey publicKey, PresharedKey presharedKey, int endpointAddress, int endpointPort,
        List<Ipv4Prefix> allowedIps, int persistentKeepaliveSeconds) {

    /** Checks the fields; errors name the field and the value. */
    public PeerConfig {
        if (publicKey == null) throw new IllegalArgumentException("peer public key missing: null");
        if (presharedKey == null) presharedKey = PresharedKey.NONE;
        if (endpointPort < 0 || endpointPort > 65535) {
            throw new IllegalArgumentException("peer endpoint port out of range: port=" + endpointPort + " (0-65535)");
        }
        if ((endpointAddress == 0) != (endpointPort == 0)) {
            throw new IllegalArgumentException("peer endpoint needs both address and port: "
                    + Ipv4Address.toString(endpointAddress) + ":" + endpointPort);
        }
        if (persistentKeepaliveSeconds < 0 || persistentKeepaliveSeconds > 65535) {
            throw new IllegalArgumentException("persistent keepalive out of range: persistentKeepalive="
                    + persistentKeepaliveSeconds + " (0-65535 s)");
        }
        allowedIps = List.copyOf(allowedIps == null ? List.of() : allowedIps);
    }

    /** A peer without preshared key or persistent keepalive. */
    public static PeerConfig of(NoisePublicKey publicKey, int endpointAddress, int endpointPort, List<Ipv4Prefix> allowedIps) {
        return new PeerConfig(publicKey, PresharedKey.NONE, endpointAddress, endpointPort, allowedIps, 0);
    }
}
